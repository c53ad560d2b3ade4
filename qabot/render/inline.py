"""Inline-mode results (``@bot question`` typed in any chat): pure functions, no ``telegram`` import.

Each quoted article becomes one result: the list shows the article's title with its first quote as the
description, and picking it posts the HTML a chat answer has for that article (caveat, quotes, numbered source
line with the link to the quoted sentence), from :func:`qabot.render.telegram.render_answer_html`, so the two never
drift apart. A decline is one item with the decline sentence every front-end uses. Titles and descriptions are
cleaned like every label shown (:mod:`qabot.render.common`). An inline result posts exactly one message, so an
article whose quotes need more is cut to its first quote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qabot.models import Answer, Article, Quote
from qabot.render import telegram as th
from qabot.render.common import SEPARATOR, declined_text, source_of

DESCRIPTION_CHARS = 150  # the list shows two or three lines of it; the message itself carries the whole quote
MAX_RESULTS = 50  # Telegram's limit per answerInlineQuery


@dataclass(frozen=True)
class InlineItem:
    """One inline result: an id unique within its list (at most 64 bytes), the title and description the list
    shows, and the Telegram HTML message picking it posts."""

    id: str
    title: str
    description: str
    html: str


def answer_items(answer: Answer) -> list[InlineItem]:
    """One item per quoted article, in the answer's order; a decline is one item saying the articles don't answer."""
    if answer.abstained or not answer.quotes:
        html = th.render_answer_html(answer)[0]
        return [InlineItem("declined", declined_text(answer), shorten(th.clean(answer.question)), html)]
    items = []
    for quotes in by_article(answer.quotes)[:MAX_RESULTS]:
        first = quotes[0]
        html = _one_message(replace(answer, synthesis=None, more=()), quotes)
        title = source_of(first).title
        items.append(InlineItem(_item_id("q", first.article_id), title, shorten(th.clean(first.text)), html))
    return items


def newest_items(articles: Sequence[Article]) -> list[InlineItem]:
    """One item per article (for an empty or very short query): its title, then outlet and date; picking it posts
    the article's source line as ``/sources`` shows it (without the number)."""
    items = []
    for article in articles[:MAX_RESULTS]:
        src = source_of(article)
        html, _ = th.source_html(None, src)
        description = SEPARATOR.join(p for p in (src.site, src.date) if p) or "Newest article"
        items.append(InlineItem(_item_id("a", article.id), src.title, description, html))
    return items


def by_article(quotes: Sequence[Quote]) -> list[list[Quote]]:
    """The quotes of each article, articles in the order they are first quoted."""
    groups: dict[str, list[Quote]] = {}
    for quote in quotes:
        groups.setdefault(quote.article_id, []).append(quote)
    return list(groups.values())


def shorten(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """``text`` on one line, cut at a word before ``limit`` characters with "…" when longer."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


def _one_message(answer: Answer, quotes: list[Quote]) -> str:
    parts: list[str] = []
    for chosen in (quotes, quotes[:1]):
        parts = th.render_answer_html(replace(answer, quotes=tuple(chosen)))
        if len(parts) == 1:
            return parts[0]
    return parts[-1]  # one quote longer than a message: its last piece, which carries the source line


def _item_id(kind: str, article_id: str) -> str:
    # Article ids are any length; a digest keeps the result id within Telegram's 64 bytes and unique per article.
    return f"{kind}-{hashlib.sha256(article_id.encode('utf-8')).hexdigest()[:32]}"


__all__ = ["DESCRIPTION_CHARS", "MAX_RESULTS", "InlineItem", "answer_items", "by_article", "newest_items", "shorten"]
