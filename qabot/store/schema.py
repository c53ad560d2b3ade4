"""The SQLite schema of ``qabot.sqlite``: tables, the FTS5 lexical index and its tokenizer, connections."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SCHEMA_VERSION = 1
TOKENIZER = "'porter unicode61 remove_diacritics 2'"
# Columns added after an index format shipped: opening an older index adds them (one atomic statement each).
ADDED_COLUMNS = {"story": "articles_story", "origin": "articles_origin"}
# What finds the rows that still use a vector, so a commit checks only the vectors it may have orphaned. Indexes
# from before them gain them at their first commit (under the write lock; ~seconds per million rows, once).
VECTOR_REFERENCES = (
    "CREATE INDEX IF NOT EXISTS chunks_vhash ON chunks(vhash)",
    "CREATE INDEX IF NOT EXISTS sentences_vhash ON sentences(vhash)",
)
# Per commit, how it shifted each term's document frequency (``qabot.store.lexical``); made at the first commit too.
LEXICAL_LOG = "CREATE TABLE IF NOT EXISTS lexical_log (generation INTEGER PRIMARY KEY, delta TEXT)"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, url TEXT, published TEXT,
    source TEXT, author TEXT, hash TEXT NOT NULL, added REAL NOT NULL, story TEXT, origin TEXT);
CREATE INDEX IF NOT EXISTS articles_url ON articles(url);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story);
CREATE INDEX IF NOT EXISTS articles_origin ON articles(origin);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL,
    vhash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS sentences (
    article_id TEXT NOT NULL, ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    vhash TEXT NOT NULL, PRIMARY KEY (article_id, ordinal)) WITHOUT ROWID;
{VECTOR_REFERENCES[0]};
{VECTOR_REFERENCES[1]};
{LEXICAL_LOG};
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, tokenize={TOKENIZER});
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
"""


# Values one statement may bind: SQLite builds before 3.32 allow 999, later ones 32766, some distributions more.
# Every connection is held to this, so a statement that binds too many fails here as it would on the oldest build;
# long lists of ids go in parts (``batches``).
MAX_VARIABLES = 999


def batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in parts small enough that a statement may bind two of them and one more value."""
    size = max(1, (MAX_VARIABLES - 1) // 2)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MAX_VARIABLES)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def holds_data(db: Path) -> bool:
    """Whether a database left without a manifest holds articles or vectors (else an index creation was cut short)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in ("articles", "vectors"))
        finally:
            conn.close()
    except sqlite3.OperationalError as err:
        return "no such table" not in str(err)
    except sqlite3.Error:
        return True  # damaged: `qabot repair` looks at it
