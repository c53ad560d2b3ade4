"""The answers shown, their 👍/👎 and "More sources" state in Redis: what ``feedback.sqlite`` holds for one bot.

Keys (``key`` of ``RedisState``, so ``qabot:<kind>:<bot id>:…``), each expiring after ``QABOT_RETENTION_DAYS``:

- ``answer:<id>``: a hash of the answer as shown (chat, asker, question, quotes, further passages, ``opened``);
- ``votes:<id>``: a hash of user id → +1/-1;
- ``answers`` and ``vote-log``: sorted sets by time (answer ids; ``<answer id>:<user id>``) for ``/stats`` and
  retention;
- ``asked:<user>`` and ``voted:<user>``: the answer ids a person asked or voted on, for ``/forget``.

Callers wrap each call in ``redis_store.guarded`` (Redis errors become ``StateUnavailable``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis.asyncio as aioredis

from qabot.bot.feedback import Activity, StoredAnswer, Tally, quotes_from_json, quotes_to_json, tally
from qabot.models import Answer

DAY = 86400
# 1 for the one press that opens an answer's further sources, 0 after; -1 for an unknown (or expired) answer.
_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'opened', '1')
"""


class RedisAnswers:
    """Answers and votes of one bot in Redis; ``key(kind, *parts)`` names its keys, ``clock`` dates the rows."""

    def __init__(
        self,
        client: aioredis.Redis,
        key: Callable[..., str],
        *,
        retention_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.r = client
        self.key = key
        self.keep = retention_days * DAY
        self.clock = clock
        self._open = client.register_script(_OPEN)

    async def record(self, answer_id: str, answer: Answer, chat_id: int, user_id: int | None) -> str:
        """Store an answer under ``answer_id``; the id."""
        now = self.clock()
        person = self.key("asked", user_id if user_id is not None else chat_id)
        row = {
            "chat_id": chat_id,
            "user_id": "" if user_id is None else user_id,
            "question": answer.question,
            "abstained": int(answer.abstained),
            "quotes": quotes_to_json(answer.quotes),
            "more": quotes_to_json(answer.more),
            "created": now,
        }
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self.key("answer", answer_id), mapping=row)
            pipe.expire(self.key("answer", answer_id), self.keep)
            pipe.zadd(self.key("answers"), {answer_id: now})
            pipe.sadd(person, answer_id)
            pipe.expire(person, self.keep)
            await pipe.execute()
        return answer_id

    async def get(self, answer_id: str) -> StoredAnswer | None:
        """The stored answer, or None."""
        row = await self.r.hgetall(self.key("answer", answer_id))
        if not row:
            return None
        return StoredAnswer(
            id=answer_id,
            chat_id=int(row["chat_id"]),
            question=row["question"],
            abstained=row["abstained"] == "1",
            quotes=quotes_from_json(row["quotes"]),
            more=quotes_from_json(row["more"]),
            more_shown=int("opened" in row),
            created=float(row["created"]),
        )

    async def vote(self, answer_id: str, user_id: int, vote: int) -> Tally:
        """Store a vote (the later press of a user replaces the earlier) and count the answer's votes after it."""
        answer = self.key("answer", answer_id)
        votes = self.key("votes", answer_id)
        left = await self.r.ttl(answer)
        if left == -2:  # no such answer (or it expired)
            return Tally(known=False)
        left = left if left > 0 else self.keep
        before = int(await self.r.hget(votes, str(user_id)) or 0)
        voter = self.key("voted", user_id)
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(votes, str(user_id), vote)
            pipe.expire(votes, left)
            pipe.zadd(self.key("vote-log"), {f"{answer_id}:{user_id}": self.clock()})
            pipe.sadd(voter, answer_id)
            pipe.expire(voter, self.keep)
            await pipe.execute()
        return tally(before, (int(v) for v in await self.r.hvals(votes)))

    async def open_more(self, answer_id: str) -> bool | None:
        """True for the one press that opens the further sources, False after, None for an unknown answer."""
        opened = int(await self._open(keys=[self.key("answer", answer_id)]))
        return None if opened < 0 else opened == 1

    async def prune(self, now: float) -> int:
        """Drop answers past the retention (their keys expire by themselves; this keeps the indexes in step)."""
        cutoff = now - self.keep
        old = await self.r.zrangebyscore(self.key("answers"), "-inf", f"({cutoff}")
        async with self.r.pipeline(transaction=True) as pipe:
            for answer_id in old:
                pipe.delete(self.key("answer", answer_id), self.key("votes", answer_id))
            pipe.zremrangebyscore(self.key("answers"), "-inf", f"({cutoff}")
            pipe.zremrangebyscore(self.key("vote-log"), "-inf", f"({cutoff}")
            await pipe.execute()
        return len(old)

    async def forget_user(self, user_id: int) -> tuple[int, int]:
        """Delete the questions ``user_id`` asked (with every vote on them) and their votes; how many of each."""
        votes = 0
        for answer_id in await self.r.smembers(self.key("voted", user_id)):
            votes += int(await self.r.hdel(self.key("votes", answer_id), str(user_id)))
            await self.r.zrem(self.key("vote-log"), f"{answer_id}:{user_id}")
        questions = 0
        for answer_id in await self.r.smembers(self.key("asked", user_id)):
            voters = await self.r.hkeys(self.key("votes", answer_id))
            if voters:
                await self.r.zrem(self.key("vote-log"), *(f"{answer_id}:{v}" for v in voters))
            questions += int(await self.r.delete(self.key("answer", answer_id)))
            await self.r.delete(self.key("votes", answer_id))
            await self.r.zrem(self.key("answers"), answer_id)
        await self.r.delete(self.key("voted", user_id), self.key("asked", user_id))
        return questions, votes

    async def activity(self, since: float) -> Activity:
        """Questions (declined, by how many people) and 👍/👎 since ``since``."""
        ids = await self.r.zrangebyscore(self.key("answers"), since, "+inf")
        asked = declined = 0
        people: set[str] = set()
        for answer_id in ids:
            abstained, user, chat = await self.r.hmget(self.key("answer", answer_id), "abstained", "user_id", "chat_id")
            if chat is None:
                continue  # expired under the index
            asked += 1
            declined += abstained == "1"
            people.add(user or chat)
        up = down = 0
        for member in await self.r.zrangebyscore(self.key("vote-log"), since, "+inf"):
            answer_id, user = member.rsplit(":", 1)
            vote = int(await self.r.hget(self.key("votes", answer_id), user) or 0)
            up, down = up + (vote > 0), down + (vote < 0)
        return Activity(questions=asked, declined=declined, up=up, down=down, people=len(people))


__all__ = ["RedisAnswers"]
