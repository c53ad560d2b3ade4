"""Answer → text for a terminal, and stats → text. Pure functions (Telegram HTML lives in telegram.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from qabot.models import Answer, Article, IndexStats, Quote
from qabot.text import clean_line, counted, strip_controls

SUMMARY_LABEL = "Summary (written by a language model, checked against the quotes):"


def source_line(q: Quote | Article) -> str:
    """ "Title · Site · 2025-03-27" with whatever parts are known."""
    date = (q.published or "")[:10]
    return " · ".join(p for p in (q.title, q.source, date) if p)


def group_by_source(quotes: Sequence[Quote]) -> list[list[Quote]]:
    """Quotes grouped by article, in the order each article is first quoted."""
    groups: dict[str, list[Quote]] = {}
    for q in quotes:
        groups.setdefault(q.article_id, []).append(q)
    return list(groups.values())


# Titles, outlets, links and notes come from web pages and feeds: every piece is cleaned as it is printed, so an
# escape sequence in one is shown as nothing, never obeyed. One-line fields go through clean_line (not folded: a
# title is shown as its site wrote it); quotes through strip_controls, which keeps their characters and line breaks.


def source_numbers(quotes: Sequence[Quote], groups: Sequence[Sequence[Quote]], first: int = 1) -> list[int]:
    """The source number shown for each quote, in order: its group's position (groups hold the quotes themselves)."""
    where = {id(q): i for i, group in enumerate(groups, first) for q in group}
    return [where[id(q)] for q in quotes]


def _field(text: str) -> str:
    return clean_line(text, fold=False)


def render_terminal(answer: Answer, *, width: int = 88, numbered_from: int = 1) -> str:
    """Quotes set off from the text; under each article's quotes, its numbered source with date and link."""
    if answer.abstained:
        return answer.answer
    out: list[str] = [_field(answer.note), ""] if answer.note else []
    groups = group_by_source(answer.quotes)
    if answer.synthesis is not None and answer.synthesis.text:
        summary = answer.synthesis.cited_as(source_numbers(answer.quotes, groups, numbered_from))
        out += [SUMMARY_LABEL, textwrap.fill(_field(summary), width=width, break_long_words=False), ""]
    for i, group in enumerate(groups, numbered_from):
        for j, q in enumerate(group):
            if j:
                out.append("  ⋮")  # a gap in the article between two quotes from it
            out.append(
                textwrap.fill(
                    strip_controls(f"“{q.text}”"),
                    width=width,
                    initial_indent="  │ ",
                    subsequent_indent="  │ ",
                    break_on_hyphens=False,
                    break_long_words=False,  # a long URL or figure in a quote stays whole
                )
            )
        out.append(f"  [{i}] {_field(source_line(group[0]))}")
        if group[0].also_reported_by:
            out.append(f"      also reported by {_field(', '.join(group[0].also_reported_by))}")
        if group[0].url:
            out.append(f"      {_field(group[0].url)}")
        out.append("")
    return "\n".join(out).rstrip()


def render_more(answer: Answer, *, width: int = 88) -> str:
    """The next passages after an answer's quotes, numbered on from them."""
    if not answer.more:
        return "No more sources for the last question."
    extra = Answer(answer.question, False, "", answer.more)
    return render_terminal(extra, width=width, numbered_from=len(group_by_source(answer.quotes)) + 1)


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


def render_sources(articles: list[Article]) -> str:
    """A numbered list of articles with date, site, id (what ``qabot remove`` takes) and link."""
    if not articles:
        return "The index has no articles yet."
    lines = []
    for i, a in enumerate(articles, 1):
        lines.append(
            f"[{i}] {_field(source_line(a))} (id {_field(a.id)})" + (f"\n    {_field(a.url)}" if a.url else "")
        )
    return "\n".join(lines)


def render_catalog(articles: Sequence[Article]) -> str:
    """``qabot list``: one line per article, "ID  DATE  Title · Site · link or file", then how many."""
    lines = []
    for a in articles:
        where = " · ".join(p for p in (a.title, a.source, a.url or a.origin) if p)
        lines.append(f"{_field(a.id)}  {_field((a.published or 'undated')[:10])}  {_field(where)}")
    return "\n".join([*lines, counted(len(articles), "article")])


__all__ = [
    "SUMMARY_LABEL",
    "group_by_source",
    "render_catalog",
    "render_more",
    "render_sources",
    "render_stats",
    "render_terminal",
    "source_line",
    "source_numbers",
]
