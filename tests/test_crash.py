"""kill -9 during `qabot ingest`: the index always opens afterwards with all of that ingest or none of it.

One test, several kills of a real ingest process (it loads its own model, so this costs a few model loads):
during start-up, right after it first writes to the database (vectors saved, articles not yet committed), and
right after its next write (the commit, before the vector cache is written). A final run completes the ingest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.store import DB, IndexStore

pytestmark = pytest.mark.slow

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
            (
                "Harbour tram line opens",
                "The harbour tram line opened on Monday. It cost 40 million crowns and runs every ten minutes.",
            ),
            (
                "Bakery closes after 112 years",
                "The Marlow family bakery closed on Saturday. Its owners blamed the price of flour and energy.",
            ),
            (
                "Ferry timetable changes",
                "The island ferry will sail twice a day from March. The winter timetable ends on the last Sunday.",
            ),
        ]
    )
]
BASELINE_Q = "What did the harbour tram line cost?"
NEW_Q = "How wide is the mirror of the Quillhaven telescope?"

_SYLLABLES = ["bram", "cor", "dell", "fen", "gar", "holt", "isk", "jor", "kel", "lun", "mor", "nes", "orn", "pell"]
_THINGS = ["library", "swimming pool", "footbridge", "bus depot", "clinic", "skate park", "fire station", "market hall"]


def generated_articles(n: int) -> list[tuple[str, str]]:
    """``n`` short, distinct articles as (file name, markdown); one of them alone answers NEW_Q."""
    out = []
    for i in range(n):
        town = (_SYLLABLES[i % 14] + _SYLLABLES[(i * 5 + 3) % 14]).capitalize() + "by"
        thing = _THINGS[i % len(_THINGS)]
        body = (
            f"The council of {town} voted on Tuesday to build a new {thing} beside the river. "
            f"The project will cost {i + 3} million crowns and should open in {2026 + i % 4}.\n\n"
            f"Mayor Ada {town}son said the {thing} would serve about {1000 + 37 * i} residents."
        )
        title = f"{town} approves a new {thing}"
        if i == n // 2:
            town, title = "Quillhaven", "Quillhaven observatory unveils its new telescope"
            body = (
                "The Quillhaven observatory unveiled its new telescope on Friday. "
                "The telescope's main mirror is 2.4 metres wide and was polished in Jena.\n\n"
                "Astronomers expect the first images before the end of the year."
            )
        front = (
            f"---\nid: new-{i:02d}\nurl: https://news.example.invalid/new-{i:02d}\n"
            f"published: 2025-02-{i % 28 + 1:02d}\n---\n"
        )
        out.append((f"new-{i:02d}.md", f"{front}# {title}\n\n{body}\n"))
    return out


N_NEW = 400  # enough work that kills at 1 s and 3 s land before the commit, even with the fast ONNX start


@pytest.fixture
def crash_setup(tmp_path: Path, make_settings: Callable[..., Settings], embedder: Embedder) -> tuple[Settings, Path]:
    settings = make_settings()
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles(BASELINE)
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name, text in generated_articles(N_NEW):
        (folder / name).write_text(text, encoding="utf-8")
    return settings, folder


def spawn_ingest(index: Path, folder: Path, logs: Path) -> subprocess.Popen[bytes]:
    """Start `qabot ingest` in its own process; its stdout and stderr go to ``logs``.out/.err."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    with open(logs.with_suffix(".out"), "wb") as out, open(logs.with_suffix(".err"), "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "qabot.cli", "--index", str(index), "ingest", str(folder)],
            cwd=logs.parent,
            env=env,
            stdout=out,
            stderr=err,
        )


def wal_size(index: Path) -> int:
    try:
        return (index / f"{DB}-wal").stat().st_size
    except FileNotFoundError:
        return 0


def kill_after(proc: subprocess.Popen[bytes], seconds: float) -> None:
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


_WAL_HEADER = 32  # bytes SQLite writes when a write transaction starts; page frames follow at each commit


def kill_at_first_commit(proc: subprocess.Popen[bytes], index: Path) -> bool:
    """SIGKILL the moment the first committed pages reach the write-ahead log; False if the process ended first."""
    while proc.poll() is None:
        if wal_size(index) > _WAL_HEADER:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.001)
    return False


