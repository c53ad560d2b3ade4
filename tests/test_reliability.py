"""Issue 6, "Nothing lost, nobody let in", outside Telegram: faults, load and secrets.

- kill -9 of a real ``qabot ingest`` at each stage of its work, the moment chosen by watching the process from
  outside (its locks in /proc/locks, the rows it committed, its own log line), never by a hook in the product;
- two ``qabot ingest`` processes started together on one index;
- damaged index files through ``qabot stats``, ``qabot ask`` and ``qabot repair``, with nothing fetched;
- the bot token and webhook secret kept out of every output.

The processes get the real secrets in their environment, so every run here also checks they never print them.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from qabot import repair
from qabot.answer import Answerer
from qabot.cli import main
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import QabotError
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.store import DB, LOCK, MANIFEST, IndexStore, schema
from tests.fakes.web_server import FakeWebServer
from tests.helpers import HEAT, HEAT_Q, RATE_Q, RATES, CliRun, RunMain, assert_one_error_line, clean_env

TOKEN = "123456:SECRET-TOKEN-xyz"
WEBHOOK_SECRET = "hook-SECRET-9f3e1c77"
SECRETS = (TOKEN, "SECRET-TOKEN-xyz", WEBHOOK_SECRET)


def qabot_env() -> dict[str, str]:
    """The environment of a `qabot` process: offline, none of the developer's settings, and both secrets set."""
    return clean_env(QABOT_TELEGRAM_TOKEN=TOKEN, QABOT_WEBHOOK_SECRET=WEBHOOK_SECRET)


@dataclass
class Run:
    """A `qabot` process whose stdout and stderr go to files (read them while it runs)."""

    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stderr(self) -> str:
        return self.err.read_text("utf-8", errors="replace")

    def stdout(self) -> str:
        return self.out.read_text("utf-8", errors="replace")

    def assert_no_secrets(self) -> None:
        both = self.stdout() + self.stderr()
        for secret in SECRETS:
            assert secret not in both


def spawn(*args: str, logs: Path) -> Run:
    """Start ``python -m qabot.cli ARGS`` in ``logs.parent`` (no .env there)."""
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qabot.cli", *args], cwd=logs.parent, env=qabot_env(), stdout=o, stderr=e
        )
    return Run(proc, out, err)


@pytest.fixture
def run_main(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> RunMain:
    """The shared `qabot ARGS` in this process, with both secrets set; no run may show them."""
    monkeypatch.setenv("QABOT_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("QABOT_WEBHOOK_SECRET", WEBHOOK_SECRET)

    def run(*args: str, **kwargs: str) -> CliRun:
        result = run_main(*args, **kwargs)
        for secret in SECRETS:
            assert secret not in result.out + result.err
        return result

    return run


# ====================================================================== damaged index files
def damage_articles(web: FakeWebServer) -> list[Article]:
    """Two articles whose URLs point at a loopback server that records every request: repair must fetch none."""
    return [replace(a, url=web.url(f"/{a.id}")) for a in (RATES, HEAT)]


@pytest.fixture(scope="module")
def web() -> Iterator[FakeWebServer]:
    with FakeWebServer() as server:
        yield server


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, web: FakeWebServer) -> Path:
    """A sound index of the two articles, copied by each test before it damages the copy."""
    path = tmp_path_factory.mktemp("template") / "index"
    Ingestor.from_settings(Settings(_env_file=None, index_dir=path), embedder=embedder).ingest_articles(
        damage_articles(web)
    )
    return path


def sql(index: Path, *statements: str) -> None:
    conn = sqlite3.connect(index / DB)
    for statement in statements:
        assert conn.execute(statement).rowcount != 0, statement
    conn.commit()
    conn.close()


def pages_of(index: Path) -> tuple[int, dict[str, list[int]]]:
    """Page size, and table or index name → its page numbers (SQLite's dbstat)."""
    conn = sqlite3.connect(index / DB)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages: dict[str, list[int]] = {}
        try:
            rows = conn.execute("SELECT name, pageno FROM dbstat ORDER BY pageno").fetchall()
        except sqlite3.OperationalError as err:
            if "no such table: dbstat" not in str(err):
                raise
            pytest.skip(f"needs SQLite's dbstat table: {err}")  # SQLite built without it
        for name, page in rows:
            pages.setdefault(name, []).append(page)
    finally:
        conn.close()
    return size, pages


def truncate_cache(index: Path) -> None:
    [cache] = index.glob("chunks.g*.faiss")
    cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])


