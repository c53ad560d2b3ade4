"""The index on disk: SQLite for metadata, text and vectors; FAISS files as rebuildable caches. The only faiss importer.

Layout of an index directory::

    manifest.json        model, dimension, schema: refuses to open with another model
    qabot.sqlite         articles, chunks, sentences, vectors (the source of truth), FTS5 lexical index
    chunks.g<N>.faiss    chunk vectors of generation N (a cache: rebuilt from SQLite when missing or stale)
    .write.lock          held by the one process writing

Crash safety: every ingest is one SQLite transaction that bumps ``generation``; the FAISS file for a generation is
written to a temporary file and ``os.replace``d after the commit. A kill at any moment leaves either the old
generation (transaction rolled back) or the new one with a missing cache, which the next open rebuilds.
Vectors are content-addressed (hash of the embedded text), so a re-run after a kill reuses what was embedded.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from qabot.errors import IndexCorrupt, IndexLocked, IndexMissing, ModelMismatch
from qabot.models import Article, IndexStats

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
DB = "qabot.sqlite"
LOCK = ".write.lock"

_TOKENIZER = "'porter unicode61 remove_diacritics 2'"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, url TEXT, published TEXT,
    source TEXT, author TEXT, hash TEXT NOT NULL, added REAL NOT NULL, story TEXT);
CREATE INDEX IF NOT EXISTS articles_url ON articles(url);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story);
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
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, tokenize={_TOKENIZER});
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
"""


