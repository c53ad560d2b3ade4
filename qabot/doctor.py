"""``qabot doctor``: check what ``qabot serve`` needs, one line per check, with the fix for each failure.

Checks, in order: ``settings``, ``model`` (loads offline, its vector size), ``index`` (opens, built with the
configured model), ``storage`` (the index directory is writable: feedback and admin ingests write there), with
``QABOT_STATE_URL`` set ``state`` (the Redis replicas share answers),
``telegram`` (the Bot API accepts the token: ``getMe``), and with ``webhook=True`` ``webhook-url``,
``webhook-secret`` and ``webhook-port``. Every check runs even when an earlier one failed, so one run lists
everything to fix.

Not configured is not failed: without a bot token the ``telegram`` check is skipped (``SKIP``), since only
``qabot serve`` needs one, and doctor still exits 0. With ``webhook=True`` the bot is clearly meant to run, so a
missing token fails.

No secret setting appears in a result (the bot token above all): every detail and fix passes through
``qabot.redact.Redactor``, since error texts from the HTTP client can carry the request URL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from qabot.config import BOT_TOKEN_PATTERN, WEBHOOK_SECRET_RE, Settings, bot_api_urls
from qabot.errors import ConfigError, IndexCorrupt, IndexMissing, ModelMismatch, NotAnIndex
from qabot.redact import Redactor
from qabot.text import counted

if TYPE_CHECKING:
    from qabot.embed import Embedder

_TOKEN_RE = re.compile(BOT_TOKEN_PATTERN)
# Telegram delivers webhooks to these ports only; anything else is refused by setWebhook.
WEBHOOK_PORTS = (443, 80, 88, 8443)


@dataclass(frozen=True)
class Check:
    """One check's outcome: what was checked, whether it passed, what was found, and how to fix a failure.

    ``skipped``: an optional thing that is not configured, so there was nothing to check; ``ok`` is True (nothing
    is broken) and ``fix`` says how to configure it.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    skipped: bool = False


def run_checks(
    settings: Settings,
    *,
    webhook: bool = False,
    load_model: bool = True,
    embedder: Embedder | None = None,
    timeout: float = 10.0,
) -> list[Check]:
    """Run every check for ``settings``; ``webhook`` adds the webhook ones, ``load_model=False`` skips the model.

    ``embedder`` reuses a loaded model (tests share one); ``timeout`` bounds the Bot API call in seconds.
    """
    mask = Redactor.from_settings(settings)
    checks = [_check_settings(settings)]
    dimension: int | None = None
    if load_model:
        model_check, dimension = _check_model(settings, embedder)
        checks.append(model_check)
    checks += [_check_index(settings, dimension), _check_storage(settings.index_dir)]
    if settings.state_url.strip():  # the default (files beside the index) is what `storage` checked
        checks.append(_check_state(settings))
    checks.append(_check_telegram(settings, timeout, required=webhook))
    if webhook:
        checks += _check_webhook(settings)
    return [Check(c.name, c.ok, mask(c.detail), mask(c.fix), c.skipped) for c in checks]


def format_checks(checks: list[Check]) -> str:
    """One line per check (``OK   name: detail``, ``SKIP name: detail — fix``, ``FAIL name: detail — fix``) and
    a closing summary."""
    lines = []
    for c in checks:
        if c.ok and not c.skipped:
            lines.append(f"OK   {c.name}: {c.detail}")
        else:
            lines.append(f"{'SKIP' if c.ok else 'FAIL'} {c.name}: {c.detail}" + (f" — {c.fix}" if c.fix else ""))
    failed = sum(not c.ok for c in checks)
    skipped = sum(c.skipped for c in checks)
    if failed:
        lines.append(f"{failed} of {len(checks)} checks failed.")
    elif skipped:
        lines.append(f"{len(checks) - skipped} of {len(checks)} checks passed; {skipped} not configured.")
    else:
        lines.append(f"All {len(checks)} checks passed.")
    return "\n".join(lines)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# ---------------------------------------------------------------------- settings, model, index, storage
def _check_settings(settings: Settings) -> Check:
    problems, fixes = [], []
    if not isinstance(logging.getLevelName(settings.log_level.upper()), int):
        problems.append(f"log level {settings.log_level!r} is not a level")
        fixes.append("set QABOT_LOG_LEVEL to DEBUG, INFO, WARNING or ERROR")
    base = urlsplit(settings.telegram_base_url)
    if base.scheme not in ("http", "https") or not base.netloc:
        problems.append(f"Bot API URL {settings.telegram_base_url!r} is not an http(s) URL")
        fixes.append("set QABOT_TELEGRAM_BASE_URL to https://api.telegram.org/bot or your Bot API server")
    if problems:
        return Check("settings", False, "; ".join(problems), "; ".join(fixes))
    return Check("settings", True, f"index {settings.index_dir}, log level {settings.log_level.upper()}")