def vector_rows(settings: Settings) -> int:
    store = IndexStore.open(settings.index_dir, model=settings.model)
    try:
        return int(store.conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
    finally:
        store.close()


def check_index(settings: Settings, embedder: Embedder) -> str:
    """Open the index as a new process would; check it is whole; say which state it is in."""
    base_ids = sorted(a.id for a in BASELINE)
    all_ids = sorted(base_ids + [f"new-{i:02d}" for i in range(N_NEW)])
    answerer = Answerer.from_settings(settings, embedder=embedder)
    store = answerer.store
    try:
        ids = store.article_ids()
        assert ids in (base_ids, all_ids), f"partial ingest visible: {len(ids)} articles"
        state = "baseline" if ids == base_ids else "all"
        conn = store.conn
        chunks = store.count_chunks()
        assert conn.execute("SELECT count(DISTINCT article_id) FROM chunks").fetchone()[0] == len(ids)
        assert conn.execute("SELECT count(*) FROM (SELECT DISTINCT article_id, ordinal FROM chunks)").fetchone()[0] == (
            chunks
        ), "duplicate chunks"
        assert conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == chunks
        missing = conn.execute("SELECT count(*) FROM chunks WHERE vhash NOT IN (SELECT hash FROM vectors)").fetchone()[
            0
        ]
        assert missing == 0
        index, _ = store.vector_index()
        assert index.ntotal == chunks

        for question, expect_answer in ((BASELINE_Q, True), (NEW_Q, state == "all")):
            answer = answerer.ask(question)
            assert answer.abstained is not expect_answer, (question, state)
            articles = store.articles(q.article_id for q in answer.quotes)
            for q in answer.quotes:
                assert q.text == articles[q.article_id].text[q.start : q.end]
            if expect_answer:
                assert ("40 million" if question == BASELINE_Q else "2.4 metres") in answer.quotes[0].text
        return state
    finally:
        store.close()


def test_kill_during_ingest_leaves_all_or_nothing(
    crash_setup: tuple[Settings, Path], embedder: Embedder, tmp_path: Path
) -> None:
    settings, folder = crash_setup
    index = settings.index_dir
    assert check_index(settings, embedder) == "baseline"

    # 1. Killed while importing, then while loading the model or chunking: nothing written.
    for run, seconds in (("run1", 1.0), ("run2", 3.0)):
        proc = spawn_ingest(index, folder, tmp_path / run)
        kill_after(proc, seconds)
        assert check_index(settings, embedder) == "baseline"
    baseline_vectors = vector_rows(settings)

    # 2. Killed as its first commit (the new vectors) is written: its articles are not in yet.
    proc = spawn_ingest(index, folder, tmp_path / "run3")
    wrote = kill_at_first_commit(proc, index)
    assert wrote or proc.returncode == 0, (tmp_path / "run3.err").read_text()
    states = [check_index(settings, embedder)]
    saved = vector_rows(settings) - baseline_vectors

    # 3. Killed at its first commit again: the saved vectors are reused, so this commit is the articles' own.
    if states[-1] == "baseline":
        proc = spawn_ingest(index, folder, tmp_path / "run4")
        wrote = kill_at_first_commit(proc, index)
        assert wrote or proc.returncode == 0, (tmp_path / "run4.err").read_text()
        states.append(check_index(settings, embedder))

    # 4. A run to the end completes the ingest; nothing is duplicated.
    proc = spawn_ingest(index, folder, tmp_path / "final")
    assert proc.wait(300) == 0, (tmp_path / "final.err").read_text()
    summary = (tmp_path / "final.out").read_text().strip().splitlines()[-1]
    if states[-1] == "all":
        assert summary == f"added 0, updated 0, unchanged {N_NEW}, skipped 0"
    else:
        assert summary == f"added {N_NEW}, updated 0, unchanged 0, skipped 0"
    assert check_index(settings, embedder) == "all"
    store = IndexStore.open(index, model=settings.model)
    assert len(store.article_ids()) == len(BASELINE) + N_NEW
    store.close()
    # Shown with -s: which moments the kills hit (timing decides; every outcome above is a correct one).
    print(f"states after the kills at a commit: {states}; vectors saved before the first of them: {saved}")
