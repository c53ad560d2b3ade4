"""Answer → text for a terminal, and stats → text. Pure functions (Telegram HTML lives in telegram.py).

Lines are wrapped to the terminal's width (:func:`terminal_width`), counted in the columns characters take (a
Chinese character takes two), so a quote's ``│`` gutter starts every line of it however narrow the window.
"""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Sequence

from qabot.models import Answer, Article, IndexStats, Quote
from qabot.render.common import NO_MORE, SEPARATOR, SUMMARY_LABEL, Source, declined_text, group_quotes, source_of
from qabot.text import clean_label, counted

DEFAULT_WIDTH = 88  # when the output is not a terminal (a pipe, a file)
MIN_WIDTH, MAX_WIDTH = 40, 100  # narrower cannot hold a source line; wider is hard to read
GUTTER = "  │ "


def terminal_width() -> int:
    """The columns to wrap to: the terminal's (``COLUMNS`` wins, as :func:`shutil.get_terminal_size` reads it),
    kept between 40 and 100; 88 when the output is not a terminal."""
    columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def cells(text: str) -> int:
    """The columns ``text`` takes on a terminal: wide characters (CJK, most emoji) two, combining marks none."""
    return sum(
        0 if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf" else
        2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )  # fmt: skip


def wrap(text: str, width: int, *, first: str = "", rest: str | None = None) -> list[str]:
    """``text`` (cleaned, whitespace collapsed) as lines of at most ``width`` columns, each starting with its prefix
    (``first`` on the first line, ``rest``, by default the same, on the others). A word longer than a line stays
    whole, so a URL or a figure is never cut, unless it is of wide characters (Chinese, Japanese: no spaces to wrap
    at), which are cut anywhere."""
    rest = first if rest is None else rest
    lines: list[str] = []
    line, used = "", 0
    for word in clean_label(text).split(" "):
        for piece in _pieces(word, width - cells(rest)):
            size = cells(piece)
            room = width - cells(rest if lines else first)
            if line and used + 1 + size > room:
                lines.append(line)
                line, used = "", 0
            line, used = (f"{line} {piece}", used + 1 + size) if line else (piece, size)
    lines.append(line)
    return [(rest if i else first) + body for i, body in enumerate(lines)]


def wrap_parts(parts: Sequence[str], width: int, *, first: str, rest: str, sep: str = SEPARATOR) -> list[str]:
    """``parts`` joined by ``sep`` as lines of at most ``width`` columns, broken between parts (the separator ends
    the line) and inside a part only when it is longer than a line by itself."""
    lines = [first]
    mark = sep.rstrip()
    for i, part in enumerate(parts):
        glue = "" if lines[-1] in (first, rest) else sep
        last = i == len(parts) - 1
        if cells(lines[-1] + glue + part + ("" if last else mark)) <= width:
            lines[-1] += glue + part
            continue
        if glue:
            lines[-1] += mark
            lines.append(rest)
        # Room is kept for the separator that may end the part's last line.
        lines[-1:] = wrap(part, width - (0 if last else cells(mark)), first=lines[-1], rest=rest)
    return lines


def _pieces(word: str, room: int) -> list[str]:
    if cells(word) <= room or cells(word) == len(word):
        return [word]
    pieces, piece, used = [], "", 0
    for ch in word:
        size = cells(ch)
        if piece and used + size > room:
            pieces.append(piece)
            piece, used = "", 0
        piece, used = piece + ch, used + size
    return [*pieces, piece]


def render_terminal(answer: Answer, *, width: int | None = None, before: Sequence[Quote] = ()) -> str:
    """Quotes set off from the text by a gutter; under each article's quotes, its numbered source line, who else
    reported it, and its link. ``before``: quotes already shown for this answer (they keep their numbers)."""
    width = width or terminal_width()
    if answer.abstained:
        return "\n".join(wrap(declined_text(answer), width))
    out: list[str] = [*wrap(answer.note, width), ""] if answer.note and answer.note.strip() else []
    groups = group_quotes(answer.quotes, before=before)
    if answer.synthesis is not None and answer.synthesis.text:
        summary = answer.synthesis.cited_as([n for g in groups for n in g.numbers])
        out += [*wrap(SUMMARY_LABEL, width), *wrap(summary, width), ""]
    for group in groups:
        for j, q in enumerate(group.quotes):
            if j:
                out.append("  ⋮")  # a gap in the article between two quotes from it
            out += wrap(f"“{q.text.strip()}”", width, first=GUTTER)  # wrap cleans what it prints
        out += source_lines(group.number, group.source, width, indent="  ")
        out.append("")
    return "\n".join(out).rstrip()


def source_lines(number: int, src: Source, width: int, *, indent: str, tail: str = "") -> list[str]:
    """``[n] Title · Site · date`` (and ``tail`` after it), then "also reported by …", then the link, each under the
    number."""
    hang = indent + " " * len(f"[{number}] ")
    parts = [p for p in (src.title, src.site, src.date) if p]
    parts[-1] += f" {tail}" if tail else ""
    lines = wrap_parts(parts, width, first=f"{indent}[{number}] ", rest=hang)
    if src.also_line:
        lines += wrap(src.also_line, width, first=hang)
    if src.url:
        lines.append(hang + src.url)  # never cut: a terminal finds a link only whole
    return lines


def render_more(answer: Answer, *, width: int | None = None) -> str:
    """The next passages after an answer's quotes, numbered on from them."""
    if not answer.more:
        return NO_MORE
    extra = Answer(answer.question, False, "", answer.more)
    return render_terminal(extra, width=width, before=answer.quotes)


def render_stats(stats: IndexStats) -> str:
    """The lines of ``qabot stats``."""
    size = stats.size_bytes / 1_048_576
    return "\n".join(
        [
            f"index:    {stats.path}",
            f"articles: {stats.articles}",
            f"chunks:   {stats.chunks}",
            f"model:    {stats.model} ({stats.dimension}-d)",
            f"size:     {size:.1f} MiB",
            f"newest:   {(stats.newest or 'no dates')[:10]}",
        ]
    )


def render_sources(articles: list[Article], *, width: int | None = None) -> str:
    """A numbered list of articles, each with the same source line as under a quote and its id (what ``qabot
    remove`` takes)."""
    if not articles:
        return "The index has no articles yet."
    width = width or terminal_width()
    lines = []
    for i, a in enumerate(articles, 1):
        lines += source_lines(i, source_of(a), width, indent="", tail=f"(id {clean_label(a.id)})")
    return "\n".join(lines)


def render_catalog(articles: Sequence[Article]) -> str:
    """``qabot list``: one line per article, "ID  DATE  Title · Site · link or file", then how many."""
    lines = []
    for a in articles:
        where = SEPARATOR.join(p for p in (a.title, a.source, a.url or a.origin) if p)
        lines.append(f"{clean_label(a.id)}  {clean_label((a.published or 'undated')[:10])}  {clean_label(where)}")
    return "\n".join([*lines, counted(len(articles), "article")])


__all__ = [
    "DEFAULT_WIDTH",
    "MAX_WIDTH",
    "MIN_WIDTH",
    "cells",
    "render_catalog",
    "render_more",
    "render_sources",
    "render_stats",
    "render_terminal",
    "source_lines",
    "terminal_width",
    "wrap",
    "wrap_parts",
]
