"""Which state backend a bot runs with: ``QABOT_STATE_URL`` empty is the local files, ``redis://…`` is Redis."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from qabot.bot.state import StateStore, shown_url
from qabot.config import Settings
from qabot.errors import ConfigError

REDIS_SCHEMES = ("redis", "rediss", "unix")


def open_state(settings: Settings, *, clock: Callable[[], float] = time.time) -> StateStore:
    """The state backend ``QABOT_STATE_URL`` names: Redis for ``redis://``/``rediss://``, else the local files.

    ``clock`` (seconds since the epoch) dates stored answers, so tests can age them. Nothing connects yet: Redis is
    reached on first use, from the loop the bot runs in.
    """
    url = settings.state_url.strip()
    if not url:
        from qabot.bot.state.local import LocalState

        return LocalState.from_settings(settings, clock=clock)
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ConfigError(f"QABOT_STATE_URL={shown_url(url)} is not a redis:// URL (empty = the local files)")
    try:
        from qabot.bot.state.redis_store import RedisState
    except ImportError:
        raise ConfigError("QABOT_STATE_URL=redis://… needs the redis client: pip install 'qabot[redis]'") from None
    return RedisState.from_url(url, settings, clock=clock)


__all__ = ["REDIS_SCHEMES", "open_state"]
