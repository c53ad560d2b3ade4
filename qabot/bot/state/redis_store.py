"""The bot's state in Redis (``QABOT_STATE_URL=redis://host:port/db``), shared by any number of webhook replicas.

Keys are ``qabot:<kind>:<bot id>:…`` (several bots may share one Redis), each with the lifetime its SQLite row has
as retention, so Redis forgets on time by itself:

===================================  ================================================  ===========================
key                                  holds                                             expires
===================================  ================================================  ===========================
``update:<bot>:<update id>``         the replica handling it, then ``done``            the lease; done: a day
``context:<bot>:<thread key>``       JSON of the chat id and ``Context.to_dict()``     the context's TTL
``chat-contexts:<bot>:<chat id>``    the thread keys of a chat (``/forget``)           the context TTL
``cooldown:<bot>:<sender>``          the sender's last question                        the cooldown
``group:<bot>:<chat id>``            a sorted set of the group's answers this minute   a minute
``warned:<bot>:<user|chat>:<id>``    "slow down" was said                              its period
answers, votes and their indexes     ``qabot.bot.state.redis_answers``                 ``QABOT_RETENTION_DAYS``
===================================  ================================================  ===========================

Each check-and-change that two replicas could race on (taking an update, counting a question against the limits,
opening "More sources") is one Lua script, so it is atomic in Redis. Cooldowns are key lifetimes, so replicas'
clocks matter only for the group's one-minute window. A Redis error or timeout is ``StateUnavailable``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from qabot.answer.followup import Context
from qabot.bot.feedback import Activity, Forgotten, StoredAnswer, Tally
from qabot.bot.state import Limit, StateUnavailable, Taken, bot_key, shown_url
from qabot.bot.state.redis_answers import RedisAnswers
from qabot.config import Settings
from qabot.models import Answer

TIMEOUT = 5.0  # seconds for a connect or a command: a slow Redis costs a follow-up, not a stuck answer
DONE = "done"
DAY = 86400

_TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'mine' end
if redis.call('GET', KEYS[1]) == 'done' then return 'done' end
return 'held'
"""
_RENEW = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 0
"""
# KEYS: cooldown, group window. ARGV: now, cooldown ms, group (1/0), budget, a unique member.
_ADMIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'user' end
if ARGV[3] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[1]) - 60)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'group' end
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[5])
  redis.call('EXPIRE', KEYS[2], 61)
end
if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return ''
"""


