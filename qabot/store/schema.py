"""The SQLite schema of ``qabot.sqlite``: tables, the FTS5 lexical index and its tokenizer, connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1
TOKENIZER = "'porter unicode61 remove_diacritics 2'"
# Columns added after an index format shipped: opening an older index adds them (one atomic statement each).
ADDED_COLUMNS = {"story": "articles_story", "origin": "articles_origin"}
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
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, tokenize={TOKENIZER});
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
"""


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
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
