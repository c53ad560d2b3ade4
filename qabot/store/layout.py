"""Every file of an index folder, by name, and the manifest that says what the index was built with.

An index directory::

    manifest.json        model, dimension, schema: refuses to open with another model
    qabot.sqlite         articles, chunks, sentences, vectors (the source of truth), FTS5 lexical index
    chunks.g<N>.faiss    chunk vectors of generation N (a cache: rebuilt from SQLite when missing or stale)
    .write.lock          held by the one process writing
    feeds.json           the RSS/Atom feed list (named and written by qabot.sources.feeds)
    feedback.sqlite      chat answers and their 👍/👎 (named and written by qabot.bot.feedback: no index lock)
    conversations.sqlite the bot's follow-up context per chat/topic/thread (named and written by
                         qabot.bot.conversations: no index lock)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qabot.errors import IndexCorrupt
from qabot.store.schema import SCHEMA_VERSION

MANIFEST = "manifest.json"
DB = "qabot.sqlite"
LOCK = ".write.lock"


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


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of ``index_dir``, or None when there is no index there."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text("utf-8"))
        return Manifest(model=str(raw["model"]), dimension=int(raw["dimension"]), schema=int(raw.get("schema", 1)))
    except (ValueError, KeyError, TypeError) as err:
        raise IndexCorrupt(f"{path} is unreadable ({err}): run `qabot repair` to restore it") from err


def write_manifest(index_dir: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` atomically."""
    atomic_write(index_dir / MANIFEST, json.dumps(manifest.__dict__, indent=2).encode())