def delete_chunk_rows(index: Path) -> None:
    sql(index, "DELETE FROM chunks WHERE article_id = 'heat'")


def delete_vector_rows(index: Path) -> None:
    # The cache still holds them; a new machine or a cleared cache would not.
    sql(index, "DELETE FROM vectors WHERE hash IN (SELECT vhash FROM chunks WHERE article_id = 'rates')")
    for cache in index.glob("chunks.g*.faiss"):
        cache.unlink()


def manifest_of_another_model(index: Path) -> None:
    manifest = json.loads((index / MANIFEST).read_text("utf-8"))
    manifest["model"] = "intfloat/e5-small-v2"
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def delete_manifest(index: Path) -> None:
    (index / MANIFEST).unlink()


def garble_manifest(index: Path) -> None:
    (index / MANIFEST).write_text('{"model": "sentence-transf', encoding="utf-8")


def truncate_database_tail(index: Path) -> None:
    # VACUUM lays the tables out in schema order, articles first; the cut then loses vectors, chunks and the
    # lexical index but leaves every article's text: the case where repair can restore everything.
    conn = sqlite3.connect(index / DB)
    conn.execute("VACUUM")
    conn.close()
    size, pages = pages_of(index)
    keep = max(p for name in ("articles", "sqlite_autoindex_articles_1") for p in pages[name])
    total = (index / DB).stat().st_size // size
    assert keep < total - 2, "the cut must lose pages"
    os.truncate(index / DB, keep * size)


def garble_database_pages(index: Path) -> None:
    # Bit rot in the pages of the vectors table: SQLite's integrity check fails, the articles are intact.
    size, pages = pages_of(index)
    rng = random.Random(6)
    with (index / DB).open("r+b") as fh:
        for page in pages["vectors"]:
            fh.seek((page - 1) * size)
            fh.write(rng.randbytes(size))


@dataclass(frozen=True)
class Damage:
    make: Callable[[Path], None]
    stats_work: bool  # `qabot stats` still works (it never reads vectors)
    ask_works: bool  # `qabot ask` still answers: the damage was only to the cache
    error: str  # what the one error line names
    repaired: str  # what `qabot repair` says it did, after "index DIR ": the exact outcome for this damage


SOUND = r"is sound: \d+ chunks, vector cache rebuilt \(generation \d+\); "
SALVAGED = (
    r"rebuilt from the 2 of 2 articles still readable in its damaged qabot\.sqlite \(database disk image is "
    r"malformed\): \d+ chunks re-embedded from their stored text, nothing fetched, generation \d+; the damaged file "
    r"is kept as qabot\.sqlite\.damaged"
)
RESTORED = (
    SOUND + r"restored manifest\.json \(sentence-transformers/all-MiniLM-L6-v2, 384-d\); no article needed re-embedding"
)

DAMAGES = {
    "vector cache truncated": Damage(truncate_cache, True, True, "", SOUND + "no article needed re-embedding"),
    "chunk rows deleted": Damage(
        delete_chunk_rows, True, False, "out of step",
        SOUND + r"dropped \d+ rows? left without their article or chunk; chunked 1 article again from their stored "
        r"text; no article needed re-embedding",
    ),
    "vector rows deleted": Damage(
        delete_vector_rows, True, False, "without a stored vector",
        SOUND + r"(1 missing vector|\d+ missing vectors) of (1 article|2 articles) re-embedded",
    ),
    "manifest of another model": Damage(manifest_of_another_model, False, False, "intfloat/e5-small-v2", RESTORED),
    "manifest deleted": Damage(delete_manifest, False, False, "no manifest.json", RESTORED),
    "manifest garbled": Damage(garble_manifest, False, False, "unreadable", RESTORED),
    "database truncated": Damage(truncate_database_tail, False, False, "damaged", SALVAGED),
    "database pages garbled": Damage(garble_database_pages, True, False, "damaged", SALVAGED),
}  # fmt: skip


