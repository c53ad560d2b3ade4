"""Pages of "more sources" for a shown answer, without Telegram: which passages each page holds and its HTML.

The pages are worked out from the stored answer on every press, so the page number in a button is that message's
whole state: two messages never share a cursor, and a page looks the same each time it is shown. A passage the
answer already quotes is never offered again, and every article keeps the number it has in the answer on every
page; articles new on a page are numbered on after the answer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qabot.models import Quote
from qabot.render import telegram as th


@dataclass(frozen=True)
class SourcesPage:
    """One page of further sources: its HTML (one message), its number and how many pages there are (from 1)."""

    html: str
    page: int
    pages: int


def sources_page(shown: Sequence[Quote], more: Sequence[Quote], page: int, per_page: int) -> SourcesPage | None:
    """Page ``page`` of the passages in ``more`` that ``shown`` (the answer's quotes) does not already hold; None
    when there is no such page."""
    fresh = unseen(shown, more)
    numbers = article_numbers(shown, fresh)
    pages = split_pages(fresh, per_page, numbers)
    if not 1 <= page <= len(pages):
        return None
    return SourcesPage(_render(pages[page - 1], numbers, page, len(pages))[0], page, len(pages))


def unseen(shown: Sequence[Quote], more: Sequence[Quote]) -> list[Quote]:
    """The passages of ``more`` whose text is not already quoted (in ``shown`` or earlier in ``more``)."""
    seen = [_plain(q.text) for q in shown]
    fresh = []
    for quote in more:
        text = _plain(quote.text)
        if text and not any(text in old or old in text for old in seen):
            fresh.append(quote)
            seen.append(text)
    return fresh


def article_numbers(shown: Sequence[Quote], fresh: Sequence[Quote]) -> dict[str, int]:
    """Article id → the number its source line shows: as in the answer, then on in order of first appearance."""
    numbers: dict[str, int] = {}
    for position, group in enumerate(th.source_groups(shown), start=1):
        numbers.setdefault(group[0].article_id, position)
    following = len(th.source_groups(shown))
    for quote in fresh:
        if quote.article_id not in numbers:
            following += 1
            numbers[quote.article_id] = following
    return numbers


def split_pages(fresh: Sequence[Quote], per_page: int, numbers: dict[str, int]) -> list[list[Quote]]:
    """At most ``per_page`` passages a page, fewer where they would not fit in one message (a page is edited in
    place, and an edit is one message)."""
    pages: list[list[Quote]] = []
    for quote in fresh:
        if pages and len(pages[-1]) < max(per_page, 1) and _fits([*pages[-1], quote], numbers):
            pages[-1].append(quote)
        else:
            pages.append([quote])
    return pages


def _fits(quotes: Sequence[Quote], numbers: dict[str, int]) -> bool:
    return len(_render(quotes, numbers, 99, 99)) == 1  # the longest heading a page may get


def _render(quotes: Sequence[Quote], numbers: dict[str, int], page: int, pages: int) -> list[str]:
    heading = th.MORE_SOURCES if pages == 1 else f"{th.MORE_SOURCES} ({page}/{pages})"
    return th.render_quotes_html(quotes, numbers=numbers, heading=heading)


def _plain(text: str) -> str:
    return " ".join(text.split()).lower()


__all__ = ["SourcesPage", "article_numbers", "sources_page", "split_pages", "unseen"]
