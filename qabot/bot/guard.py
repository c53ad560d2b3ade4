"""The bot's rules, without Telegram: who may ask, how often, who is an admin, and how the bot connects.

``Guard`` applies the allowlists and the limits; the limits' counts (last question per sender, answers per group in
the last minute) live in the bot's state (``qabot.bot.state``), shared by replicas when they share it; which chats
were told the bot is private and which groups moved to a supergroup stay in the process. ``qabot.bot.updates``
(the gate) and ``qabot.bot.questions`` apply it to Telegram updates; the token is kept out of the logs by
``qabot.redact``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from qabot.bot.state import StateStore, StateUnavailable
from qabot.config import WEBHOOK_SECRET_RE, Settings
from qabot.errors import ConfigError
from qabot.render.translations import text

log = logging.getLogger(__name__)

# Edits and channel posts are never answered, so never fetched; inline queries and the bot's own joins are.
ALLOWED_UPDATES = ["message", "callback_query", "inline_query", "my_chat_member"]


# ---------------------------------------------------------------- access and limits


@dataclass
class Guard:
    """Allowlists, admins, and the per-sender cooldown and per-group answer budget of one running bot.

    The limits are counted in the bot's state (``qabot.bot.state``): in this process by default, in Redis when
    replicas share it, so a cooldown started on one replica holds on the others. ``now`` is seconds since the epoch.
    """

    settings: Settings
    state: StateStore
    refused: set[int] = field(default_factory=set)
    migrated_allowed: set[int] = field(default_factory=set)
    moved_in: set[int] = field(default_factory=set)  # supergroups that groups became (a handful per group, ever)

    def allowed(self, chat_id: int | None, user_id: int | None) -> bool:
        """Both allowlists empty: anyone. Otherwise a listed chat (anyone in it) or a listed user (anywhere)."""
        s = self.settings
        if not s.allowed_chats and not s.allowed_users:
            return True
        if user_id is not None and (user_id in s.allowed_users or user_id in s.admin_ids):
            return True
        return chat_id is not None and (chat_id in s.allowed_chats or chat_id in self.migrated_allowed)

    def is_admin(self, user_id: int | None) -> bool:
        """Whether ``user_id`` may ingest, remove, reload and refresh."""
        return user_id is not None and user_id in self.settings.admin_ids

    def first_refusal(self, key: int) -> bool:
        """True the first time a chat outside the allowlists is refused: it is told once, then ignored."""
        if key in self.refused:
            return False
        self.refused.add(key)
        return True

    def note_migration(self, old: int, new: int) -> None:
        """A group became a supergroup: carry its allowance over to the new id."""
        self.moved_in.add(new)
        if old in self.settings.allowed_chats or old in self.migrated_allowed:
            self.migrated_allowed.add(new)

    async def check(
        self, sender: int, chat_id: int, *, group: bool, now: float, lang: str | None = None
    ) -> tuple[bool, str | None]:
        """May this question be answered now (then it is counted)? If not, the warning to send, once per period
        (in the language of ``lang``, the sender's Telegram ``language_code``). A state that cannot count lets it
        through: the limits protect the chats, they must not silence the bot."""
        try:
            reason = await self.state.admit(sender, chat_id, group=group, now=now)
            if reason is None:
                return True, None
            if reason == "user":
                wait = self.settings.user_cooldown_seconds
                if await self.state.warn_once(f"user:{sender}", now=now, period=wait):
                    return False, text("slow_down", lang, wait=f"{wait:g}")
            elif await self.state.warn_once(f"chat:{chat_id}", now=now, period=60):
                return False, text("group_too_fast", lang)
            return False, None
        except StateUnavailable as err:
            log.warning("Limits not counted (%s); answering anyway", err)
            return True, None

    async def cooldown_left(self, sender: int, now: float) -> float:
        """Seconds until ``sender`` may ask again (0: now)."""
        try:
            return await self.state.cooldown_left(sender, now=now)
        except StateUnavailable:
            return 0.0


# ---------------------------------------------------------------- how the bot connects: token, secret, URLs


def bot_token(settings: Settings) -> str:
    """The bot token, or ConfigError saying where to get one."""
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if not token:
        raise ConfigError("No bot token: set QABOT_TELEGRAM_TOKEN to the token @BotFather gave you.")
    return token


def webhook_secret(settings: Settings) -> str:
    """The webhook secret Telegram will echo, or ConfigError when it is missing or not in Telegram's alphabet."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not WEBHOOK_SECRET_RE.fullmatch(secret):
        raise ConfigError("Webhook mode needs QABOT_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -.")
    return secret


def polling_options() -> dict[str, Any]:
    """Arguments for ``run_polling``/``updater.start_polling``: stale questions from downtime are dropped."""
    return {"allowed_updates": ALLOWED_UPDATES, "drop_pending_updates": True}


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Arguments for ``run_webhook``/``updater.start_webhook`` from settings; PTB refuses a wrong secret (403)."""
    if not settings.webhook_url:
        raise ConfigError("Webhook mode needs QABOT_WEBHOOK_URL, the public HTTPS URL Telegram should call.")
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.strip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": webhook_secret(settings),
        **polling_options(),
    }


__all__ = [
    "ALLOWED_UPDATES",
    "Guard",
    "bot_token",
    "polling_options",
    "webhook_options",
    "webhook_secret",
]
