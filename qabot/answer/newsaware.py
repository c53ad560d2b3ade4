"""The news-aware steps of an answer: wire copies, timelines, sources that disagree, later reports that update a
figure, and answers that may be out of date. Each takes the scored candidates (or quotes) and returns them
reordered or annotated; ``Answerer`` calls them in order. The period a question names and "latest" are features
of the scorer (``features.py``), so they weigh what the fitted model says they weigh.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import urlparse

from qabot.answer.candidates import Candidate, to_quote
from qabot.dates import parse_date, spoken_date
from qabot.models import Article, Quote
from qabot.store import SentenceRow, Store
from qabot.stories.copies import figures
from qabot.text import query_words


def rank(scored: list[Candidate], meta: dict[str, Article]) -> list[Candidate]:
    """Most probable first; between equals the newer article, then a fixed order (answers never depend on history)."""
    ordinal = {aid: (d.toordinal() if (d := parse_date(a.published)) else 0) for aid, a in meta.items()}
    return sorted(scored, key=lambda s: (-round(s.score, 9), -ordinal.get(s.article_id, 0), s.article_id, s.ordinal))


def originals(
    store: Store, scored: list[Candidate], meta: dict[str, Article]
) -> tuple[list[Candidate], dict[str, str]]:
    """Move each sentence of a copied story to the story's original (earliest) article when it says the same."""
    stories = store.stories(meta)
    members = store.story_members(set(stories.values()))
    originals = {sid: arts[0].id for sid, arts in members.items() if len(arts) > 1}
    if not originals:
        return scored, stories
    texts = {aid: a.text for aid, a in store.articles(originals.values()).items()}
    starts: dict[str, dict[int, SentenceRow]] = {aid: {} for aid in texts}
    for r in store.sentences_of([(aid, 0, 1 << 30) for aid in texts]):
        starts[r.article_id][r.start] = r
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


def timeline(
    meta: dict[str, Article], scored: list[Candidate], stories: dict[str, str], threshold: float, most: int
) -> list[Quote]:
    """The best sentence of each story the scorer believes answers (at or above ``threshold``), in date order."""
    if not scored:
        return []
    picked: dict[str, Candidate] = {stories.get(scored[0].article_id, scored[0].article_id): scored[0]}
    for s in scored[1:]:
        story = stories.get(s.article_id, s.article_id)
        if s.score < threshold or len(picked) >= most:
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
    threshold: float,
    max_articles: int,
) -> tuple[list[Quote], str]:
    """When another report gives a different figure for the same thing, show both quotes side by side.

    A rival sentence must be as likely an answer as the quotes beside the first (and at least ``threshold``): a
    passing mention of another figure in another story is not a second source.

    Mode "update" when one was published later (a follow-up of the same story or a later report elsewhere): the
    newer quote first, since news corrects itself. Mode "disagreement" when two stories give different figures on
    the same day (or undated): the sources differ. Copies of one story on one day are never a disagreement.
    """
    if not quotes:
        return quotes, "answer"
    first = quotes[0]
    mine = figures(first.text)
    if not mine:
        return quotes, "answer"
    words = _content(first.text)
    story = stories.get(first.article_id, first.article_id)
    mine_day = parse_date(first.published)
    bar = max(threshold, min((x.score for x in quotes[1:]), default=0.0))
    for s in scored:
        if s.score < bar:
            break
        if s.article_id == first.article_id or s.article_id not in meta:
            continue
        their_day = parse_date(meta[s.article_id].published)
        later = mine_day is not None and their_day is not None and mine_day != their_day
        if stories.get(s.article_id, s.article_id) == story and not later:
            continue  # a copy of the story: it says what the first quote says
        text = meta[s.article_id].text[s.start : s.end]
        theirs = figures(text)
        overlap = len(words & _content(text)) / max(1, min(len(words), len(_content(text))))
        if theirs and not (theirs & mine) and overlap >= 0.5 and _kinds(theirs) & _kinds(mine):
            other = to_quote(meta[s.article_id], s)
            rest = [q for q in quotes[1:] if q.article_id != other.article_id]
            if later:
                newer, older = (first, other) if mine_day > their_day else (other, first)  # type: ignore[operator]
                return [newer, older, *rest][:max_articles], "update"
            return [first, other, *rest][:max_articles], "disagreement"
    return quotes, "answer"


def also_reported(store: Store, quotes: list[Quote], stories: dict[str, str]) -> list[Quote]:
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
    """When every quote is older than ``days`` (0: never): the newest quoted article's date, and that later news
    may have changed the answer. Said in words: a bare "As of 2025-04-02:" read as a cryptic label."""
    dates = [parse_date(q.published) for q in quotes]
    if not days or not dates or any(d is None for d in dates):
        return None
    newest = max(d for d in dates if d is not None)
    if (today - newest).days > days:  # not today - timedelta(days): a huge setting would leave the calendar
        return f"These articles are from {spoken_date(newest)} or earlier; newer news may exist."
    return None


def _kinds(figs: set[str]) -> set[str]:
    """What the figures measure, roughly: a share, money, a count: only like figures can disagree."""
    return {"%" if f.endswith("%") else "$" if f.startswith("$") else f.lstrip("0123456789.+-") or "n" for f in figs}


def _content(text: str) -> set[str]:
    return set(query_words(text))


def outlet(q: Quote) -> str:
    """Who published a quote, for a note: the source, else the link's site, else the title."""
    return q.source or (urlparse(q.url).hostname if q.url else None) or q.title


def update_note(quotes: list[Quote]) -> str:
    """Says in words that a later report changed the figure, and when."""
    newer, older = parse_date(quotes[0].published), parse_date(quotes[1].published)
    return f"Updated: a report from {newer} gives a newer figure than one from {older}."


__all__ = [
    "also_reported",
    "disagreement",
    "originals",
    "outlet",
    "rank",
    "stale_note",
    "timeline",
    "update_note",
]
