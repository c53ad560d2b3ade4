"""Which candidates become quotes: the most probable answer first, then others the scorer also believes answer,
within a character budget and an article cap, neighbours joined into one passage."""

from __future__ import annotations

from dataclasses import dataclass, replace

from qabot.answer.candidates import Candidate, to_quote
from qabot.models import Article, Quote
from qabot.store import Store


@dataclass(frozen=True)
class Limits:
    """How much one answer quotes. The budget is the product's promise; ``follow_chars`` and ``short_sentence`` are
    chosen by ``benchmarks/train_scorer.py`` on tune halves and shipped in ``scorer.json``."""

    char_budget: int = 500  # quoted characters at most, beyond the first sentence
    max_sentences: int = 3
    max_articles: int = 3
    follow_chars: int = 450  # the best sentence takes its next one along when both fit in this many characters
    short_sentence: int = 60  # a lone quote shorter than this takes the sentence after it
    second_min: float = 0.1  # a further sentence is quoted when its share of the answer probability is at least this
    more: int = 6  # passages kept for "more sources"


def choose(
    store: Store,
    articles: dict[str, Article],
    scored: list[Candidate],
    stories: dict[str, str],
    limits: Limits,
) -> tuple[list[Quote], list[Quote]]:
    """Greedy by probability: the best sentence, then others at or above ``limits.second_min`` while they fit.

    One story is quoted from one article only (its original publisher, see ``newsaware.originals``). Returns the
    quotes and the next passages for "more sources".
    """
    if not scored:
        return [], []
    story_article: dict[str, str] = {}
    seen_text: set[str] = set()
    chosen: list[Candidate] = []
    rest: list[Candidate] = []
    used = 0
    for s in scored:
        article = articles.get(s.article_id)
        if article is None:
            continue
        text = " ".join(article.text[s.start : s.end].split()).lower()
        story = stories.get(s.article_id, s.article_id)
        if text in seen_text or story_article.get(story, s.article_id) != s.article_id:
            continue  # a copy of a story already quoted adds nothing
        seen_text.add(text)
        cited = {c.article_id for c in chosen}
        fits = not chosen or (
            s.score >= limits.second_min
            and used + (s.end - s.start) <= limits.char_budget
            and len(chosen) < limits.max_sentences
            and (s.article_id in cited or len(cited) < limits.max_articles)
        )
        if fits:
            chosen.append(s)
            story_article[story] = s.article_id
            used += s.end - s.start
        else:
            rest.append(s)
    # "More sources" are other sources: the best passage of each article not quoted yet, one story once.
    cited = {c.article_id for c in chosen}
    seen_stories = {stories.get(a, a) for a in cited}
    more: list[Candidate] = []
    for s in rest:
        story = stories.get(s.article_id, s.article_id)
        if s.article_id in cited or story in seen_stories:
            continue
        seen_stories.add(story)
        more.append(s)
    rest = more[: limits.more]
    if limits.follow_chars:
        chosen = _follow(store, chosen, limits.follow_chars)
    # The follow-on sentence counts against the budget too: drop the least likely quotes (last chosen) until the
    # answer fits in the first sentence plus the budget.
    allowed = (chosen[0].end - chosen[0].start) + limits.char_budget if chosen else 0
    while len(chosen) > 1 and sum(c.end - c.start for c in chosen) > allowed:
        chosen.pop()
    return _passages(store, articles, chosen, limits), [to_quote(articles[s.article_id], s) for s in rest]


def _follow(store: Store, chosen: list[Candidate], limit: int) -> list[Candidate]:
    """News sentences often finish their thought in the next one ("…, he added."): quote both when short."""
    top = chosen[0]
    if any(c.article_id == top.article_id and c.ordinal == top.ordinal + 1 for c in chosen):
        return chosen
    nxt = store.sentences(top.article_id, top.ordinal + 1, top.ordinal + 1)
    if not nxt or nxt[0].end - top.start > limit:
        return chosen
    extra = Candidate(top.article_id, top.ordinal + 1, nxt[0].start, nxt[0].end, top.score, top.sim)
    return [top, extra, *chosen[1:]]


def _passages(store: Store, articles: dict[str, Article], chosen: list[Candidate], limits: Limits) -> list[Quote]:
    """Group chosen sentences by article (best article first), joining neighbours into one passage."""
    order = list(dict.fromkeys(s.article_id for s in chosen))
    quotes: list[Quote] = []
    for aid in order:
        mine = sorted((s for s in chosen if s.article_id == aid), key=lambda s: s.ordinal)
        spans: list[Candidate] = []
        for s in mine:
            if spans and s.ordinal == spans[-1].ordinal + 1:
                prev = spans[-1]  # a joined passage is as likely to answer as its best sentence
                spans[-1] = replace(prev, end=s.end, ordinal=s.ordinal, score=max(prev.score, s.score))
            else:
                spans.append(s)
        if len(mine) == 1 and mine[0].end - mine[0].start < limits.short_sentence:
            nxt = store.sentences(aid, mine[0].ordinal + 1, mine[0].ordinal + 1)
            spans = [replace(mine[0], end=nxt[0].end) if nxt else mine[0]]
        spans.sort(key=lambda s: -s.score)
        quotes.extend(to_quote(articles[aid], s) for s in spans)
    return quotes


__all__ = ["Limits", "choose"]
