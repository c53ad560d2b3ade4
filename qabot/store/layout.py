"""Every file of an index folder, by name, and the manifest that says what the index was built with.

An index directory::

    manifest.json        model, dimension, schema: refuses to open with another model
    qabot.sqlite         articles, chunks, sentences, vectors (the source of truth), FTS5 lexical index
    chunks.g<N>.faiss    chunk vectors of generation N (a cache: rebuilt from SQLite when missing or stale)
    .write.lock          held by the one process writing
    feeds.json           the RSS/Atom feed list (written by qabot.sources.feeds)
    .feeds.lock          held while feeds.json is read, changed and replaced (by qabot.sources.feeds)
    feedback.sqlite      chat answers and their 👍/👎 (written by qabot.bot.feedback: no index lock)
    conversations.sqlite the bot's follow-up context per chat/topic/thread (written by qabot.bot.conversations:
                         no index lock)
    milvus.db            with QABOT_STORE=milvus and no QABOT_MILVUS_URI: the Milvus Lite file of the index, in
                         place of the three files above it (qabot.store.milvus)

A folder without qabot's manifest that holds anything else (another tool's index, a foreign ``qabot.sqlite``) is
refused before a byte is written to it (``check_folder``), and so is a path that is a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qabot.errors import IndexCorrupt, NotAnIndex
from qabot.store.schema import SCHEMA_VERSION, foreign_tables

MANIFEST = "manifest.json"
DB = "qabot.sqlite"
LOCK = ".write.lock"
# Named by their owners (qabot.sources.feeds, qabot.bot.feedback, qabot.bot.conversations), which must not import
# faiss through this package; repeated here to know them as qabot's files (tests/test_store.py holds them equal).
FEEDS = "feeds.json"
FEEDS_LOCK = ".feeds.lock"
FEEDBACK = "feedback.sqlite"
CONVERSATIONS = "conversations.sqlite"
# With QABOT_STORE=milvus the folder keeps the feeds and the bot's files, and by default the Milvus Lite file
# (qabot.store.milvus), its server's lock and the writers' lock files.
MILVUS_LITE = "milvus.db"
# Files a folder may hold and still be taken for a new index: a mount point's own, a desktop's, a placeholder.
HARMLESS = frozenset({"lost+found", ".DS_Store", ".gitkeep"})


def faiss_file(gen: int) -> str:
    """The name of generation ``gen``'s FAISS cache."""
    return f"chunks.g{gen}.faiss"


@dataclass(frozen=True)
class Manifest:
    """What an index was built with; an index refuses to open with a different model or dimension."""

    model: str
    dimension: int
    schema: int = SCHEMA_VERSION


def atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def writable(index_dir: Path) -> bool:
    """Whether this process may write the index folder and its database (False on a read-only mount)."""
    db = index_dir / DB
    return os.access(index_dir, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def _is_own(name: str) -> bool:
    if name in HARMLESS or name in (MANIFEST, DB, LOCK, FEEDS, FEEDS_LOCK, FEEDBACK, CONVERSATIONS):
        return True
    # -wal/-shm and .damaged copies, vector caches, and the temporary files of atomic writes and of a repair
    own = (f"{DB}-", f"{DB}.damaged", f"{FEEDBACK}-", f"{CONVERSATIONS}-", "chunks.g", MILVUS_LITE, f".{MILVUS_LITE}.")
    own += (".milvus-",)
    temporary = (f".{MANIFEST}.", f".{FEEDS}.", ".chunks.g", ".repair-")
    return name.startswith(own + temporary)


def check_folder(index_dir: Path) -> None:
    """Refuse an index path that is a file, or a folder without qabot's manifest holding another program's files.

    Runs before anything is written, so a refused folder is left exactly as it was.
    """
    for path in (index_dir, *index_dir.parents):
        if path.exists():
            if not path.is_dir():
                raise NotAnIndex(f"--index {path} is a file, not a folder")
            break
    if not index_dir.is_dir():
        return
    if (index_dir / MANIFEST).exists():
        with contextlib.suppress(IndexCorrupt):  # a garbled manifest of qabot's is for `qabot repair`
            read_manifest(index_dir)  # another tool's raises NotAnIndex
        return
    strangers = sorted(p.name for p in index_dir.iterdir() if not _is_own(p.name))
    if strangers:
        named = ", ".join(strangers[:3]) + (f" and {len(strangers) - 3} more" if len(strangers) > 3 else "")
        raise NotAnIndex(
            f"{index_dir} is not a qabot index and not empty (it holds {named}); choose another --index folder"
        )
    tables = foreign_tables(index_dir / DB) if (index_dir / DB).is_file() else []
    if tables:
        raise NotAnIndex(
            f"{index_dir / DB} is another program's database (tables {', '.join(tables[:3])}), not qabot's; "
            "choose another --index folder"
        )


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of ``index_dir``, or None when there is no index there."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text("utf-8"))
    except ValueError as err:
        raise IndexCorrupt(f"{path} is unreadable ({err}): run `qabot repair` to restore it") from err
    if not (isinstance(raw, dict) and "model" in raw and "dimension" in raw) and not (index_dir / DB).exists():
        # Another tool's manifest: `qabot repair` has no database to restore it from, and ingest would refuse it.
        raise NotAnIndex(f"{index_dir} holds a {MANIFEST} that is not qabot's; choose another --index folder")
    try:
        return Manifest(model=str(raw["model"]), dimension=int(raw["dimension"]), schema=int(raw.get("schema", 1)))
    except (ValueError, KeyError, TypeError) as err:
        raise IndexCorrupt(f"{path} is unreadable ({err}): run `qabot repair` to restore it") from err


def write_manifest(index_dir: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` atomically."""
    atomic_write(index_dir / MANIFEST, json.dumps(manifest.__dict__, indent=2).encode())
