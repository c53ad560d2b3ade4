"""What a commit leaves behind and keeps: exactly the vectors still used, and word statistics that stay both
remembered and exact (the costs themselves are measured by benchmarks/costs.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import numpy as np
import pytest

from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.store import DB, IndexStore
from qabot.stories import grouping
from tests.helpers import HEAT, RATES

SHARED = "The water board said supplies would last until October."
DAM = Article(
    id="dam",
    title="Vellmoor reservoir level falls again",
    text=f"The reservoir fell to 27 percent of capacity, the lowest level since records began.\n\n{SHARED}",
    published="2025-07-28",
)
WELLS = Article(
    id="wells",
    title="Old wells reopened near Vellmoor",
    text=f"Farmers near Vellmoor reopened three disused wells on Tuesday.\n\n{SHARED}",
    published="2025-07-29",
)


def vector_hashes(settings: Settings) -> tuple[set[str], set[str]]:
    """The stored vectors' hashes, and those the chunks and sentences use."""
    conn = sqlite3.connect(settings.index_dir / DB)
    try:
        stored = {r[0] for r in conn.execute("SELECT hash FROM vectors")}
        used = {r[0] for r in conn.execute("SELECT vhash FROM chunks UNION SELECT vhash FROM sentences")}
    finally:
        conn.close()
    return stored, used


def test_a_commit_drops_exactly_the_vectors_nobody_uses(index_of: Callable[..., Settings], embedder: Embedder) -> None:
    settings = index_of([RATES, HEAT, DAM, WELLS])
    stored, used = vector_hashes(settings)
    assert stored == used
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    # A run killed after embedding leaves vectors no chunk uses.
    store = IndexStore.open(settings.index_dir, model=settings.model)
    with store.writer() as writer:
        writer.save_vectors({"left-by-a-killed-run": np.ones(embedder.dimension, dtype=np.float32)})
    store.close()

    assert ingestor.remove("dam")
    stored, used = vector_hashes(settings)
    assert stored == used  # dam's own vectors and the killed run's are gone
    (shared,) = [h for h in used if h in _sentence_hashes(settings, "wells", SHARED)]
    assert shared in stored  # the sentence dam shared with wells stays with wells
    assert ingestor.remove("wells")
    stored, used = vector_hashes(settings)
    assert stored == used
    assert shared not in stored


def test_an_index_from_before_the_sweep_index_is_swept_whole_once(
    index_of: Callable[..., Settings], embedder: Embedder
) -> None:
    settings = index_of([RATES, HEAT])
    conn = sqlite3.connect(settings.index_dir / DB)
    conn.execute("DROP INDEX IF EXISTS chunks_vhash")
    conn.execute("DROP INDEX IF EXISTS sentences_vhash")
    conn.execute("DELETE FROM meta WHERE key = 'swept'")
    conn.execute("INSERT INTO vectors VALUES ('orphan-from-long-ago', x'00000000')")
    conn.commit()
    conn.close()

    Ingestor.from_settings(settings, embedder=embedder).ingest_articles([DAM])
    stored, used = vector_hashes(settings)
    assert stored == used


def _sentence_hashes(settings: Settings, article_id: str, text: str) -> set[str]:
    conn = sqlite3.connect(settings.index_dir / DB)
    try:
        rows = conn.execute(
            'SELECT s.vhash, s.start, s."end", a.text FROM sentences s JOIN articles a ON a.id = s.article_id '
            "WHERE s.article_id = ?",
            (article_id,),
        ).fetchall()
    finally:
        conn.close()
    return {h for h, start, end, body in rows if body[start:end] == text}


def test_word_statistics_are_remembered_across_commits_and_stay_exact(
    index_of: Callable[..., Settings], embedder: Embedder
) -> None:
    settings = index_of([RATES, HEAT])
    reader = IndexStore.open(settings.index_dir, model=settings.model)
    terms = [t for ts in reader.analyze(["reservoir", "inflation", "wells", "Vellmoor"]) for t in ts]
    reservoir, inflation, wells, vellmoor = terms
    assert reader.document_frequencies(terms)[0] == {reservoir: 1, inflation: 1, vellmoor: 1}
    ingestor = Ingestor.from_settings(settings, embedder=embedder)

    def exact() -> tuple[dict[str, int], int]:
        fresh = IndexStore.open(settings.index_dir, model=settings.model)
        try:
            return fresh.document_frequencies(terms)
        finally:
            fresh.close()

    ingestor.ingest_articles([DAM, WELLS])
    assert reader.document_frequencies(terms) == exact()
    assert reader.document_frequencies(terms)[0] == {reservoir: 2, inflation: 1, wells: 1, vellmoor: 3}
    ingestor.remove("heat")
    assert reader.document_frequencies(terms) == exact()
    assert reader.document_frequencies(terms)[0][vellmoor] == 2

    # A word the commits did not touch is still known, without asking FTS5 to count it again.
    statements: list[str] = []
    reader.conn.set_trace_callback(statements.append)
    ingestor.ingest_articles([HEAT])
    assert reader.document_frequencies([inflation]) == ({inflation: 1}, exact()[1])
    assert not [s for s in statements if "chunks_vocab" in s]
    assert reader.document_frequencies(terms) == exact()
    reader.close()


def test_a_copy_joins_its_story_when_the_lookup_may_walk_almost_nothing(
    index_of: Callable[..., Settings], embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At a million chunks most of an article's words are common; the story lookup then keeps only its rarest.
    settings = index_of([RATES, HEAT, DAM, WELLS])
    monkeypatch.setattr(grouping, "_PROBE_POSTINGS", 1)
    copy = Article(id="heat-copy", title=HEAT.title, text=HEAT.text, url="https://wire.example.invalid/heat")
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles([copy])
    store = IndexStore.open(settings.index_dir, model=settings.model)
    try:
        assert store.stories(["heat", "heat-copy", "dam"]) == {"heat": "heat", "heat-copy": "heat", "dam": "dam"}
    finally:
        store.close()


def test_word_statistics_follow_an_older_qabots_commit_to_an_index_without_the_log(
    index_of: Callable[..., Settings],
) -> None:
    # An index from before the log, written by an older qabot while this one reads: no lexical_log table at all.
    settings = index_of([RATES, HEAT])
    conn = sqlite3.connect(settings.index_dir / DB)
    conn.execute("DROP TABLE lexical_log")
    conn.commit()
    reader = IndexStore.open(settings.index_dir, model=settings.model)
    terms = [t for ts in reader.analyze(["inflation", "reservoir"]) for t in ts]
    inflation, reservoir = terms
    before, n = reader.document_frequencies(terms)
    assert before == {inflation: 1, reservoir: 1}

    # The older qabot removes "heat" and commits, logging nothing.
    conn.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE article_id = 'heat')")
    for table, key in (("chunks", "article_id"), ("sentences", "article_id"), ("articles", "id")):
        conn.execute(f"DELETE FROM {table} WHERE {key} = 'heat'")
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    conn.commit()
    conn.close()

    after, m = reader.document_frequencies(terms)  # counted afresh, not reported as a damaged index
    fresh = IndexStore.open(settings.index_dir, model=settings.model)
    try:
        assert (after, m) == fresh.document_frequencies(terms)
    finally:
        fresh.close()
    assert after == {inflation: 1}  # the reservoir was only in "heat"
    assert m < n
    reader.close()