@pytest.fixture
def damaged(template: Path, tmp_path: Path) -> Path:
    index = tmp_path / "index"
    shutil.copytree(template, index)
    return index


def fresh_answer(index: Path, embedder: Embedder, question: str) -> str:
    """The first quote a newly started process would give ('' if it declines)."""
    answerer = Answerer.from_settings(Settings(_env_file=None, index_dir=index), embedder=embedder)
    try:
        answer = answerer.ask(question)
        return "" if answer.abstained else answer.quotes[0].text
    finally:
        answerer.store.close()


@pytest.mark.parametrize("name", list(DAMAGES))
def test_damaged_index_says_so_in_one_line_and_repair_restores_it(
    name: str,
    damaged: Path,
    run_main: RunMain,
    web: FakeWebServer,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    damage = DAMAGES[name]
    damage.make(damaged)
    index = str(damaged)

    for args in (("stats",), ("stats", "--json")):
        result = run_main("--index", index, *args)
        if damage.stats_work:
            assert result[0] == 0, result
            if "--json" in args:
                assert json.loads(result[1])["articles"] == 2, result[1]
            else:
                assert result[1].splitlines()[1] == "articles: 2", result[1]
        else:
            assert_one_error_line(result, damage.error, "qabot repair")
    result = run_main("--index", index, "ask", RATE_Q)
    if damage.ask_works:
        assert result[0] == 0, result
        assert "4.25 percent" in result[1]
    else:
        assert_one_error_line(result, damage.error, "qabot repair")

    # Repair may re-embed, and could fetch loopback URLs if it tried: it must not.
    monkeypatch.setenv("QABOT_ALLOW_PRIVATE_URLS", "true")
    code, out, err = run_main("--index", index, "repair")
    assert code == 0, err
    [line] = out.strip().splitlines()
    assert re.fullmatch(rf"index {re.escape(index)} {damage.repaired}", line), line
    assert web.requests == [], "repair fetched something"

    assert run_main("--index", index, "stats")[1].splitlines()[1] == "articles: 2"
    assert "4.25 percent" in fresh_answer(damaged, embedder, RATE_Q)
    assert "31 percent" in fresh_answer(damaged, embedder, HEAT_Q)
    store = IndexStore.open(damaged, model=Settings(_env_file=None).model)
    try:
        index_vectors, _ = store.vector_index()
        assert index_vectors.ntotal == store.count_chunks()
    finally:
        store.close()


def truncate_to_first_page(index: Path) -> None:
    os.truncate(index / DB, 4096)


def garble_header(index: Path) -> None:
    with (index / DB).open("r+b") as fh:
        fh.write(random.Random(7).randbytes(4096))


@pytest.mark.parametrize("make", [truncate_to_first_page, garble_header], ids=["truncated to one page", "header"])
def test_database_beyond_repair_says_to_re_ingest(
    damaged: Path, run_main: RunMain, make: Callable[[Path], None]
) -> None:
    make(damaged)

    assert_one_error_line(run_main("--index", str(damaged), "stats"), "damaged", "qabot repair")
    assert_one_error_line(run_main("--index", str(damaged), "ask", RATE_Q), "damaged", "qabot repair")
    before = files_of(damaged)
    line = assert_one_error_line(run_main("--index", str(damaged), "repair"), "no article could be read")
    assert "qabot ingest" in line
    assert files_of(damaged) == before, "nothing was moved or changed"


def files_of(index: Path) -> dict[str, bytes]:
    """The index's files and contents, leaving out SQLite's transient -wal/-shm files (empty here)."""
    return {p.name: p.read_bytes() for p in index.iterdir() if not p.name.endswith(("-wal", "-shm"))}


def test_repair_keeps_the_manifest_of_an_index_another_model_built(
    index_of: Callable[..., Settings], web: FakeWebServer, run_main: RunMain
) -> None:
    # Built under another model name (its vector hashes say so): repair must not relabel it as this model's.
    other = index_of(damage_articles(web), model="all-MiniLM-L6-v2")
    before = files_of(other.index_dir)

    line = assert_one_error_line(run_main("--index", str(other.index_dir), "repair"), "its vectors agree")
    assert "QABOT_MODEL=all-MiniLM-L6-v2" in line
    assert files_of(other.index_dir) == before


def test_repair_mends_more_articles_than_one_statement_may_name(
    make_settings: Callable[..., Settings],
    embedder: Embedder,
    run_main: RunMain,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # SQLite's variable limit held at 20 (999 on old builds): re-chunking 30 articles and re-embedding the vectors of
    # 25 others must cut every list of ids, and work through the articles a few at a time, saving each step.
    monkeypatch.setattr(schema, "MAX_VARIABLES", 20)
    monkeypatch.setattr(repair, "REPAIR_STEP", 7)
    settings = make_settings()
    towns = [f"Town{n:02d}" for n in range(60)]
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles(
        Article(f"a{n:02d}", f"{town} opens a library", f"{town} opened its new library with {100 + n} shelves.")
        for n, town in enumerate(towns)
    )
    sql(
        settings.index_dir,
        "DELETE FROM chunks WHERE article_id < 'a30'",
        "DELETE FROM vectors WHERE hash IN (SELECT vhash FROM sentences WHERE article_id >= 'a35')",
    )
    with caplog.at_level(logging.INFO, logger="qabot.repair"):
        code, out, err = run_main("--index", str(settings.index_dir), "repair")
    assert code == 0, err
    assert "chunked 30 articles again from their stored text; 25 missing vectors of 25 articles re-embedded" in out
    steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("repair: re-embedded")]
    assert steps[-1] == "repair: re-embedded 25 vectors of 25 of 25 articles"
    assert len(steps) == 4
    for n in (3, 29, 40, 59):
        assert f"{100 + n} shelves" in fresh_answer(settings.index_dir, embedder, f"How many shelves has {towns[n]}?")


def test_an_index_creation_cut_short_is_finished_by_the_next_ingest(
    make_settings: Callable[..., Settings], embedder: Embedder, web: FakeWebServer, run_main: RunMain
) -> None:
    # Killed after creating the database, before writing the manifest: an empty database and no manifest.
    settings = make_settings()
    IndexStore.open(settings.index_dir, model=settings.model, dimension=embedder.dimension, create=True).close()
    (settings.index_dir / MANIFEST).unlink()

    assert_one_error_line(run_main("--index", str(settings.index_dir), "stats"), "qabot ingest")
    report = Ingestor.from_settings(settings, embedder=embedder).ingest_articles(damage_articles(web))
    assert report.added == ["rates", "heat"]
    assert "4.25 percent" in fresh_answer(settings.index_dir, embedder, RATE_Q)


# ====================================================================== kill -9 at each stage of an ingest
BASELINE = [
    Article(
        id=f"base-{i}",
        title=title,
        text=text,
        url=f"https://news.example.invalid/base-{i}",
        published=f"2025-01-0{i + 1}",
        source="Baseline Gazette",
    )
    for i, (title, text) in enumerate(
        [
            ("Harbour tram line opens", "The harbour tram line opened on Monday. It cost 40 million crowns."),
            ("Bakery closes after 112 years", "The Marlow family bakery closed on Saturday after 112 years."),
        ]
    )
]
BASELINE_Q = "What did the harbour tram line cost?"
NEW_Q = "How wide is the mirror of the Quillhaven telescope?"
_TOWNS = ["Bramcor", "Dellfen", "Garholt", "Iskjor", "Kellun", "Mornes", "Ornpell", "Tarvik", "Ulmstead", "Wenby"]
_THINGS = ["library", "swimming pool", "footbridge", "bus depot", "clinic", "skate park", "fire station", "market hall"]


def many_articles(n: int) -> list[tuple[str, str]]:
    """``n`` articles as (file name, markdown) of four distinct sentences each; the middle one answers NEW_Q.

    About five texts to embed per article, so 220 articles take three embedding calls of up to 512 texts.
    """
    out = []
    for i in range(n):
        town, thing = f"{_TOWNS[i % 10]}-{i}", _THINGS[i % 8]
        title = f"{town} approves a new {thing}"
        body = (
            f"The council of {town} voted {i % 9 + 5} to 4 on Tuesday to build a new {thing}. "
            f"The project will cost {i + 3}.{i % 7} million crowns, paid from reserve fund {i * 13}. "
            f"Mayor Ada Holm of {town} said it would serve {1000 + 37 * i} residents.\n\n"
            f"Construction of the {thing} starts in week {i % 50 + 1} and ends {i % 3 + 1} years later."
        )
        if i == n // 2:
            title = "Quillhaven observatory unveils its new telescope"
            body = (
                "The Quillhaven observatory unveiled its new telescope on Friday. "
                "The telescope's main mirror is 2.4 metres wide and was polished in Jena.\n\n"
                "Astronomers expect the first images before the end of the year."
            )
        front = f"---\nid: new-{i:03d}\nurl: https://news.example.invalid/new-{i:03d}\npublished: 2025-02-03\n---\n"
        out.append((f"new-{i:03d}.md", f"{front}# {title}\n\n{body}\n"))
    return out


N_NEW = 220


class Watch:
    """What a running ingest is doing, seen from outside: the locks it holds and what it has committed."""

    def __init__(self, run: Run, index: Path) -> None:
        self.run = run
        self.index = index
        self.pid = run.proc.pid
        self._conn: sqlite3.Connection | None = None

    def _locks(self) -> list[list[str]]:
        # /proc/locks: "1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF"; "->" marks a process waiting for a lock.
        with open("/proc/locks") as fh:
            rows = [line.split() for line in fh]
        return [r for r in rows if "->" not in r and len(r) >= 8 and r[4] == str(self.pid)]

    def _inode(self, name: str) -> str | None:
        try:
            return str((self.index / name).stat().st_ino)
        except FileNotFoundError:
            return None

    def holds_write_lock(self) -> bool:
        """The ingest holds the index's writer lock (.write.lock): it is past start-up, in its one write."""
        inode = self._inode(LOCK)
        return any(r[1] == "FLOCK" and r[3] == "WRITE" and r[5].endswith(f":{inode}") for r in self._locks())

    def in_sqlite_transaction(self) -> bool:
        """The ingest holds SQLite's WAL write lock (byte 120 of the -shm file): a write transaction is open."""
        inode = self._inode(f"{DB}-shm")
        return any(
            r[1] == "POSIX" and r[3] == "WRITE" and r[5].endswith(f":{inode}") and r[6] == "120" for r in self._locks()
        )

    def committed(self) -> tuple[int, int]:
        """(rows in vectors, generation) as any reader sees them now."""
        if self._conn is None:
            self._conn = sqlite3.connect(f"file:{self.index / DB}?mode=ro", uri=True, timeout=10)
        vectors = self._conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
        generation = self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
        return int(vectors), int(generation)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


@dataclass(frozen=True)
class Kill:
    """Where a kill landed: what was committed at the start of the run and at the kill."""

    vectors_before: int
    vectors_after: int
    generation_before: int
    generation_after: int
    logged_embedding_done: bool


def kill_when(run: Run, index: Path, stage: str, settle: float | None = 0.5) -> Kill | None:
    """SIGKILL ``run`` as soon as it is in ``stage``; None if it finished first.

    startup    without the writer lock yet, and either running for ``settle`` seconds or (``settle`` None) past the
               model load it logs: reading the files and opening the index
    embedding  holding the writer lock for ``settle`` seconds with nothing saved: embedding its first batch
    vectors    its first batch of vectors committed, the articles not: between two embedding calls
    metadata   it logged that all vectors are saved and holds SQLite's write lock: inside the article transaction
    cache      its generation is committed and that generation's vector cache not yet written
    """
    watch = Watch(run, index)
    try:
        vectors0, gen0 = watch.committed()
        locked_since: float | None = None
        started, seen_lock = time.monotonic(), False
        while run.proc.poll() is None:
            vectors, gen = watch.committed()
            if stage == "startup":
                seen_lock = seen_lock or watch.holds_write_lock()
                if settle is None:
                    hit = not seen_lock and "loaded embedding model" in run.stderr()
                else:
                    hit = not seen_lock and time.monotonic() - started > settle
            elif stage == "embedding":
                locked = watch.holds_write_lock()
                locked_since = (locked_since or time.monotonic()) if locked else None
                assert settle is not None
                hit = locked_since is not None and time.monotonic() - locked_since > settle and vectors == vectors0
            elif stage == "vectors":
                hit = vectors > vectors0 and gen == gen0
            elif stage == "metadata":
                hit = gen == gen0 and "embedded " in run.stderr() and watch.in_sqlite_transaction()
            else:
                hit = gen > gen0 and not (index / f"chunks.g{gen}.faiss").exists()
            if hit:
                run.proc.send_signal(signal.SIGKILL)
                run.proc.wait()
                vectors1, gen1 = watch.committed()
                return Kill(vectors0, vectors1, gen0, gen1, "embedded " in run.stderr())
            time.sleep(0.002)
        return None
    finally:
        watch.close()


def index_state(settings: Settings, embedder: Embedder) -> str:
    """Open the index as a new process would and check it whole; 'baseline' or 'all' (anything else fails)."""
    base_ids = sorted(a.id for a in BASELINE)
    all_ids = sorted(base_ids + [f"new-{i:03d}" for i in range(N_NEW)])
    answerer = Answerer.from_settings(settings, embedder=embedder)
    store = answerer.store
    try:
        ids = store.article_ids()
        assert ids in (base_ids, all_ids), f"a partial ingest is visible: {len(ids)} articles"
        state = "baseline" if ids == base_ids else "all"
        conn = store.conn
        chunks = store.count_chunks()
        assert conn.execute("SELECT count(DISTINCT article_id) FROM chunks").fetchone()[0] == len(ids)
        distinct = conn.execute("SELECT count(*) FROM (SELECT DISTINCT article_id, ordinal FROM chunks)").fetchone()
        assert distinct[0] == chunks, "duplicate chunks"
        assert conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == chunks
        orphans = conn.execute("SELECT count(*) FROM chunks WHERE vhash NOT IN (SELECT hash FROM vectors)").fetchone()
        assert orphans[0] == 0
        vectors, _ = store.vector_index()
        assert vectors.ntotal == chunks
        base, new = answerer.ask(BASELINE_Q), answerer.ask(NEW_Q)
        quotes = (*base.quotes, *new.quotes)
        articles = store.articles(q.article_id for q in quotes)
        for q in quotes:
            assert q.text == articles[q.article_id].text[q.start : q.end], "a quote is not its article's own words"
        assert "40 million" in base.quotes[0].text
        if state == "all":
            assert "2.4 metres" in new.quotes[0].text
        else:
            assert new.abstained or all(q.article_id.startswith("base-") for q in new.quotes)
        return state
    finally:
        store.close()


def embedded_count(run: Run) -> int:
    """How many texts the run embedded, from its own log line (`--debug`)."""
    found = re.search(r"embedded (\d+) texts, reused (\d+)", run.stderr())
    assert found, run.stderr()[-2000:]
    return int(found.group(1))


@pytest.mark.slow
def test_kill_at_every_stage_of_an_ingest_loses_nothing(
    tmp_path: Path, index_of: Callable[..., Settings], embedder: Embedder
) -> None:
    if not Path("/proc/locks").exists():
        pytest.skip("watches the ingest's locks through Linux's /proc/locks")
    settings = index_of(BASELINE)
    index = settings.index_dir
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name, text in many_articles(N_NEW):
        (folder / name).write_text(text, encoding="utf-8")
    assert index_state(settings, embedder) == "baseline"

    kills: dict[str, Kill] = {}
    for stage in ("startup", "embedding", "vectors", "metadata"):
        for attempt in range(3):  # the moment is chosen by watching; if a run slips past it, try again
            snapshot = tmp_path / f"before-{stage}"
            shutil.rmtree(snapshot, ignore_errors=True)
            shutil.copytree(index, snapshot, ignore=shutil.ignore_patterns("*-shm"))
            run = spawn("--debug", "--index", str(index), "ingest", str(folder), logs=tmp_path / f"{stage}{attempt}")
            # Start-up is killed late, past the model load, where the run reads its files and opens the index: with the
            # ONNX backend that window is tens of milliseconds, so a run that slips past it is retried with a kill
            # timed well before the ~0.5 s a start-up takes. The other stages are killed early.
            settle = (None, 0.2, 0.05)[attempt] if stage == "startup" else 0.5 / (attempt + 1)
            kill = kill_when(run, index, stage, settle=settle)
            run.assert_no_secrets()
            landed = kill is not None and kill.generation_after == kill.generation_before
            if landed and stage in ("startup", "embedding"):
                landed = kill.vectors_after == kill.vectors_before and not kill.logged_embedding_done
            elif landed and stage == "vectors":
                landed = kill.vectors_after > kill.vectors_before and not kill.logged_embedding_done
            elif landed:
                landed = kill.logged_embedding_done
            if landed:
                assert kill is not None
                kills[stage] = kill
                # Exactly the articles of the last completed ingest, whole and answerable.
                assert index_state(settings, embedder) == "baseline"
                break
            if kill is None:
                assert run.proc.returncode == 0, run.stderr()[-2000:]
            shutil.rmtree(index)
            shutil.copytree(snapshot, index)  # the run got further than this stage: undo it and try again
        else:
            pytest.fail(f"three runs slipped past the {stage} stage")

    # Killed after its commit, before the vector cache of the new generation is written: a window of milliseconds,
    # so this is attempted once, and a run that finishes first is simply the completing run.
    run = spawn("--debug", "--index", str(index), "ingest", str(folder), logs=tmp_path / "cache")
    after_commit = kill_when(run, index, "cache")
    run.assert_no_secrets()
    assert embedded_count(run) == 0, "every vector was saved before the metadata kill, and reused"
    if after_commit is None:
        assert run.proc.returncode == 0, run.stderr()[-2000:]
        summary = run.stdout().strip().splitlines()[-1]
        assert summary == f"added {N_NEW}, updated 0, unchanged 0, skipped 0"
    assert index_state(settings, embedder) == "all"  # a missing cache is rebuilt on open
    if after_commit is not None:
        run = spawn("--index", str(index), "ingest", str(folder), logs=tmp_path / "final")
        assert run.proc.wait(600) == 0, run.stderr()[-2000:]
        assert run.stdout().strip().splitlines()[-1] == f"added 0, updated 0, unchanged {N_NEW}, skipped 0"
        run.assert_no_secrets()
    conn = sqlite3.connect(index / DB)
    final_vectors = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    conn.close()
    assert kills["vectors"].vectors_before < kills["vectors"].vectors_after < final_vectors
    # Shown with -s: the cache-stage kill is the one left to timing.
    print(f"kills: {kills}; killed between commit and cache: {after_commit is not None}")


# ====================================================================== two ingests at once
def article_set(prefix: str, subject: str, n: int) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        body = (
            f"The {subject} committee of district {prefix}{i} met on day {i + 1} of the session. "
            f"It approved {i + 2} new {subject} projects worth {i * 3 + 7} million crowns.\n\n"
            f"Chair Rosa {prefix.upper()}{i} said work would begin in month {i % 12 + 1}."
        )
        front = f"---\nid: {prefix}-{i:02d}\npublished: 2025-03-{i % 28 + 1:02d}\n---\n"
        out.append((f"{prefix}-{i:02d}.md", f"{front}# {subject.title()} plans for district {prefix}{i}\n\n{body}\n"))
    return out


@pytest.mark.slow
def test_two_ingests_at_once_lose_and_duplicate_nothing(tmp_path: Path, embedder: Embedder) -> None:
    sets = {"east": article_set("east", "harbour", 14), "west": article_set("west", "railway", 9)}
    folders = {}
    for name, articles in sets.items():
        folders[name] = tmp_path / name
        folders[name].mkdir()
        for file, text in articles:
            (folders[name] / file).write_text(text, encoding="utf-8")
    index = tmp_path / "index"  # does not exist yet: both also race to create it

    runs = {name: spawn("--index", str(index), "ingest", str(folders[name]), logs=tmp_path / name) for name in sets}
    codes = {name: run.proc.wait(600) for name, run in runs.items()}

    expected: set[str] = set()
    for name, run in runs.items():
        run.assert_no_secrets()
        if codes[name] == 0:
            summary = run.stdout().strip().splitlines()[-1]
            assert summary == f"added {len(sets[name])}, updated 0, unchanged 0, skipped 0"
            expected |= {f"{name}-{i:02d}" for i in range(len(sets[name]))}
        else:  # turned away: one clear line, and its articles are simply not in
            assert_one_error_line((codes[name], run.stdout(), run.stderr()), "another ingest is writing")
    assert expected, f"neither ingest succeeded: {[r.stderr()[-500:] for r in runs.values()]}"
    print(f"exit codes of the two ingests: {codes}")  # shown with -s: waited (both 0) or turned away (one 1)

    settings = Settings(_env_file=None, index_dir=index)
    answerer = Answerer.from_settings(settings, embedder=embedder)
    store = answerer.store
    try:
        assert set(store.article_ids()) == expected
        conn = store.conn
        chunks = store.count_chunks()
        distinct = conn.execute("SELECT count(*) FROM (SELECT DISTINCT article_id, ordinal FROM chunks)").fetchone()
        assert distinct[0] == chunks, "duplicate chunks"
        assert conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == chunks
        stray = conn.execute("SELECT count(*) FROM sentences WHERE article_id NOT IN (SELECT id FROM articles)")
        assert stray.fetchone()[0] == 0
        assert store.generation == sum(1 for c in codes.values() if c == 0)
        vectors, _ = store.vector_index()
        assert vectors.ntotal == chunks
        if codes["east"] == 0:
            answer = answerer.ask("How many harbour projects did the committee of district east3 approve?")
            assert answer.quotes[0].article_id == "east-03"
        if codes["west"] == 0:
            answer = answerer.ask("When will work begin according to Chair Rosa WEST5?")
            assert answer.quotes[0].article_id == "west-05"
    finally:
        store.close()


# ====================================================================== secrets
def test_secrets_never_appear_in_output_or_errors(
    run_main: RunMain, sample_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_main sets both secrets and checks every run's stdout and stderr for them."""
    code, out, _ = run_main("--index", str(sample_index), "stats")
    assert code == 0
    assert "articles:" in out
    code, out, _ = run_main("--index", str(sample_index), "stats", "--json")
    assert code == 0
    assert json.loads(out)["articles"] > 0
    assert_one_error_line(run_main("--index", str(tmp_path / "none"), "ask", "anything?"), "qabot ingest")
    broken = tmp_path / "broken"
    shutil.copytree(sample_index, broken)
    (broken / MANIFEST).unlink()
    assert_one_error_line(run_main("--index", str(broken), "stats"), "qabot repair")
    assert_one_error_line(run_main("--index", str(broken), "ask", "anything?"), "qabot repair")

    # The token pasted into the wrong variable: the error names the variable, not the value.
    monkeypatch.setenv("QABOT_ALLOWED_CHATS", TOKEN)
    assert_one_error_line(run_main("--index", str(broken), "stats"), "invalid settings", "allowed_chats")
    with pytest.raises(QabotError) as debug:
        main(["--debug", "--index", str(broken), "stats"])
    shown = "".join(traceback.format_exception(debug.value))
    for secret in SECRETS:
        assert secret not in shown
    monkeypatch.delenv("QABOT_ALLOWED_CHATS")

    # A misspelt key in .env: pydantic refuses the unknown name and would quote its value.
    monkeypatch.delenv("QABOT_TELEGRAM_TOKEN")
    (tmp_path / ".env").write_text(f"QABOT_TELEGRAM_TOKN={TOKEN}\nQABOT_WEBHOOK_SECRET={WEBHOOK_SECRET}\n")
    assert_one_error_line(run_main("--index", str(sample_index), "stats"), "invalid settings", "telegram_tokn")


def test_settings_hide_secrets_in_every_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QABOT_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("QABOT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    settings = Settings(_env_file=None)
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == TOKEN  # it is there to be used...
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        for secret in SECRETS:  # ...and never shown
            assert secret not in shown
