"""Conversations in Telegram: which thread a message belongs to, and each thread's follow-up context on disk.

A private chat is one conversation; a forum topic keeps its own (``message_thread_id``); elsewhere in a group a
reply to one of the bot's answers continues that answer's thread, and the new answer's messages join it (so a
thread is keyed by every answer message in it, and two people replying to two answers keep two threads). The context
each answer leaves (``qabot.answer.followup.Context``) is kept in ``conversations.sqlite`` beside ``feedback.sqlite``
rather than in PTB persistence: one small file the bot owns, whose rows carry their chat and time, so retention
(``QABOT_CONTEXT_TTL_MINUTES``, capped by ``QABOT_RETENTION_DAYS``, enforced on every read and pruned on every write,
at start and hourly) and deleting a chat's records (``/forget``) are one SQL statement each; PTB's pickle of all
``chat_data`` would need a restart-safe flush schedule and a full rewrite for either. The table is bounded
(``MAX_ROWS``, oldest dropped first). Telegram-free: threads are read from the Bot API's message JSON, as
``qabot.bot.address`` does. With ``QABOT_STATE_URL`` set, the contexts live in Redis instead, shared by replicas
(``qabot.bot.state.redis_store``); :class:`Conversations` reads and writes them through the bot's state either way.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qabot.answer.followup import Context
from qabot.bot.address import replies_to_bot
from qabot.bot.state import StateStore, StateUnavailable
from qabot.config import Settings

log = logging.getLogger(__name__)

FILENAME = "conversations.sqlite"
MAX_ROWS = 20_000  # one row per thread key, a few hundred bytes each: a few MB at most

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contexts (
    key TEXT PRIMARY KEY,          -- chat:<id>, topic:<chat>:<thread> or message:<chat>:<answer message id>
    chat_id INTEGER NOT NULL,
    context TEXT NOT NULL,         -- JSON of Context.to_dict()
    at REAL NOT NULL               -- Context.at: when the answer that left it was given
);
CREATE INDEX IF NOT EXISTS contexts_at ON contexts (at);
"""


@dataclass(frozen=True)
class Thread:
    """Where a message's conversation lives.

    ``read``: the key its context is under (None: a new thread, e.g. a group question that replies to nothing);
    ``place``: the fixed key of a private chat or a forum topic (None for a group's reply threads, which are keyed
    by the answer messages instead).
    """

    chat_id: int
    read: str | None
    place: str | None

    def keys_after(self, answer_message_ids: Iterable[int]) -> list[str]:
        """The keys the answer's context is stored under: the place, or each message of the answer."""
        if self.place is not None:
            return [self.place]
        return [_message_key(self.chat_id, i) for i in answer_message_ids]


def _message_key(chat_id: int, message_id: int) -> str:
    return f"message:{chat_id}:{message_id}"


def thread_of(msg: Mapping[str, Any], bot_id: int) -> Thread:
    """The thread of a new message (the Bot API's message JSON, as ``Message.to_dict()`` gives it)."""
    chat = msg.get("chat") or {}
    chat_id = int(chat.get("id", 0))
    place = None
    if chat.get("type") == "private":
        place = f"chat:{chat_id}"
    elif msg.get("is_topic_message") and msg.get("message_thread_id"):
        place = f"topic:{chat_id}:{msg['message_thread_id']}"
    if place is not None:
        return Thread(chat_id, place, place)
    reply = msg.get("reply_to_message") or {}
    read = _message_key(chat_id, int(reply["message_id"])) if replies_to_bot(msg, bot_id) else None
    return Thread(chat_id, read, None)


