"""The default state of one bot process: ``feedback.sqlite`` and ``conversations.sqlite`` beside the index, as
before, and the limits and the updates taken in memory.

Each file call runs on a thread (``asyncio.to_thread``) and turns a failing file into ``StateUnavailable``. The
limits (each sender's last question, each group's answers in the last minute, who was told to slow down) and the
updates taken stay in the process: they matter for seconds or minutes, and a lone bot loses nothing by a restart
that forgets them (it drops the updates Telegram still holds when it starts). Taking an update costs no I/O, so a
burst of updates reaches the handlers as fast as before, in order. All of it stays bounded, so a bot that runs for
months in many chats does not grow.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from qabot.answer.followup import Context
from qabot.bot.conversations import FILENAME, ConversationStore
from qabot.bot.feedback import Activity, FeedbackStore, Forgotten, StoredAnswer, Tally
from qabot.bot.state import Limit, StateUnavailable, Taken
from qabot.config import Settings
from qabot.models import Answer

T = TypeVar("T")

# Senders remembered for the cooldown before old entries are dropped (each entry is a few dozen bytes).
FORGET_AFTER = 10_000
# Updates remembered as taken (a hundred bytes each), and how long a handled one is (Telegram's retries come within
# minutes); a restarted bot needs none of them: it drops what Telegram still holds when it starts.
MAX_UPDATES = 100_000
KEEP_DONE = 3600.0
DONE = "done"


@dataclass
class MemoryLimits:
    """The per-sender cooldown and the per-group answer budget, in this process (``now``: seconds, any clock)."""

    cooldown: float
    budget: int
    last_question: dict[int, float] = field(default_factory=dict)
    warned: dict[str, float] = field(default_factory=dict)
    group_answers: dict[int, deque[float]] = field(default_factory=dict)

    def admit(self, sender: int, chat_id: int, group: bool, now: float) -> Limit | None:
        """None when the question may be answered (then it is counted), else the limit that holds."""
        if len(self.last_question) > FORGET_AFTER:  # forget senders whose cooldown is long over: memory stays flat
            self.last_question = {k: t for k, t in self.last_question.items() if now - t < self.cooldown}
            self.warned = {k: t for k, t in self.warned.items() if now - t < max(self.cooldown, 60)}
        last = self.last_question.get(sender)
        if last is not None and now - last < self.cooldown:
            return "user"
        if group:
            if len(self.group_answers) > FORGET_AFTER:
                self.group_answers = {k: w for k, w in self.group_answers.items() if w and now - w[-1] < 60}
            window = self.group_answers.setdefault(chat_id, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.budget:
                return "group"
            window.append(now)
        self.last_question[sender] = now
        return None

    def warn_once(self, key: str, now: float, period: float) -> bool:
        """Say "slow down" once per period per sender or chat, not once per message."""
        last = self.warned.get(key)
        if last is not None and now - last < period:
            return False
        self.warned[key] = now
        return True

    def cooldown_left(self, sender: int, now: float) -> float:
        """Seconds until ``sender`` may ask again (0: now)."""
        last = self.last_question.get(sender)
        return 0.0 if last is None else max(0.0, last + self.cooldown - now)


class MemoryUpdates:
    """The updates this process took, by id: ``(holder, until)``; a done one is kept :data:`KEEP_DONE` seconds."""

    def __init__(self, size: int = MAX_UPDATES) -> None:
        self.size = size
        self.taken: OrderedDict[int, tuple[str, float]] = OrderedDict()

    def take(self, update_id: int, holder: str, lease: float, now: float) -> Taken:
        """ "mine" (new, or its holder's lease ran out), "done", or "held" under a live lease."""
        held = self.taken.get(update_id)
        if held is not None and (held[0] == DONE or held[1] > now):
            return "done" if held[0] == DONE else "held"
        self._put(update_id, holder, now + lease)
        return "mine"

    def renew(self, update_ids: Iterable[int], holder: str, lease: float, now: float) -> None:
        """Extend ``holder``'s leases."""
        for update_id in update_ids:
            if self.taken.get(update_id, ("", 0.0))[0] == holder:
                self.taken[update_id] = (holder, now + lease)

    def finish(self, update_id: int, now: float) -> None:
        """Mark an update handled."""
        self._put(update_id, DONE, now + KEEP_DONE)

    def _put(self, update_id: int, holder: str, until: float) -> None:
        self.taken[update_id] = (holder, until)
        self.taken.move_to_end(update_id)
        while len(self.taken) > self.size:  # the oldest first: updates come in order, retries soon after
            self.taken.popitem(last=False)


class LocalState:
    """The SQLite files of one bot process, and its limits in memory (see the module's docstring)."""

    def __init__(self, feedback: FeedbackStore, conversations: ConversationStore, limits: MemoryLimits) -> None:
        self.feedback = feedback
        self.conversations = conversations
        self.limits = limits
        self.updates = MemoryUpdates()
        self.where = str(feedback.path)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.time) -> LocalState:
        """The files in ``QABOT_INDEX_DIR``, keeping rows for ``QABOT_RETENTION_DAYS``."""
        feedback = FeedbackStore.from_settings(settings, clock=clock)
        conversations = ConversationStore(Path(settings.index_dir) / FILENAME)
        limits = MemoryLimits(settings.user_cooldown_seconds, settings.group_budget_per_minute)
        return cls(feedback, conversations, limits)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except (sqlite3.Error, OSError) as err:
            raise StateUnavailable(str(err)) from None

    # ---- updates: in memory, no waiting
    async def take_update(self, update_id: int, holder: str, lease: float) -> Taken:
        return self.updates.take(update_id, holder, lease, time.monotonic())

    async def renew_updates(self, update_ids: Iterable[int], holder: str, lease: float) -> None:
        self.updates.renew(update_ids, holder, lease, time.monotonic())

    async def finish_update(self, update_id: int) -> None:
        self.updates.finish(update_id, time.monotonic())

    # ---- follow-up context
    async def context(self, key: str, *, now: float, ttl_minutes: float) -> Context | None:
        return await self._run(self.conversations.get, key, now=now, ttl_minutes=ttl_minutes)

    async def keep_context(
        self, keys: Iterable[str], chat_id: int, context: Context, *, now: float, ttl_minutes: float
    ) -> None:
        await self._run(self.conversations.put, list(keys), chat_id, context, now=now, ttl_minutes=ttl_minutes)

    async def clear_context(self, key: str) -> None:
        await self._run(self.conversations.clear, key)

    # ---- answers, votes, more sources
    async def record_answer(self, answer: Answer, chat_id: int, user_id: int | None) -> str:
        return await self._run(self.feedback.record_answer, answer, chat_id, user_id)

    async def answer(self, answer_id: str) -> StoredAnswer | None:
        return await self._run(self.feedback.get_answer, answer_id)

    async def vote(self, answer_id: str, user_id: int, vote: int) -> Tally:
        return await self._run(self.feedback.vote, answer_id, user_id, vote)

    async def open_more(self, answer_id: str) -> bool | None:
        return await self._run(self.feedback.open_more, answer_id)

    # ---- limits: in memory, no waiting
    async def admit(self, sender: int, chat_id: int, *, group: bool, now: float) -> Limit | None:
        return self.limits.admit(sender, chat_id, group, now)

    async def warn_once(self, key: str, *, now: float, period: float) -> bool:
        return self.limits.warn_once(key, now, period)

    async def cooldown_left(self, sender: int, *, now: float) -> float:
        return self.limits.cooldown_left(sender, now)

    # ---- privacy
    async def prune(self, *, now: float, context_ttl_minutes: float) -> tuple[int, int]:
        answers = await self._run(self.feedback.prune)
        contexts = await self._run(self.conversations.prune, now - context_ttl_minutes * 60)
        return answers, contexts

    async def forget_user(self, user_id: int) -> Forgotten:
        gone = await self._run(self.feedback.forget_user, user_id)
        contexts = await self._run(self.conversations.forget_chat, user_id)  # a private chat's id is its user's
        return Forgotten(gone.questions, gone.votes, contexts)

    async def activity(self, since: float) -> Activity:
        return await self._run(self.feedback.activity, since)

    # ---- the connection: files need none
    async def ping(self) -> None:
        await self._run(self.conversations.count)

    async def close(self) -> None:
        return None


__all__ = ["FORGET_AFTER", "KEEP_DONE", "MAX_UPDATES", "LocalState", "MemoryLimits", "MemoryUpdates"]