def _check_model(settings: Settings, embedder: Embedder | None) -> tuple[Check, int | None]:
    from qabot.embed import Embedder  # imports torch: only when the model is checked

    try:
        loaded = embedder or Embedder.from_settings(settings)
        dimension = loaded.dimension
        backend = getattr(loaded, "backend", "")  # torch or onnx-int8, where the embedder has a choice
    except Exception as err:  # any load failure is this check's finding, not a crash
        fix = "set QABOT_MODEL to a local model path, or unset it to use the bundled model"
        return Check("model", False, f"cannot load {settings.model!r}: {_first_line(err)}", fix), None
    how = f"{backend} backend, " if backend else ""
    return Check("model", True, f"{settings.model} loads offline ({how}{dimension}-d vectors)"), dimension


def _check_index(settings: Settings, dimension: int | None) -> Check:
    from qabot.store import open_store, read_manifest
    from qabot.store.factory import where as index_place

    where = index_place(settings)
    try:
        store = open_store(settings, dimension=dimension)
        try:
            stats = store.stats()
        finally:
            store.close()
    except IndexMissing:
        return Check("index", False, f"no index at {where}", "run `qabot ingest PATH` (or `qabot ingest --samples`)")
    except ModelMismatch as err:
        if settings.store != "local":  # Milvus keeps what it was built with in its own meta collection
            return Check("index", False, _first_line(err), "set QABOT_MODEL to the model it was built with")
        built = read_manifest(settings.index_dir)
        was = f"{built.model} ({built.dimension}-d)" if built else "another model"
        now = settings.model + (f" ({dimension}-d)" if dimension else "")
        return Check(
            "index",
            False,
            f"{where} was built with {was}, but QABOT_MODEL is {now}",
            f"set QABOT_MODEL={built.model if built else '…'}, or point QABOT_INDEX_DIR at a new directory and "
            "ingest again",
        )
    except IndexCorrupt as err:
        return Check("index", False, *_split_advice(_first_line(err)))
    except NotAnIndex as err:
        found = _first_line(err).removesuffix("; choose another --index folder")  # the fix says it
        return Check("index", False, found, "point QABOT_INDEX_DIR (or --index) at a new or empty folder")
    except Exception as err:  # e.g. permissions or a damaged database: report, don't crash
        return Check("index", False, f"cannot open {where}: {_first_line(err)}", "check the directory's permissions")
    newest = f", newest {stats.newest}" if stats.newest else ""
    held = f"{counted(stats.articles, 'article')}, {counted(stats.chunks, 'chunk')}"
    return Check("index", True, f"{held} at {where}{newest}")


def _split_advice(message: str) -> tuple[str, str]:
    """``IndexCorrupt`` says what is wrong, then what to do ("…: run `qabot repair` …"): the advice becomes the fix,
    so the line says it once and says the right thing (a newer schema needs a new folder, not a repair)."""
    cut = max(message.rfind(": "), message.rfind("; "))
    if cut > 0 and "`qabot " in message[cut:]:
        return message[:cut], message[cut + 2 :]
    if "`qabot " in message:  # advice somewhere else in the text: keep it whole rather than repeat it
        return message, ""
    return message, "run `qabot repair`; if that fails, re-ingest your articles"


def _check_storage(index_dir: Path) -> Check:
    # The index directory is created by the first ingest: until then its nearest existing parent must be writable.
    target = index_dir
    while not target.exists() and target != target.parent:
        target = target.parent
    user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "this user"
    fix = f"make {index_dir} writable by {user} (the user qabot runs as)"
    if not target.is_dir():
        return Check("storage", False, f"cannot create {index_dir}: {target} is not a directory", fix)
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".doctor-"):
            pass
    except OSError as err:
        return Check("storage", False, f"cannot write to {target}: {err.strerror or _first_line(err)}", fix)
    return Check("storage", True, f"{target} is writable")


def _check_state(settings: Settings) -> Check:
    """``QABOT_STATE_URL``: the Redis that webhook replicas share answers a PING."""
    from qabot.bot.state import StateUnavailable, shown_url
    from qabot.bot.state.backends import open_state

    shown = shown_url(settings.state_url.strip())
    try:
        state = open_state(settings)
    except ConfigError as err:
        return Check("state", False, str(err), "set QABOT_STATE_URL=redis://host:6379/0, or leave it empty")

    async def ping() -> None:
        try:
            await state.ping()
        finally:
            await state.close()

    try:
        asyncio.run(ping())
    except StateUnavailable as err:
        fix = "start Redis there (or fix the URL); empty QABOT_STATE_URL keeps the state in files, for one process"
        return Check("state", False, f"cannot reach {shown}: {err}", fix)
    return Check("state", True, f"{shown} answers: replicas share conversations, limits, feedback and updates")


