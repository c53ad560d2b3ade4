"""BM25 over the FTS5 lexical index: search, document frequencies, and FTS5's own tokenizer for the question and
candidate texts. ``LexicalReads`` is mixed into ``IndexStore``, whose connection and generation it reads.

Document frequencies stay exact across commits. FTS5 counts a term's documents by walking its whole posting list, at
a million chunks ~5-10 ms for a common word, so readers remember them. A commit changes few of them, and by amounts
it knows: each commit logs, per term, how many chunks gained it minus how many lost it (``lexical_log``). A reader
moving to another generation adds those changes to what it remembers instead of forgetting everything; when the log
cannot say (a commit too large to log, one by an older qabot, or more generations than are kept), it forgets
everything.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from qabot.store.schema import LEXICAL_LOG, TOKENIZER

log = logging.getLogger(__name__)

DF_CACHE_TERMS = 200_000  # remembered document frequencies at most (a few MB); cleared when full
LOG_GENERATIONS = 256  # generations whose changes are kept; a reader further behind starts afresh
# Chunks a commit may add or remove and still log its changes (tokenising them costs ~ what storing them did);
# a larger commit logs "unknown" and readers recount.
MAX_LOGGED_CHUNKS = 5_000


def match_any(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of ``terms``, each quoted so that no word is read as FTS5 syntax."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def term_counts(conn: sqlite3.Connection, texts: Sequence[str]) -> Counter[str]:
    """For each term of ``texts`` as the lexical index stems it, in how many of them it occurs."""
    if not texts:
        return Counter()
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.wtok USING fts5(body, tokenize={TOKENIZER})")
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.wtok_rows USING fts5vocab(temp, wtok, 'row')")
    conn.executemany("INSERT INTO temp.wtok(body) VALUES (?)", [(t,) for t in texts])
    counts = Counter({r[0]: int(r[1]) for r in conn.execute("SELECT term, doc FROM temp.wtok_rows")})
    conn.execute("DELETE FROM temp.wtok")
    return counts


def log_changes(
    conn: sqlite3.Connection, generation: int, added: Sequence[str] | None, removed: Sequence[str] | None
) -> None:
    """Record, inside the commit of ``generation``, how its added and removed chunk texts shift each term's
    document frequency (``None``: not known, readers recount)."""
    conn.execute(LEXICAL_LOG)
    delta: str | None = None
    if added is not None and removed is not None:
        shift = term_counts(conn, added)
        shift.subtract(term_counts(conn, removed))
        delta = json.dumps({t: d for t, d in sorted(shift.items()) if d})
    conn.execute("INSERT OR REPLACE INTO lexical_log(generation, delta) VALUES (?, ?)", (generation, delta))
    conn.execute("DELETE FROM lexical_log WHERE generation <= ?", (generation - LOG_GENERATIONS,))


def changes_between(conn: sqlite3.Connection, low: int, high: int) -> dict[str, int] | None:
    """How document frequencies moved from generation ``low`` to ``high`` (either order); None if not logged."""
    lo, hi = sorted((low, high))
    if lo < 0 or hi - lo > LOG_GENERATIONS:
        return None
    # An index from before the log gains it at its first commit; until then (or for good, read-only) it has none,
    # and reading a missing table would be reported as damage.
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lexical_log'").fetchone() is None:
        return None
    rows = conn.execute("SELECT delta FROM lexical_log WHERE generation > ? AND generation <= ?", (lo, hi)).fetchall()
    if len(rows) != hi - lo or any(r[0] is None for r in rows):
        return None
    sign = 1 if high >= low else -1
    total: Counter[str] = Counter()
    for (delta,) in rows:
        total.update({t: sign * d for t, d in json.loads(delta).items()})
    return dict(total)


class DocumentFrequencies:
    """One reader's remembered document frequencies, for the generation it last saw, shifted along as it moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gen = -1
        self._df: dict[str, int] = {}
        self._n = 0

    def lookup(
        self,
        conn: sqlite3.Connection,
        gen: int,
        terms: Sequence[str],
        count_chunks: Callable[[], int],
    ) -> tuple[dict[str, int], int]:
        """``(df, n)`` for ``terms`` at generation ``gen``, exact; terms in no chunk left out of ``df``.

        ``conn`` must be in a read transaction at ``gen``: a count from a later commit remembered as one of ``gen``
        would be shifted by that commit again.
        """
        with self._lock:
            seen, full = self._gen, len(self._df) > DF_CACHE_TERMS
        if seen != gen or full:
            self._move(conn, seen, gen, count_chunks(), full)  # a full count at a million chunks takes milliseconds
        with self._lock:
            cached = {t: self._df[t] for t in terms if t in self._df} if self._gen == gen else {}
            n = self._n
        wanted = [t for t in dict.fromkeys(terms) if t not in cached]
        if wanted:
            marks = ",".join("?" * len(wanted))
            rows = conn.execute(f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", wanted).fetchall()
            found = {t: 0 for t in wanted} | {r[0]: int(r[1]) for r in rows}
            with self._lock:
                if self._gen == gen and DF_CACHE_TERMS >= 0:
                    self._df.update(found)
            cached.update(found)
        return {t: cached[t] for t in terms if cached.get(t)}, n

    def _move(self, conn: sqlite3.Connection, seen: int, gen: int, n: int, full: bool) -> None:
        shift = None if full else changes_between(conn, seen, gen)
        with self._lock:
            if self._gen == gen and not full:  # another thread moved it there meanwhile
                return
            if self._gen != seen:  # or elsewhere: start afresh rather than shift from the wrong place
                shift = None
            if shift is None:
                self._df = {}
            else:
                for term, d in shift.items():
                    if term in self._df:
                        self._df[term] += d
            self._gen, self._n = gen, n


class FtsAnalysis:
    """Texts analysed as the lexical index sees them, by FTS5's own tokenizer on this thread's connection (the
    index's, or an in-memory one for a store whose lexical index lives elsewhere)."""

    conn: sqlite3.Connection
    _local: threading.local

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
        # fetchall: one call for all rows, not one (error-translating) call a row; an answer reads thousands.
        for term, doc, _col, _off in conn.execute(
            "SELECT term, doc, col, offset FROM temp.qtok_vocab ORDER BY doc, offset"
        ).fetchall():
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
        ).fetchall():
            out[int(doc) - 1].add(term)
        conn.execute("DELETE FROM temp.qtok")
        return out


class LexicalReads(FtsAnalysis):
    """The lexical half of ``IndexStore``'s reads."""

    def __init__(self) -> None:
        # FTS5 counts document frequencies by walking a term's whole posting list, which at a million chunks costs
        # more than the rest of an answer; the same words recur in questions, so keep them, exact across commits.
        self._df = DocumentFrequencies()

    if TYPE_CHECKING:  # IndexStore's

        @property
        def generation(self) -> int: ...

        def count_chunks(self) -> int: ...

        def snapshot(self) -> contextlib.AbstractContextManager[None]: ...

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
        """How many chunks contain each (stemmed) term, and the number of chunks (remembered across generations)."""
        with self.snapshot():  # the generation and the counts from one commit
            return self._df.lookup(self.conn, self.generation, terms, self.count_chunks)
