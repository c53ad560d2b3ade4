"""Faults not tried before: the disk filling during an ingest, the index on a read-only filesystem, and SQLite busy
for longer than its timeout. Each keeps the last complete index answering and says what happened in one line,
without advice to repair what is not damaged."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.store import DB, IndexStore
from tests import helpers
from tests.helpers import COST, RunMain, assert_one_error_line, clean_env

TRAM = replace(helpers.TRAM, id="tram")


def many_records(folder: Path, n: int = 120) -> Path:
    folder.mkdir()
    path = folder / "records.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            words = " ".join(f"word{(i * 31 + k) % 997}" for k in range(120))
            text = f"The council of district {i} met on Tuesday. {words}. The vote was {i} to {i + 1}."
            fh.write(json.dumps({"id": f"rec-{i}", "title": f"District {i} council meets", "text": text}) + "\n")
    return folder


def run_qabot(*args: str, cwd: Path, file_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        # SIGXFSZ ignored, so a write past the limit fails with EFBIG (as on a full disk) instead of killing.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return helpers.run_qabot(*args, cwd=cwd, env=clean_env(PYTHONDONTWRITEBYTECODE="1"), preexec_fn=limit)


@pytest.fixture
def small_index(index_of: Callable[..., Settings]) -> Settings:
    return index_of([TRAM])


def answers_the_tram(settings: Settings, embedder: Embedder) -> bool:
    answerer = Answerer.from_settings(settings, embedder=embedder)
    try:
        answer = answerer.ask(COST)
        return bool(answer.quotes) and "40 million" in answer.quotes[0].text
    finally:
        answerer.store.close()


@pytest.mark.slow
def test_a_disk_filling_during_an_ingest_keeps_the_last_index_and_says_so_in_one_line(
    small_index: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    folder = many_records(tmp_path / "inbox")
    index = small_index.index_dir
    limit = (index / DB).stat().st_size + 64 * 1024

    result = run_qabot("--index", str(index), "ingest", str(folder), cwd=tmp_path, file_limit=limit)

    line = assert_one_error_line(result, "the index database could not be used")  # SQLite says "disk I/O error"
    assert "repair" not in line
    store = IndexStore.open(index, model=small_index.model)
    try:
        assert store.article_ids() == ["tram"]
    finally:
        store.close()
    assert answers_the_tram(small_index, embedder)
    # With room again, the same command completes.
    again = run_qabot("--index", str(index), "ingest", str(folder), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "added 120, updated 0, unchanged 0, skipped 0"


def run_on_read_only(index: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``qabot ARGS`` in a private mount namespace where ``index`` is a read-only bind mount of itself.

    Tests run as root, and root writes through ``chmod a-w``: a read-only mount is what really stops it. The mount
    lives only in the child's namespace, so nothing outside the test sees it.
    """
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", str(index),
           sys.executable, "-m", "qabot.cli", "--index", str(index), *args]  # fmt: skip
    env = clean_env(PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _can_mount_read_only(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f'mount --bind "{probe}" "{probe}" && mount -o remount,bind,ro "{probe}" && ! touch "{probe}/x" 2>/dev/null'],
        capture_output=True, timeout=30,
    )  # fmt: skip
    return result.returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("cache", ["kept", "lost"])
def test_an_index_on_a_read_only_filesystem_still_answers(small_index: Settings, tmp_path: Path, cache: str) -> None:
    if os.geteuid() != 0 or not _can_mount_read_only(tmp_path):
        pytest.skip("needs root and unshare(1) to make a read-only mount (chmod does not stop root)")
    index = small_index.index_dir
    if cache == "lost":  # the vector cache must then be rebuilt in memory, with nowhere to write it
        for f in index.glob("*.faiss"):
            f.unlink()
    before = sorted(p.name for p in index.iterdir())

    asked = run_on_read_only(index, "ask", COST, cwd=tmp_path)
    stats = run_on_read_only(index, "stats", cwd=tmp_path)
    ingest = run_on_read_only(index, "ingest", str(many_records(tmp_path / "inbox", 2)), cwd=tmp_path)

    assert asked.returncode == 0, asked.stderr
    assert "40 million crowns" in asked.stdout
    assert stats.returncode == 0, stats.stderr
    assert "articles: 1" in stats.stdout
    assert "repair" not in assert_one_error_line(ingest, "read-only")
    assert sorted(p.name for p in index.iterdir()) == before


def test_sqlite_busy_past_its_timeout_is_one_line_and_readers_still_answer(
    small_index: Settings, monkeypatch: pytest.MonkeyPatch, run_main: RunMain
) -> None:
    """Another connection holds SQLite's write lock (not qabot's .write.lock) for longer than the busy timeout."""
    index = small_index.index_dir
    holder = sqlite3.connect(index / DB, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held for the whole test
    connect = sqlite3.connect

    def short_timeout(*args: object, **kwargs: object) -> sqlite3.Connection:
        kwargs["timeout"] = 0.3  # the product waits 30 s; the test shortens the wait, not the fault
        return connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", short_timeout)
    try:
        code, out, err = run_main("--index", str(index), "remove", "tram")
        stats_code, stats_out, _ = run_main("--index", str(index), "stats")
    finally:
        holder.rollback()
        holder.close()
    assert code == 1
    assert out == ""
    assert err.strip() == (
        f"Error: another process is writing to {index / DB} (database is locked); try again when it has finished"
    )
    assert stats_code == 0  # WAL: readers are not blocked by a writer
    assert "articles: 1" in stats_out
