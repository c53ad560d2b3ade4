"""``qabot doctor``: each check passing and failing, the Bot API check against the loopback fake, and no token
ever in the output (nor in the logs, even at DEBUG)."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from qabot.cli import main
from qabot.cli.commands import samples_dir
from qabot.config import BUNDLED_MODEL, Settings
from qabot.doctor import Check, format_checks, run_checks
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.store import MANIFEST, IndexStore
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.web_server import FakeWebServer
from tests.helpers import RunMain
from tests.telegram.redis_server import redis_server

OTHER_TOKEN = "654321:AAH-other-token-that-telegram-refuses"


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index of two sample articles, built with the session's model."""
    articles = tmp_path_factory.mktemp("doctor-articles")
    for name in ("turkey-f35.md", "vellmoor-heatwave-water.md"):
        shutil.copy(samples_dir() / name, articles / name)
    index = tmp_path_factory.mktemp("doctor-index") / "index"
    report = Ingestor.from_settings(Settings(_env_file=None, index_dir=index), embedder=embedder).ingest_paths(
        [articles]
    )
    assert len(report.added) == 2
    return index


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def assert_no_secret(text: str, token: str) -> None:
    assert token not in text
    assert token.split(":", 1)[1] not in text


async def checks_for(settings: Settings, embedder: Embedder | None = None, **kwargs: object) -> list[Check]:
    # run_checks is blocking (HTTP, model, SQLite); the fake Bot API answers on this test's event loop.
    return await asyncio.to_thread(run_checks, settings, embedder=embedder, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- everything passes
async def test_all_checks_pass_against_the_fake_bot_api(
    small_index: Path, embedder: Embedder, make_settings: Callable[..., Settings]
) -> None:
    async with FakeBotApi() as fake:
        settings = make_settings(index_dir=small_index, telegram_token=fake.token, telegram_base_url=fake.base_url)
        checks = await checks_for(settings, embedder)
        assert len(fake.calls_of("getMe")) == 1
    out = format_checks(checks)
    assert [c.name for c in checks] == ["settings", "model", "index", "storage", "telegram"], out
    assert all(c.ok for c in checks), out
    assert "OK   model: sentence-transformers/all-MiniLM-L6-v2 loads offline (" in out
    assert "384-d vectors)" in by_name(checks)["model"].detail
    index = by_name(checks)["index"].detail
    assert index.startswith("2 articles, ")
    assert f" chunks at {small_index}" in index
    assert "@QA_Test_Bot (id 123456)" in by_name(checks)["telegram"].detail
    assert out.endswith("All 5 checks passed.")
    assert_no_secret(out, fake.token)


async def test_quick_skips_the_model_and_still_checks_the_index(
    small_index: Path, make_settings: Callable[..., Settings]
) -> None:
    async with FakeBotApi() as fake:
        settings = make_settings(index_dir=small_index, telegram_token=fake.token, telegram_base_url=fake.base_url)
        checks = await checks_for(settings, load_model=False)
    assert [c.name for c in checks] == ["settings", "index", "storage", "telegram"]
    assert all(c.ok for c in checks), format_checks(checks)


# ---------------------------------------------------------------------- telegram
async def test_a_token_the_bot_api_refuses_fails_with_401_and_is_never_shown(
    small_index: Path, embedder: Embedder, make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx logs request URLs (which carry the token) at INFO
    async with FakeBotApi() as fake:
        settings = make_settings(index_dir=small_index, telegram_token=OTHER_TOKEN, telegram_base_url=fake.base_url)
        checks = await checks_for(settings, embedder)
    telegram = by_name(checks)["telegram"]
    assert not telegram.ok
    assert "refused the token (401 Unauthorized)" in telegram.detail
    assert "@BotFather" in telegram.fix
    assert "QABOT_TELEGRAM_TOKEN" in telegram.fix
    out = format_checks(checks)
    assert "FAIL telegram: the Bot API refused the token (401 Unauthorized) — get the current token" in out
    assert out.endswith("1 of 5 checks failed.")
    assert_no_secret(out, OTHER_TOKEN)
    assert_no_secret(caplog.text, OTHER_TOKEN)


def test_a_404_from_the_bot_api_points_at_the_token_and_the_url(
    small_index: Path, make_settings: Callable[..., Settings]
) -> None:
    # Telegram answers a malformed token with 404 and this body; so does a wrong base URL.
    with FakeWebServer() as server:
        body = json.dumps({"ok": False, "error_code": 404, "description": "Not Found"})
        server.route(f"/bot{OTHER_TOKEN}/getMe", body, status=404, content_type="application/json")
        settings = make_settings(
            index_dir=small_index, telegram_token=OTHER_TOKEN, telegram_base_url=server.url("/bot")
        )
        checks = run_checks(settings, load_model=False)
        assert server.hits(f"/bot{OTHER_TOKEN}/getMe") == 1
    telegram = by_name(checks)["telegram"]
    assert not telegram.ok
    assert "answered 404 Not Found: the token is malformed or the URL is wrong" in telegram.detail
    assert "QABOT_TELEGRAM_BASE_URL" in telegram.fix
    assert_no_secret(format_checks(checks), OTHER_TOKEN)


def test_a_bot_api_error_that_quotes_the_request_url_is_masked(
    small_index: Path, make_settings: Callable[..., Settings]
) -> None:
    # A proxy or a self-hosted Bot API server may echo the request URL, token and all, in its error description.
    with FakeWebServer() as server:
        echo = f"upstream failed for /bot{OTHER_TOKEN}/getMe"
        body = json.dumps({"ok": False, "error_code": 502, "description": echo})
        server.route(f"/bot{OTHER_TOKEN}/getMe", body, status=502, content_type="application/json")
        settings = make_settings(
            index_dir=small_index, telegram_token=OTHER_TOKEN, telegram_base_url=server.url("/bot")
        )
        checks = run_checks(settings, load_model=False)
    telegram = by_name(checks)["telegram"]
    assert "answered 502 upstream failed for /bot[REDACTED]/getMe" in telegram.detail
    assert_no_secret(format_checks(checks), OTHER_TOKEN)


def test_an_unreachable_bot_api_says_so_without_the_token(
    small_index: Path, make_settings: Callable[..., Settings]
) -> None:
    with socket.socket() as sock:  # a port that was just free: nothing listens there any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(
        index_dir=small_index, telegram_token=OTHER_TOKEN, telegram_base_url=f"http://127.0.0.1:{port}/bot"
    )
    telegram = by_name(run_checks(settings, load_model=False))["telegram"]
    assert not telegram.ok
    assert telegram.detail.startswith(f"cannot reach the Bot API at http://127.0.0.1:{port}: ")
    assert "proxy" in telegram.fix
    assert_no_secret(telegram.detail + telegram.fix, OTHER_TOKEN)


@pytest.mark.parametrize(
    ("token", "webhook", "detail"),
    [
        (None, True, "QABOT_TELEGRAM_TOKEN is not set"),  # --webhook: the bot is meant to run, so it is needed
        ("bot123456:TEST-fake-token", False, "QABOT_TELEGRAM_TOKEN does not look like a bot token"),
    ],
)
async def test_a_missing_or_malformed_token_fails_without_calling_telegram(
    token: str | None, webhook: bool, detail: str, small_index: Path, make_settings: Callable[..., Settings]
) -> None:
    async with FakeBotApi() as fake:
        settings = make_settings(index_dir=small_index, telegram_token=token, telegram_base_url=fake.base_url)
        telegram = by_name(await checks_for(settings, load_model=False, webhook=webhook))["telegram"]
        assert fake.calls == []
    assert not telegram.ok
    assert not telegram.skipped
    assert telegram.detail == detail
    assert "@BotFather" in telegram.fix
    if token:
        assert token not in telegram.detail + telegram.fix


async def test_no_token_is_not_configured_rather_than_failed(
    small_index: Path, make_settings: Callable[..., Settings]
) -> None:
    async with FakeBotApi() as fake:
        settings = make_settings(index_dir=small_index, telegram_token=None, telegram_base_url=fake.base_url)
        checks = await checks_for(settings, load_model=False)
        assert fake.calls == []
    telegram = by_name(checks)["telegram"]
    assert telegram.ok
    assert telegram.skipped
    out = format_checks(checks).splitlines()
    assert out[-2] == (
        "SKIP telegram: not configured: QABOT_TELEGRAM_TOKEN is not set (only `qabot serve` needs it)"
        " — set QABOT_TELEGRAM_TOKEN (in .env or the service's environment file) to the token from @BotFather"
    )
    assert out[-1] == "3 of 4 checks passed; 1 not configured."


# ---------------------------------------------------------------------- settings, model, index, storage
def test_bad_settings_are_listed_with_their_fixes(small_index: Path, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(index_dir=small_index, log_level="LOUD", telegram_base_url="ftp://api.example/bot")
    check = by_name(run_checks(settings, load_model=False))["settings"]
    assert not check.ok
    assert check.detail == (
        "log level 'LOUD' is not a level; Bot API URL 'ftp://api.example/bot' is not an http(s) URL"
    )
    assert "QABOT_LOG_LEVEL" in check.fix
    assert "QABOT_TELEGRAM_BASE_URL" in check.fix


def test_a_model_that_does_not_load_fails_the_model_check(
    small_index: Path, make_settings: Callable[..., Settings]
) -> None:
    checks = by_name(run_checks(make_settings(index_dir=small_index, model="no-such-model")))
    assert not checks["model"].ok
    assert checks["model"].detail.startswith("cannot load 'no-such-model': ")
    assert "QABOT_MODEL" in checks["model"].fix
    # The index names another model than the settings, so it is refused too.
    assert not checks["index"].ok


def test_no_index_says_how_to_make_one(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    checks = run_checks(make_settings(index_dir=tmp_path / "index"), load_model=False)
    assert "FAIL index: no index at " + str(tmp_path / "index") + " — run `qabot ingest PATH`" in format_checks(checks)
    # Nothing is created by looking: the first ingest makes the directory.
    assert not (tmp_path / "index").exists()
    assert by_name(checks)["storage"] == Check("storage", True, f"{tmp_path} is writable")


def test_an_index_of_another_model_says_which(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    IndexStore.open(tmp_path / "index", model="intfloat/e5-small-v2", dimension=384, create=True).close()
    index = by_name(run_checks(make_settings(index_dir=tmp_path / "index"), load_model=False))["index"]
    assert not index.ok
    assert index.detail == (
        f"{tmp_path / 'index'} was built with intfloat/e5-small-v2 (384-d), but QABOT_MODEL is {BUNDLED_MODEL}"
    )
    assert index.fix.startswith("set QABOT_MODEL=intfloat/e5-small-v2, or point QABOT_INDEX_DIR at a new directory")


def test_an_index_of_another_vector_size_fails_once_the_model_is_loaded(
    tmp_path: Path, embedder: Embedder, make_settings: Callable[..., Settings]
) -> None:
    IndexStore.open(tmp_path / "index", model=BUNDLED_MODEL, dimension=768, create=True).close()
    settings = make_settings(index_dir=tmp_path / "index")
    assert by_name(run_checks(settings, load_model=False))["index"].ok  # the name alone matches
    index = by_name(run_checks(settings, embedder=embedder))["index"]
    assert not index.ok
    assert f"built with {BUNDLED_MODEL} (768-d), but QABOT_MODEL is {BUNDLED_MODEL} (384-d)" in index.detail


def test_a_damaged_index_points_at_repair_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    index_dir = tmp_path / "index"
    IndexStore.open(index_dir, model=BUNDLED_MODEL, dimension=384, create=True).close()
    (index_dir / MANIFEST).write_text("{not json", "utf-8")
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    assert main(["--index", str(index_dir), "doctor", "--quick"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("FAIL index:"))
    assert f"{index_dir / MANIFEST} is unreadable" in line
    assert line.endswith(" — run `qabot repair` to restore it")
    assert out.count("qabot repair") == 1  # said once: not in the finding and again in the fix


def test_another_tools_folder_is_named_with_a_folder_to_choose_not_permissions(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    (tmp_path / "chroma").mkdir()
    (tmp_path / "chroma" / "chroma.sqlite3").write_bytes(b"")
    index = by_name(run_checks(make_settings(index_dir=tmp_path / "chroma"), load_model=False))["index"]
    assert not index.ok
    assert index.detail == f"{tmp_path / 'chroma'} is not a qabot index and not empty (it holds chroma.sqlite3)"
    assert index.fix == "point QABOT_INDEX_DIR (or --index) at a new or empty folder"


def test_an_index_directory_that_cannot_be_created_fails_storage(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    (tmp_path / "data").write_text("a file where a directory should be", "utf-8")
    storage = by_name(run_checks(make_settings(index_dir=tmp_path / "data" / "index"), load_model=False))["storage"]
    assert not storage.ok
    assert storage.detail == f"cannot create {tmp_path / 'data' / 'index'}: {tmp_path / 'data'} is not a directory"
    assert "writable by" in storage.fix


# ---------------------------------------------------------------------- webhook
GOOD_SECRET = "s3cret_value-for-the-webhook"


def webhook_checks(make_settings: Callable[..., Settings], tmp_path: Path, **overrides: object) -> dict[str, Check]:
    values: dict[str, object] = {
        "index_dir": tmp_path / "index",
        "webhook_url": "https://bot.example.org/telegram/hook",
        "webhook_secret": GOOD_SECRET,
        "webhook_port": 8443,
    }
    values.update(overrides)
    checks = run_checks(make_settings(**values), webhook=True, load_model=False)
    assert GOOD_SECRET not in format_checks(checks)
    return by_name(checks)


def test_good_webhook_settings_pass(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    checks = webhook_checks(make_settings, tmp_path)
    assert checks["webhook-url"] == Check(
        "webhook-url", True, "Telegram will call https://bot.example.org, path telegram/hook"
    )
    assert checks["webhook-secret"].ok
    assert checks["webhook-secret"].detail == f"set ({len(GOOD_SECRET)} characters)"
    assert checks["webhook-port"].ok


def test_webhook_checks_run_only_in_webhook_mode(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    names = [c.name for c in run_checks(make_settings(index_dir=tmp_path / "i"), load_model=False)]
    assert not [n for n in names if n.startswith("webhook")]


@pytest.mark.parametrize(
    ("overrides", "name", "detail"),
    [
        ({"webhook_url": ""}, "webhook-url", "QABOT_WEBHOOK_URL is not set"),
        ({"webhook_url": "http://bot.example.org/hook"}, "webhook-url", "http://bot.example.org/hook is not an https"),
        ({"webhook_url": "https://bot.example.org:8080/hook"}, "webhook-url", "uses port 8080, which Telegram does"),
        ({"webhook_secret": None}, "webhook-secret", "QABOT_WEBHOOK_SECRET is not set"),
        ({"webhook_secret": "has spaces in it!"}, "webhook-secret", "has characters Telegram refuses"),
        ({"webhook_secret": "x" * 257}, "webhook-secret", "QABOT_WEBHOOK_SECRET is too long"),
        ({"webhook_port": 0}, "webhook-port", "QABOT_WEBHOOK_PORT 0 is not a TCP port"),
        ({"webhook_port": 70000}, "webhook-port", "QABOT_WEBHOOK_PORT 70000 is not a TCP port"),
    ],
)
def test_each_bad_webhook_setting_fails_with_a_fix(
    overrides: dict[str, object], name: str, detail: str, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    checks = webhook_checks(make_settings, tmp_path, **overrides)
    assert not checks[name].ok
    assert detail in checks[name].detail
    assert checks[name].fix
    secret = overrides.get("webhook_secret")
    if isinstance(secret, str):
        assert secret not in checks[name].detail + checks[name].fix
    others = [c for n, c in checks.items() if n.startswith("webhook") and n != name]
    assert all(c.ok for c in others), others


# ---------------------------------------------------------------------- the command
async def test_qabot_doctor_exits_0_when_all_pass_and_1_when_one_fails(
    small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    async with FakeBotApi() as fake:
        monkeypatch.setenv("QABOT_TELEGRAM_BASE_URL", fake.base_url)
        monkeypatch.setenv("QABOT_TELEGRAM_TOKEN", fake.token)
        ok = await asyncio.to_thread(main, ["--index", str(small_index), "doctor", "--quick"])
        passed = capsys.readouterr().out
        monkeypatch.setenv("QABOT_TELEGRAM_TOKEN", OTHER_TOKEN)
        failed = await asyncio.to_thread(main, ["--index", str(small_index), "doctor", "--quick", "--webhook"])
        refused = capsys.readouterr().out
    assert ok == 0, passed
    assert passed.splitlines()[-1] == "All 4 checks passed."
    assert failed == 1
    assert "FAIL telegram: the Bot API refused the token (401 Unauthorized)" in refused
    assert "FAIL webhook-url: QABOT_WEBHOOK_URL is not set" in refused
    assert_no_secret(passed, fake.token)
    assert_no_secret(refused, OTHER_TOKEN)


def test_qabot_doctor_without_a_token_exits_0(
    small_index: Path, monkeypatch: pytest.MonkeyPatch, run_main: RunMain
) -> None:
    monkeypatch.delenv("QABOT_TELEGRAM_TOKEN", raising=False)
    code, out, _ = run_main("--index", str(small_index), "doctor", "--quick")
    assert code == 0, out
    assert "FAIL" not in out
    assert "SKIP telegram: not configured" in out
    assert out.splitlines()[-1] == "3 of 4 checks passed; 1 not configured."


# ---------------------------------------------------------------------- the shared state (QABOT_STATE_URL)


def test_the_state_redis_is_checked_only_when_set_and_its_password_never_shows(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    assert "state" not in [c.name for c in run_checks(make_settings(), load_model=False)]  # files: `storage`
    with redis_server(tmp_path / "redis", password="doctor-redis-pw") as url:
        reachable = by_name(run_checks(make_settings(state_url=url), load_model=False))["state"]
    gone = by_name(run_checks(make_settings(state_url=url), load_model=False))["state"]  # the server stopped

    shown = url.replace("doctor-redis-pw", "***")
    assert reachable == Check(
        "state", True, f"{shown} answers: replicas share conversations, limits, feedback and updates"
    )
    assert not gone.ok
    assert gone.detail.startswith(f"cannot reach {shown}: ConnectionError")
    assert "empty QABOT_STATE_URL" in gone.fix
    assert "doctor-redis-pw" not in format_checks([reachable, gone])
