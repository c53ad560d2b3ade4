"""The vector index chosen by size: a large index searches an HNSW graph that answers as exact search does, and a
graph, which cannot delete, never returns removed articles and is rebuilt once they pile up.

The size threshold is lowered so the bundled samples count as "large"; the index is the session's sample index,
copied, so building the graph is the only new work.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.store import vectors

QUESTIONS = [
    "What interest rate did the Caldera Reserve Bank set?",
    "How many battery packs did Brindlewick recall?",
    "Why is Vellmoor rationing water?",
    "Who is the new coach of the Fenwater Rovers?",
    "What did the museum return?",
]


@pytest.fixture
def graph_settings(sample_index: Path, answerer: Answerer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A copy of the sample index whose vector cache will be rebuilt as a graph."""
    answerer.store.vector_index()  # the shared sample index keeps its exact index: load it before the threshold drops
    monkeypatch.setattr(vectors, "HNSW_MIN_CHUNKS", 10)
    copy = tmp_path / "index"
    shutil.copytree(sample_index, copy, ignore=shutil.ignore_patterns("*.faiss", ".write.lock"))
    return Settings(_env_file=None, index_dir=copy)  # type: ignore[call-arg]


def test_a_large_index_is_a_graph_that_answers_like_exact_search(
    graph_settings: Settings, answerer: Answerer, embedder: Embedder
) -> None:
    graph = Answerer.from_settings(graph_settings, embedder=embedder)
    index, _ = graph.store.vector_index()
    assert vectors.is_graph(index)
    assert not vectors.is_graph(answerer.store.vector_index()[0])
    for q in QUESTIONS:
        want, got = answerer.ask(q), graph.ask(q)
        assert got.abstained == want.abstained, q
        assert [x.text for x in got.quotes] == [x.text for x in want.quotes], q
    # And the graph's file on disk reloads as a graph, searched with the same depth.
    reopened = Answerer.from_settings(graph_settings, embedder=embedder)
    assert vectors.is_graph(reopened.store.vector_index()[0])
    assert reopened.ask(QUESTIONS[0]).quotes == graph.ask(QUESTIONS[0]).quotes


def test_removed_articles_never_come_back_from_a_graph(graph_settings: Settings, embedder: Embedder) -> None:
    answerer = Answerer.from_settings(graph_settings, embedder=embedder)
    before = answerer.ask(QUESTIONS[0])
    assert not before.abstained
    gone = before.quotes[0].article_id
    ingestor = Ingestor.from_settings(graph_settings, embedder=embedder)
    assert ingestor.remove(gone)

    index, _ = answerer.store.vector_index()
    live = answerer.store.count_chunks()
    assert vectors.is_graph(index)
    assert index.ntotal > live  # the removed chunks are still in the graph...
    qvec = embedder.embed_query(QUESTIONS[0])
    hits = answerer.store.search_vectors(qvec, 40)
    assert len(hits) == min(40, live)
    assert set(answerer.store.chunks(i for i, _ in hits)) == {i for i, _ in hits}  # ...but never found
    assert gone not in {q.article_id for q in answerer.ask(QUESTIONS[0]).quotes}


def test_a_graph_is_rebuilt_when_removed_chunks_pile_up(graph_settings: Settings, embedder: Embedder) -> None:
    answerer = Answerer.from_settings(graph_settings, embedder=embedder)
    ingestor = Ingestor.from_settings(graph_settings, embedder=embedder)
    ids = answerer.store.article_ids()
    for article_id in ids[: len(ids) // 2]:
        ingestor.remove(article_id)
    index, _ = answerer.store.vector_index()
    assert index.ntotal == answerer.store.count_chunks()  # compacted: nothing stale left
    vecs = index.index.reconstruct_n(0, index.ntotal)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
