"""Writing an index folder: ``IndexWriter``, whose changes land in one transaction (the lock: ``locking``)."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import faiss
import numpy as np

from qabot.models import Article
from qabot.store.api import NewChunk
from qabot.store.layout import DB
from qabot.store.lexical import MAX_LOGGED_CHUNKS, log_changes, match_any
from qabot.store.schema import VECTOR_REFERENCES, batches, connect
from qabot.store.vectors import fits, is_graph, tuned

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qabot.store.index import IndexStore  # only for types: IndexStore.writer() imports this module

log = logging.getLogger(__name__)


class IndexWriter:
    """Changes to one index, applied in a single transaction by ``commit()``.

    Vectors are saved as they are computed (``save_vectors`` commits on its own): they are invisible until
    chunks reference them, and a re-run after a crash finds them instead of embedding again.
    """

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._conn = connect(store.dir / DB)
        self._in_tx = False
        self._removed_chunks: list[int] = []
        self._added_chunks: list[tuple[int, str]] = []
        self._touched_stories: set[str] = set()
        self._unused_candidates: set[str] = set()  # vector hashes this transaction's removals stopped using
        # Chunk texts added and removed, for the document-frequency log; None once too many to log.
        self._lexical: tuple[list[str], list[str]] | None = ([], [])

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
        story = self._conn.execute("SELECT coalesce(story, id) FROM articles WHERE id = ?", (article_id,)).fetchone()
        if story:  # its story may fall apart without it: ``stories.grouping.regroup`` looks again before the commit
            self._touched_stories.add(story[0])
        rows = self._conn.execute("SELECT id, vhash FROM chunks WHERE article_id = ?", (article_id,)).fetchall()
        ids = [r[0] for r in rows]
        self._removed_chunks.extend(ids)
        self._unused_candidates.update(r[1] for r in rows)
        self._unused_candidates.update(
            r[0] for r in self._conn.execute("SELECT vhash FROM sentences WHERE article_id = ?", (article_id,))
        )
        for part in batches(ids):
            if self._note_lexical(removed=len(part)):
                marks = ",".join("?" * len(part))
                bodies = self._conn.execute(f"SELECT body FROM chunks_fts WHERE rowid IN ({marks})", part)
                self._lexical[1].extend(r[0] for r in bodies)  # type: ignore[index]
            self._conn.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({','.join('?' * len(part))})", part)
        self._conn.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        self._conn.execute("DELETE FROM sentences WHERE article_id = ?", (article_id,))
        cur = self._conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return cur.rowcount > 0

    def remove_published_before(self, day: str) -> list[str]:
        """Delete every article published before ``day`` (an ISO date; undated ones stay); their ids."""
        self._begin()
        old = [r[0] for r in self._conn.execute("SELECT id FROM articles WHERE published < ?", (day,))]
        for article_id in old:
            self.remove_article(article_id)
        return old

    def put_article(
        self,
        article: Article,
        sentences: Sequence[tuple[int, int, str]],
        chunks: Sequence[NewChunk],
        story: str | None = None,
    ) -> None:
        """Insert (or replace) an article with its sentences ``(start, end, vhash)`` and chunks.

        ``story`` groups copies of one story (wire copies, re-publications): see ``qabot.stories.grouping``.
        """
        self.remove_article(article.id)
        self._conn.execute(
            "INSERT INTO articles(id, title, text, url, published, source, author, hash, added, story, origin) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                article.id, article.title, article.text, article.url, article.published,
                article.source, article.author, article.content_hash, time.time(), story or article.id,
                article.origin,
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
            if self._note_lexical(added=1):
                self._lexical[0].append(c.lexical_text)  # type: ignore[index]

    def set_origin(self, article_id: str, origin: str | None) -> None:
        """Record the file an unchanged article is read from now (it moved, or came before origins were kept)."""
        self._begin()
        self._conn.execute("UPDATE articles SET origin = ? WHERE id = ?", (origin, article_id))

    def drop_orphans(self) -> int:
        """Delete chunks and sentences whose article is gone and lexical rows whose chunk is gone; how many rows."""
        self._begin()
        orphan = "FROM chunks WHERE article_id NOT IN (SELECT id FROM articles)"
        rows = self._conn.execute(f"SELECT id, vhash {orphan}").fetchall()
        self._removed_chunks.extend(r[0] for r in rows)
        self._unused_candidates.update(r[1] for r in rows)
        dropped = self._conn.execute(f"DELETE {orphan}").rowcount
        orphan = "FROM sentences WHERE article_id NOT IN (SELECT id FROM articles)"
        self._unused_candidates.update(r[0] for r in self._conn.execute(f"SELECT vhash {orphan}"))
        dropped += self._conn.execute(f"DELETE {orphan}").rowcount
        dropped += self._conn.execute("DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)").rowcount
        if dropped:
            self._lexical = None  # lexical rows went without their texts: readers recount
        return dropped

    def _note_lexical(self, added: int = 0, removed: int = 0) -> bool:
        """Whether the texts of ``added`` + ``removed`` more chunks are still to be logged."""
        if self._lexical is not None and len(self._lexical[0]) + len(self._lexical[1]) + added + removed > (
            MAX_LOGGED_CHUNKS
        ):
            self._lexical = None
        return self._lexical is not None

    def similar_articles(self, terms: Sequence[str], k: int = 10) -> list[tuple[str, str, str]]:
        """(id, text, story) of articles whose chunks best match ``terms``, this transaction's own included."""
        if not terms:
            return []
        match = match_any(terms)
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

    def merge_stories(self, stories: set[str], into: str) -> None:
        """Give every article of ``stories`` the story id ``into`` (an article linked them)."""
        if not stories:
            return
        self._begin()
        for part in batches(sorted(stories)):
            marks = ",".join("?" * len(part))
            self._conn.execute(
                f"UPDATE articles SET story = ? WHERE story IN ({marks}) OR (story IS NULL AND id IN ({marks}))",
                [into, *part, *part],
            )
        if self._touched_stories & stories:
            self._touched_stories.add(into)

    def touched_stories(self) -> set[str]:
        """Stories that lost or replaced an article in this transaction."""
        return set(self._touched_stories)

    def story_articles(self, story: str) -> list[tuple[str, str]]:
        """(id, text) of the articles of ``story``, this transaction's own included, by id."""
        rows = self._conn.execute(
            "SELECT id, text FROM articles WHERE story = ? OR (story IS NULL AND id = ?) ORDER BY id", (story, story)
        )
        return [(r[0], r[1]) for r in rows]

    def set_story(self, article_ids: Sequence[str], story: str) -> None:
        """Give the articles ``article_ids`` the story id ``story``."""
        self._begin()
        for part in batches(list(article_ids)):
            marks = ",".join("?" * len(part))
            self._conn.execute(f"UPDATE articles SET story = ? WHERE id IN ({marks})", [story, *part])

    def commit(self) -> int:
        """Make every change visible at once and write the new generation's vector cache; returns it."""
        if not self._in_tx:
            return self.store.generation
        gen = int(self._conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0]) + 1
        self._conn.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(gen),))
        self._sweep_vectors()
        log_changes(self._conn, gen, *(self._lexical or (None, None)))
        prev_index, prev_gen = self._previous_index()
        self._conn.execute("COMMIT")
        self._in_tx = False
        index = self._next_index(prev_index, prev_gen, gen)
        with contextlib.suppress(OSError):
            self.store._write_faiss(index, gen)
        self._removed_chunks.clear()
        self._added_chunks.clear()
        self._touched_stories.clear()
        self._unused_candidates.clear()
        self._lexical = ([], [])
        return gen

    def _sweep_vectors(self) -> None:
        # Vectors nobody uses any more (removed or replaced articles, a killed run's) go with this commit. Only two
        # kinds can be such: those this transaction's removals used, and those saved since the last sweep (rowids
        # above its mark); each is looked up in the vhash indexes instead of comparing every vector with every row.
        for statement in VECTOR_REFERENCES:
            self._conn.execute(statement)
        unused = (
            "NOT EXISTS (SELECT 1 FROM chunks WHERE chunks.vhash = vectors.hash) "
            "AND NOT EXISTS (SELECT 1 FROM sentences WHERE sentences.vhash = vectors.hash)"
        )
        mark = self._conn.execute("SELECT value FROM meta WHERE key = 'swept'").fetchone()
        # No mark: an index from before it, whose every vector is looked at once.
        self._conn.execute(f"DELETE FROM vectors WHERE rowid > ? AND {unused}", (int(mark[0]) if mark else 0,))
        for part in batches(sorted(self._unused_candidates)):
            self._conn.execute(f"DELETE FROM vectors WHERE hash IN ({','.join('?' * len(part))}) AND {unused}", part)
        # Rowids only grow past the largest one left, so everything saved from now on lies above the mark.
        top = self._conn.execute("SELECT coalesce(max(rowid), 0) FROM vectors").fetchone()[0]
        self._conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('swept', ?)", (str(top),))

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
        # removed chunks (search skips them) until fits says it is time to rebuild.
        if self._removed_chunks and not is_graph(prev):
            prev.remove_ids(np.asarray(self._removed_chunks, dtype=np.int64))
        if self._added_chunks:
            vecs = self.store.vectors_for(h for _, h in self._added_chunks)
            ids = np.asarray([i for i, _ in self._added_chunks], dtype=np.int64)
            mat = np.stack([vecs[h] for _, h in self._added_chunks]).astype(np.float32)
            prev.add_with_ids(mat, ids)
        chunks = self.store.count_chunks()
        if not fits(prev, chunks):
            if prev.ntotal == chunks or is_graph(prev):
                log.info("rebuilding the vector index of generation %d for %d chunks", gen, chunks)
            else:
                log.warning("incremental vector update of generation %d disagrees with the metadata; rebuilding", gen)
            return self.store.build_vector_index()
        return tuned(prev)

    def rollback(self) -> None:
        """Discard uncommitted article changes (vectors already saved stay, for a re-run)."""
        if self._in_tx:
            self._conn.execute("ROLLBACK")
            self._in_tx = False
        self._conn.close()
