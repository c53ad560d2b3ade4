"""No download slips in: a hub model name that is not cached fails at start with one line, unless allowed.

The subprocesses run with the Hugging Face endpoint pointed at a recording server on 127.0.0.1 and with
``HF_HUB_OFFLINE`` unset (as outside the deploy files), so any network attempt would show up as a request.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import ConfigError
from tests.helpers import assert_one_error_line, clean_env, run_qabot

MODEL = "acme-test/not-cached-embedder"
RERANKER = "acme-test/not-cached-reranker"


class Hub:
    """A stand-in for huggingface.co that answers 404 to everything and remembers each request."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hub.requests.append(f"{self.command} {self.path}")
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_HEAD = do_POST = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hub() -> Iterator[Hub]:
    h = Hub()
    yield h
    h.server.shutdown()
    h.server.server_close()


def run_online(hub: Hub, tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in clean_env().items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"), **settings)
    return run_qabot(*args, cwd=tmp_path, env=env)


def test_an_uncached_hub_model_fails_at_start_in_one_line_without_a_request(hub: Hub, tmp_path: Path) -> None:
    result = run_online(hub, tmp_path, "--index", str(tmp_path / "index"), "ask", "anything?", QABOT_MODEL=MODEL)
    line = assert_one_error_line(result)
    assert f"QABOT_MODEL='{MODEL}'" in line
    assert "QABOT_ALLOW_DOWNLOADS=true" in line
    assert hub.requests == []


def test_an_uncached_hub_reranker_fails_at_start_in_one_line_without_a_request(
    hub: Hub, tmp_path: Path, sample_index: Path
) -> None:
    result = run_online(hub, tmp_path, "--index", str(sample_index), "ask", "Who won?", QABOT_RERANKER_MODEL=RERANKER)
    line = assert_one_error_line(result)
    assert f"QABOT_RERANKER_MODEL='{RERANKER}'" in line
    assert "QABOT_ALLOW_DOWNLOADS=true" in line
    assert hub.requests == []


@pytest.mark.slow
def test_with_downloads_allowed_the_hub_is_asked(hub: Hub, tmp_path: Path) -> None:
    """The other side of the setting: the recording server does see a download when it is allowed."""
    (tmp_path / "a.md").write_text("# Tram\n\nThe tram line opened on Monday.\n", encoding="utf-8")
    result = run_online(
        hub, tmp_path, "--index", str(tmp_path / "index"), "ingest", "a.md",
        QABOT_MODEL=MODEL, QABOT_ALLOW_DOWNLOADS="true",
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert any("not-cached-embedder" in r for r in hub.requests), hub.requests


def test_the_check_is_at_construction_not_at_the_first_question(sample_index: Path, embedder: Embedder) -> None:
    with pytest.raises(ConfigError, match="QABOT_MODEL"):
        Embedder(MODEL)
    settings = Settings(_env_file=None, index_dir=sample_index, reranker_model=RERANKER)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="QABOT_RERANKER_MODEL"):
        Answerer.from_settings(settings, embedder=embedder)
