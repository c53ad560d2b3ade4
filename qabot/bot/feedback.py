"""Answers shown in chats and the 👍/👎 pressed under them, in a small SQLite file beside the index.

Kept apart from the index database so feedback survives a rebuilt index and never takes the index's write lock.
Each call opens its own connection, so the store is safe to use from several threads; a failing file raises
``sqlite3.Error`` (the bot then goes on without buttons, see ``qabot.bot.jobs``). Button payloads stay far
under Telegram's 64-byte ``callback_data`` limit: ``fb:+:<id>``, ``fb:-:<id>``, ``more:<id>`` with an 8-character id.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from qabot.config import Settings
from qabot.models import Answer, Quote

FILENAME = "feedback.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    quotes TEXT NOT NULL,          -- JSON list of Quote fields
    more TEXT NOT NULL,            -- JSON list of the passages behind "more sources"
    more_shown INTEGER NOT NULL DEFAULT 0,  -- 1 once "more sources" was opened (older bots: passages shown)
    created REAL NOT NULL
);
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


class FeedbackStore:
    """SQLite store of shown answers and votes (one vote per user per answer; the latest press wins)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        """The store at ``<index_dir>/feedback.sqlite``."""
        return cls(Path(settings.index_dir) / FILENAME)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per call: sqlite3 connections must not cross threads. The schema is made on
        # each (a no-op once there), so a file deleted while the bot runs comes back empty instead of failing.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            conn.executescript(_SCHEMA)
            with conn:
                yield conn

    def record_answer(self, answer: Answer, chat_id: int) -> str:
        """Store an answer shown in ``chat_id``; returns its short id for button payloads."""
        answer_id = secrets.token_urlsafe(6)  # 8 characters, 48 random bits
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO answers (id, chat_id, question, abstained, quotes, more, more_shown, created)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (
                    answer_id,
                    chat_id,
                    answer.question,
                    int(answer.abstained),
                    _quotes_to_json(answer.quotes),
                    _quotes_to_json(answer.more),
                    time.time(),
                ),
            )
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
            quotes=_quotes_from_json(row[4]),
            more=_quotes_from_json(row[5]),
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
                (answer_id, user_id, vote, time.time()),
            )
        return True

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


_QUOTE_FIELDS = tuple(f.name for f in fields(Quote))


def _quotes_to_json(quotes: tuple[Quote, ...]) -> str:
    return json.dumps([{name: getattr(q, name) for name in _QUOTE_FIELDS} for q in quotes], ensure_ascii=False)


def _quotes_from_json(text: str) -> tuple[Quote, ...]:
    # Tuples come back from JSON as lists; fields added to Quote later keep their defaults for old rows.
    return tuple(
        Quote(**{k: tuple(v) if isinstance(v, list) else v for k, v in item.items() if k in _QUOTE_FIELDS})
        for item in json.loads(text)
    )


__all__ = ["FILENAME", "FeedbackStore", "StoredAnswer"]
