"""Telegram HTML for answers and command replies: pure functions, no ``telegram`` import.

Telegram's HTML parse mode accepts a handful of tags and needs ``<``, ``>`` and ``&`` escaped; every piece of
article or user text goes through :func:`esc` here, so a ``<script>`` in an article arrives as text, and control
characters and bidi overrides (which Telegram would draw) go as :func:`qabot.text.strip_controls` removes them.
Grouping, the source line and the decline sentence are the terminal's too (:mod:`qabot.render.common`).
A message may hold 4096 characters *after* entity parsing; we count the visible text in UTF-16 code units (what
Telegram measures entity offsets in, never fewer than ``len``), and split long answers between whole blocks,
never inside a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qabot.models import Answer, Article, IndexStats, Quote
from qabot.render import translations as tr
from qabot.render.common import (
    DECLINE_TEXT,
    NO_MORE,
    NO_TOPIC_TEXT,
    SEPARATOR,
    Source,
    SourceGroup,
    declined_text,
    group_quotes,
    is_web_url,
    short_date,
    source_of,
)
from qabot.text import strip_controls

MAX_MESSAGE = 4096
BLOCK_SEP = "\n\n"

# The English texts (the default); qabot.render.translations holds them with their translations.
SOMETHING_WRONG = tr.text("something_wrong")
PRIVATE_BOT = tr.text("private_bot")
ADMIN_ONLY = tr.text("admin_only")
EMPTY_QUESTION = tr.text("empty_question")
NOT_A_QUESTION = tr.text("not_a_question")
NOT_TEXT = tr.text("not_text")
NEW_CONVERSATION = tr.text("new_conversation")
MORE_SOURCES = "More sources"
SOURCES_BELOW = tr.text("sources_below")
FEEDBACK_DOWN = tr.text("feedback_down")
OLD_BUTTON = tr.text("old_button")

_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+")
_TAG = re.compile(r"<[^<>]*>")  # text is escaped here, so every "<" left starts a tag


@dataclass(frozen=True)
class _Block:
    """One unit the splitter never cuts: its HTML and the text Telegram will count."""

    html: str
    visible: str


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def clean(text: str) -> str:
    """Text as Telegram may show it: escape sequences, control characters and bidi overrides removed, line breaks
    kept (:func:`qabot.text.strip_controls`)."""
    return strip_controls(text)


def esc(text: str) -> str:
    """Text for Telegram HTML: :func:`clean`, then ``<``, ``>`` and ``&`` escaped."""
    return html.escape(clean(text), quote=False)


def plain_text(html_text: str) -> str:
    """What the user sees of HTML made here, as plain text: tags dropped, entities unescaped.

    The fallback when Telegram refuses the HTML: the same words, without formatting or links.
    """
    return html.unescape(_TAG.sub("", html_text))


def render_answer_html(
    answer: Answer, *, before: Sequence[Quote] = (), limit: int = MAX_MESSAGE, lang: str | None = None
) -> list[str]:
    """Render an answer as one or more Telegram HTML messages, each within ``limit`` visible characters.

    A declined answer is its one line (:func:`qabot.render.common.declined_text`). Otherwise the answer's caveat
    (``note``) in italics, then the LLM's checked summary (``answer.synthesis``) under a line saying a model wrote
    it, then each passage in a blockquote, each article's passages followed by its numbered source line
    (``answer.answer`` is the plain-text form of the same quotes, so it is not repeated). ``before``: quotes already
    shown for this answer, whose articles keep their numbers. ``lang`` (a Telegram ``language_code``): the language
    of the decline sentence and the summary's label; the quotes are never translated.
    """
    if answer.abstained or not answer.quotes:
        line = declined_text(answer) if answer.abstained else DECLINE_TEXT
        own = {DECLINE_TEXT: "declined", NO_TOPIC_TEXT: "no_topic"}.get(line)  # the answerer's English lines
        return [esc(tr.text(own, lang) if own else line)]
    blocks: list[_Block] = []
    note = clean(answer.note or "").strip()
    if note:
        blocks.append(_Block(f"<i>{esc(note)}</i>", note))
    groups = group_quotes(answer.quotes, before=before)
    if answer.synthesis is not None and answer.synthesis.text:
        summary = clean(answer.synthesis.cited_as([n for g in groups for n in g.numbers]))
        label = tr.text("summary_label", lang)
        blocks.append(_Block(f"<i>{esc(label)}</i>\n{esc(summary)}", f"{label}\n{summary}"))
    blocks.extend(quote_blocks(groups, limit=limit))
    return pack_blocks(blocks, limit=limit)


def render_quotes_html(
    quotes: Sequence[Quote], *, before: Sequence[Quote] = (), limit: int = MAX_MESSAGE, heading: str = ""
) -> list[str]:
    """Render extra passages ("more sources"), their articles numbered on from the quotes shown ``before``, under
    an optional bold ``heading``."""
    if not quotes:
        return [esc(NO_MORE)]
    blocks = [_Block(f"<b>{esc(heading)}</b>", heading)] if heading else []
    blocks.extend(quote_blocks(group_quotes(quotes, before=before), limit=limit))
    return pack_blocks(blocks, limit=limit)


def quote_blocks(groups: Sequence[SourceGroup], *, limit: int = MAX_MESSAGE) -> list[_Block]:
    """Blocks for quotes: a blockquote per passage (cut into several when too long); after each article's
    passages, its source line, joined to the last passage so the two are never split apart.

    The first passage, the best one, shows in full; the later ones are expandable (collapsed to a few lines), so a
    group sees the answer first and the rest on a tap.
    """
    blocks: list[_Block] = []
    first = groups[0].quotes[0] if groups and groups[0].quotes else None
    for group in groups:
        src_html, src_text = source_html(group.number, group.source)
        for q_index, quote in enumerate(group.quotes):
            last_quote = q_index == len(group.quotes) - 1
            # Room for the source line and the newline that joins it to the last piece of the quote.
            room = limit - utf16_len(src_text) - 1 if last_quote else limit
            pieces = cut_text(clean(quote.text).strip(), room)
            tag = "<blockquote>" if quote is first else "<blockquote expandable>"
            for i, piece in enumerate(pieces):
                quote_html = f"{tag}{esc(piece)}</blockquote>"
                if last_quote and i == len(pieces) - 1:
                    blocks.append(_Block(f"{quote_html}\n{src_html}", f"{piece}\n{src_text}"))
                else:
                    blocks.append(_Block(quote_html, piece))
    return blocks


def source_html(number: int | None, src: Source) -> tuple[str, str]:
    """``(html, visible)`` of the one source line (see :mod:`qabot.render.common`): "[n] Title · Site · date", the
    title linked when the link is http(s) (to the quoted sentence itself when known), then "also reported by …",
    then a link that is not http(s) as plain text. ``number`` None: the line alone, without "[n]"."""
    head_html, head_text = (f"<b>[{number}]</b> ", f"[{number}] ") if number is not None else ("", "")
    title = f'<a href="{html.escape(src.href, quote=True)}">{esc(src.title)}</a>' if _linked(src) else esc(src.title)
    parts_html = [f"{head_html}{title}" + "".join(esc(SEPARATOR + p) for p in (src.site, src.date) if p)]
    parts_text = [f"{head_text}{src.line}"]
    for extra in (src.also_line, "" if _linked(src) else src.url or ""):
        if extra:
            parts_html.append(esc(extra))
            parts_text.append(extra)
    return "\n".join(parts_html), "\n".join(parts_text)


def _linked(src: Source) -> bool:
    return bool(src.href) and is_web_url(src.href or "")


def cut_text(text: str, limit: int) -> list[str]:
    """Cut plain text into pieces of at most ``limit`` UTF-16 units: at sentence ends, else spaces, else anywhere."""
    limit = max(limit, 1)
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _cut_point(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return [p for p in pieces if p] or [""]


def _cut_point(text: str, limit: int) -> int:
    # The longest prefix that fits, in code points (never splits a surrogate pair).
    fit, used = 0, 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            break
        fit += 1
    head = text[: fit + 1]  # one more char, so a sentence ending exactly at the limit still counts
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.start() < fit]
    if sentence_ends and sentence_ends[-1] > fit // 2:
        return min(sentence_ends[-1], fit)
    space = text.rfind(" ", 0, fit + 1)
    if space > fit // 2:
        return space
    return max(fit, 1)


def pack_blocks(blocks: Sequence[_Block], *, limit: int = MAX_MESSAGE) -> list[str]:
    """Greedily pack whole blocks into messages whose visible text stays within ``limit``."""
    messages: list[str] = []
    html_parts: list[str] = []
    size = 0
    for block in blocks:
        block_size = utf16_len(block.visible)
        extra = block_size + (utf16_len(BLOCK_SEP) if html_parts else 0)
        if html_parts and size + extra > limit:
            messages.append(BLOCK_SEP.join(html_parts))
            html_parts, size, extra = [], 0, block_size
        html_parts.append(block.html)
        size += extra
    if html_parts:
        messages.append(BLOCK_SEP.join(html_parts))
    return messages


def articles_phrase(count: int, lang: str | None = None) -> str:
    """ "1 article", "2 articles" (in the language of ``lang``, a Telegram ``language_code``)."""
    return tr.plural("articles", lang, count)


def start_html(stats: IndexStats, bot_username: str | None, lang: str | None = None) -> str:
    """The /start greeting: what the bot does and what it knows (article count, newest date)."""
    newest = short_date(stats.newest)
    articles = articles_phrase(stats.articles, lang)
    if newest:
        knows = tr.text("knows_newest", lang, articles=articles, newest=esc(newest))
    else:
        knows = tr.text("knows", lang, articles=articles)
    return tr.text("start", lang, knows=knows, group_usage=_group_usage(bot_username, lang))


def _group_usage(bot_username: str | None, lang: str | None) -> str:
    if not bot_username:
        return tr.text("group_usage_plain", lang)
    return tr.text("group_usage", lang, name=f"@{esc(bot_username)}", ask=f"/ask@{esc(bot_username)}")


def joined_group_html(bot_username: str | None, lang: str | None = None) -> str:
    """The one note the bot posts when it is added to a group: how to address it there."""
    if not bot_username:
        return tr.text("joined_group_plain", lang)
    return tr.text("joined_group", lang, name=f"@{esc(bot_username)}", ask=f"/ask@{esc(bot_username)}")


def help_html(bot_username: str | None, lang: str | None = None) -> str:
    """The /help text, including how to ask in groups."""
    return tr.text("help", lang, group_usage=_group_usage(bot_username, lang))


def unknown_command_html(command: str, lang: str | None = None) -> str:
    """One line for a command the bot does not know (the name is cut short: it is whatever the user typed)."""
    return tr.text("unknown_command", lang, command=esc(command[:32]))


def skipped_note(skipped: int, lang: str | None = None) -> str:
    """Said once after a burst of questions was answered: how many were not."""
    return tr.text("skipped", lang, questions=tr.plural("more_questions", lang, skipped))


def vote_label(up: bool, count: int) -> str:
    """A vote button: 👍 or 👎, with the number of votes once there are any."""
    thumb = "👍" if up else "👎"
    return f"{thumb} {count}" if count else thumb


def vote_notice(vote: int, before: int, lang: str | None = None) -> str:
    """What the presser of a vote button is told (only they see it): which vote counts now."""
    thumb = "👍" if vote > 0 else "👎"
    key = "vote_already" if before == vote else "vote_changed" if before else "vote_counted"
    return tr.text(key, lang, thumb=thumb)


def stats_html(stats: IndexStats, lang: str | None = None) -> str:
    """The /stats text: articles, passages, newest date and model."""
    return tr.text(
        "stats",
        lang,
        articles=articles_phrase(stats.articles, lang),
        passages=tr.plural("passages", lang, stats.chunks),
        newest=esc(short_date(stats.newest) or tr.text("unknown_date", lang)),
        model=esc(stats.model),
        dimension=stats.dimension,
    )


def sources_html(articles: Sequence[Article], *, limit: int = MAX_MESSAGE, lang: str | None = None) -> str:
    """The /sources text: the most recent articles, each with the same source line as under a quote, within one
    message."""
    if not articles:
        return tr.text("no_articles", lang)
    title = tr.text("sources_title", lang)
    lines = [f"<b>{title}</b>"]
    used = utf16_len(title)
    for number, article in enumerate(articles, start=1):
        line_html, line_text = source_html(number, source_of(article))
        used += utf16_len(line_text) + 1
        if used > limit:
            break
        lines.append(line_html)
    return "\n".join(lines)


__all__ = [
    "ADMIN_ONLY",
    "EMPTY_QUESTION",
    "FEEDBACK_DOWN",
    "MAX_MESSAGE",
    "MORE_SOURCES",
    "NEW_CONVERSATION",
    "NOT_A_QUESTION",
    "NOT_TEXT",
    "OLD_BUTTON",
    "PRIVATE_BOT",
    "SOMETHING_WRONG",
    "SOURCES_BELOW",
    "articles_phrase",
    "clean",
    "cut_text",
    "esc",
    "help_html",
    "joined_group_html",
    "pack_blocks",
    "plain_text",
    "quote_blocks",
    "render_answer_html",
    "render_quotes_html",
    "skipped_note",
    "source_html",
    "sources_html",
    "start_html",
    "stats_html",
    "unknown_command_html",
    "utf16_len",
    "vote_label",
    "vote_notice",
]
