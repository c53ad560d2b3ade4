"""The index on disk: refuses another model, says what to do when missing, survives a lost vector cache,
is repaired from what is intact, and lets one writer in at a time."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.bot.conversations import FILENAME as CONVERSATIONS_FILE
from qabot.bot.feedback import FILENAME as FEEDBACK_FILE
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import IndexLocked, IndexMissing, ModelMismatch
from qabot.ingest import Ingestor
from qabot.models import Answer, Article
from qabot.repair import repair_index
from qabot.sources.feeds import FEEDS_FILE, FEEDS_LOCK, FeedList
from qabot.store import DB, IndexStore, layout
from tests.helpers import HEAT, RATE_Q, RATES

ARTICLES = [RATES, HEAT]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def built(index_of: Callable[..., Settings]) -> Settings:
    """A small index of ARTICLES, freshly built for the test."""
    return index_of(ARTICLES)


def fresh_answer(settings: Settings, embedder: Embedder, question: str = RATE_Q) -> Answer:
    """Ask through a newly opened index, as a process starting after the damage would."""
    answerer = Answerer.from_settings(settings, embedder=embedder)
    try:
        return answerer.ask(question)
    finally:
        answerer.store.close()


def same_quotes(a: Answer, b: Answer) -> bool:
    """The same passages, with scores equal up to the small change of embedding a text in another batch.

    (The int8 backend quantises activations per batch, so a text re-embedded alone gets a slightly different vector.)
    """
    key = [(q.article_id, q.start, q.end, q.text) for q in a.quotes]
    return key == [(q.article_id, q.start, q.end, q.text) for q in b.quotes] and all(
        abs(x.score - y.score) < 0.01 for x, y in zip(a.quotes, b.quotes, strict=True)
    )


def faiss_files(settings: Settings) -> list[Path]:
    return sorted(settings.index_dir.glob("chunks.g*.faiss"))


def test_another_model_is_refused_with_a_way_out(built: Settings, embedder: Embedder) -> None:
    other = built.model_copy(update={"model": "some/other-model"})
    with pytest.raises(ModelMismatch) as err:
        Answerer.from_settings(other, embedder=embedder)
    message = str(err.value)
    assert "\n" not in message
    assert built.model in message
    assert "some/other-model" in message
    assert f"QABOT_MODEL={built.model}" in message  # either go back to the model it was built with...
    assert "qabot" in message
    assert "ingest" in message


def test_another_model_cannot_write_into_the_index(built: Settings, embedder: Embedder) -> None:
    other = built.model_copy(update={"model": "some/other-model"})
    with pytest.raises(ModelMismatch):
        Ingestor.from_settings(other, embedder=embedder).ingest_articles(ARTICLES)
    assert IndexStore.open(built.index_dir, model=built.model).article_ids() == ["heat", "rates"]


def test_missing_index_names_the_ingest_command(settings: Settings, embedder: Embedder) -> None:
    with pytest.raises(IndexMissing) as err:
        Answerer.from_settings(settings, embedder=embedder)
    assert "qabot ingest" in str(err.value)
    assert str(settings.index_dir) in str(err.value)
    assert not settings.index_dir.exists(), "asking must not create an empty index"


def test_removing_from_a_missing_index_says_so(settings: Settings, embedder: Embedder) -> None:
    with pytest.raises(IndexMissing):
        Ingestor.from_settings(settings, embedder=embedder).remove("anything")


def test_stats_describe_the_index(built: Settings) -> None:
    stats = IndexStore.open(built.index_dir, model=built.model).stats()
    assert stats.articles == 2
    assert stats.chunks >= 2
    assert stats.model == built.model
    assert stats.dimension == 384
    assert stats.newest == "2025-07-21"
    assert stats.size_bytes > 0
    assert Path(stats.path) == built.index_dir


def test_recent_lists_newest_first(built: Settings) -> None:
    recent = IndexStore.open(built.index_dir, model=built.model).recent(5)
    assert [a.id for a in recent] == ["heat", "rates"]


@pytest.mark.parametrize("damage", ["deleted", "truncated", "garbage", "stale"])
def test_lost_vector_cache_is_rebuilt(built: Settings, embedder: Embedder, damage: str) -> None:
    expected = fresh_answer(built, embedder)
    assert not expected.abstained
    assert "4.25 percent" in expected.quotes[0].text
    [cache] = faiss_files(built)
    if damage == "deleted":
        cache.unlink()
    elif damage == "truncated":
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    elif damage == "garbage":
        cache.write_bytes(b"not a faiss index at all")
    else:  # a cache from before the last ingest, renamed to pose as the current one
        Ingestor.from_settings(built, embedder=embedder).remove("heat")
        expected = fresh_answer(built, embedder)
        [cache] = faiss_files(built)
        stale = built.model_copy(update={"index_dir": built.index_dir.parent / "stale"})
        Ingestor.from_settings(stale, embedder=embedder).ingest_articles(ARTICLES)
        [stale_cache] = faiss_files(stale)
        cache.write_bytes(stale_cache.read_bytes())

    answer = fresh_answer(built, embedder)

    assert answer.quotes == expected.quotes
    [rebuilt] = faiss_files(built)
    assert rebuilt.stat().st_size > 1000, "the rebuilt cache is written back for the next start"


def delete_vector_of_first_chunk(settings: Settings) -> None:
    store = IndexStore.open(settings.index_dir, model=settings.model)
    conn = store.conn
    vhash = conn.execute(
        "SELECT c.vhash FROM chunks c WHERE c.article_id = 'rates' ORDER BY c.ordinal LIMIT 1"
    ).fetchone()[0]
    assert conn.execute("DELETE FROM vectors WHERE hash = ?", (vhash,)).rowcount == 1
    store.close()
    for cache in faiss_files(settings):
        cache.unlink()


def test_repair_restores_a_deleted_chunk_vector(built: Settings, embedder: Embedder) -> None:
    expected = fresh_answer(built, embedder)
    delete_vector_of_first_chunk(built)

    message = repair_index(built, embedder=embedder)

    assert "sound" in message
    assert "1 missing vector of 1 article re-embedded" in message  # counted in the singular
    assert "\n" not in message
    store = IndexStore.open(built.index_dir, model=built.model)
    index, _ = store.vector_index()
    assert index.ntotal == store.count_chunks()
    orphans = store.conn.execute(
        "SELECT count(*) FROM chunks WHERE vhash NOT IN (SELECT hash FROM vectors)"
    ).fetchone()[0]
    assert orphans == 0
    assert same_quotes(fresh_answer(built, embedder), expected)
    # A second repair finds nothing left to do.
    assert "no article needed re-embedding" in repair_index(built, embedder=embedder)


def test_repair_of_a_sound_index_keeps_every_answer(built: Settings, embedder: Embedder) -> None:
    expected = fresh_answer(built, embedder)
    message = repair_index(built, embedder=embedder)
    assert "no article needed re-embedding" in message
    assert fresh_answer(built, embedder).quotes == expected.quotes
    assert (built.index_dir / DB).exists()
    assert len(faiss_files(built)) == 1


@pytest.fixture
def held_writer(built: Settings) -> Iterator[threading.Event]:
    """Another writer holding the index lock (in a thread) until the returned event is set."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        store = IndexStore.open(built.index_dir, model=built.model)
        with store.writer():
            holding.set()
            release.wait(60)
        store.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(30)
    yield release
    release.set()
    thread.join()


