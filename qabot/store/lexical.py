"""BM25 over the FTS5 lexical index: search, document frequencies (remembered per generation), and FTS5's own
tokenizer for the question and candidate texts. Mixed into ``IndexStore``, whose connection and generation it reads.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qabot.store.schema import TOKENIZER

log = logging.getLogger(__name__)

DF_CACHE_TERMS = 200_000  # remembered document frequencies at most (a few MB); cleared when full


def match_any(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of ``terms``, each quoted so that no word is read as FTS5 syntax."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class LexicalReads:
    """The lexical half of ``IndexStore``'s reads."""

    conn: sqlite3.Connection
    _local: threading.local

    def __init__(self) -> None:
        # Document frequencies of one generation: FTS5 counts them by walking a term's whole posting list, which at a
        # million chunks costs more than the rest of an answer; the same words recur in questions, so keep them.
        self._df_lock = threading.Lock()
        self._df_gen = -1
        self._df: dict[str, int] = {}
        self._n_chunks = 0

    if TYPE_CHECKING:  # IndexStore's

        @property
        def generation(self) -> int: ...

        def count_chunks(self) -> int: ...

    def search_lexical(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Chunk ids and BM25 scores (higher is better) for a query of OR-ed terms."""
        if not terms:
            return []
        match = match_any(terms)
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
            fresh = gen == self._df_gen and len(self._df) <= DF_CACHE_TERMS
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
            conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.qtok USING fts5(body, tokenize={TOKENIZER})")
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
