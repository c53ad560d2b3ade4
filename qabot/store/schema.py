"""The SQLite schema of ``qabot.sqlite``: tables, the FTS5 lexical index and its tokenizer, the text hash that
names a vector, and connections whose sqlite3 errors arrive as qabot's own (``IndexCorrupt``, ``IndexLocked``…)."""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from qabot.errors import IndexCorrupt, IndexIOError, IndexLocked, IndexReadOnly

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
TABLES = frozenset({"meta", "articles", "vectors", "chunks", "sentences", "lexical_log", "chunks_fts", "chunks_vocab"})


# Values one statement may bind: SQLite builds before 3.32 allow 999, later ones 32766, some distributions more.
# Every connection is held to this, so a statement that binds too many fails here as it would on the oldest build;
# long lists of ids go in parts (``batches``).
MAX_VARIABLES = 999


def batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in parts small enough that a statement may bind two of them and one more value."""
    size = max(1, (MAX_VARIABLES - 1) // 2)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def vector_hash(model: str, text: str) -> str:
    """The name a vector is stored under: the model and the exact text it embeds (so each model's are its own)."""
    return hashlib.sha1(f"{model}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------------- sqlite3 errors → qabot's
def raise_as_qabot_error(err: sqlite3.Error, db: Path) -> None:
    """Raise the ``IndexError_`` that ``err`` means for the index database ``db``; return if it is none of them.

    SQLite's primary result codes say what happened; only its generic SQLITE_ERROR needs the message, where a table
    or column of qabot's schema has gone missing.
    """
    code = (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF
    lost_schema = code == sqlite3.SQLITE_ERROR and str(err).startswith(("no such table", "no such column"))
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or lost_schema:
        raise IndexCorrupt(f"{db} is damaged ({err}); run `qabot repair`") from err
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        raise IndexLocked(f"another process is writing to {db} ({err}); try again when it has finished") from err
    if code == sqlite3.SQLITE_READONLY or (code == sqlite3.SQLITE_CANTOPEN and not os.access(db.parent, os.W_OK)):
        raise IndexReadOnly(f"index {db.parent} is read-only ({err}): write to a writable copy of it") from err
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        raise IndexIOError(
            f"the index database could not be used ({err}): check that the disk under {db.parent} has free space "
            "and qabot may write there, then try again"
        ) from err


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of a cursor or connection, with its sqlite3 errors raised as qabot's (``raise_as_qabot_error``)."""

    @functools.wraps(method)
    def call(self: Any, *args: Any) -> Any:
        try:
            return method(self, *args)
        except sqlite3.Error as err:
            conn = self if isinstance(self, _Connection) else self.connection
            raise_as_qabot_error(err, conn.db)
            raise

    return call


class _Cursor(sqlite3.Cursor):
    """A cursor whose errors, at execute and while rows are read, arrive as qabot's."""

    execute = _translating(sqlite3.Cursor.execute)
    executemany = _translating(sqlite3.Cursor.executemany)
    executescript = _translating(sqlite3.Cursor.executescript)
    fetchone = _translating(sqlite3.Cursor.fetchone)
    fetchmany = _translating(sqlite3.Cursor.fetchmany)
    fetchall = _translating(sqlite3.Cursor.fetchall)
    __next__ = _translating(sqlite3.Cursor.__next__)


class _Connection(sqlite3.Connection):
    """A connection to one index database; every statement runs on a ``_Cursor``."""

    db: Path

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> Any:
        return self.cursor().executescript(sql_script)

    # ``with conn:`` commits in C, past ``commit``: both translate.
    commit = _translating(sqlite3.Connection.commit)
    __exit__ = _translating(sqlite3.Connection.__exit__)


def read_only_uri(db: Path) -> str:
    """The URI that opens ``db`` without writing anything beside it.

    ``immutable=1`` when there is no write-ahead log: SQLite would otherwise need to create ``-shm``, which a
    read-only folder refuses ("unable to open database file").
    """
    uri = f"{db.absolute().as_uri()}?mode=ro"
    if not any(db.with_name(db.name + side).exists() for side in ("-wal", "-shm")):
        uri += "&immutable=1"
    return uri


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the index database at ``path`` (write-ahead log), or opened read-only without writing.

    Its sqlite3 errors arrive as ``IndexCorrupt``, ``IndexLocked``, ``IndexReadOnly`` or ``IndexIOError``.
    """
    path = Path(path)
    target, uri = (read_only_uri(path), True) if read_only else (str(path), False)
    try:
        conn = sqlite3.connect(
            target, uri=uri, timeout=30, isolation_level=None, check_same_thread=False, factory=_Connection
        )
    except sqlite3.Error as err:
        raise_as_qabot_error(err, path)
        raise
    conn.db = path
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MAX_VARIABLES)
    if not read_only:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def holds_data(db: Path) -> bool:
    """Whether a database left without a manifest holds articles or vectors (else an index creation was cut short)."""
    try:
        conn = sqlite3.connect(read_only_uri(db), uri=True)
        try:
            return any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in ("articles", "vectors"))
        finally:
            conn.close()
    except sqlite3.OperationalError as err:
        return "no such table" not in str(err)
    except sqlite3.Error:
        return True  # damaged: `qabot repair` looks at it


def foreign_tables(db: Path) -> list[str]:
    """Tables of ``db`` that qabot's schema does not have: another program's database under qabot's file name."""
    try:
        conn = sqlite3.connect(read_only_uri(db), uri=True)
        try:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        finally:
            conn.close()
    except sqlite3.Error:
        return []  # unreadable: damage, for `qabot repair`, not another program's tables
    own = ("sqlite_", "chunks_fts_")  # SQLite's own tables and FTS5's shadow tables
    return sorted(n for n in names if n not in TABLES and not n.startswith(own))
