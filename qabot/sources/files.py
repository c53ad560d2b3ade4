"""Files and folders → Articles, or a Skip with a one-line reason. Nothing raises out of here for bad input.

Supported: ``.txt`` (first short line is the title), ``.md``/``.markdown`` (optional front matter, ``# `` title),
``.html``/``.htm`` (main text via trafilatura), ``.json`` (an object, a list of objects, or ``{"articles": [...]}``)
and ``.jsonl`` (one object per line). Text is decoded and only normalised by ``\\r\\n`` → ``\\n``, trimming the
ends, and ``qabot.text.clean_stored``: escape sequences removed whole and other control characters but tab and line
breaks dropped (an escape sequence in a document must not reach a reader's terminal, nor leave its "[2J" behind).
That happens here, before anything is cut from the text: quotes are cut from it verbatim later. Titles, outlets
and authors are one-line labels: ``qabot.text.clean_label`` removes escape sequences whole, bidi controls and extra
spaces from them.

Decoding rule: a UTF-16 byte-order mark means UTF-16; otherwise NUL bytes mean binary; otherwise UTF-8 (a UTF-8
BOM is dropped), with any byte that is not valid UTF-8 read as Windows-1252, or Latin-1 for the five bytes
Windows-1252 leaves undefined (so a file pasted together from UTF-8 and Windows-1252 parts reads right in both).
Text in which more than 1 character in 50 is a control character is binary, whatever it decoded as. A document of
nothing but whitespace and invisible format characters (zero-width spaces, BOMs) is empty.

Every Article read from a file carries the file's resolved path as ``origin`` (uploads have none).

Ids: the record's own ``id`` as given; else ``url_id(url)`` when there is a URL; else
``<slug of file stem>-<sha1(resolved path[:record number])[:8]>`` so re-loading the same file gives the same ids.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from qabot.errors import LoadError
from qabot.models import Article, Skip
from qabot.sources.html import extract_html, host_of, title_from_text, url_id
from qabot.text import clean_label, clean_stored, is_blank, strip_controls

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
# A .txt, .md or .html file is one article. Past this size it is more likely a collection pasted into one file (a
# year of a newsletter, a whole export), which answers badly as one article: the loader says so, once per file.
LARGE_ARTICLE_BYTES = 5 * 1024 * 1024
_NOTICE = {"notice": True}  # a log record meant for the person running the command (see qabot.cli)
SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl"})
_TXT_TITLE_MAX = 200

# Record field → accepted names (compared case-insensitively), first match wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "title": ("title", "headline", "name"),
    "text": ("text", "content", "body", "article", "article_text"),
    "url": ("url", "link", "href"),
    "published": ("published", "date", "pubdate", "published_at", "datetime", "time"),
    "source": ("source", "site", "site_name", "outlet", "publisher"),
    "author": ("author", "authors", "byline"),
}
# Article bodies go through qabot.text.clean_stored as they are loaded, before any offset is taken (an article
# indexed before it keeps its "[31m" until it is ingested again, when its changed text replaces it); titles, outlets
# and authors are one-line labels and go through qabot.text.clean_label. _CONTROL only measures: a text this
# full of control characters is binary.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_HEADING = re.compile(r"#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\Z")


def load_paths(paths: Iterable[Path]) -> Iterator[Article | Skip]:
    """Load files and folders (recursively, in sorted order); every input yields Articles or Skips, never raises.

    Inside folders, hidden entries and files of unsupported types are ignored; a file named explicitly with an
    unsupported type is a Skip.
    """
    for path in paths:
        yield from _load_top(Path(path))


def load_text_document(name: str, data: bytes) -> list[Article | Skip]:
    """Load an in-memory upload (e.g. a document sent to the bot); ``name``'s extension picks the format.

    The name plays the part of the path in ids, so uploading a file of the same name again updates its articles.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return [Skip(name, _unsupported(suffix))]
    if len(data) > MAX_FILE_BYTES:
        return [Skip(name, "file is larger than 50 MB")]
    return list(_parse(data, suffix, clean_stored(name), name, clean_stored(Path(name).stem)))


