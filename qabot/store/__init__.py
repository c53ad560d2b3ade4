"""The index, and the only code that knows its schema: the local folder (the only faiss importer) or Milvus (the
only pymilvus importer, ``milvus/``), both behind ``api``'s ``Store`` and ``StoreWriter``, opened by
``factory.open_store`` as ``QABOT_STORE`` says.

``layout`` names every file of an index folder, refuses a folder that is not an index, and reads/writes the
manifest; ``schema`` is the SQLite schema, the text hash that names a vector, and connections whose sqlite3 errors
arrive as qabot's (``IndexCorrupt``, ``IndexLocked``, ``IndexReadOnly``, ``IndexIOError``): no caller sees sqlite3;
``vectors`` the FAISS cache (exact or HNSW); ``index`` the ``IndexStore`` that reads vectors and rows, with
``lexical`` (BM25 over FTS5, its document-frequency cache and the per-commit log that keeps it exact); ``locking``
the one-writer lock, ``writer`` the one-transaction ``IndexWriter``; ``maintenance`` what ``qabot repair`` checks
and salvages.

A folder this process cannot write (a read-only mount) is opened ``mode=ro`` and still answers, its vector cache
rebuilt in memory when lost; writing to it is refused with ``IndexReadOnly``.

Crash safety: every ingest is one SQLite transaction that bumps ``generation``; the FAISS file for a generation is
written to a temporary file and ``os.replace``d after the commit. A kill at any moment leaves either the old
generation (transaction rolled back) or the new one with a missing cache, which the next open rebuilds.
Vectors are content-addressed (hash of the embedded text), so a re-run after a kill reuses what was embedded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real names, for type checkers and editors
    from qabot.store.api import ChunkRow, NewChunk, SentenceRow, Store, StoreWriter
    from qabot.store.factory import open_store, require_local
    from qabot.store.index import IndexStore
    from qabot.store.layout import DB, LOCK, MANIFEST, Manifest, read_manifest, write_manifest
    from qabot.store.locking import write_lock
    from qabot.store.schema import SCHEMA_VERSION, vector_hash
    from qabot.store.vectors import is_graph, new_vector_index
    from qabot.store.writer import IndexWriter

# Lazy, so that importing a light part (``qabot.store.layout`` for `qabot feeds`, ``check_folder``) does not load
# faiss and numpy through index.py: each name is imported from its module on first use.
_HOMES = {
    "ChunkRow": "api",
    "NewChunk": "api",
    "SentenceRow": "api",
    "Store": "api",
    "StoreWriter": "api",
    "open_store": "factory",
    "require_local": "factory",
    "IndexStore": "index",
    "DB": "layout",
    "LOCK": "layout",
    "MANIFEST": "layout",
    "Manifest": "layout",
    "read_manifest": "layout",
    "write_manifest": "layout",
    "SCHEMA_VERSION": "schema",
    "vector_hash": "schema",
    "is_graph": "vectors",
    "new_vector_index": "vectors",
    "IndexWriter": "writer",
    "write_lock": "locking",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'qabot.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"qabot.store.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DB",
    "LOCK",
    "MANIFEST",
    "SCHEMA_VERSION",
    "ChunkRow",
    "IndexStore",
    "IndexWriter",
    "Manifest",
    "NewChunk",
    "SentenceRow",
    "Store",
    "StoreWriter",
    "is_graph",
    "new_vector_index",
    "open_store",
    "read_manifest",
    "require_local",
    "vector_hash",
    "write_lock",
    "write_manifest",
]
