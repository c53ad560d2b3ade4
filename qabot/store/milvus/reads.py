"""``MilvusStore``: an index in Milvus opened for reading — dense and BM25 search, chunks, sentences, articles.

Every chunk and sentence row carries its article's version; a row is served only while that version is the live
one of its article row, so a reader never sees half of a replaced article (see ``writer``). Inside ``snapshot()``
each article's live version is read once and kept for the rest of the answer.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qabot.config import Settings
from qabot.errors import IndexMissing, ModelMismatch
from qabot.store.api import ChunkRow, SentenceRow
from qabot.store.lexical import FtsAnalysis
from qabot.store.milvus import schema
from qabot.store.milvus.catalog import ArticleReads
from qabot.store.milvus.connection import connect, milvus_uri, release, translated
from qabot.store.milvus.schema import CHUNK_FIELDS, one_of, quote

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qabot.store.milvus.writer import MilvusWriter

_BATCH = 512  # values in one ``in [...]`` filter
_SCAN = 4096  # rows per page of a full scan


class MilvusStore(ArticleReads, FtsAnalysis):
    """One index's collections in Milvus, opened for reading, and for writing through ``writer()``."""

    def __init__(self, settings: Settings, client: Any, manifest: dict[str, Any]) -> None:
        self.settings = settings
        self.client = client
        self.uri = milvus_uri(settings)
        self.names = schema.names(settings.milvus_prefix)
        self.manifest = manifest
        self._local = threading.local()
        self._loaded = -1
        self._closed = False

    # ------------------------------------------------------------------ opening
    @classmethod
    @translated
    def open(cls, settings: Settings, *, dimension: int | None = None, create: bool = False) -> MilvusStore:
        """Open (or with ``create`` make) the index's collections for the settings' model; refuse another model's."""
        client = connect(settings)
        try:
            manifest = _manifest(client, settings, dimension, create)
        except BaseException:
            release(client, milvus_uri(settings))
            raise
        return cls(settings, client, manifest)

    def reload(self) -> None:
        """Load the index's collections again (a restarted server serves none until they are loaded)."""
        for name in self.names.values():
            self.client.load_collection(name)

    def close(self) -> None:
        """Give the Milvus client back (the last store of a Lite file frees it for other processes); the store is
        not read after this."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if not self._closed:
            self._closed = True
            release(self.client, self.uri)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's in-memory SQLite, whose FTS5 tokenizer analyses texts as the local store does."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = sqlite3.connect(":memory:", check_same_thread=False)
        return conn

    # ------------------------------------------------------------------ generations
    def state(self) -> dict[str, Any]:
        """The committed state: generation, chunk and article counts, and whether a commit was cut short (read
        once per ``snapshot()``)."""
        kept = getattr(self._local, "state", None)
        if kept is not None:
            return dict(kept)
        rows = self.client.get(self.names["meta"], ids=["state"], output_fields=["value"])
        state = json.loads(rows[0]["value"]) if rows else {"generation": 0, "chunks": 0, "articles": 0}
        if getattr(self._local, "live", None) is not None:
            self._local.state = state
        return dict(state)

    @property
    def generation(self) -> int:
        """Bumped by every commit."""
        return int(self.state()["generation"])

    @property
    def loaded_generation(self) -> int:
        """The generation ``refresh`` last saw (-1 before it); Milvus itself always serves the newest."""
        return self._loaded

    def refresh(self) -> int:
        """Nothing to load: Milvus serves the newest rows; the generation now committed."""
        self._loaded = self.generation
        return self._loaded

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Keep what this block (one answer) reads: each article's live version, row and sentences, and the committed
        state. An article replaced or removed meanwhile is served as it was when first read, or not at all (its rows
        of the version read are gone); never the text of one version with the offsets of another."""
        if getattr(self._local, "live", None) is not None:
            yield
            return
        self._local.live, self._local.articles, self._local.sentences = {}, {}, {}
        try:
            yield
        finally:
            self._local.live = self._local.state = self._local.articles = self._local.sentences = None

    def live_versions(self, ids: Iterable[str]) -> dict[str, int]:
        """Article id → its live version, for the ids that are articles."""
        pinned: dict[str, int] | None = getattr(self._local, "live", None)
        wanted = list(dict.fromkeys(ids))
        known = {a: pinned[a] for a in wanted if pinned is not None and a in pinned}
        rows = self._where("articles", "id", [a for a in wanted if a not in known], ["id", "version"])
        fresh = {r["id"]: int(r["version"]) for r in rows}
        if pinned is not None:
            pinned.update(fresh)
        return known | fresh

    # ------------------------------------------------------------------ search
    def search_vectors(self, query: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        """Chunk ids and cosine similarities of the ``k`` nearest live chunks."""
        return self._search("vector", [np.asarray(query, dtype=np.float32).ravel().tolist()], k)

    def search_lexical(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Chunk ids and BM25 scores (Milvus's analyzer and BM25 function) for a query of OR-ed terms."""
        if not terms or not self.bm25:
            return []
        return self._search("sparse", [" ".join(terms)], k)

    @property
    def bm25(self) -> bool:
        """Whether chunks have Milvus's BM25 (a server before 2.5 has none: dense search alone there)."""
        return bool(self.manifest.get("bm25", True))

    @translated
    def _search(self, field: str, data: list[Any], k: int) -> list[tuple[int, float]]:
        # Rows of a version not yet (or no longer) live take places in the results while an ingest writes: ask
        # for more than k and keep the live ones.
        hits = schema.search_chunks(self.client, self.names["chunks"], data, field, min(16_384, 2 * k + 16))
        live = self.live_versions(h["entity"]["article_id"] for h in hits)
        found = [
            (int(h["id"]), float(h["distance"]))
            for h in hits
            if live.get(h["entity"]["article_id"]) == h["entity"]["version"]
        ]
        return found[:k]

    def chunk_vectors(self, ids: Iterable[int]) -> dict[int, NDArray[np.float32]]:
        """The vectors of these live chunks."""
        rows = self._live_rows(self._where("chunks", "pk", list(ids), ["pk", "article_id", "version", "vector"]))
        return {int(r["pk"]): np.asarray(r["vector"], dtype=np.float32) for r in rows}

    def document_frequencies(self, terms: Sequence[str]) -> tuple[dict[str, int], int]:
        """How many live chunks hold each analysed term (kept per term by every commit), and the chunk count."""
        wanted = list(dict.fromkeys(terms))
        rows = self._where("meta", "key", [f"term:{t}" for t in wanted], ["key", "num"])
        df = {r["key"][5:]: int(r["num"]) for r in rows if int(r["num"]) > 0}
        return {t: df[t] for t in terms if t in df}, self.count_chunks()

    # ------------------------------------------------------------------ rows
    def count_chunks(self) -> int:
        """Number of live chunks."""
        return int(self.state()["chunks"])

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        """Live chunk rows by id."""
        rows = self._live_rows(self._where("chunks", "pk", list(ids), CHUNK_FIELDS))
        return {
            int(r["pk"]): ChunkRow(
                int(r["pk"]),
                r["article_id"],
                r["ordinal"],
                r["char_start"],
                r["char_end"],
                r["first_sentence"],
                r["last_sentence"],
            )
            for r in rows
        }

    @translated
    def sentences(self, article_id: str, first: int, last: int) -> list[SentenceRow]:
        """Sentences ``first..last`` (inclusive) of an article's live version, with their vectors (inside a
        snapshot the article's every sentence is read once: an answer asks for several spans of one article)."""
        kept: dict[str, list[SentenceRow]] | None = getattr(self._local, "sentences", None)
        if kept is None:
            return self._sentences([article_id], first, last).get(article_id, [])
        if article_id not in kept:
            kept[article_id] = self._sentences([article_id], 0, 1 << 40).get(article_id, [])
        return [r for r in kept[article_id] if first <= r.ordinal <= last]

    @translated
    def sentences_of(self, spans: Sequence[tuple[str, int, int]]) -> list[SentenceRow]:
        """The sentences of several (article id, first, last) spans, in their order. Each query costs Milvus Lite a
        scan of its collection whatever it returns (~0.3 s at 100k chunks): inside a snapshot the articles not read
        yet come in one query."""
        kept: dict[str, list[SentenceRow]] | None = getattr(self._local, "sentences", None)
        if kept is not None:
            wanted = [a for a in dict.fromkeys(a for a, _, _ in spans) if a not in kept]
            for i in range(0, len(wanted), _BATCH):
                found = self._sentences(wanted[i : i + _BATCH], 0, 1 << 40)
                kept.update({a: found.get(a, []) for a in wanted[i : i + _BATCH]})
        return [r for a, first, last in spans for r in self.sentences(a, first, last)]

    def _sentences(self, article_ids: list[str], first: int, last: int) -> dict[str, list[SentenceRow]]:
        """Article id → sentences ``first..last`` of its live version, in order."""
        live = self.live_versions(article_ids)
        if not live:
            return {}
        span = f"ordinal >= {first} and ordinal <= {min(last, 1 << 40)}"
        if len(live) == 1:
            ((aid, version),) = live.items()
            which = f"article_id == {quote(aid)} and version == {version}"
        else:
            which = f"{one_of('article_id', live)} and {one_of('version', set(live.values()))}"
        rows = self._scan("sentences", f"{which} and {span}", ["article_id", "version", "ordinal", "char_start",
                                                               "char_end", "vector"])  # fmt: skip
        out: dict[str, list[SentenceRow]] = {}
        for r in sorted(rows, key=lambda r: r["ordinal"]):
            if live.get(r["article_id"]) == r["version"]:
                out.setdefault(r["article_id"], []).append(
                    SentenceRow(r["article_id"], r["ordinal"], r["char_start"], r["char_end"],
                                np.asarray(r["vector"], dtype=np.float32))
                )  # fmt: skip
        return out

    def stored_hashes(self, hashes: Iterable[str]) -> set[str]:
        """Which of these text hashes have a stored vector (in any chunk or sentence row, or saved for later)."""
        wanted = list(dict.fromkeys(hashes))
        return {r["vhash"] for kind in ("sentences", "chunks") for r in self._where(kind, "vhash", wanted, ["vhash"])}

    def vectors_for(self, hashes: Iterable[str]) -> dict[str, NDArray[np.float32]]:
        """Vectors already stored for these text hashes (so the same text is never embedded twice)."""
        out: dict[str, NDArray[np.float32]] = {}
        for kind in ("sentences", "chunks"):
            wanted = [h for h in dict.fromkeys(hashes) if h not in out]
            for r in self._where(kind, "vhash", wanted, ["vhash", "vector"]):
                out[r["vhash"]] = np.asarray(r["vector"], dtype=np.float32)
        return out

    # ------------------------------------------------------------------ helpers
    def _live_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        live = self.live_versions(r["article_id"] for r in rows)
        return [r for r in rows if live.get(r["article_id"]) == r["version"]]

    @translated
    def _where(self, kind: str, field: str, values: Sequence[object], fields: list[str]) -> list[dict[str, Any]]:
        """Rows of ``kind`` whose ``field`` is one of ``values`` (in parts of ``_BATCH``)."""
        out: list[dict[str, Any]] = []
        values = list(values)
        for i in range(0, len(values), _BATCH):
            out.extend(self._scan(kind, one_of(field, values[i : i + _BATCH]), fields))
        return out

    @translated
    def _scan(self, kind: str, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        """Every row of ``kind`` matching ``expr``: a plain query returns 16 384 rows at most, so page past that."""
        name = self.names[kind]
        rows = self.client.query(name, filter=expr, output_fields=fields, limit=_SCAN)
        if len(rows) < _SCAN:
            return list(rows)
        out: list[dict[str, Any]] = []
        it = self.client.query_iterator(name, batch_size=_SCAN, filter=expr, output_fields=fields)
        try:
            while batch := it.next():
                out.extend(batch)
        finally:
            it.close()
        return out

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def writer(self, wait_seconds: float = 30.0) -> Iterator[MilvusWriter]:
        """Hold the write lock for one ingest; readers see its changes at ``MilvusWriter.commit()``."""
        from qabot.store.milvus.writer import MilvusWriter, milvus_lock

        with milvus_lock(self, wait_seconds):
            writer = MilvusWriter(self)
            try:
                yield writer
            finally:
                writer.rollback()


def _manifest(client: Any, settings: Settings, dimension: int | None, create: bool) -> dict[str, Any]:
    """The index's manifest, its collections made first with ``create``; another model's is refused."""
    names = schema.names(settings.milvus_prefix)
    where = f"Milvus {milvus_uri(settings)} (collections {settings.milvus_prefix}_*)"
    meta = names["meta"]
    # A restarted server serves no collection until it is loaded again: the manifest's is loaded first.
    found = client.has_collection(meta) and (
        client.load_collection(meta) or client.get(meta, ids=["manifest"], output_fields=["value"])
    )
    if not found:
        if not create:
            raise IndexMissing(f"no index in {where}: run `qabot ingest PATH` first")
        if dimension is None:
            raise ValueError("dimension is needed to create an index")
        bm25 = schema.create(client, settings.milvus_prefix, dimension)
        manifest = {"model": settings.model, "dimension": dimension, "schema": schema.SCHEMA_VERSION, "bm25": bm25}
        state = {"generation": 0, "chunks": 0, "articles": 0, "dirty": False}
        client.upsert(meta, [schema.meta_row("manifest", manifest), schema.meta_row("state", state)])
    else:
        manifest = json.loads(found[0]["value"])
    if manifest["model"] != settings.model or (dimension is not None and manifest["dimension"] != dimension):
        raise ModelMismatch(
            f"{where} was built with model {manifest['model']!r} ({manifest['dimension']}-d), not "
            f"{settings.model!r}: set QABOT_MODEL={manifest['model']}, or ingest into new collections with "
            "another QABOT_MILVUS_PREFIX"
        )
    schema.ensure_scalar_indexes(client, settings.milvus_prefix)
    for name in names.values():
        client.load_collection(name)
    return manifest


__all__ = ["MilvusStore"]