def normalize_date(value: object) -> str | None:
    """An ISO 8601 date or datetime (timezone kept when given) from common date spellings, or None.

    Accepts ISO 8601, RFC 2822 ("Fri, 20 Sep 2024 08:30:00 +0200"), "September 20, 2024", "20 Sep 2024",
    "2024/09/20", "20.09.2024" and Unix timestamps (seconds or milliseconds).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        if not 1e8 < seconds < 4_102_444_800:  # 1973..2100: a bare year such as 2024 is not a timestamp
            return None
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    if not isinstance(value, str):
        return None
    s = " ".join(value.split())
    if not s or len(s) > 64:
        return None
    try:
        return date.fromisoformat(s).isoformat() if len(s) <= 10 else datetime.fromisoformat(s).isoformat()
    except ValueError:
        pass
    spelled = _parse_spelled_date(s)
    if spelled is not None:
        return spelled
    try:  # last: the RFC 2822 parser is lenient and would drop a trailing "p.m."
        return parsedate_to_datetime(s).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


_DATE_FORMATS = (
    "%Y/%m/%d", "%Y.%m.%d", "%d.%m.%Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y",
    "%d %B, %Y", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%B %d, %Y %H:%M", "%B %d, %Y %I:%M %p",
    "%b %d, %Y %I:%M %p", "%b %d, %Y %H:%M", "%d %B %Y %H:%M", "%d %b %Y %H:%M",
)  # fmt: skip
_WEEKDAY = re.compile(r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b", re.IGNORECASE)


def _parse_spelled_date(s: str) -> str | None:
    s = _WEEKDAY.sub("", s, count=1) if _WEEKDAY.match(s) else s
    s = _ORDINAL.sub("", s).replace("a.m.", "AM").replace("p.m.", "PM").replace(" at ", " ")
    s = re.sub(r"\b([A-Za-z]{3,4})\.", r"\1", s).replace("Sept ", "Sep ")  # AP style "Sept. 20"
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return parsed.isoformat() if ("%H" in fmt or "%I" in fmt) else parsed.date().isoformat()
    return None


# --- files and folders


def _load_top(path: Path) -> Iterator[Article | Skip]:
    try:
        st = path.stat()
    except FileNotFoundError:
        yield Skip(_shown(path), "no such file or directory")
        return
    except OSError as exc:
        yield Skip(_shown(path), f"cannot read: {exc.strerror or exc}")
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _walk(path, set())
    elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
        yield Skip(_shown(path), _unsupported(path.suffix.lower()))
    else:
        yield from _load_file(path, st)


def _walk(folder: Path, seen: set[tuple[int, int]]) -> Iterator[Article | Skip]:
    try:
        st = folder.stat()
        if (st.st_dev, st.st_ino) in seen:
            return  # a symlink loop back to a folder already being walked
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as it:
            names = sorted(entry.name for entry in it if not entry.name.startswith("."))
    except OSError as exc:
        yield Skip(_shown(folder), f"cannot list folder: {exc.strerror or exc}")
        return
    for name in names:
        path = folder / name
        try:
            st = path.stat()
        except OSError as exc:
            yield Skip(_shown(path), f"cannot read: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(path, seen)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield from _load_file(path, st)


def _load_file(path: Path, st: os.stat_result) -> Iterator[Article | Skip]:
    where = _shown(path)
    if not stat.S_ISREG(st.st_mode):
        yield Skip(where, "not a regular file")  # reading a FIFO or device could block forever
        return
    if st.st_size > MAX_FILE_BYTES:
        yield Skip(where, "file is larger than 50 MB")
        return
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        key = str(path.resolve())
    except (OSError, RuntimeError) as exc:
        yield Skip(where, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    if len(data) > MAX_FILE_BYTES:
        yield Skip(where, "file is larger than 50 MB")
        return
    for item in _parse(data, path.suffix.lower(), where, key, clean_stored(path.stem)):
        # Where it came from, so a renamed file's article moves with it and `ingest --sync` finds deleted files.
        yield replace(item, origin=clean_stored(key)) if isinstance(item, Article) else item


# --- formats


def _parse(data: bytes, suffix: str, where: str, key: str, stem: str) -> Iterator[Article | Skip]:
    """Decode and dispatch on ``suffix``; ``key`` (resolved path or upload name) seeds ids without a URL."""
    try:
        text = clean_stored(_decode(data)).replace("\r\n", "\n").strip()
        if is_blank(text):
            raise LoadError("empty file")
        if suffix in (".json", ".jsonl"):
            yield from (_jsonl if suffix == ".jsonl" else _json)(text, where, key, stem)
            return
        if suffix in (".html", ".htm"):
            # Bytes let trafilatura honour the page's own <meta charset>; UTF-16 it would not recognise.
            article = _html(text if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else data, key, stem)
        elif suffix == ".txt":
            article = _txt(text, key, stem)
        else:
            article = _markdown(text, key, stem)
        if len(data) > LARGE_ARTICLE_BYTES:  # for the person ingesting (a notice): front-ends show it as it is
            mb = len(data) / (1024 * 1024)
            log.warning("%s is %.1f MB; ingested as one article — split it if it holds many", where, mb, extra=_NOTICE)
        yield article
    except LoadError as exc:
        yield Skip(where, str(exc))
    # One odd file must not stop a folder of thousands; the traceback goes to the log for a bug report.
    except Exception as exc:
        log.exception("unexpected error loading %s", where)
        yield Skip(where, f"could not load ({type(exc).__name__}: {exc})"[:300])


def _decode(data: bytes) -> str:
    """Bytes → text by the module's decoding rule; LoadError for binary data."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadError("binary file (not valid UTF-16 text)") from None
    elif b"\x00" in data:
        raise LoadError("binary file (contains NUL bytes)")
    else:
        text = data.decode("utf-8-sig", errors=_LEGACY_BYTES)
    if len(_CONTROL.findall(text)) * 50 > len(text):
        raise LoadError("binary file (not UTF-8 or Windows-1252 text)")
    return text