def test_second_writer_is_turned_away_with_a_clear_message(
    built: Settings, embedder: Embedder, held_writer: threading.Event
) -> None:
    extra = Article(id="extra", title="Extra", text="An extra article about the harbour ferry timetable.")
    ingestor = Ingestor.from_settings(built, embedder=embedder, lock_wait=0.3)
    with pytest.raises(IndexLocked) as err:
        ingestor.ingest_articles([extra])
    assert "another ingest" in str(err.value)
    assert "try again" in str(err.value)
    with pytest.raises(IndexLocked):
        ingestor.remove("rates")

    held_writer.set()  # the first writer finishes...
    ingestor.lock_wait = 30.0
    report = ingestor.ingest_articles([extra])  # ...and the second one goes through
    assert report.added == ["extra"]
    assert IndexStore.open(built.index_dir, model=built.model).article_ids() == ["extra", "heat", "rates"]


def test_readers_are_not_blocked_by_a_writer(built: Settings, embedder: Embedder, held_writer: threading.Event) -> None:
    answer = fresh_answer(built, embedder)
    assert not answer.abstained
    assert answer.quotes[0].article_id == "rates"


def test_index_from_before_story_grouping_is_upgraded_on_open(built: Settings, embedder: Embedder) -> None:
    # Indexes built before articles.story existed: simulate one by dropping the column again.
    conn = sqlite3.connect(built.index_dir / DB)
    conn.execute("DROP INDEX IF EXISTS articles_story")
    conn.execute("ALTER TABLE articles DROP COLUMN story")
    conn.commit()
    conn.close()

    answer = fresh_answer(built, embedder)
    assert not answer.abstained
    assert "4.25 percent" in answer.quotes[0].text
    extra = Article(id="extra", title="Ferry timetable", text="The island ferry will sail twice a day from March.")
    assert Ingestor.from_settings(built, embedder=embedder).ingest_articles([extra]).added == ["extra"]


def test_word_statistics_follow_an_ingest_by_another_writer(built: Settings, embedder: Embedder) -> None:
    """Document frequencies are remembered between questions, but never past the ingest that changes them."""
    reader = IndexStore.open(built.index_dir, model=built.model)
    (term,) = reader.analyze(["reservoir"])[0]
    before, n_before = reader.document_frequencies([term])
    assert before == {term: 1}
    more = Article(
        id="dam",
        title="Vellmoor reservoir level falls again",
        text="The reservoir fell to 27 percent of capacity, the lowest level since records began.",
        published="2025-07-28",
    )
    Ingestor.from_settings(built, embedder=embedder).ingest_articles([more])
    after, n_after = reader.document_frequencies([term])
    assert after == {term: 2}
    assert n_after > n_before


def test_a_folder_holding_only_qabots_own_files_becomes_an_index(settings: Settings, embedder: Embedder) -> None:
    # `qabot feeds add` before the first ingest writes feeds.json; a mount point has lost+found. Neither is foreign.
    folder = settings.index_dir
    (folder / "lost+found").mkdir(parents=True)
    FeedList(folder).add("https://news.example.invalid/feed.xml")
    owners = (FEEDS_FILE, FEEDS_LOCK, FEEDBACK_FILE, CONVERSATIONS_FILE)
    # the names layout repeats
    assert owners == (layout.FEEDS, layout.FEEDS_LOCK, layout.FEEDBACK, layout.CONVERSATIONS)

    Ingestor.from_settings(settings, embedder=embedder).ingest_articles(ARTICLES[:1])

    store = IndexStore.open(folder, model=settings.model)
    try:
        assert store.article_ids() == [ARTICLES[0].id]
    finally:
        store.close()
    assert [f.url for f in FeedList(folder).list()] == ["https://news.example.invalid/feed.xml"]
