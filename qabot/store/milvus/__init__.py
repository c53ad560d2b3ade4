"""The index in Milvus: Milvus Lite (a file), a standalone server or a cluster, through one ``MilvusClient``.

``connection`` makes the client (the only pymilvus importer) and turns its errors into qabot's; ``schema`` the
collections (chunks with a dense vector and a BM25 sparse field, sentences, articles, meta) and their content keys;
``reads`` the ``MilvusStore`` (``qabot.store.api.Store``) with ``catalog`` (its article reads); ``writer`` the
versioned ``MilvusWriter`` with ``stories`` (its story look-ups); ``recovery`` what the next writer sweeps after a
kill.

Consistency: collections are read at ``Session`` level, so the process that wrote a commit (the ingest worker, a
bot's admin /ingest) sees it in its very next answer; other processes see it once their Milvus query node has
consumed it (Milvus's time tick, about a second on a standalone server). ``Strong`` would add up to a time tick to
every one of an answer's dozen reads. Whichever rows a reader sees, each article is served whole, old or new: rows
are filtered by the live version of their article row.

Not the same as the local folder: an ingest is atomic per article rather than as a whole; BM25 is Milvus's (its
analyzer stems with Snowball, FTS5 with Porter; scores differ in scale, which the answer ranking normalises);
document frequencies for the answer features are counted with FTS5's tokenizer at every commit (Milvus Lite 2.5
refuses ``TEXT_MATCH``), so the features are the local store's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qabot.store.milvus.reads import MilvusStore


def __getattr__(name: str) -> Any:
    # Lazy: the settings and the factory name this package without loading pymilvus.
    if name == "MilvusStore":
        from qabot.store.milvus.reads import MilvusStore

        return MilvusStore
    raise AttributeError(f"module 'qabot.store.milvus' has no attribute {name!r}")


__all__ = ["MilvusStore"]