def _legacy_bytes(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are Windows-1252 (Latin-1 where that leaves them undefined)."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), err.end


_LEGACY_BYTES = "qabot-legacy-bytes"
codecs.register_error(_LEGACY_BYTES, _legacy_bytes)


def _txt(text: str, key: str, stem: str) -> Article:
    first, _, rest = text.partition("\n")
    title, body = first.strip(), rest.strip()
    if len(title) > _TXT_TITLE_MAX or not body:
        title, body = stem, text
    return _article({}, body, key, stem, default_title=title)


def _markdown(text: str, key: str, stem: str) -> Article:
    meta, body = _front_matter(text)
    lines = body.split("\n")
    fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        heading = None if fence else _HEADING.match(line)
        if heading:
            given = _scalar(_field(meta, "title"))
            if given is None or given.strip() == heading.group(1).strip():
                meta = {**meta, "title": given or heading.group(1).strip()}
                body = "\n".join(lines[:i] + lines[i + 1 :]).strip()
            break
    if is_blank(body):
        raise LoadError("no article text after the title")
    return _article(meta, body, key, stem, default_title=stem)


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return {}, text
    meta: dict[str, object] = {}
    for line in lines[1:end]:
        name, sep, value = line.partition(":")
        if not sep or line[:1].isspace() or name.strip().startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        meta.setdefault(name.strip().lower(), value)
    return meta, "\n".join(lines[end + 1 :]).strip()


def _html(html: str | bytes, key: str, stem: str) -> Article:
    article = extract_html(html)
    return replace(article, id=url_id(article.url) if article.url else _path_id(key, stem))


def _json_problem(exc: ValueError, *, with_line: bool) -> str:
    """What is wrong and where, so the file can be fixed: "Expecting ',' delimiter: line 3 column 9".

    A JSON Lines record is parsed on its own, so its line is the file's (named in the skip), and only the column
    is its own.
    """
    if not isinstance(exc, json.JSONDecodeError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{exc.msg}: " + (f"line {exc.lineno} column {exc.colno}" if with_line else f"column {exc.colno}")


def _json(text: str, where: str, key: str, stem: str) -> Iterator[Article | Skip]:
    try:
        doc = json.loads(text)
    except RecursionError:
        raise LoadError("malformed JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
        raise LoadError(f"malformed JSON: {_json_problem(exc, with_line=True)}") from None
    if isinstance(doc, dict) and isinstance(doc.get("articles"), list):
        doc = doc["articles"]
    if isinstance(doc, dict):
        yield _record(doc, where, key, stem)
        return
    if not isinstance(doc, list):
        raise LoadError('JSON must be an object, a list of objects, or {"articles": [...]}')
    if not doc:
        raise LoadError("no articles in the JSON file")
    for i, item in enumerate(doc):
        yield _record(item, f"{where}[{i}]", f"{key}:{i}", stem)


def _jsonl(text: str, where: str, key: str, stem: str) -> Iterator[Article | Skip]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except RecursionError:
            yield Skip(f"{where}:{number}", "malformed JSON: nested too deeply")
            continue
        except ValueError as exc:
            yield Skip(f"{where}:{number}", f"malformed JSON: {_json_problem(exc, with_line=False)}")
            continue
        yield _record(item, f"{where}:{number}", f"{key}:{number}", stem)


def _record(item: object, where: str, key: str, stem: str) -> Article | Skip:
    if not isinstance(item, dict):
        return Skip(where, f"expected a JSON object, got {_kind(item)}")
    fields = {str(k).lower(): v for k, v in reversed(item.items())}  # reversed: the first spelling wins
    text = _field(fields, "text")
    if isinstance(text, list) and text and all(isinstance(part, str) for part in text):
        text = "\n\n".join(part.strip() for part in text if part.strip())  # a list of paragraphs
    if text is None:
        return Skip(where, "record has no text")
    if not isinstance(text, str):
        return Skip(where, f"text is {_kind(text)}, expected a string")
    text = clean_stored(text).replace("\r\n", "\n").strip()
    if is_blank(text):
        return Skip(where, "record has no text")
    return _article(fields, text, key, stem, default_title=title_from_text(text))


def _article(fields: dict[str, object], text: str, key: str, stem: str, *, default_title: str) -> Article:
    """Build an Article from a record's fields (aliases allowed), applying the id, date and source rules."""
    url = _scalar(_field(fields, "url"))
    url = (url.strip() or None) if url else None
    given_id = _scalar(_field(fields, "id"))
    source = _field(fields, "source")
    if isinstance(source, dict):  # e.g. NewsAPI's {"id": ..., "name": "BBC News"}
        source = source.get("name")
    author = _field(fields, "author")
    if isinstance(author, list):
        author = ", ".join(a.strip() for a in author if isinstance(a, str) and a.strip())
    title = clean_label(_scalar(_field(fields, "title"))) or clean_label(default_title) or default_title
    return Article(
        id=given_id if given_id else (url_id(url) if url else _path_id(key, stem)),
        title=title,
        text=text,
        url=url,
        published=normalize_date(_field(fields, "published")),
        source=clean_label(_scalar(source)) or host_of(url),
        author=clean_label(_scalar(author)) or None,
    )


def _field(fields: dict[str, object], name: str) -> object | None:
    for alias in _ALIASES[name]:
        value = fields.get(alias)
        if value is not None and value != "":
            return value
    return None


def _scalar(value: object) -> str | None:
    """Strings as they are, numbers as text; lists, objects and booleans are not usable as a scalar field."""
    if isinstance(value, str):
        return clean_stored(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _shown(path: Path) -> str:
    """A path as it may be printed in a Skip (never used as a key)."""
    return strip_controls(str(path), keep="")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def _path_id(key: str, stem: str) -> str:
    slug = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")[:40].strip("-") or "doc"
    return f"{slug}-{hashlib.sha1(key.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def _unsupported(suffix: str) -> str:
    return f"unsupported file type {suffix}" if suffix else "unsupported file type (no extension)"


__all__ = [
    "LARGE_ARTICLE_BYTES",
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "load_paths",
    "load_text_document",
    "normalize_date",
]
