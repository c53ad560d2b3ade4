"""The Milvus store on a real standalone server: the PyPI ``milvus`` 2.3.5 wheel started by a fixture
(tests/fakes/milvus_server.py), the bundled samples ingested through ``QABOT_STORE=milvus``, the F-35 question
answered, the server restarted on the same data, and the same answer given again.

The 2.3 server has no BM25 function: the store answers from its dense vectors there (docs/scale-out.md), which is
why this smoke test asks a question dense retrieval alone answers. A machine where the server cannot start skips
with the reason (and the server log's tail), never silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.cli.commands import samples_dir
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from tests.fakes.milvus_server import MilvusServer, ServerUnavailable

pytestmark = pytest.mark.slow

F35 = "why was Turkey removed from the F-35 program?"


@pytest.fixture
def milvus_server(tmp_path: Path) -> Iterator[MilvusServer]:
    """A standalone Milvus server in a fresh data folder under tmp_path, stopped after the test whatever happens."""
    try:
        server = MilvusServer(tmp_path / "milvus-server")
    except ImportError as err:
        pytest.skip(f"the standalone Milvus server wheel is not installed (pip install 'milvus==2.3.5'): {err}")
    try:
        server.start()
    except ServerUnavailable as err:
        pytest.skip(f"the standalone Milvus server cannot start on this machine: {err}")
    try:
        yield server
    finally:
        server.stop()


def test_samples_on_a_standalone_server_answer_the_same_after_a_restart(
    milvus_server: MilvusServer, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QABOT_STORE", "milvus")
    monkeypatch.setenv("QABOT_MILVUS_URI", milvus_server.uri)
    settings = Settings(_env_file=None, index_dir=tmp_path / "index")  # the store from the environment
    report = Ingestor.from_settings(settings, embedder=embedder).ingest_paths([samples_dir()])
    assert not report.skipped
    assert len(report.added) >= 8

    answerer = Answerer.from_settings(settings, embedder=embedder)
    before = answerer.ask(F35)
    assert not before.abstained
    assert "S-400" in before.quotes[0].text

    milvus_server.stop()
    milvus_server.start()  # the same data folder and ports

    after = answerer.ask(F35)  # the same answerer, as a running replica sees a restarted server
    assert [q.text for q in after.quotes] == [q.text for q in before.quotes]
    fresh = Answerer.from_settings(settings, embedder=embedder).ask(F35)  # and a replica started afterwards
    assert [q.text for q in fresh.quotes] == [q.text for q in before.quotes]
