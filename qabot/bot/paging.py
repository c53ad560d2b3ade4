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
    numbered = [*shown, *fresh]  # every article's number: its first appearance here, the same on every page
    pages = split_pages(fresh, per_page, numbered)
    if not 1 <= page <= len(pages):
        return None
    return SourcesPage(_render(pages[page - 1], numbered, page, len(pages))[0], page, len(pages))


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


def split_pages(fresh: Sequence[Quote], per_page: int, numbered: Sequence[Quote]) -> list[list[Quote]]:
    """At most ``per_page`` passages a page, fewer where they would not fit in one message (a page is edited in
    place, and an edit is one message)."""
    pages: list[list[Quote]] = []
    for quote in fresh:
        if pages and len(pages[-1]) < max(per_page, 1) and _fits([*pages[-1], quote], numbered):
            pages[-1].append(quote)
        else:
            pages.append([quote])
    return pages


def _fits(quotes: Sequence[Quote], numbered: Sequence[Quote]) -> bool:
    return len(_render(quotes, numbered, 99, 99)) == 1  # the longest heading a page may get


def _render(quotes: Sequence[Quote], numbered: Sequence[Quote], page: int, pages: int) -> list[str]:
    heading = th.MORE_SOURCES if pages == 1 else f"{th.MORE_SOURCES} ({page}/{pages})"
    return th.render_quotes_html(quotes, before=numbered, heading=heading)


def _plain(text: str) -> str:
    return " ".join(text.split()).lower()


__all__ = ["SourcesPage", "sources_page", "split_pages", "unseen"]
