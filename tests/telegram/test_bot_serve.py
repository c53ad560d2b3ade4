"""``qabot serve`` as an operator runs it: a real process polling the fake Bot API, logging at QABOT_LOG_LEVEL,
answering, and stopping cleanly on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pytest

from qabot.cli import main
from tests.fakes.telegram_api import FakeBotApi, private_chat, user
from tests.telegram.harness import visible

ANN = user(777, "Ann")
F35_QUESTION = "Why was Turkey removed from the F-35 programme?"
F35_ANSWER = "Washington removed Turkey from the F-35 programme in 2019"


async def _serve(cwd: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    pipe = asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "qabot.cli", "serve", cwd=cwd, env=env, stdout=pipe, stderr=pipe
    )


async def _reap(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


@pytest.mark.slow
async def test_qabot_serve_logs_at_the_configured_level_answers_and_stops_on_ctrl_c(
    fake: FakeBotApi, sample_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(sample_index, index)  # the bot writes its feedback file beside the index
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    env |= {
        "QABOT_TELEGRAM_TOKEN": fake.token,
        "QABOT_TELEGRAM_BASE_URL": fake.base_url,
        "QABOT_INDEX_DIR": str(index),
        "QABOT_LOG_LEVEL": "info",
        "QABOT_FEED_REFRESH_MINUTES": "0",
    }
    process = await _serve(tmp_path, env)  # no .env in tmp_path
    try:
        await fake.wait_for_call("setMyCommands", 2, within=180)  # post_init ran: the shared startup function
        await fake.wait_for_call("deleteWebhook", within=60)  # polling began by dropping what was pending
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        reply = await fake.wait_for_call("sendMessage", within=60)
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await _reap(process)

    log = stderr.decode("utf-8", "replace")
    assert process.returncode == 0, log
    assert F35_ANSWER in visible(reply)
    # INFO, though main() starts at WARNING; and every log line starts with its time (ISO 8601, UTC), then level.
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
    assert re.search(rf"^{stamp}INFO telegram.ext.Application: Application started$", log, re.M), log
    lines = log.splitlines()
    assert len(lines) >= 3, log
    assert all(re.match(rf"{stamp}(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ", line) for line in lines), log
    assert "Application.stop() complete" in log
    assert "Traceback" not in log
    assert fake.token.split(":", 1)[1] not in log


def test_qabot_serve_refuses_an_unknown_log_level_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QABOT_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("QABOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QABOT_LOG_LEVEL", "loud")

    assert main(["serve"]) == 1

    err = capsys.readouterr().err
    assert err == "Error: QABOT_LOG_LEVEL='loud' is not a level: use DEBUG, INFO, WARNING or ERROR\n"
    assert not (tmp_path / "index").exists()  # refused before anything was loaded or created


@pytest.mark.slow
async def test_a_token_from_env_file_the_bot_api_refuses_is_one_line_without_the_token(
    fake: FakeBotApi, sample_index: Path, tmp_path: Path
) -> None:
    """PTB's InvalidToken quotes the whole token; one given in .env (not the environment) must not be printed."""
    refused = "987654321:AAH-refused-token-from-dot-env-file"
    index = tmp_path / "index"
    shutil.copytree(sample_index, index)
    (tmp_path / ".env").write_text(
        f"QABOT_TELEGRAM_TOKEN={refused}\nQABOT_TELEGRAM_BASE_URL={fake.base_url}\n"
        f"QABOT_INDEX_DIR={index}\nQABOT_FEED_REFRESH_MINUTES=0\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    process = await _serve(tmp_path, env)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 180)
    finally:
        await _reap(process)

    log = stderr.decode("utf-8", "replace")
    assert process.returncode == 1, log
    assert "Traceback" not in log
    assert refused.split(":", 1)[1] not in log
    assert log.strip().splitlines()[-1].startswith("Error: "), log
