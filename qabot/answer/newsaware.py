"""The news-aware steps of an answer: the period a question names, wire copies, timelines, sources that disagree,
and answers that may be out of date. Each takes the scored candidates (or quotes) and returns them reordered or
annotated; ``Answerer`` calls them in order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from qabot.candidates import Candidate, to_quote
from qabot.models import Article, Quote
from qabot.news import TimeHint, figures, in_range, parse_date
from qabot.retrieve import query_words
from qabot.store import IndexStore

if TYPE_CHECKING:
    from qabot.answer import Tuning


def by_time(scored: list[Candidate], meta: dict[str, Article], hint: TimeHint, t: Tuning) -> list[Candidate]:
    """Prefer articles in the period the question names, newer ones for "latest"; newer wins ties."""
    dates = {aid: parse_date(a.published) for aid, a in meta.items()}
    known = sorted({d for d in dates.values() if d is not None})
    recency = {d: i / max(1, len(known) - 1) for i, d in enumerate(known)}
    out = []
    for s in scored:
        d = dates.get(s.article_id)
        bonus = 0.0
        article = meta.get(s.article_id)
        if hint.has_range and article is not None and in_range(article.published, hint):
            bonus += t.w_time
        if hint.latest and d is not None:
            bonus += t.w_recent * recency[d]
        out.append(replace(s, score=s.score + bonus) if bonus else s)
    ordinal = {aid: (d.toordinal() if d else 0) for aid, d in dates.items()}
    out.sort(key=lambda s: (-round(s.score, 9), -ordinal.get(s.article_id, 0), s.article_id, s.ordinal))
    return out


def originals(
    store: IndexStore, scored: list[Candidate], meta: dict[str, Article]
) -> tuple[list[Candidate], dict[str, str]]:
    """Move each sentence of a copied story to the story's original (earliest) article when it says the same."""
    stories = store.stories(meta)
    members = store.story_members(set(stories.values()))
    originals = {sid: arts[0].id for sid, arts in members.items() if len(arts) > 1}
    if not originals:
        return scored, stories
    texts = {aid: a.text for aid, a in store.articles(originals.values()).items()}
    starts = {aid: {r.start: r for r in store.sentences(aid, 0, 1 << 30)} for aid in texts}
    out = []
    for s in scored:
        orig = originals.get(stories.get(s.article_id, ""))
        if orig and orig != s.article_id and orig in texts and s.article_id in meta:
            sentence = meta[s.article_id].text[s.start : s.end]
            at = texts[orig].find(sentence)
            row = starts[orig].get(at)
            if row is not None and row.end == at + len(sentence):  # the same whole sentence in the original
                s = replace(s, article_id=orig, start=row.start, end=row.end, ordinal=row.ordinal)
        out.append(s)
    missing = {s.article_id for s in out} - set(meta)
    meta.update(store.articles(missing))
    return out, stories


def timeline(meta: dict[str, Article], scored: list[Candidate], stories: dict[str, str], t: Tuning) -> list[Quote]:
    """The best sentence of each relevant story, in date order (undated last)."""
    if not scored:
        return []
    top = scored[0].score
    picked: dict[str, Candidate] = {}
    for s in scored:
        story = stories.get(s.article_id, s.article_id)
        if s.score < top - t.timeline_margin or len(picked) >= t.timeline_max:
            break
        picked.setdefault(story, s)
    quotes = [to_quote(meta[s.article_id], s) for s in picked.values()]
    quotes.sort(key=lambda q: (parse_date(q.published) or date.max, -q.score))
    return quotes


def disagreement(
    meta: dict[str, Article],
    scored: list[Candidate],
    stories: dict[str, str],
    quotes: list[Quote],
    t: Tuning,
    max_articles: int,
) -> tuple[list[Quote], str]:
    """When another outlet gives a different figure for the same thing, show both quotes side by side."""
    if not quotes:
        return quotes, "answer"
    first = quotes[0]
    mine = figures(first.text)
    if not mine:
        return quotes, "answer"
    words = _content(first.text)
    story = stories.get(first.article_id, first.article_id)
    for s in scored:
        if s.score < scored[0].score - t.conflict_margin:
            break
        if stories.get(s.article_id, s.article_id) == story:
            continue
        text = meta[s.article_id].text[s.start : s.end]
        theirs = figures(text)
        overlap = len(words & _content(text)) / max(1, min(len(words), len(_content(text))))
        if theirs and not (theirs & mine) and overlap >= 0.5 and _kinds(theirs) & _kinds(mine):
            other = to_quote(meta[s.article_id], s)
            rest = [q for q in quotes[1:] if q.article_id != other.article_id]
            return [first, other, *rest][:max_articles], "disagreement"
    return quotes, "answer"


def also_reported(store: IndexStore, quotes: list[Quote], stories: dict[str, str]) -> list[Quote]:
    """Name the other outlets that ran each quoted story."""
    members = store.story_members({stories.get(q.article_id, q.article_id) for q in quotes})
    out = []
    for q in quotes:
        others = members.get(stories.get(q.article_id, q.article_id), [])
        names = [a.source or a.title for a in others if a.id != q.article_id]
        mine = q.source or q.title
        out.append(replace(q, also_reported_by=tuple(n for n in dict.fromkeys(names) if n != mine)))
    return out


def stale_note(quotes: list[Quote], days: int, today: date) -> str | None:
    """ "As of <date>" when every quote is older than ``days`` (0: never)."""
    dates = [parse_date(q.published) for q in quotes]
    if not days or not dates or any(d is None for d in dates):
        return None
    newest = max(d for d in dates if d is not None)
    if newest < today - timedelta(days=days):
        return f"As of {newest.isoformat()}:"
    return None


def _kinds(figs: set[str]) -> set[str]:
    """What the figures measure, roughly: a share, money, a count: only like figures can disagree."""
    return {"%" if f.endswith("%") else "$" if f.startswith("$") else f.lstrip("0123456789.+-") or "n" for f in figs}


def _content(text: str) -> set[str]:
    return set(query_words(text))


__all__ = ["also_reported", "by_time", "disagreement", "originals", "stale_note", "timeline"]
