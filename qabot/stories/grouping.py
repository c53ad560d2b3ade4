"""Grouping articles into stories: copies of one report (wire copies, re-publications) under one story id.

A story is a group of articles linked by resemblance (``SAME_STORY`` of the shorter one's five-word runs in the
other), linked through any chain of copies, and its id is the smallest article id in it. So the grouping and the
id follow from the articles an index holds, not from the order they came in: an article that resembles two stories
joins them into one, and a story that loses an article is split again into the groups its other articles still form.
"""

from __future__ import annotations

from collections.abc import Sequence

from qabot.models import Article
from qabot.store import StoreWriter
from qabot.stories.copies import resemblance, shingles
from qabot.text import query_words

# Share of the shorter article's five-word runs found in the longer one above which both are one story.
SAME_STORY = 0.6
_CANDIDATES = 12  # indexed articles compared with a new one: its best lexical matches
_PROBE_WORDS = 32  # words of the title and lead a new article is looked up by, at most
# Postings that lookup may walk: FTS5 scores every chunk holding any of its words, which at a million chunks made 32
# common words cost more than the rest of an ingest of a few articles. Rarest first (a copy shares the names and
# numbers above all); an index whose probe words are all rarer than this (any small one) keeps every word.
_PROBE_POSTINGS = 30_000
_PROBE_MIN_WORDS = 4  # however common: an article of common words still finds its copies


def assign_story(writer: StoreWriter, article: Article) -> str:
    """The story id for ``article`` (about to be stored): the smallest id among it and the stories it copies,
    which are merged into that one."""
    probe = _probe(writer, query_words(f"{article.title} {' '.join(article.text.split()[:40])}")[:_PROBE_WORDS])
    mine = shingles(article.text)
    joined = {
        story
        for other_id, other_text, story in writer.similar_articles(probe, k=_CANDIDATES)
        if other_id != article.id and resemblance(mine, shingles(other_text)) >= SAME_STORY
    }
    story = min(joined | {article.id})
    writer.merge_stories(joined - {story}, story)
    return story


def _probe(writer: StoreWriter, words: list[str]) -> list[str]:
    """``words`` rarest first within ``_PROBE_POSTINGS`` postings (document frequencies of the committed index, so
    words only this transaction's articles hold cost nothing), in their own order."""
    stems = writer.store.analyze(words)
    df, _ = writer.store.document_frequencies([t for ts in stems for t in ts])
    cost = [sum(df.get(t, 0) for t in ts) for ts in stems]
    keep: list[int] = []
    spent = 0
    for i in sorted(range(len(words)), key=lambda i: (cost[i], i)):
        if spent + cost[i] > _PROBE_POSTINGS and len(keep) >= _PROBE_MIN_WORDS:
            break
        keep.append(i)
        spent += cost[i]
    return [words[i] for i in sorted(keep)]


def regroup(writer: StoreWriter) -> None:
    """Split each story that lost or changed an article in this transaction into the groups still linked."""
    for story in sorted(writer.touched_stories()):
        members = writer.story_articles(story)
        for group in _linked(members):
            if min(group) != story:
                writer.set_story(group, min(group))


def _linked(members: Sequence[tuple[str, str]]) -> list[list[str]]:
    """The ids of ``(id, text)`` articles grouped by chains of resemblance (union-find over every pair)."""
    ids = [m[0] for m in members]
    marks = [shingles(text) for _, text in members]
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            if root(i) != root(j) and resemblance(marks[i], marks[j]) >= SAME_STORY:
                parent[root(j)] = root(i)
    groups: dict[int, list[str]] = {}
    for i, article_id in enumerate(ids):
        groups.setdefault(root(i), []).append(article_id)
    return list(groups.values())


__all__ = ["SAME_STORY", "assign_story", "regroup"]