@dataclass(frozen=True)
class Manifest:
    """What an index was built with; an index refuses to open with a different model or dimension."""

    model: str
    dimension: int
    schema: int = SCHEMA_VERSION


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as stored: which article, where in its text, and which sentences it spans."""

    id: int
    article_id: str
    ordinal: int
    start: int
    end: int
    first_sentence: int
    last_sentence: int


@dataclass(frozen=True)
class SentenceRow:
    """One sentence span of an article, with its vector."""

    article_id: str
    ordinal: int
    start: int
    end: int
    vector: NDArray[np.float32]


@dataclass(frozen=True)
class NewChunk:
    """A chunk to write: offsets, sentence range, and the hash of the vector already saved for it."""

    ordinal: int
    start: int
    end: int
    first_sentence: int
    last_sentence: int
    vhash: str
    lexical_text: str


def _atomic_write(path: Path, data: bytes) -> None:
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


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


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
    _atomic_write(index_dir / MANIFEST, json.dumps(manifest.__dict__, indent=2).encode())


def _holds_data(db: Path) -> bool:
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


# Exact search costs ~11 ms per question at 100k chunks and ~90 ms at 1M on one core; an HNSW graph answers in
# ~1-2 ms (docs/performance.md), but takes ~35 s per 100k vectors to build, so small indexes stay exact.
HNSW_MIN_CHUNKS = 50_000
HNSW_NEIGHBOURS = 32
# Candidates the graph search keeps: 256 costs ~1 ms at 1M chunks and lifted recall@10 against exact search from
# 0.81 (at 128) to 0.89 on the benchmark's clustered synthetic vectors; real embeddings do better (0.997+ at 128).
HNSW_EF_SEARCH = 256
# A graph cannot delete: removed chunks stay in it, skipped at search, until they are this share of it.
MAX_STALE_SHARE = 0.1


def new_vector_index(dimension: int, size: int) -> faiss.Index:
    """An empty id-mapped index for about ``size`` unit vectors: exact while small, an HNSW graph when large."""
    if size < HNSW_MIN_CHUNKS:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    graph = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    return _tuned(faiss.IndexIDMap2(graph))


def is_graph(index: faiss.Index) -> bool:
    """True for an HNSW index (approximate, append-only), False for exact search."""
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return isinstance(inner, faiss.IndexHNSW)


def _tuned(index: faiss.Index) -> faiss.Index:
    # efSearch is not kept in the saved file: set it on every load.
    if is_graph(index):
        faiss.downcast_index(index.index).hnsw.efSearch = HNSW_EF_SEARCH
    return index


def _fits(index: faiss.Index, chunks: int) -> bool:
    """Whether ``index`` may serve ``chunks`` live chunks as it is, or must be rebuilt."""
    if not is_graph(index):
        return index.ntotal == chunks and chunks < HNSW_MIN_CHUNKS
    return chunks <= index.ntotal and index.ntotal - chunks <= MAX_STALE_SHARE * index.ntotal


_one_thread = False


def _search_on_one_thread() -> None:
    # One question is one query: FAISS's OpenMP threads only add start-up and spinning, and on 2 cores they were
    # 2-3x slower than one thread while the embedder or another process used the other core.
    global _one_thread
    if not _one_thread:
        faiss.omp_set_num_threads(1)
        _one_thread = True


_DF_CACHE_TERMS = 200_000  # remembered document frequencies at most (a few MB); cleared when full


class IndexStore:
    """One index directory opened for reading, and for writing through ``writer()``.

    Thread-safe for readers: each thread gets its own SQLite connection; the FAISS cache is swapped atomically.
    """

    def __init__(self, index_dir: Path, manifest: Manifest) -> None:
        self.dir = index_dir
        self.manifest = manifest
        self._local = threading.local()
        self._faiss: faiss.Index | None = None
        self._faiss_gen = -1
        self._swap = threading.Lock()
        # Document frequencies of one generation: FTS5 counts them by walking a term's whole posting list, which at a
        # million chunks costs more than the rest of an answer; the same words recur in questions, so keep them.
        self._df_lock = threading.Lock()
        self._df_gen = -1
        self._df: dict[str, int] = {}
        self._n_chunks = 0

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, index_dir: Path, *, model: str, dimension: int | None = None, create: bool = False) -> IndexStore:
        """Open (or with ``create`` make) the index at ``index_dir`` for ``model``; refuse another model's index."""
        index_dir = Path(index_dir)
        manifest = read_manifest(index_dir)
        if manifest is None and (index_dir / DB).exists() and _holds_data(index_dir / DB):
            raise IndexCorrupt(f"index {index_dir} has {DB} but no {MANIFEST}: run `qabot repair` to restore it")
        if manifest is None:
            if not create:
                raise IndexMissing(f"no index at {index_dir}: run `qabot ingest PATH` first")
            if dimension is None:
                raise ValueError("dimension is needed to create an index")
            index_dir.mkdir(parents=True, exist_ok=True)
            manifest = Manifest(model=model, dimension=dimension)
            conn = _connect(index_dir / DB)
            conn.executescript(_SCHEMA)
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
        store = cls(index_dir, manifest)
        store._check_db()
        store._upgrade()
        return store

    def _check_db(self) -> None:
        try:
            self.conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        except sqlite3.DatabaseError as err:
            raise IndexCorrupt(f"{self.dir / DB} is damaged ({err}); run `qabot repair`") from err

    def _upgrade(self) -> None:
        # Indexes built before stories were grouped lack articles.story; adding a column is one atomic statement.
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(articles)")}
        if "story" in columns:
            return
        try:
            self.conn.execute("ALTER TABLE articles ADD COLUMN story TEXT")
            self.conn.execute("CREATE INDEX IF NOT EXISTS articles_story ON articles(story)")
        except sqlite3.OperationalError as err:
            raise IndexCorrupt(
                f"index {self.dir} is from an older qabot and could not be upgraded ({err}): "
                "open it once with write access, or re-ingest with `qabot ingest PATH`"
            ) from err
        log.info("upgraded %s: added the story column", self.dir)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection to the metadata database."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.dir / DB)
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
        return self.dir / f"chunks.g{gen}.faiss"

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

    def _load_or_build(self, gen: int) -> faiss.Index:
        path = self._faiss_path(gen)
        if path.exists():
            try:
                index = faiss.read_index(str(path))
                chunks = self.count_chunks()
                if index.d == self.manifest.dimension and _fits(index, chunks):
                    return _tuned(index)
                if index.d == self.manifest.dimension and index.ntotal == chunks:
                    log.info("vector cache %s: rebuilding it as an HNSW graph for %d chunks", path.name, chunks)
                else:
                    log.warning("vector cache %s is out of step with the metadata; rebuilding it", path.name)
            except RuntimeError:
                log.warning("vector cache %s is unreadable; rebuilding it", path.name)
        index = self.build_vector_index()
        with contextlib.suppress(OSError):  # a read-only index directory still answers from memory
            self._write_faiss(index, gen)
        return index

    def build_vector_index(self) -> faiss.Index:
        """A fresh FAISS index of every chunk vector in the database (see ``new_vector_index``)."""
        d = self.manifest.dimension
        index = new_vector_index(d, self.count_chunks())
        cur = self.conn.execute("SELECT c.id, v.vector FROM chunks c JOIN vectors v ON v.hash = c.vhash ORDER BY c.id")
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
            f"{no_vector} chunks have no stored vector" if no_vector else "",
            f"{no_article} chunks have no article" if no_article else "",
            f"{lexical_extra} chunk rows are missing" if lexical_extra > 0 else "",
            f"{-lexical_extra} chunks are missing from the lexical index" if lexical_extra < 0 else "",
        ]
        if any(problems):
            raise IndexCorrupt(
                f"index {self.dir} is out of step ({'; '.join(p for p in problems if p)}): run `qabot repair`"
            )

    def _write_faiss(self, index: faiss.Index, gen: int) -> None:
        data = faiss.serialize_index(index).tobytes()
        _atomic_write(self._faiss_path(gen), data)
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
        _search_on_one_thread()
        graph = is_graph(index)
        # A graph may still hold removed chunks (often old copies of an updated article, close to the new one):
        # fetch twice as many and keep the live ones.
        fetch = min(2 * k if graph else k, index.ntotal)
        scores, ids = index.search(query.reshape(1, -1).astype(np.float32), fetch)
        found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        if graph:
            marks = ",".join("?" * len(found))
            rows = self.conn.execute(f"SELECT id FROM chunks WHERE id IN ({marks})", [i for i, _ in found])
            live = {r[0] for r in rows}
            found = [(i, s) for i, s in found if i in live]
        return found[:k]

    # ------------------------------------------------------------------ lexical
    def search_lexical(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Chunk ids and BM25 scores (higher is better) for a query of OR-ed terms."""
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        try:
            rows = self.conn.execute(
                "SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY bm25(chunks_fts) LIMIT ?",
                (match, k),
            ).fetchall()
        except sqlite3.OperationalError as err:
            log.warning("lexical search failed for %r: %s", match, err)
            return []
        return [(int(r[0]), float(r[1])) for r in rows]

    def document_frequencies(self, terms: Sequence[str]) -> tuple[dict[str, int], int]:
        """How many chunks contain each (stemmed) term, and the number of chunks (remembered per generation)."""
        gen = self.generation
        with self._df_lock:
            fresh = gen == self._df_gen and len(self._df) <= _DF_CACHE_TERMS
            cached = {t: self._df[t] for t in terms if t in self._df} if fresh else {}
            n = self._n_chunks
        if not fresh:
            n = self.count_chunks()  # outside the lock: a full count at a million chunks takes milliseconds
            with self._df_lock:
                self._df, self._df_gen, self._n_chunks = {}, gen, n
        wanted = [t for t in dict.fromkeys(terms) if t not in cached]
        if wanted:
            marks = ",".join("?" * len(wanted))
            rows = self.conn.execute(f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", wanted).fetchall()
            found = {t: 0 for t in wanted} | {r[0]: int(r[1]) for r in rows}
            with self._df_lock:
                if self._df_gen == gen:
                    self._df.update(found)
            cached.update(found)
        return {t: cached[t] for t in terms if cached.get(t)}, n

    def analyze(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text as the lexical index sees it: lower-cased, stemmed terms in order (FTS5's own tokenizer)."""
        conn = self.conn
        if not getattr(self._local, "analyzer", False):
            conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.qtok USING fts5(body, tokenize={_TOKENIZER})")
            conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.qtok_vocab USING fts5vocab(temp, qtok, 'instance')")
            self._local.analyzer = True
        conn.execute("DELETE FROM temp.qtok")
        conn.executemany("INSERT INTO temp.qtok(rowid, body) VALUES (?, ?)", [(i + 1, t) for i, t in enumerate(texts)])
        out: list[list[str]] = [[] for _ in texts]
        for term, doc, _col, _off in conn.execute(
            "SELECT term, doc, col, offset FROM temp.qtok_vocab ORDER BY doc, offset"
        ):
            out[int(doc) - 1].append(term)
        conn.execute("DELETE FROM temp.qtok")
        return out

    def terms_present(self, texts: Sequence[str], terms: Sequence[str]) -> list[set[str]]:
        """For each text, which of ``terms`` (already analysed) it holds: ``analyze`` for a few wanted terms only,
        without pulling every token of long articles into Python."""
        wanted = list(dict.fromkeys(terms))
        out: list[set[str]] = [set() for _ in texts]
        if not wanted or not texts:
            return out
        self.analyze([])  # creates the temporary analyser tables on this connection
        conn = self.conn
        conn.executemany("INSERT INTO temp.qtok(rowid, body) VALUES (?, ?)", [(i + 1, t) for i, t in enumerate(texts)])
        marks = ",".join("?" * len(wanted))
        for term, doc in conn.execute(
            f"SELECT DISTINCT term, doc FROM temp.qtok_vocab WHERE term IN ({marks})", wanted
        ):
            out[int(doc) - 1].add(term)
        conn.execute("DELETE FROM temp.qtok")
        return out

    # ------------------------------------------------------------------ metadata reads
    def count_chunks(self) -> int:
        """Number of chunks in the index."""
        return int(self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        """Chunk rows by id; ids deleted since the vector cache was built are simply absent."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        # A chunk whose article row is gone (a damaged index, until `qabot repair`) cannot be quoted: leave it out.
        rows = self.conn.execute(
            f'SELECT id, article_id, ordinal, start, "end", first_sentence, last_sentence FROM chunks '
            f"WHERE id IN ({marks}) AND article_id IN (SELECT id FROM articles)",
            ids,
        ).fetchall()
        return {r[0]: ChunkRow(*r) for r in rows}

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
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT id, title, text, url, published, source, author FROM articles WHERE id IN ({marks})", ids
        ).fetchall()
        return {r[0]: Article(*r) for r in rows}

    def stories(self, ids: Iterable[str]) -> dict[str, str]:
        """Article id → story id (copies of one story share it)."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(f"SELECT id, coalesce(story, id) FROM articles WHERE id IN ({marks})", ids)
        return {r[0]: r[1] for r in rows}

    def story_members(self, story_ids: Iterable[str]) -> dict[str, list[Article]]:
        """Story id → its articles (without text), earliest published first."""
        story_ids = list(dict.fromkeys(story_ids))
        if not story_ids:
            return {}
        marks = ",".join("?" * len(story_ids))
        rows = self.conn.execute(
            # Two indexed lookups instead of one expression, which no index serves (a full scan per answer).
            f"SELECT coalesce(story, id), id, title, '', url, published, source, author FROM articles "
            f"WHERE story IN ({marks}) OR (story IS NULL AND id IN ({marks})) "
            "ORDER BY published IS NULL, published, added",
            story_ids + story_ids,
        ).fetchall()
        out: dict[str, list[Article]] = {}
        for r in rows:
            out.setdefault(r[0], []).append(Article(*r[1:]))
        return out

    def article_ids(self) -> list[str]:
        """Every article id, sorted."""
        return [r[0] for r in self.conn.execute("SELECT id FROM articles ORDER BY id")]

    def find_article(self, ref: str) -> str | None:
        """The id of the article whose id or URL is ``ref``."""
        row = self.conn.execute("SELECT id FROM articles WHERE id = ? OR url = ? LIMIT 1", (ref, ref)).fetchone()
        return row[0] if row else None

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

    def vectors_for(self, hashes: Iterable[str]) -> dict[str, NDArray[np.float32]]:
        """Vectors already stored for these text hashes (so the same text is never embedded twice)."""
        found: dict[str, NDArray[np.float32]] = {}
        hashes = list(dict.fromkeys(hashes))
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            marks = ",".join("?" * len(part))
            for h, blob in self.conn.execute(f"SELECT hash, vector FROM vectors WHERE hash IN ({marks})", part):
                found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def writer(self, wait_seconds: float = 30.0) -> Iterator[IndexWriter]:
        """Hold the write lock for one ingest; the changes become visible at ``IndexWriter.commit()``."""
        with write_lock(self.dir, wait_seconds):
            writer = IndexWriter(self)
            try:
                yield writer
            finally:
                writer.rollback()


@contextlib.contextmanager
def write_lock(index_dir: Path, wait_seconds: float = 30.0) -> Iterator[None]:
    """Hold the lock that lets one process at a time write to ``index_dir``; IndexLocked after ``wait_seconds``."""
    fh = open(index_dir / LOCK, "a+")  # noqa: SIM115 - held for the whole with-block
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"another ingest is writing to {index_dir}; try again when it has finished"
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        fh.close()  # releases the flock


class IndexWriter:
    """Changes to one index, applied in a single transaction by ``commit()``.

    Vectors are saved as they are computed (``save_vectors`` commits on its own): they are invisible until
    chunks reference them, and a re-run after a crash finds them instead of embedding again.
    """

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._conn = _connect(store.dir / DB)
        self._in_tx = False
        self._removed_chunks: list[int] = []
        self._added_chunks: list[tuple[int, str]] = []

    def save_vectors(self, vectors: dict[str, NDArray[np.float32]]) -> None:
        """Store vectors by text hash, committed at once (outside the article transaction)."""
        if self._in_tx:
            raise RuntimeError("save vectors before changing articles")
        rows = [(h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()]
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR IGNORE INTO vectors(hash, vector) VALUES (?, ?)", rows)

    def _begin(self) -> None:
        if not self._in_tx:
            self._conn.execute("BEGIN IMMEDIATE")
            self._in_tx = True

    def remove_article(self, article_id: str) -> bool:
        """Delete an article with its chunks and sentences; True if it existed."""
        self._begin()
        ids = [r[0] for r in self._conn.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
        self._removed_chunks.extend(ids)
        if ids:
            marks = ",".join("?" * len(ids))
            self._conn.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", ids)
        self._conn.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        self._conn.execute("DELETE FROM sentences WHERE article_id = ?", (article_id,))
        cur = self._conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return cur.rowcount > 0

    def put_article(
        self,
        article: Article,
        sentences: Sequence[tuple[int, int, str]],
        chunks: Sequence[NewChunk],
        story: str | None = None,
    ) -> None:
        """Insert (or replace) an article with its sentences ``(start, end, vhash)`` and chunks.

        ``story`` groups copies of one story (wire copies, re-publications): the id of its first-seen article.
        """
        self.remove_article(article.id)
        self._conn.execute(
            "INSERT INTO articles(id, title, text, url, published, source, author, hash, added, story) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                article.id, article.title, article.text, article.url, article.published,
                article.source, article.author, article.content_hash, time.time(), story or article.id,
            ),
        )  # fmt: skip
        self._conn.executemany(
            'INSERT INTO sentences(article_id, ordinal, start, "end", vhash) VALUES (?,?,?,?,?)',
            [(article.id, i, s, e, h) for i, (s, e, h) in enumerate(sentences)],
        )
        for c in chunks:
            cur = self._conn.execute(
                'INSERT INTO chunks(article_id, ordinal, start, "end", first_sentence, last_sentence, vhash) '
                "VALUES (?,?,?,?,?,?,?)",
                (article.id, c.ordinal, c.start, c.end, c.first_sentence, c.last_sentence, c.vhash),
            )
            chunk_id = int(cur.lastrowid or 0)
            self._conn.execute("INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)", (chunk_id, c.lexical_text))
            self._added_chunks.append((chunk_id, c.vhash))

    def drop_orphans(self) -> int:
        """Delete chunks and sentences whose article is gone and lexical rows whose chunk is gone; how many rows."""
        self._begin()
        orphan = "FROM chunks WHERE article_id NOT IN (SELECT id FROM articles)"
        self._removed_chunks.extend(r[0] for r in self._conn.execute(f"SELECT id {orphan}"))
        dropped = self._conn.execute(f"DELETE {orphan}").rowcount
        cur = self._conn.execute("DELETE FROM sentences WHERE article_id NOT IN (SELECT id FROM articles)")
        dropped += cur.rowcount
        dropped += self._conn.execute("DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)").rowcount
        return dropped

    def similar_articles(self, terms: Sequence[str], k: int = 10) -> list[tuple[str, str, str]]:
        """(id, text, story) of articles whose chunks best match ``terms``, this transaction's own included."""
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        try:
            rows = self._conn.execute(
                "SELECT DISTINCT a.id, a.text, coalesce(a.story, a.id) FROM "
                "(SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?) f "
                "JOIN chunks c ON c.id = f.rowid JOIN articles a ON a.id = c.article_id",
                (match, k),
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [(r[0], r[1], r[2]) for r in rows]

    def commit(self) -> int:
        """Make every change visible at once and write the new generation's vector cache; returns it."""
        if not self._in_tx:
            return self.store.generation
        gen = int(self._conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0]) + 1
        self._conn.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(gen),))
        # Vectors nobody references any more (removed or replaced articles) are dropped with this commit.
        self._conn.execute(
            "DELETE FROM vectors WHERE hash NOT IN (SELECT vhash FROM chunks UNION SELECT vhash FROM sentences)"
        )
        prev_index, prev_gen = self._previous_index()
        self._conn.execute("COMMIT")
        self._in_tx = False
        index = self._next_index(prev_index, prev_gen, gen)
        with contextlib.suppress(OSError):
            self.store._write_faiss(index, gen)
        self._removed_chunks.clear()
        self._added_chunks.clear()
        return gen

    def _previous_index(self) -> tuple[faiss.Index | None, int]:
        gen = int(self._conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0]) - 1
        path = self.store._faiss_path(gen)
        if path.exists():
            with contextlib.suppress(RuntimeError):
                return faiss.read_index(str(path)), gen
        return None, gen

    def _next_index(self, prev: faiss.Index | None, prev_gen: int, gen: int) -> faiss.Index:
        if prev is None:
            return self.store.build_vector_index()
        # Apply just this transaction's removals and additions to the previous generation's vectors; a graph keeps
        # removed chunks (search skips them) until _fits says it is time to rebuild.
        if self._removed_chunks and not is_graph(prev):
            prev.remove_ids(np.asarray(self._removed_chunks, dtype=np.int64))
        if self._added_chunks:
            vecs = self.store.vectors_for(h for _, h in self._added_chunks)
            ids = np.asarray([i for i, _ in self._added_chunks], dtype=np.int64)
            mat = np.stack([vecs[h] for _, h in self._added_chunks]).astype(np.float32)
            prev.add_with_ids(mat, ids)
        chunks = self.store.count_chunks()
        if not _fits(prev, chunks):
            if prev.ntotal == chunks or is_graph(prev):
                log.info("rebuilding the vector index of generation %d for %d chunks", gen, chunks)
            else:
                log.warning("incremental vector update of generation %d disagrees with the metadata; rebuilding", gen)
            return self.store.build_vector_index()
        return _tuned(prev)

    def rollback(self) -> None:
        """Discard uncommitted article changes (vectors already saved stay, for a re-run)."""
        if self._in_tx:
            self._conn.execute("ROLLBACK")
            self._in_tx = False
        self._conn.close()


__all__ = [
    "ChunkRow", "IndexStore", "IndexWriter", "Manifest", "NewChunk", "SentenceRow", "read_manifest", "write_lock",
    "write_manifest",
]  # fmt: skip
