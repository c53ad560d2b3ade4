"""Answers shown in chats and the 👍/👎 pressed under them, in a small SQLite file beside the index.

Kept apart from the index database so feedback survives a rebuilt index and never takes the index's write lock.
Each call opens its own connection, so the store is safe to use from several threads; a failing file raises
``sqlite3.Error`` (the bot then goes on without buttons, see ``qabot.bot.jobs``). Button payloads stay far
under Telegram's 64-byte ``callback_data`` limit: ``fb:+:<id>``, ``fb:-:<id>``, ``more:<id>`` with an 8-character id.

Retention (``QABOT_RETENTION_DAYS``): every write deletes the answers older than that, with their votes, so the file
never holds more than the retention allows; ``qabot.bot.privacy`` also prunes at start and hourly for an idle bot.
Each answer carries the asker's user id, so ``/forget`` can delete one person's questions in groups too.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from qabot.config import Settings
from qabot.models import Answer, Quote

FILENAME = "feedback.sqlite"
# What a deleted, locked or damaged feedback file raises: callers degrade on it without knowing it is SQLite.
StoreError = sqlite3.Error

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    quotes TEXT NOT NULL,          -- JSON list of Quote fields
    more TEXT NOT NULL,            -- JSON list of the passages behind "more sources"
    more_shown INTEGER NOT NULL DEFAULT 0,  -- 1 once "more sources" was opened (older bots: passages shown)
    created REAL NOT NULL,
    user_id INTEGER                -- who asked; NULL in files written before /forget existed
);
CREATE INDEX IF NOT EXISTS answers_created ON answers (created);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""


@dataclass(frozen=True)
class StoredAnswer:
    """One answer as it was shown: enough to explain a vote later and to page through "more sources"
    (``more_shown``: whether they were opened)."""

    id: str
    chat_id: int
    question: str
    abstained: bool
    quotes: tuple[Quote, ...]
    more: tuple[Quote, ...]
    more_shown: int
    created: float


@dataclass(frozen=True)
class Forgotten:
    """What ``/forget`` deleted: a person's questions and votes (and their private chat's contexts)."""

    questions: int
    votes: int
    contexts: int = 0


@dataclass(frozen=True)
class Tally:
    """The votes on an answer after a press: ``before`` is the presser's earlier vote (0: none), ``known`` False
    when the answer is too old to rate."""

    known: bool
    before: int = 0
    up: int = 0
    down: int = 0


@dataclass(frozen=True)
class Activity:
    """Questions, declines and votes since a moment, for the admins' ``/stats``."""

    questions: int
    declined: int
    up: int
    down: int
    people: int


