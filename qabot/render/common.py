"""What every rendering of an answer shares: the decline sentence, how quotes are grouped under their article, how
an article's source line reads, and the plain-text form ``Answer.answer`` holds.

The terminal (``render.text``), Telegram (``render.telegram``) and the answerer's own plain text all build on these,
so an answer reads the same wherever it is shown:

- **Grouping.** Quotes stay in the answer's order (a timeline's dates, the disagreement's two sides); a run of
  consecutive quotes from one article shares one source line. Each article has one number for the whole answer,
  given in the order articles are first quoted, so an article quoted again after another keeps its number, and
  "more sources" numbers on from the articles already shown.
- **Source line.** ``[n] Title · Site · 2025-03-27``, then "also reported by …", then the link. Title first, as it
  is what a reader recognises; the site says who stands behind it and the date how fresh it is; the link comes
  last, on its own line in a terminal (it is long and a terminal cannot hide it) and under the title in Telegram.
  A missing title reads "Untitled", a missing site is the link's host, a missing date is left out.
- **Decline.** :data:`DECLINE_TEXT`, one sentence, in every front-end.

Every field is cleaned here (:func:`qabot.text.clean_label`): titles, outlets and links come from web
pages and feeds, and an escape sequence or a right-to-left override in one must be shown as nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from qabot.models import Answer, Article, Quote
from qabot.text import clean_label

DECLINE_TEXT = "The articles don't answer this question."
# What a question that names nothing gets instead of a guess: the way out, in words every front-end can show.
NO_TOPIC_TEXT = "Which story do you mean? Ask again with a name or a topic."
NO_MORE = "No more sources for this answer."
SUMMARY_LABEL = "Summary written by a language model, checked against the quotes:"
UNTITLED = "Untitled"
SEPARATOR = " · "

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SourceGroup:
    """A run of consecutive quotes from one article, under the article's number."""

    number: int
    quotes: tuple[Quote, ...]

    @property
    def source(self) -> Source:
        """The article's source line, from its first quote here."""
        return source_of(self.quotes[0])

    @property
    def numbers(self) -> list[int]:
        """The number of each quote in the group (to renumber a summary's ``[n]``, which counts quotes)."""
        return [self.number] * len(self.quotes)


@dataclass(frozen=True)
class Source:
    """An article's source line, every field cleaned for display: ``title · site · date``, then ``also`` and the
    link (``url``: the article; ``href``: where a link should open, the quoted sentence itself when known)."""

    title: str
    site: str
    date: str
    url: str | None
    href: str | None = None
    also: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        """``Title · Site · 2025-03-27`` with whatever parts are known (the title always)."""
        return SEPARATOR.join(p for p in (self.title, self.site, self.date) if p)

    @property
    def also_line(self) -> str:
        """``also reported by A, B``, or empty."""
        return "also reported by " + ", ".join(self.also) if self.also else ""


def group_quotes(quotes: Sequence[Quote], *, before: Sequence[Quote] = ()) -> list[SourceGroup]:
    """``quotes`` grouped by the one rule (see the module docstring); ``before``: quotes already shown for the same
    answer, whose articles keep their numbers and after which new articles are numbered."""
    numbers: dict[str, int] = {}
    for q in (*before, *quotes):
        numbers.setdefault(q.article_id, len(numbers) + 1)
    runs: list[list[Quote]] = []
    for q in quotes:
        if runs and runs[-1][-1].article_id == q.article_id:
            runs[-1].append(q)
        else:
            runs.append([q])
    return [SourceGroup(numbers[run[0].article_id], tuple(run)) for run in runs]


def source_of(item: Quote | Article) -> Source:
    """The cleaned source line of a quote's article, or of an article."""
    url = _field(item.url) or None
    href = item.link if isinstance(item, Quote) and item.link and is_web_url(item.link) else url
    also = item.also_reported_by if isinstance(item, Quote) else ()
    return Source(
        title=_field(item.title) or UNTITLED,
        site=site_name(_field(item.source), url),
        date=short_date(_field(item.published)),
        url=url,
        href=_field(href) or None,
        also=tuple(name for name in map(_field, also) if name),
    )


def declined_text(answer: Answer) -> str:
    """What a declined answer says: the answerer's own line (in the question's language when it asked in another),
    else :data:`DECLINE_TEXT`."""
    return _field(answer.answer) or DECLINE_TEXT


def plain_text(quotes: Sequence[Quote]) -> str:
    """The plain text a person reads (``Answer.answer``): each article's quotes, then its source line and link."""
    blocks = []
    for group in group_quotes(quotes):
        src = group.source
        lines = [f"“{q.text}”" for q in group.quotes]  # verbatim: JSON readers find the quote in it
        lines.append(f"[{group.number}] {src.line}")
        lines += [x for x in (src.also_line, src.url) if x]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a host: the only kind shown as a link."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def site_name(source: str | None, url: str | None) -> str:
    """The outlet's name, or the URL's host without ``www.`` when the article names none."""
    if source and source.strip():
        return source.strip()
    if url and is_web_url(url):
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.")
    return ""


def short_date(published: str | None) -> str:
    """``2025-03-27`` from an ISO date or datetime; other strings unchanged; empty when unknown."""
    if not published:
        return ""
    match = _ISO_DATE.match(published.strip())
    return match.group(0) if match else published.strip()


def _field(text: str | None) -> str:
    return clean_label(text) if text else ""


__all__ = [
    "DECLINE_TEXT",
    "NO_MORE",
    "SEPARATOR",
    "SUMMARY_LABEL",
    "UNTITLED",
    "Source",
    "SourceGroup",
    "declined_text",
    "group_quotes",
    "is_web_url",
    "plain_text",
    "short_date",
    "site_name",
    "source_of",
]
