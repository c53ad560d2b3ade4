"""Question → ranked chunks: dense and lexical (BM25) results from the store, fused by reciprocal rank."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qabot.embed import Embedder
from qabot.store import ChunkRow, Store
from qabot.text import STOPWORDS, query_words  # re-exported: older callers import them from here

if TYPE_CHECKING:
    from numpy.typing import NDArray

_MAX_LEXICAL_WORDS = 10
# BM25 postings walked per question at most: FTS5 scores every chunk holding any query word, so the cost is the sum
# of their document frequencies (~1.3 µs each here). 3k keeps BM25 near 4 ms at any size; news-qa's eval (3k chunks)
# is the same with it as without.
_POSTING_BUDGET = 3_000
_RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the head of each list so neither dominates


@dataclass(frozen=True)
class ChunkHit:
    """One retrieved chunk with its dense similarity, lexical score and fused score."""

    chunk: ChunkRow
    dense: float
    lexical: float
    fused: float


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for one question."""

    query_vector: NDArray[np.float32]
    words: list[str]
    hits: list[ChunkHit]
    timings_ms: dict[str, float]


class Retriever:
    """Finds the chunks most likely to answer a question."""

    def __init__(self, store: Store, embedder: Embedder, *, depth: int = 40) -> None:
        self.store = store
        self.embedder = embedder
        self.depth = depth

    def retrieve(self, question: str) -> Retrieval:
        """Dense and lexical candidates, fused; every hit carries its exact dense similarity."""
        t0 = time.perf_counter()
        qvec = self.embedder.embed_query(question)
        t1 = time.perf_counter()
        words = query_words(question)
        # Twice the depth, cut after ordering: FAISS and FTS5 return equal scores (wire copies share their chunks) in
        # row-id order, which is the index's history; ties go by content instead, so the same articles rank alike
        # however and in whatever order they were stored. Exact ties of more than ``depth`` chunks stay arbitrary.
        dense = self.store.search_vectors(qvec, 2 * self.depth)
        lexical = self.store.search_lexical(self._selective(words), 2 * self.depth)
        rows = self.store.chunks({cid for cid, _ in dense} | {cid for cid, _ in lexical})
        dense = _by_content(dense, rows)[: self.depth]
        lexical = _by_content(lexical, rows)[: self.depth]
        fused: dict[int, float] = {}
        for ranked in (dense, lexical):
            for rank, (cid, _) in enumerate(ranked):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (_RRF_K + rank + 1)
        dense_of = dict(dense)
        lex_of = dict(lexical)
        missing = [cid for cid in fused if cid not in dense_of]
        dense_of.update(self._exact_similarity(qvec, missing))
        hits = [ChunkHit(rows[c], dense_of.get(c, 0.0), lex_of.get(c, 0.0), score) for c, score in fused.items()]
        hits.sort(key=lambda h: (-h.fused, -h.dense, *content_key(h.chunk)))
        t2 = time.perf_counter()
        return Retrieval(qvec, words, hits, {"embed": (t1 - t0) * 1000, "search": (t2 - t1) * 1000})

    def _selective(self, words: list[str]) -> list[str]:
        """The question words worth a BM25 lookup: the rarer ones.

        A word in a third of all chunks adds almost nothing to BM25 but makes FTS5 walk its whole posting list, which
        at 100k chunks costs more than everything else in an answer. Rarest first, within a budget of postings; at a
        million chunks a question of common words is left to the dense search alone.
        """
        if not words:
            return words
        stems = self.store.analyze(words)
        df, n = self.store.document_frequencies([t for ts in stems for t in ts])
        common = max(50, n // 3)
        rarity = sorted(
            # A word of several terms ("covid-19") walks every term's postings.
            ((sum(df.get(t, 0) for t in ts), i) for i, ts in enumerate(stems) if ts),
            key=lambda x: x,
        )
        keep: list[int] = []
        spent = 0
        for d, i in rarity:
            if d > common or len(keep) == _MAX_LEXICAL_WORDS:
                break
            if spent + d <= _POSTING_BUDGET:
                keep.append(i)
                spent += d
        if not keep and n <= 3 * _POSTING_BUDGET:
            keep = [i for _, i in rarity[:2]]  # a small index whose every word is common: BM25 is cheap, use it
        return [words[i] for i in sorted(keep)]

    def similarities(self, qvec: NDArray[np.float32], ids: list[int]) -> dict[int, float]:
        """The exact dense similarity of ``qvec`` to the chunks ``ids`` (those in this generation's vectors)."""
        return self._exact_similarity(qvec, ids)

    def _exact_similarity(self, qvec: NDArray[np.float32], ids: list[int]) -> dict[int, float]:
        if not ids:
            return {}
        return {cid: float(np.dot(vec, qvec)) for cid, vec in self.store.chunk_vectors(ids).items()}


def content_key(chunk: ChunkRow) -> tuple[str, int]:
    """What orders chunks of equal score: their article and place in it, never the row id (an ingest's history)."""
    return chunk.article_id, chunk.ordinal


def _by_content(ranked: list[tuple[int, float]], rows: dict[int, ChunkRow]) -> list[tuple[int, float]]:
    # A chunk removed since the vector cache was loaded (or without its article) has no row: it is skipped.
    return sorted(((cid, s) for cid, s in ranked if cid in rows), key=lambda x: (-x[1], *content_key(rows[x[0]])))


__all__ = ["STOPWORDS", "ChunkHit", "Retrieval", "Retriever", "content_key", "query_words"]
