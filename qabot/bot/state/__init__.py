"""The bot's state that several replicas must share, behind one small async interface, and the choice of backend.

What a second ``qabot serve --webhook`` replica needs of the first: which updates are taken (so a Telegram retry
that lands on another replica is not answered twice), each thread's follow-up context, the answers shown with their
👍/👎 and "More sources" state, and the cooldowns and group budgets. :class:`StateStore` is that interface; two
implementations:

- ``qabot.bot.state.local`` (the default, ``QABOT_STATE_URL`` empty): today's files beside the index
  (``feedback.sqlite``, ``conversations.sqlite``), the limits and the updates taken in memory, for one bot process;
- ``qabot.bot.state.redis_store`` (``QABOT_STATE_URL=redis://host:port/db``): everything in Redis, keys under
  ``qabot:<kind>:<bot id>:…``, each with the TTL its SQLite row has as retention, for any number of replicas.

A backend that fails (a damaged file, Redis down) raises :class:`StateUnavailable`; the callers degrade on it (an
answer without buttons or follow-up, an update handled rather than dropped) instead of failing the answer.
``qabot.bot.state.backends.open_state`` picks the backend from the settings. The pipeline below the bot knows
nothing of this (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol
from urllib.parse import urlsplit

from qabot.answer.followup import Context
from qabot.bot.feedback import Activity, Forgotten, StoredAnswer, Tally
from qabot.config import Settings
from qabot.models import Answer

# What taking an update found: it is this replica's now, another finished it, or another holds it still.
Taken = Literal["mine", "done", "held"]
# Why a question may not be answered now: the sender's cooldown, or the group's budget for this minute.
Limit = Literal["user", "group"]


class StateUnavailable(Exception):
    """The state backend cannot be read or written just now (the message says why, without secrets)."""


class StateStore(Protocol):
    """What a running bot keeps that a second replica must see. ``where`` names it in logs (no secrets)."""

    where: str

    # ---- updates: an update is handled by the one replica that takes it (``qabot.bot.state.claims``)
    async def take_update(self, update_id: int, holder: str, lease: float) -> Taken:
        """Take ``update_id`` for ``holder`` for ``lease`` seconds unless it is done or held by a live lease."""
        ...

    async def renew_updates(self, update_ids: Iterable[int], holder: str, lease: float) -> None:
        """Extend ``holder``'s leases on the updates it is still handling."""
        ...

    async def finish_update(self, update_id: int) -> None:
        """Mark an update handled for good (kept a day: Telegram gives up retrying well before)."""
        ...

    # ---- follow-up context per thread key (``qabot.bot.conversations``)
    async def context(self, key: str, *, now: float, ttl_minutes: float) -> Context | None:
        """The context under ``key``, or None when there is none or it is older than ``ttl_minutes``."""
        ...

    async def keep_context(
        self, keys: Iterable[str], chat_id: int, context: Context, *, now: float, ttl_minutes: float
    ) -> None:
        """Store ``context`` under each key until it expires."""
        ...

    async def clear_context(self, key: str) -> None:
        """Forget the context under ``key`` (``/new``)."""
        ...

    # ---- answers shown, their votes and "More sources" (``qabot.bot.jobs``)
    async def record_answer(self, answer: Answer, chat_id: int, user_id: int | None) -> str:
        """Store an answer shown in ``chat_id`` to ``user_id``; its short id for the buttons."""
        ...

    async def answer(self, answer_id: str) -> StoredAnswer | None:
        """The stored answer, or None for an unknown (or expired) id."""
        ...

    async def vote(self, answer_id: str, user_id: int, vote: int) -> Tally:
        """Store a 👍 (+1) or 👎 (-1), the presser's later press replacing the earlier; the counts after it."""
        ...

    async def open_more(self, answer_id: str) -> bool | None:
        """True for the one press that opens an answer's further sources, False after, None for an unknown id."""
        ...

    # ---- limits (``qabot.bot.guard``)
    async def admit(self, sender: int, chat_id: int, *, group: bool, now: float) -> Limit | None:
        """None when ``sender`` may ask now (then it is counted), else which limit holds."""
        ...

    async def warn_once(self, key: str, *, now: float, period: float) -> bool:
        """True at most once per ``period`` seconds per ``key``: whether to say "slow down" now."""
        ...

    async def cooldown_left(self, sender: int, *, now: float) -> float:
        """Seconds until ``sender`` may ask again (0: now)."""
        ...

    # ---- privacy (``qabot.bot.privacy``)
    async def prune(self, *, now: float, context_ttl_minutes: float) -> tuple[int, int]:
        """Delete answers past the retention and contexts past their TTL; how many of each went."""
        ...

    async def forget_user(self, user_id: int) -> Forgotten:
        """Delete one person's questions, votes and private chat's context."""
        ...

    async def activity(self, since: float) -> Activity:
        """Questions, declines and votes since ``since`` (epoch seconds), for the admins' ``/stats``."""
        ...

    # ---- the connection
    async def ping(self) -> None:
        """Raise StateUnavailable unless the backend answers."""
        ...

    async def close(self) -> None:
        """Release connections (the bot is stopping)."""
        ...


def bot_key(settings: Settings) -> str:
    """The bot's id (the token's part before ``:``) that namespaces its shared keys; "0" without a token."""
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    return token.split(":", 1)[0] if ":" in token else "0"


def shown_url(url: str) -> str:
    """``url`` without its password, for logs and ``qabot doctor``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


__all__ = ["Limit", "StateStore", "StateUnavailable", "Taken", "bot_key", "shown_url"]