# ---------------------------------------------------------------------- telegram
def _check_telegram(settings: Settings, timeout: float, *, required: bool) -> Check:
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if not token:
        fix = "set QABOT_TELEGRAM_TOKEN (in .env or the service's environment file) to the token from @BotFather"
        if required:
            return Check("telegram", False, "QABOT_TELEGRAM_TOKEN is not set", fix)
        detail = "not configured: QABOT_TELEGRAM_TOKEN is not set (only `qabot serve` needs it)"
        return Check("telegram", True, detail, fix, skipped=True)
    if not _TOKEN_RE.fullmatch(token):
        fix = "copy the whole token from @BotFather: digits, a colon, then letters (no 'bot' prefix, no quotes)"
        return Check("telegram", False, "QABOT_TELEGRAM_TOKEN does not look like a bot token", fix)
    root, _ = bot_api_urls(settings.telegram_base_url)
    shown = root.rsplit("/bot", 1)[0]
    # httpx logs each request's URL at INFO, and Bot API URLs carry the token: keep it quiet even under --debug.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        response = httpx.get(f"{root}{token}/getMe", timeout=timeout)
    except httpx.HTTPError as err:
        fix = "check the network, any proxy (HTTPS_PROXY) and QABOT_TELEGRAM_BASE_URL"
        return Check("telegram", False, f"cannot reach the Bot API at {shown}: {_first_line(err)}", fix)
    return _getme_result(response, shown)


def _getme_result(response: httpx.Response, shown: str) -> Check:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    new_token = "get the current token from @BotFather (/mybots → API Token) and set QABOT_TELEGRAM_TOKEN"
    if response.status_code == 200 and body.get("ok") and isinstance(body.get("result"), dict):
        me = body["result"]
        return Check("telegram", True, f"token accepted by {shown}: @{me.get('username')} (id {me.get('id')})")
    what = body.get("description") or response.reason_phrase
    if response.status_code == 401:
        return Check("telegram", False, f"the Bot API refused the token (401 {what})", new_token)
    if response.status_code == 404:
        return Check(
            "telegram",
            False,
            f"the Bot API at {shown} answered 404 {what}: the token is malformed or the URL is wrong",
            new_token + "; check QABOT_TELEGRAM_BASE_URL",
        )
    return Check(
        "telegram",
        False,
        f"getMe at {shown} answered {response.status_code} {what}",
        "check QABOT_TELEGRAM_BASE_URL, and retry later if Telegram is down",
    )


# ---------------------------------------------------------------------- webhook
def _check_webhook(settings: Settings) -> list[Check]:
    return [_check_webhook_url(settings.webhook_url), _check_secret(settings), _check_port(settings)]


def _check_webhook_url(url: str) -> Check:
    if not url:
        fix = "set QABOT_WEBHOOK_URL to the public https:// URL Telegram should call"
        return Check("webhook-url", False, "QABOT_WEBHOOK_URL is not set", fix)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return Check("webhook-url", False, f"{url} is not an https:// URL", "Telegram only calls https:// webhooks")
    try:
        port = parts.port or 443
    except ValueError:
        return Check("webhook-url", False, f"{url} has an invalid port", "use 443, 80, 88 or 8443")
    if port not in WEBHOOK_PORTS:
        fix = "publish the webhook on port 443, 80, 88 or 8443 (the reverse proxy's port, not QABOT_WEBHOOK_PORT)"
        return Check("webhook-url", False, f"{url} uses port {port}, which Telegram does not call", fix)
    path = parts.path.strip("/") or "(root)"
    return Check("webhook-url", True, f"Telegram will call {parts.scheme}://{parts.netloc}, path {path}")


def _check_secret(settings: Settings) -> Check:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    fix = "set QABOT_WEBHOOK_SECRET to 1-256 characters of A-Z a-z 0-9 _ -, e.g. `openssl rand -hex 32`"
    if not secret:
        return Check("webhook-secret", False, "QABOT_WEBHOOK_SECRET is not set", fix)
    if not WEBHOOK_SECRET_RE.fullmatch(secret):
        what = "is too long" if len(secret) > 256 else "has characters Telegram refuses"
        return Check("webhook-secret", False, f"QABOT_WEBHOOK_SECRET {what}", fix)
    return Check("webhook-secret", True, f"set ({len(secret)} characters)")


def _check_port(settings: Settings) -> Check:
    port = settings.webhook_port
    if not 1 <= port <= 65535:
        return Check("webhook-port", False, f"QABOT_WEBHOOK_PORT {port} is not a TCP port", "use e.g. 8443")
    return Check("webhook-port", True, f"qabot will listen on {settings.webhook_listen}:{port} for the reverse proxy")


__all__ = ["WEBHOOK_PORTS", "Check", "format_checks", "run_checks"]
