"""A web page → an Article: main text, title and metadata via trafilatura, offline.

Menus, footers, comments and other boilerplate are left out by trafilatura; what remains is joined as paragraphs
separated by a blank line. Also home to the small id/host rules that file loaders and the web fetcher share.
"""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import urlsplit

from qabot.errors import LoadError
from qabot.models import Article
from qabot.text import clean_label, clean_stored

log = logging.getLogger(__name__)

_TITLE_MAX = 100
# The title or heading servers give their generated folder listings: Apache, nginx and lighttpd write "Index of
# /path", Python's http.server "Directory listing for /path". Such a page lists file names, not an article.
_LISTING = re.compile(rb"<(?:title|h1)\b[^>]*>\s*(?:index of|directory listing for)\s+/", re.IGNORECASE)


def url_id(url: str) -> str:
    """The id of an article known by its URL: ``"u-"`` + the first 12 hex digits of its SHA-1."""
    return "u-" + hashlib.sha1(url.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def text_id(text: str) -> str:
    """The id of an article known only by its text (no URL, no file)."""
    return "h-" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def host_of(url: str | None) -> str | None:
    """The URL's host name in lower case without a leading ``www.``, or None when it has none."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:  # e.g. an unbalanced "[" in an IPv6 literal
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def title_from_text(text: str) -> str:
    """A display title for an article that has none: its first line, shortened at a word boundary."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= _TITLE_MAX:
        return first
    cut = first.rfind(" ", 0, _TITLE_MAX)
    return first[: cut if cut > _TITLE_MAX // 2 else _TITLE_MAX].rstrip(" ,;:-") + "…"


def is_directory_listing(html: str | bytes) -> bool:
    """True for a web server's generated listing of a folder (its head is enough to tell)."""
    head = (html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html)[:65536]
    return _LISTING.search(head) is not None


def extract_html(html: str | bytes, *, url: str | None = None, id: str | None = None) -> Article:
    """Extract the main article of a web page, with its title, date (ISO), author and site name.

    ``url`` is where the page came from (the page's own canonical link is used when it is not given). The id is
    ``id`` if given, else ``url_id(url)``, else a hash of the text. Raises ``LoadError`` when the page has no
    article text or cannot be parsed.
    """
    # Imported here: trafilatura pulls in lxml, htmldate and friends, which `qabot --help` does not need.
    import trafilatura
    from trafilatura.utils import decode_file

    try:
        # Decoded as trafilatura would (the page's own charset), so escape sequences can go whole before the parser
        # sees them: lxml drops a bare ESC and would leave its "[2J" in the text.
        page = clean_stored(decode_file(html))
        doc = trafilatura.bare_extraction(
            page,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
        )
    # A third-party parser on untrusted input: deep nesting (RecursionError), odd encodings and lxml internals
    # surface as many exception types, and one bad page must never stop an ingest.
    except Exception as exc:
        log.debug("trafilatura failed on %s", url or "a page", exc_info=True)
        raise LoadError(f"could not parse the HTML ({type(exc).__name__}); save the page again or skip it") from exc
    text = _paragraphs(clean_stored(getattr(doc, "text", None) or ""))  # what character references made
    title = clean_label(getattr(doc, "title", None))
    if text and title:
        first, _, rest = text.partition("\n\n")
        if first.strip() == title and rest:
            text = rest  # trafilatura keeps the <h1>; the title is stored separately
    if not text:
        raise LoadError("no article text found")
    page_url = url or (getattr(doc, "url", None) or None)
    return Article(
        id=id or (url_id(url) if url else text_id(text)),
        title=title or title_from_text(text),
        text=text,
        url=page_url,
        published=(getattr(doc, "date", None) or None),
        source=clean_label(getattr(doc, "sitename", None)) or host_of(page_url),
        author=clean_label(getattr(doc, "author", None)) or None,
    )


def _paragraphs(raw: str) -> str:
    """trafilatura's one-paragraph-per-line text → paragraphs separated by a blank line."""
    return "\n\n".join(line.strip() for line in raw.replace("\r\n", "\n").split("\n") if line.strip())


__all__ = ["extract_html", "host_of", "is_directory_listing", "text_id", "title_from_text", "url_id"]