@contextlib.asynccontextmanager
async def guarded() -> AsyncIterator[None]:
    """Redis failures as ``StateUnavailable`` (their texts name host and port, never the password)."""
    try:
        yield
    except (RedisError, OSError) as err:
        raise StateUnavailable(f"{type(err).__name__}: {err}") from None


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisState:
    """The shared state in one Redis database (see the module's docstring)."""

    def __init__(
        self, client: aioredis.Redis, settings: Settings, *, where: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.r = client
        self.bot = bot_key(settings)
        self.cooldown = settings.user_cooldown_seconds
        self.budget = settings.group_budget_per_minute
        self.where = where
        self.answers = RedisAnswers(client, self.key, retention_days=settings.retention_days, clock=clock)
        self._take = client.register_script(_TAKE)
        self._renew = client.register_script(_RENEW)
        self._admit = client.register_script(_ADMIT)

    @classmethod
    def from_url(cls, url: str, settings: Settings, *, clock: Callable[[], float] = time.time) -> RedisState:
        """A client for ``url``; it connects on first use, from the loop that uses it."""
        client = aioredis.Redis.from_url(
            url, decode_responses=True, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
        )
        return cls(client, settings, where=shown_url(url), clock=clock)

    def key(self, kind: str, *parts: object) -> str:
        """``qabot:<kind>:<bot id>:<parts…>``."""
        return ":".join(["qabot", kind, self.bot, *map(str, parts)])

    # ---- updates
    async def take_update(self, update_id: int, holder: str, lease: float) -> Taken:
        async with guarded():
            taken = await self._take(keys=[self.key("update", update_id)], args=[holder, _ms(lease)])
        return "mine" if taken == "mine" else "done" if taken == DONE else "held"

    async def renew_updates(self, update_ids: Iterable[int], holder: str, lease: float) -> None:
        keys = [self.key("update", i) for i in update_ids]
        if keys:
            async with guarded():
                await self._renew(keys=keys, args=[holder, _ms(lease)])

    async def finish_update(self, update_id: int) -> None:
        async with guarded():
            await self.r.set(self.key("update", update_id), DONE, ex=DAY)

    # ---- follow-up context
    async def context(self, key: str, *, now: float, ttl_minutes: float) -> Context | None:
        async with guarded():
            raw = await self.r.get(self.key("context", key))
        if raw is None:
            return None
        context = Context.from_dict(json.loads(raw)["context"])
        return None if context.expired(now, ttl_minutes) else context

    async def keep_context(
        self, keys: Iterable[str], chat_id: int, context: Context, *, now: float, ttl_minutes: float
    ) -> None:
        left = context.at + ttl_minutes * 60 - now
        if left <= 0:
            return
        data = json.dumps({"chat": chat_id, "context": context.to_dict()}, ensure_ascii=False)
        chat = self.key("chat-contexts", chat_id)
        async with guarded(), self.r.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.set(self.key("context", key), data, px=_ms(left))
                pipe.sadd(chat, key)
            pipe.expire(chat, int(ttl_minutes * 60) + 1)
            await pipe.execute()

    async def clear_context(self, key: str) -> None:
        async with guarded():
            await self.r.delete(self.key("context", key))

    async def forget_chat(self, chat_id: int) -> int:
        """Delete every context of one chat; how many there were."""
        chat = self.key("chat-contexts", chat_id)
        async with guarded():
            keys = [self.key("context", k) for k in await self.r.smembers(chat)]
            gone = int(await self.r.delete(*keys)) if keys else 0
            await self.r.delete(chat)
        return gone

    # ---- answers, votes, more sources
    async def record_answer(self, answer: Answer, chat_id: int, user_id: int | None) -> str:
        async with guarded():
            return await self.answers.record(secrets.token_urlsafe(6), answer, chat_id, user_id)

    async def answer(self, answer_id: str) -> StoredAnswer | None:
        async with guarded():
            return await self.answers.get(answer_id)

    async def vote(self, answer_id: str, user_id: int, vote: int) -> Tally:
        if vote not in (-1, 1):
            raise ValueError(f"vote must be +1 or -1, not {vote!r}")
        async with guarded():
            return await self.answers.vote(answer_id, user_id, vote)

    async def open_more(self, answer_id: str) -> bool | None:
        async with guarded():
            return await self.answers.open_more(answer_id)

    # ---- limits
    async def admit(self, sender: int, chat_id: int, *, group: bool, now: float) -> Limit | None:
        keys = [self.key("cooldown", sender), self.key("group", chat_id)]
        member = f"{now}:{secrets.token_hex(4)}"
        args = [now, int(self.cooldown * 1000), int(group), self.budget, member]
        async with guarded():
            reason = await self._admit(keys=keys, args=args)
        return "user" if reason == "user" else "group" if reason == "group" else None

    async def warn_once(self, key: str, *, now: float, period: float) -> bool:
        if period <= 0:
            return True
        async with guarded():
            return bool(await self.r.set(self.key("warned", key), now, nx=True, px=_ms(period)))

    async def cooldown_left(self, sender: int, *, now: float) -> float:
        async with guarded():
            left = await self.r.pttl(self.key("cooldown", sender))
        return max(0.0, left / 1000) if left > 0 else 0.0

    # ---- privacy: contexts and limits expire by themselves; the answers' indexes are pruned here
    async def prune(self, *, now: float, context_ttl_minutes: float) -> tuple[int, int]:
        async with guarded():
            return await self.answers.prune(now), 0

    async def forget_user(self, user_id: int) -> Forgotten:
        async with guarded():
            questions, votes = await self.answers.forget_user(user_id)
        return Forgotten(questions, votes, await self.forget_chat(user_id))  # a private chat's id is its user's

    async def activity(self, since: float) -> Activity:
        async with guarded():
            return await self.answers.activity(since)

    # ---- the connection
    async def ping(self) -> None:
        async with guarded():
            await self.r.ping()

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.r.aclose()


__all__ = ["RedisState", "guarded"]