class FeedbackStore:
    """SQLite store of shown answers and votes (one vote per user per answer; the latest press wins).

    ``retention_days``: rows older than that are deleted on every write (None: kept); ``clock`` (seconds since the
    epoch) dates the rows, so tests can age them.
    """

    def __init__(
        self, path: Path, *, retention_days: int | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.time) -> FeedbackStore:
        """The store at ``<index_dir>/feedback.sqlite``, keeping rows for ``QABOT_RETENTION_DAYS``."""
        return cls(Path(settings.index_dir) / FILENAME, retention_days=settings.retention_days, clock=clock)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per call: sqlite3 connections must not cross threads. The schema is made (and
        # an old file upgraded) on each, a no-op once done: a file deleted while the bot runs comes back empty, and
        # one unusable at start is picked up once it works, instead of failing for good.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(answers)")}
            if columns and "user_id" not in columns:  # a file from before /forget: its rows keep user_id NULL
                with conn:
                    conn.execute("ALTER TABLE answers ADD COLUMN user_id INTEGER")
            conn.executescript(_SCHEMA)
            with conn:
                yield conn

    def record_answer(self, answer: Answer, chat_id: int, user_id: int | None = None) -> str:
        """Store an answer shown in ``chat_id`` to ``user_id``; returns its short id for button payloads.

        Rows past the retention go in the same transaction.
        """
        answer_id = secrets.token_urlsafe(6)  # 8 characters, 48 random bits
        now = self.clock()
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO answers (id, chat_id, question, abstained, quotes, more, more_shown, created, user_id)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    answer_id,
                    chat_id,
                    answer.question,
                    int(answer.abstained),
                    quotes_to_json(answer.quotes),
                    quotes_to_json(answer.more),
                    now,
                    user_id,
                ),
            )
            self._prune(conn, now)
        return answer_id

    def get_answer(self, answer_id: str) -> StoredAnswer | None:
        """The stored answer, or None for an unknown id."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id, chat_id, question, abstained, quotes, more, more_shown, created FROM answers WHERE id = ?",
                (answer_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredAnswer(
            id=row[0],
            chat_id=row[1],
            question=row[2],
            abstained=bool(row[3]),
            quotes=quotes_from_json(row[4]),
            more=quotes_from_json(row[5]),
            more_shown=row[6],
            created=row[7],
        )

    def record_vote(self, answer_id: str, user_id: int, vote: int) -> bool:
        """Store a 👍 (+1) or 👎 (-1); a user's later press replaces the earlier one. False for an unknown answer."""
        if vote not in (-1, 1):
            raise ValueError(f"vote must be +1 or -1, not {vote!r}")
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            conn.execute(
                "INSERT INTO votes (answer_id, user_id, vote, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, at = excluded.at",
                (answer_id, user_id, vote, self.clock()),
            )
        return True

    def vote(self, answer_id: str, user_id: int, vote: int) -> Tally:
        """Store a vote (:meth:`record_vote`) and count the answer's votes after it."""
        before = self.votes(answer_id).get(user_id, 0)
        if not self.record_vote(answer_id, user_id, vote):
            return Tally(known=False)
        return tally(before, self.votes(answer_id).values())

    def votes(self, answer_id: str) -> dict[int, int]:
        """``{user_id: vote}`` for one answer."""
        with self._connect() as conn:
            rows = conn.execute("SELECT user_id, vote FROM votes WHERE answer_id = ?", (answer_id,)).fetchall()
        return {user: vote for user, vote in rows}

    def open_more(self, answer_id: str) -> bool | None:
        """Mark an answer's "more sources" as opened: True the first time, False after, None for an unknown id.

        One atomic update, so two presses at the same moment never both open them.
        """
        with self._connect() as conn:
            opened = conn.execute("UPDATE answers SET more_shown = 1 WHERE id = ? AND more_shown = 0", (answer_id,))
            if opened.rowcount:
                return True
            known = conn.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return False if known else None

    # ---------------------------------------------------------------- privacy: retention, /forget, /stats

    def prune(self) -> int:
        """Delete the answers (and their votes) older than the retention; how many answers went."""
        with self._connect() as conn:
            return self._prune(conn, self.clock())

    def _prune(self, conn: sqlite3.Connection, now: float) -> int:
        if self.retention_days is None:
            return 0
        cutoff = now - self.retention_days * 86400.0
        conn.execute("DELETE FROM votes WHERE answer_id IN (SELECT id FROM answers WHERE created < ?)", (cutoff,))
        return conn.execute("DELETE FROM answers WHERE created < ?", (cutoff,)).rowcount

    def forget_user(self, user_id: int) -> Forgotten:
        """Delete everything of one person: the questions they asked (anywhere; in their private chat also rows
        from before answers carried a user id, whose chat id is theirs) with all votes on them, and their votes."""
        mine = "FROM answers WHERE user_id = :u OR chat_id = :u"  # group chat ids are negative, user ids never
        with self._connect() as conn:
            votes = conn.execute("DELETE FROM votes WHERE user_id = :u", {"u": user_id}).rowcount
            conn.execute(f"DELETE FROM votes WHERE answer_id IN (SELECT id {mine})", {"u": user_id})
            questions = conn.execute(f"DELETE {mine}", {"u": user_id}).rowcount
        return Forgotten(questions=questions, votes=votes)

    def activity(self, since: float) -> Activity:
        """Questions (and how many were declined, by how many people) and 👍/👎 since ``since`` (epoch seconds)."""
        with self._connect() as conn:
            asked, declined, people = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(abstained), 0), COUNT(DISTINCT COALESCE(user_id, chat_id))"
                " FROM answers WHERE created >= ?",
                (since,),
            ).fetchone()
            up, down = conn.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes WHERE at >= ?", (since,)
            ).fetchone()
        return Activity(questions=asked, declined=declined, up=up, down=down, people=people)


def tally(before: int, votes: Iterable[int]) -> Tally:
    """The counts of ``votes`` (each +1 or -1) after a press whose presser had voted ``before``."""
    counted = list(votes)
    return Tally(True, before, up=sum(v > 0 for v in counted), down=sum(v < 0 for v in counted))


_QUOTE_FIELDS = tuple(f.name for f in fields(Quote))


def quotes_to_json(quotes: tuple[Quote, ...]) -> str:
    return json.dumps([{name: getattr(q, name) for name in _QUOTE_FIELDS} for q in quotes], ensure_ascii=False)


def quotes_from_json(text: str) -> tuple[Quote, ...]:
    # Tuples come back from JSON as lists; fields added to Quote later keep their defaults for old rows.
    return tuple(
        Quote(**{k: tuple(v) if isinstance(v, list) else v for k, v in item.items() if k in _QUOTE_FIELDS})
        for item in json.loads(text)
    )


__all__ = [
    "FILENAME",
    "Activity",
    "FeedbackStore",
    "Forgotten",
    "StoredAnswer",
    "Tally",
    "quotes_from_json",
    "quotes_to_json",
    "tally",
]
