"""Shared fixtures: the real bundled model, loaded once per session, indexes of the bundled samples or of given
articles, and ``qabot`` run in this process. Plain helpers (articles, the one-error-line check) are in helpers.py."""

from __future__ import annotations

import os

# Before anything imports telegram or httpx: PTB's RetryAfter needs this under warnings-as-errors, and loopback
# must never go through a proxy from the environment.
os.environ.setdefault("PTB_TIMEDELTA", "1")
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.cli.commands import samples_dir
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article
from tests import helpers


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own QABOT_* variables must not change what tests see.
    for key in list(os.environ):
        if key.startswith("QABOT_"):
            monkeypatch.delenv(key)
    # Nor the width of their terminal: answers wrap to it (a test that needs a width sets COLUMNS itself).
    monkeypatch.setenv("COLUMNS", "88")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled model, loaded once for the whole session."""
    e = Embedder()
    e.embed_query("warm up")
    return e


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a fresh index under this test's tmp_path, ignoring any .env file."""

    def make(**overrides: object) -> Settings:
        overrides.setdefault("index_dir", tmp_path / "index")
        return Settings(_env_file=None, **overrides)  # type: ignore[arg-type]

    return make


@pytest.fixture
def index_of(make_settings: Callable[..., Settings], embedder: Embedder) -> Callable[..., Settings]:
    """``index_of(articles, **settings)``: Settings of a fresh index under tmp_path holding ``articles``."""

    def build(articles: Iterable[Article], **overrides: object) -> Settings:
        settings = make_settings(**overrides)
        Ingestor.from_settings(settings, embedder=embedder).ingest_articles(list(articles))
        return settings

    return build


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> helpers.RunMain:
    """``run_main(*args, stdin=None)``: `qabot ARGS` in this process, run in tmp_path (so no .env is read)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: str | None = None) -> helpers.CliRun:
        return helpers.run_main(args, capsys, stdin=stdin)

    return run


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index of the bundled sample articles, built once per session. Treat it as read-only."""
    path = tmp_path_factory.mktemp("sample-index")
    settings = Settings(_env_file=None, index_dir=path)
    report = Ingestor.from_settings(settings, embedder=embedder).ingest_paths([samples_dir()])
    assert not report.skipped
    assert len(report.added) >= 8
    return path


@pytest.fixture(scope="session")
def answerer(sample_index: Path, embedder: Embedder) -> Answerer:
    """A real Answerer over the sample index, shared by the session."""
    return Answerer.from_settings(Settings(_env_file=None, index_dir=sample_index), embedder=embedder)