class ConversationStore:
    """SQLite store of one ``Context`` per thread key; safe from several threads (a connection per call)."""

    def __init__(self, path: Path, *, max_rows: int = MAX_ROWS) -> None:
        self.path = Path(path)
        self.max_rows = max_rows
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as conn, conn:
            yield conn

    def get(self, key: str, *, now: float, ttl_minutes: float) -> Context | None:
        """The context stored under ``key``, or None when there is none or it is older than ``ttl_minutes``."""
        with self._connect() as conn:
            row = conn.execute("SELECT context FROM contexts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        context = Context.from_dict(json.loads(row[0]))
        return None if context.expired(now, ttl_minutes) else context

    def put(self, keys: Iterable[str], chat_id: int, context: Context, *, now: float, ttl_minutes: float) -> None:
        """Store ``context`` under each key, then drop expired rows and the oldest beyond ``max_rows``."""
        data = json.dumps(context.to_dict(), ensure_ascii=False)
        with self._connect() as conn:
            conn.executemany(
                "INSERT INTO contexts (key, chat_id, context, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET chat_id = excluded.chat_id, context = excluded.context,"
                " at = excluded.at",
                [(key, chat_id, data, context.at) for key in keys],
            )
            conn.execute("DELETE FROM contexts WHERE at < ?", (now - ttl_minutes * 60,))
            conn.execute(
                "DELETE FROM contexts WHERE key NOT IN (SELECT key FROM contexts ORDER BY at DESC LIMIT ?)",
                (self.max_rows,),
            )

    def clear(self, key: str) -> None:
        """Forget the context under ``key`` (``/new``)."""
        with self._connect() as conn:
            conn.execute("DELETE FROM contexts WHERE key = ?", (key,))

    def prune(self, before: float) -> int:
        """Delete the contexts left before ``before`` (epoch seconds); how many went."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM contexts WHERE at < ?", (before,)).rowcount

    def forget_chat(self, chat_id: int) -> int:
        """Delete every context of one chat (a private chat's id is its user's id); how many went."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM contexts WHERE chat_id = ?", (chat_id,)).rowcount

    def count(self) -> int:
        """How many thread keys are stored."""
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM contexts").fetchone()[0])


class Conversations:
    """The running bot's threads: context read with the TTL, stored after each answer, cleared by ``/new``.

    The contexts live in the bot's state (``qabot.bot.state``: ``conversations.sqlite``, or Redis shared by
    replicas). A state that cannot be read or written (deleted folder, full disk, Redis down) costs only the
    follow-up: the question is answered as if fresh and a warning is logged. ``clock`` (seconds since the epoch)
    lets tests age a context.
    """

    def __init__(self, settings: Settings, state: StateStore, *, clock: Callable[[], float] = time.time) -> None:
        # Context is stored data like any other: it never outlives the retention, whatever the TTL says.
        self.ttl_minutes = min(settings.context_ttl_minutes, settings.retention_days * 24 * 60.0)
        self.clock = clock
        self.state = state

    async def context(self, thread: Thread | None, now: float) -> Context | None:
        """The thread's context at ``now``, or None (a new thread, expired, follow-ups off, or the store failed)."""
        if thread is None or thread.read is None or self.ttl_minutes <= 0:
            return None
        try:
            return await self.state.context(thread.read, now=now, ttl_minutes=self.ttl_minutes)
        except (StateUnavailable, ValueError) as err:
            log.warning("Conversation context unreadable (%s); answering as a new question", err)
            return None

    async def remember(self, thread: Thread, context: Context | None, answer_message_ids: Iterable[int]) -> None:
        """Store the context an answer left under the thread's keys (nothing when there is none to keep)."""
        keys = thread.keys_after(answer_message_ids)
        if context is None or not keys or self.ttl_minutes <= 0:
            return
        try:
            await self.state.keep_context(keys, thread.chat_id, context, now=self.clock(), ttl_minutes=self.ttl_minutes)
        except StateUnavailable as err:
            log.warning("Conversation context not stored (%s); the next question starts afresh", err)

    async def start_over(self, thread: Thread) -> None:
        """``/new``: forget the private chat's or topic's context (or the replied answer's thread)."""
        key = thread.place or thread.read
        if key is not None:
            await self.state.clear_context(key)


__all__ = ["FILENAME", "MAX_ROWS", "ConversationStore", "Conversations", "Thread", "thread_of"]
