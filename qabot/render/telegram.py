"""Telegram HTML for answers and command replies: pure functions, no ``telegram`` import.

Telegram's HTML parse mode accepts a handful of tags and needs ``<``, ``>`` and ``&`` escaped; every piece of
article or user text goes through :func:`html.escape` here, so a ``<script>`` in an article arrives as text.
A message may hold 4096 characters *after* entity parsing; we count the visible text in UTF-16 code units (what
Telegram measures entity offsets in, never fewer than ``len``), and split long answers between whole blocks,
never inside a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from qabot.models import Answer, Article, IndexStats, Quote
from qabot.text import counted

MAX_MESSAGE = 4096
LONG_QUOTE = 200  # longer quotes are collapsed (expandable) so a group sees a short answer first
BLOCK_SEP = "\n\n"

NOT_FOUND = "I couldn't find this in the articles."
SOMETHING_WRONG = "Sorry, something went wrong on my side. Please try again later."
PRIVATE_BOT = "Sorry, this bot is private. Ask its owner for access."
ADMIN_ONLY = "Sorry, only the bot's admins can do that."
EMPTY_QUESTION = "Ask me a question about the news, e.g. <code>/ask what happened to the F-35 program?</code>"
NO_MORE = "No more sources for this answer."
MORE_SOURCES = "More sources"
SOURCES_BELOW = "The further sources are in the message under this answer."
FEEDBACK_DOWN = "Sorry, I can't record that right now. Please try again later."
OLD_BUTTON = "This button no longer works. Ask again for a fresh answer."
NOT_A_QUESTION = "Glad to help — ask me anything about the articles."
NOT_TEXT = "I read text only: send me your question as a message."
NEW_CONVERSATION = "New conversation: the next question starts afresh."
SUMMARY_LABEL = "Summary written by a language model, checked against the quotes:"

_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_TAG = re.compile(r"<[^<>]*>")  # text is escaped here, so every "<" left starts a tag


@dataclass(frozen=True)
class _Block:
    """One unit the splitter never cuts: its HTML and the text Telegram will count."""

    html: str
    visible: str


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def esc(text: str) -> str:
    """Escape text for Telegram HTML (``<``, ``>``, ``&``)."""
    return html.escape(text, quote=False)


def plain_text(html_text: str) -> str:
    """What the user sees of HTML made here, as plain text: tags dropped, entities unescaped.

    The fallback when Telegram refuses the HTML: the same words, without formatting or links.
    """
    return html.unescape(_TAG.sub("", html_text))


def render_answer_html(answer: Answer, *, numbered_from: int = 1, limit: int = MAX_MESSAGE) -> list[str]:
    """Render an answer as one or more Telegram HTML messages, each within ``limit`` visible characters.

    An abstained answer is the single line :data:`NOT_FOUND`. Otherwise the answer's caveat (``note``) in italics,
    then the LLM's checked summary (``answer.synthesis``) under a line saying a model wrote it, then each passage in a
    blockquote, each article's passages followed by its numbered source line
    (``answer.answer`` is the plain-text form of the same quotes, so it is not repeated).
    """
    if answer.abstained or not answer.quotes:
        return [esc(NOT_FOUND)]
    blocks: list[_Block] = []
    if answer.note and answer.note.strip():
        blocks.append(_Block(f"<i>{esc(answer.note.strip())}</i>", answer.note.strip()))
    if answer.synthesis is not None and answer.synthesis.text:
        groups = source_groups(answer.quotes)
        where = {id(q): i for i, group in enumerate(groups, numbered_from) for q in group}
        summary = answer.synthesis.cited_as([where[id(q)] for q in answer.quotes])
        blocks.append(_Block(f"<i>{esc(SUMMARY_LABEL)}</i>\n{esc(summary)}", f"{SUMMARY_LABEL}\n{summary}"))
    blocks.extend(quote_blocks(answer.quotes, numbered_from=numbered_from, limit=limit))
    return pack_blocks(blocks, limit=limit)


def render_quotes_html(
    quotes: Sequence[Quote],
    *,
    numbered_from: int = 1,
    limit: int = MAX_MESSAGE,
    numbers: Mapping[str, int] | None = None,
    heading: str = "",
) -> list[str]:
    """Render extra passages ("more sources") numbered on from ``numbered_from``, or by article id from ``numbers``
    (so an article keeps its number on every page), under an optional bold ``heading``."""
    if not quotes:
        return [esc(NO_MORE)]
    blocks = [_Block(f"<b>{esc(heading)}</b>", heading)] if heading else []
    blocks.extend(quote_blocks(quotes, numbered_from=numbered_from, limit=limit, numbers=numbers))
    return pack_blocks(blocks, limit=limit)


def source_groups(quotes: Sequence[Quote]) -> list[list[Quote]]:
    """Runs of consecutive quotes from the same article: each run shares one numbered source line.

    Only neighbours are grouped, so an order that means something (a timeline) is kept.
    """
    groups: list[list[Quote]] = []
    for quote in quotes:
        if groups and groups[-1][-1].article_id == quote.article_id:
            groups[-1].append(quote)
        else:
            groups.append([quote])
    return groups


def quote_blocks(
    quotes: Sequence[Quote],
    *,
    numbered_from: int = 1,
    limit: int = MAX_MESSAGE,
    numbers: Mapping[str, int] | None = None,
) -> list[_Block]:
    """Blocks for quotes: a blockquote per passage (cut into several when too long); after each article's
    passages, its source line, joined to the last passage so the two are never split apart."""
    blocks: list[_Block] = []
    for position, group in enumerate(source_groups(quotes), start=numbered_from):
        number = numbers.get(group[0].article_id, position) if numbers else position
        src_html, src_text = source_line(group[0], number)
        for q_index, quote in enumerate(group):
            last_quote = q_index == len(group) - 1
            # Room for the source line and the newline that joins it to the last piece of the quote.
            room = limit - utf16_len(src_text) - 1 if last_quote else limit
            pieces = cut_text(quote.text.strip(), room)
            for i, piece in enumerate(pieces):
                tag = "<blockquote expandable>" if utf16_len(piece) > LONG_QUOTE else "<blockquote>"
                quote_html = f"{tag}{esc(piece)}</blockquote>"
                if last_quote and i == len(pieces) - 1:
                    blocks.append(_Block(f"{quote_html}\n{src_html}", f"{piece}\n{src_text}"))
                else:
                    blocks.append(_Block(quote_html, piece))
    return blocks


def source_line(quote: Quote, number: int) -> tuple[str, str]:
    """``(html, visible)`` of "N. — Title, Site, 2025-03-27, also reported by X", the title linked when the URL is
    http(s) (to the quoted sentence itself when the quote carries a text-fragment link)."""
    title = quote.title.strip() or "Untitled"
    parts_html = [link_html(title, _quote_href(quote))]
    parts_text = [title if not _shows_url_as_text(quote.url) else f"{title} ({quote.url})"]
    site = site_name(quote.source, quote.url)
    if site:
        parts_html.append(esc(site))
        parts_text.append(site)
    day = short_date(quote.published)
    if day:
        parts_html.append(esc(day))
        parts_text.append(day)
    others = [name.strip() for name in quote.also_reported_by if name.strip()]
    if others:
        parts_html.append("also reported by " + ", ".join(esc(n) for n in others))
        parts_text.append("also reported by " + ", ".join(others))
    return f"<b>{number}.</b> — " + ", ".join(parts_html), f"{number}. — " + ", ".join(parts_text)


def _quote_href(quote: Quote) -> str | None:
    link = quote.link
    return link if link and _is_web_url(link) else quote.url


def link_html(title: str, url: str | None) -> str:
    """The escaped title, as a link only for http(s) URLs; any other URL is shown as plain text."""
    if url and _is_web_url(url):
        return f'<a href="{html.escape(url, quote=True)}">{esc(title)}</a>'
    if url:
        return f"{esc(title)} ({esc(url)})"
    return esc(title)


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _shows_url_as_text(url: str | None) -> bool:
    return bool(url) and not _is_web_url(url or "")


def site_name(source: str | None, url: str | None) -> str:
    """The outlet's name, or the URL's host without ``www.`` when the article names none."""
    if source and source.strip():
        return source.strip()
    if url and _is_web_url(url):
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.")
    return ""


def short_date(published: str | None) -> str:
    """``2025-03-27`` from an ISO date or datetime; other strings unchanged; empty when unknown."""
    if not published:
        return ""
    match = _ISO_DATE.match(published.strip())
    return match.group(0) if match else published.strip()


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


def articles_phrase(count: int) -> str:
    """ "1 article", "2 articles"."""
    return counted(count, "article")


def start_html(stats: IndexStats, bot_username: str | None) -> str:
    """The /start greeting: what the bot does and what it knows (article count, newest date)."""
    newest = short_date(stats.newest)
    knows = f"I know {articles_phrase(stats.articles)}" + (f", the newest from {esc(newest)}." if newest else ".")
    return (
        "Hi! I answer questions about the news by quoting the articles I have, with links to the sources. "
        "If the articles don't say, I tell you so instead of guessing.\n\n"
        f"{knows}\n\nJust send me a question. {_group_usage(bot_username)} /help for more."
    )


def _group_usage(bot_username: str | None) -> str:
    name = f"@{esc(bot_username)}" if bot_username else "me"
    ask = f"/ask@{esc(bot_username)}" if bot_username else "/ask"
    return f"In groups, mention {name}, reply to one of my messages, or use <code>{ask} your question</code>."


def help_html(bot_username: str | None) -> str:
    """The /help text, including how to ask in groups."""
    return (
        "<b>How to ask</b>\n"
        "In this chat, send any question as a message, or <code>/ask your question</code>.\n"
        f"{_group_usage(bot_username)} I stay quiet otherwise.\n\n"
        "Each answer quotes the articles word for word, with numbered sources. "
        "Use 👍/👎 to tell me whether it helped and <i>More sources</i> for further passages.\n\n"
        "Follow-ups such as <i>when did that happen?</i> are read about the last answer: in this chat just ask on, "
        "in groups reply to my answer (each forum topic is its own conversation). /new starts over.\n\n"
        "<b>Commands</b>\n"
        "/ask — ask a question\n/new — start a new conversation\n/sources — the most recent articles\n"
        "/stats — what the index holds\n/help — this text"
    )


def unknown_command_html(command: str) -> str:
    """One line for a command the bot does not know (the name is cut short: it is whatever the user typed)."""
    return f"Unknown command /{esc(command[:32])}; /help lists the commands."


def skipped_note(skipped: int) -> str:
    """Said once after a burst of questions was answered: how many were not."""
    return (
        f"I skipped {counted(skipped, 'more question')} you sent while I was answering. "
        "Please send them again, one at a time."
    )


def vote_label(up: bool, count: int) -> str:
    """A vote button: 👍 or 👎, with the number of votes once there are any."""
    thumb = "👍" if up else "👎"
    return f"{thumb} {count}" if count else thumb


def vote_notice(vote: int, before: int) -> str:
    """What the presser of a vote button is told (only they see it): which vote counts now."""
    thumb = "👍" if vote > 0 else "👎"
    if before == vote:
        return f"You already voted {thumb}."
    return f"Changed your vote to {thumb}." if before else f"Thanks! Your {thumb} is counted."


def stats_html(stats: IndexStats) -> str:
    """The /stats text: articles, passages, newest date and model."""
    newest = short_date(stats.newest) or "unknown"
    return (
        f"<b>{articles_phrase(stats.articles)}</b>, {stats.chunks} passages\n"
        f"Newest article: {esc(newest)}\n"
        f"Model: <code>{esc(stats.model)}</code> ({stats.dimension} dimensions)"
    )


def sources_html(articles: Sequence[Article], *, limit: int = MAX_MESSAGE) -> str:
    """The /sources text: the most recent articles, numbered, linked and dated, within one message."""
    if not articles:
        return "I have no articles yet."
    lines = ["<b>Most recent articles</b>"]
    used = utf16_len("Most recent articles")
    for number, article in enumerate(articles, start=1):
        title = article.title.strip() or "Untitled"
        extras = [x for x in (site_name(article.source, article.url), short_date(article.published)) if x]
        line_html = f"{number}. {link_html(title, article.url)}" + "".join(f", {esc(x)}" for x in extras)
        line_text = f"{number}. {title}" + "".join(f", {x}" for x in extras)
        if _shows_url_as_text(article.url):
            line_text += f" ({article.url})"
        used += utf16_len(line_text) + 1
        if used > limit:
            break
        lines.append(line_html)
    return "\n".join(lines)


__all__ = [
    "ADMIN_ONLY",
    "EMPTY_QUESTION",
    "FEEDBACK_DOWN",
    "LONG_QUOTE",
    "MAX_MESSAGE",
    "MORE_SOURCES",
    "NEW_CONVERSATION",
    "NOT_A_QUESTION",
    "NOT_FOUND",
    "NOT_TEXT",
    "NO_MORE",
    "OLD_BUTTON",
    "PRIVATE_BOT",
    "SOMETHING_WRONG",
    "SOURCES_BELOW",
    "SUMMARY_LABEL",
    "articles_phrase",
    "cut_text",
    "esc",
    "help_html",
    "link_html",
    "pack_blocks",
    "plain_text",
    "quote_blocks",
    "render_answer_html",
    "render_quotes_html",
    "short_date",
    "site_name",
    "skipped_note",
    "source_groups",
    "source_line",
    "sources_html",
    "start_html",
    "stats_html",
    "unknown_command_html",
    "utf16_len",
    "vote_label",
    "vote_notice",
]
