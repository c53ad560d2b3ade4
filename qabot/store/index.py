"""``IndexStore``: one index folder opened for reading — vectors, BM25 over FTS5, articles, chunks, sentences.

Readers never lock: each thread has its own SQLite connection, and ``snapshot()`` pins one committed generation.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from qabot.errors import IndexCorrupt, IndexMissing, IndexReadOnly, ModelMismatch
from qabot.models import Article, IndexStats
from qabot.store.api import ChunkRow, SentenceRow
from qabot.store.layout import (
    DB,
    MANIFEST,
    Manifest,
    atomic_write,
    check_folder,
    faiss_file,
    read_manifest,
    writable,
    write_manifest,
)
from qabot.store.lexical import LexicalReads
from qabot.store.locking import write_lock
from qabot.store.schema import ADDED_COLUMNS, SCHEMA, SCHEMA_VERSION, batches, connect, holds_data
from qabot.store.vectors import fits, is_graph, new_vector_index, search_on_one_thread, tuned
from qabot.store.writer import IndexWriter
from qabot.text import counted, url_key

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)


_LAST_CHAR = "\U0010ffff"  # sorts after every character: prefix <= s < prefix + _LAST_CHAR is "s starts with prefix"


class IndexStore(LexicalReads):
    """One index directory opened for reading, and for writing through ``writer()``.

    Thread-safe for readers: each thread gets its own SQLite connection; the FAISS cache is swapped atomically.
    """

    def __init__(self, index_dir: Path, manifest: Manifest, *, read_only: bool = False) -> None:
        super().__init__()
        self.dir = index_dir
        self.manifest = manifest
        # A folder this process cannot write (a read-only mount) is read without writing a byte: no journal, no
        # vector cache file, no write lock.
        self.read_only = read_only
        self._local = threading.local()
        self._faiss: faiss.Index | None = None
        self._faiss_gen = -1
        self._swap = threading.Lock()
        self._origin = "origin"  # the column's expression in reads: "NULL" on a read-only index from before it

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, index_dir: Path, *, model: str, dimension: int | None = None, create: bool = False) -> IndexStore:
        """Open (or with ``create`` make) the index at ``index_dir`` for ``model``; refuse another model's index."""
        index_dir = Path(index_dir)
        check_folder(index_dir)
        manifest = read_manifest(index_dir)
        if manifest is None and (index_dir / DB).exists() and holds_data(index_dir / DB):
            raise IndexCorrupt(f"index {index_dir} has {DB} but no {MANIFEST}: run `qabot repair` to restore it")
        if manifest is None:
            if not create:
                raise IndexMissing(f"no index at {index_dir}: run `qabot ingest PATH` first")
            if dimension is None:
                raise ValueError("dimension is needed to create an index")
            if index_dir.is_dir() and not writable(index_dir):
                raise IndexReadOnly(f"index {index_dir} is read-only: choose a writable --index folder")
            index_dir.mkdir(parents=True, exist_ok=True)
            manifest = Manifest(model=model, dimension=dimension)
            conn = connect(index_dir / DB)
            conn.executescript(SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
            conn.close()
            write_manifest(index_dir, manifest)
        if manifest.model != model or (dimension is not None and manifest.dimension != dimension):
            raise ModelMismatch(
                f"index {index_dir} was built with model {manifest.model!r} ({manifest.dimension}-d), "
                f"not {model!r}: set QABOT_MODEL={manifest.model}, or rebuild for the new model by ingesting your "
                f"articles into a new folder with `qabot --index NEW_DIR ingest PATH` (if {MANIFEST} was edited or "
                "copied by mistake, `qabot repair` restores it)"
            )
        if manifest.schema != SCHEMA_VERSION:
            raise IndexCorrupt(
                f"index {index_dir} has schema {manifest.schema}, expected {SCHEMA_VERSION}: "
                "re-ingest into a new folder with `qabot --index NEW_DIR ingest PATH`"
            )
        if not (index_dir / DB).exists():
            raise IndexCorrupt(
                f"index {index_dir} has a manifest but no {DB}: move it aside and re-ingest with `qabot ingest PATH`"
            )
        store = cls(index_dir, manifest, read_only=not writable(index_dir))
        store.conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()  # damage shows here, at open
        store._upgrade()
        return store

    def _upgrade(self) -> None:
        # Indexes built before stories were grouped lack articles.story, before file origins were kept .origin;
        # adding a column is one atomic statement. Answers need stories; only `qabot list`, renames and
        # `ingest --sync` read origins, so a read-only index without them still opens (and lists no file paths).
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(articles)")}
        for column, index in ADDED_COLUMNS.items():
            if column in columns:
                continue
            try:
                if self.read_only:
                    raise IndexReadOnly(f"index {self.dir} is read-only")
                self.conn.execute(f"ALTER TABLE articles ADD COLUMN {column} TEXT")
                self.conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON articles({column})")
            except IndexReadOnly as err:
                if column == "origin":
                    self._origin = "NULL"
                    continue
                raise IndexReadOnly(
                    f"index {self.dir} is from an older qabot and is read-only, so it could not be upgraded: "
                    "open it once with write access, or re-ingest with `qabot ingest PATH`"
                ) from err
            log.info("upgraded %s: added the %s column", self.dir, column)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection to the metadata database."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.dir / DB, read_only=self.read_only)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @property
    def generation(self) -> int:
        """Bumped by every committed change; readers compare it to notice a new ingest."""
        row = self.conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ vectors (FAISS cache)
    def _faiss_path(self, gen: int) -> Path:
        return self.dir / faiss_file(gen)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run this thread's reads in one transaction, so they all see the same committed generation."""
        conn = self.conn
        if conn.in_transaction:  # already inside a snapshot
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    @property
    def loaded_generation(self) -> int:
        """The generation whose vectors are in memory (-1 before the first search)."""
        return self._faiss_gen

    def vector_index(self) -> tuple[faiss.Index, int]:
        """The FAISS index of chunk vectors for the current generation, loading or rebuilding it as needed."""
        gen = self.generation
        with self._swap:
            if self._faiss is not None and self._faiss_gen == gen:
                return self._faiss, gen
            index = self._load_or_build(gen)
            self._faiss, self._faiss_gen = index, gen
            return index, gen

    def refresh(self) -> int:
        """Load the newest generation's vectors (then swap them in); the generation now served."""
        return self.vector_index()[1]

    def chunk_vectors(self, ids: Iterable[int]) -> dict[int, NDArray[np.float32]]:
        """The vectors of these chunks in the generation being served (chunks not in it yet are absent)."""
        index, _ = self.vector_index()
        out = {}
        for cid in ids:
            try:
                out[cid] = index.reconstruct(cid)
            except RuntimeError:  # not in this generation's vectors yet
                continue
        return out

    def _load_or_build(self, gen: int) -> faiss.Index:
        path = self._faiss_path(gen)
        if path.exists():
            try:
                index = faiss.read_index(str(path))
                chunks = self.count_chunks()
                if index.d == self.manifest.dimension and fits(index, chunks):
                    return tuned(index)
                if index.d == self.manifest.dimension and index.ntotal == chunks:
                    log.info("vector cache %s: rebuilding it as an HNSW graph for %d chunks", path.name, chunks)
                else:
                    log.warning("vector cache %s is out of step with the metadata; rebuilding it", path.name)
            except RuntimeError:
                log.warning("vector cache %s is unreadable; rebuilding it", path.name)
        index = self.build_vector_index()
        if not self.read_only:  # else it answers from memory
            with contextlib.suppress(OSError):
                self._write_faiss(index, gen)
        return index

    def build_vector_index(self) -> faiss.Index:
        """A fresh FAISS index of every chunk vector in the database (see ``new_vector_index``)."""
        d = self.manifest.dimension
        index = new_vector_index(d, self.count_chunks())
        # In content order, not row-id order: a rebuilt cache is then the same for the same articles however they came.
        cur = self.conn.execute(
            "SELECT c.id, v.vector FROM chunks c JOIN vectors v ON v.hash = c.vhash ORDER BY c.article_id, c.ordinal"
        )
        while batch := cur.fetchmany(4096):
            ids = np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch))
            vecs = np.frombuffer(b"".join(r[1] for r in batch), dtype=np.float32)
            if vecs.size != len(batch) * d:
                raise IndexCorrupt(
                    f"stored vectors in {self.dir} do not have {d} dimensions: re-ingest into a new folder "
                    "with `qabot --index NEW_DIR ingest PATH`"
                )
            index.add_with_ids(vecs.reshape(len(batch), d), ids)
        self._check_in_step()
        return index

    def _check_in_step(self) -> None:
        # Only when the cache is rebuilt (a full pass anyway): rows lost from the source of truth are named rather
        # than silently leaving articles unanswerable. One statement, so a concurrent commit cannot skew it.
        no_vector, no_article, lexical_extra = self.conn.execute(
            "SELECT (SELECT count(*) FROM chunks WHERE vhash NOT IN (SELECT hash FROM vectors)), "
            "(SELECT count(*) FROM chunks WHERE article_id NOT IN (SELECT id FROM articles)), "
            "(SELECT count(*) FROM chunks_fts) - (SELECT count(*) FROM chunks)"
        ).fetchone()
        problems = [
            f"{counted(no_vector, 'chunk')} without a stored vector" if no_vector else "",
            f"{counted(no_article, 'chunk')} without an article" if no_article else "",
            f"{counted(lexical_extra, 'chunk row')} missing" if lexical_extra > 0 else "",
            f"{counted(-lexical_extra, 'chunk')} missing from the lexical index" if lexical_extra < 0 else "",
        ]
        if any(problems):
            raise IndexCorrupt(
                f"index {self.dir} is out of step ({'; '.join(p for p in problems if p)}): run `qabot repair`"
            )

    def _write_faiss(self, index: faiss.Index, gen: int) -> None:
        data = faiss.serialize_index(index).tobytes()
        atomic_write(self._faiss_path(gen), data)
        # Only older generations go: a reader rebuilding generation N while a writer commits N+1 must not delete
        # the newer cache (every process would then rebuild it from SQLite, minutes at a million chunks).
        for old in self.dir.glob("chunks.g*.faiss"):
            number = old.name[len("chunks.g") : -len(".faiss")]
            if number.isdigit() and int(number) < gen:
                with contextlib.suppress(OSError):
                    old.unlink()

    def search_vectors(self, query: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        """Chunk ids and cosine similarities of the ``k`` nearest chunks."""
        index, _ = self.vector_index()
        if index.ntotal == 0:
            return []
        search_on_one_thread()
        graph = is_graph(index)
        # A graph may still hold removed chunks (often old copies of an updated article, close to the new one):
        # fetch twice as many and keep the live ones.
        fetch = min(2 * k if graph else k, index.ntotal)
        scores, ids = index.search(query.reshape(1, -1).astype(np.float32), fetch)
        found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        if graph:
            live = {r[0] for r in self._in("SELECT id FROM chunks WHERE id IN ({})", [i for i, _ in found])}
            found = [(i, s) for i, s in found if i in live]
        return found[:k]

    # ------------------------------------------------------------------ metadata reads
    def count_chunks(self) -> int:
        """Number of chunks in the index."""
        return int(self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        """Chunk rows by id; ids deleted since the vector cache was built are simply absent."""
        # A chunk whose article row is gone (a damaged index, until `qabot repair`) cannot be quoted: leave it out.
        # Correlated, one key lookup per chunk: with ``article_id IN (SELECT id FROM articles)`` SQLite walked every
        # article against the id list, 6-10 s a question at 1M chunks.
        sql = (
            'SELECT id, article_id, ordinal, start, "end", first_sentence, last_sentence FROM chunks '
            "WHERE id IN ({}) AND EXISTS (SELECT 1 FROM articles a WHERE a.id = chunks.article_id)"
        )
        return {r[0]: ChunkRow(*r) for r in self._in(sql, list(ids))}

    def sentences_of(self, spans: Sequence[tuple[str, int, int]]) -> list[SentenceRow]:
        """The sentences of several (article id, first, last) spans, span after span (SQLite reads are cheap)."""
        return [r for a, first, last in spans for r in self.sentences(a, first, last)]

    def sentences(self, article_id: str, first: int, last: int) -> list[SentenceRow]:
        """Sentences ``first..last`` (inclusive) of an article, with their vectors."""
        rows = self.conn.execute(
            'SELECT s.article_id, s.ordinal, s.start, s."end", v.vector FROM sentences s '
            "JOIN vectors v ON v.hash = s.vhash WHERE s.article_id = ? AND s.ordinal BETWEEN ? AND ? "
            "ORDER BY s.ordinal",
            (article_id, first, last),
        ).fetchall()
        return [SentenceRow(r[0], r[1], r[2], r[3], np.frombuffer(r[4], dtype=np.float32)) for r in rows]

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """Articles by id (with their full text)."""
        sql = "SELECT id, title, text, url, published, source, author FROM articles WHERE id IN ({})"
        return {r[0]: Article(*r) for r in self._in(sql, list(dict.fromkeys(ids)))}

    def stories(self, ids: Iterable[str]) -> dict[str, str]:
        """Article id → story id (copies of one story share it)."""
        sql = "SELECT id, coalesce(story, id) FROM articles WHERE id IN ({})"
        return {r[0]: r[1] for r in self._in(sql, list(dict.fromkeys(ids)))}

    def story_members(self, story_ids: Iterable[str]) -> dict[str, list[Article]]:
        """Story id → its articles (without text), earliest published first, then by id.

        Not by arrival: the same articles ingested in another order (or stored again by a repair) must name the
        same original and list the other outlets in the same order.
        """
        sql = (
            # Two indexed lookups instead of one expression, which no index serves (a full scan per answer).
            "SELECT coalesce(story, id), id, title, '', url, published, source, author, published IS NULL FROM "
            "articles WHERE story IN ({}) OR (story IS NULL AND id IN ({}))"
        )
        rows = sorted(self._in(sql, list(dict.fromkeys(story_ids)), 2), key=lambda r: (r[8], r[5] or "", r[1]))
        out: dict[str, list[Article]] = {}
        for r in rows:
            out.setdefault(r[0], []).append(Article(*r[1:8]))
        return out

    def article_ids(self) -> list[str]:
        """Every article id, sorted."""
        return [r[0] for r in self.conn.execute("SELECT id FROM articles ORDER BY id")]

    def find_article(self, ref: str) -> str | None:
        """The id of the article whose id or URL is ``ref``."""
        row = self.conn.execute("SELECT id FROM articles WHERE id = ? OR url = ? LIMIT 1", (ref, ref)).fetchone()
        return row[0] if row else None

    def find_by_url(self, url: str) -> str | None:
        """The id of the article at ``url`` however trivially the two spellings differ (``qabot.text.url_key``)."""
        key = url_key(url)
        if key is None:
            return None
        # Stored spellings of the page start with its key's scheme, host and path: a range the url index serves.
        prefix = key.split("?", 1)[0]
        rows = self.conn.execute(
            "SELECT id, url FROM articles WHERE url >= ? AND url < ? ORDER BY id", (prefix, prefix + _LAST_CHAR)
        )
        return next((r[0] for r in rows if url_key(r[1]) == key), None)

    def file_origins(self, under: Path | None = None) -> dict[str, str]:
        """Article id → the file it was read from, for every article read from a file (under the folder ``under``)."""
        if self._origin == "NULL":
            return {}
        if under is None:
            rows = self.conn.execute("SELECT id, origin FROM articles WHERE origin IS NOT NULL")
        else:
            prefix = str(under).rstrip(os.sep) + os.sep
            rows = self.conn.execute(
                "SELECT id, origin FROM articles WHERE origin >= ? AND origin < ?", (prefix, prefix + _LAST_CHAR)
            )
        return {r[0]: r[1] for r in rows}

    def article_origin(self, article_id: str) -> str | None:
        """The file an article was read from; None for pages, feeds and uploads (or an article not in the index)."""
        row = self.conn.execute(f"SELECT {self._origin} FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def catalog(self, *, source: str = "", since: str = "", until: str = "") -> list[Article]:
        """Every article without its text, newest first (undated last, then the most recently added).

        ``source`` keeps those whose site, URL or file contains it (any case); ``since`` and ``until`` (YYYY-MM-DD,
        both included) those published between them, which leaves out undated ones.
        """
        bounds = (("substr(published, 1, 10) >= ?", since), ("substr(published, 1, 10) <= ?", until))
        where = [condition for condition, value in bounds if value]
        rows = self.conn.execute(
            f"SELECT id, title, '', url, published, source, author, {self._origin} FROM articles "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY published IS NULL, published DESC, added DESC",
            [v for v in (since, until) if v],
        ).fetchall()
        needle = source.casefold()
        return [Article(*r) for r in rows if needle in " ".join(filter(None, (r[5], r[3], r[7]))).casefold()]

    def article_hash(self, article_id: str) -> str | None:
        """The content hash stored for an article, or None if it is not in the index."""
        row = self.conn.execute("SELECT hash FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def recent(self, n: int = 10) -> list[Article]:
        """The ``n`` newest articles by publication date (undated last, then most recently added)."""
        rows = self.conn.execute(
            "SELECT id, title, text, url, published, source, author FROM articles "
            "ORDER BY published IS NULL, published DESC, added DESC LIMIT ?",
            (n,),
        ).fetchall()
        return [Article(*r) for r in rows]

    def stats(self) -> IndexStats:
        """Counts, model, size on disk and newest date."""
        n_articles = int(self.conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        newest = self.conn.execute("SELECT max(published) FROM articles").fetchone()[0]
        size = sum(p.stat().st_size for p in self.dir.iterdir() if p.is_file())
        return IndexStats(
            articles=n_articles,
            chunks=self.count_chunks(),
            model=self.manifest.model,
            dimension=self.manifest.dimension,
            size_bytes=size,
            newest=newest,
            path=str(self.dir),
        )

    def stored_hashes(self, hashes: Iterable[str]) -> set[str]:
        """Which of these text hashes have a stored vector: read from the key's index, never the vectors."""
        return {r[0] for r in self._in("SELECT hash FROM vectors WHERE hash IN ({})", list(dict.fromkeys(hashes)))}

    def vectors_for(self, hashes: Iterable[str]) -> dict[str, NDArray[np.float32]]:
        """Vectors already stored for these text hashes (so the same text is never embedded twice)."""
        sql = "SELECT hash, vector FROM vectors WHERE hash IN ({})"
        return {h: np.frombuffer(blob, dtype=np.float32) for h, blob in self._in(sql, list(dict.fromkeys(hashes)))}

    def _in(self, sql: str, values: Sequence[object], lists: int = 1) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql`` with each of its ``lists`` ``{}`` an IN-list of ``values``, in parts that keep every
        statement within SQLite's variable limit."""
        for part in batches(values):
            marks = ",".join("?" * len(part))
            # fetchall: one call a batch, not one (error-translating) call a row.
            yield from self.conn.execute(sql.format(*[marks] * lists), list(part) * lists).fetchall()

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def writer(self, wait_seconds: float = 30.0) -> Iterator[IndexWriter]:
        """Hold the write lock for one ingest; the changes become visible at ``IndexWriter.commit()``."""
        if self.read_only:
            raise IndexReadOnly(f"index {self.dir} is read-only: ingest into a writable copy of it")
        with write_lock(self.dir, wait_seconds):
            writer = IndexWriter(self)
            try:
                yield writer
            finally:
                writer.rollback()
