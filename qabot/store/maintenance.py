"""What ``qabot repair`` asks of an index, in the store's terms: SQLite's own integrity check, which rows are out
of step, which vectors are missing, the evidence of which model made the vectors, and salvage from a damaged file.

Damaged files are read with plain sqlite3 connections on purpose: salvage reads row by row past the errors that
every other read turns into ``IndexCorrupt``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import struct
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from qabot.models import Article
from qabot.store.index import IndexStore
from qabot.store.layout import DB, MANIFEST
from qabot.store.schema import batches, connect


@dataclass(frozen=True)
class MissingVector:
    """A chunk or sentence whose vector row is gone: where its text is, and the hash the vector must be saved as."""

    article_id: str
    start: int
    end: int
    vhash: str
    is_chunk: bool


@dataclass(frozen=True)
class VectorEvidence:
    """One stored sentence with its vector: which model made the vectors shows in the hash of its text."""

    text: str
    vhash: str
    dimension: int


def integrity_problem(db: Path) -> str | None:
    """What SQLite finds wrong with the database file, in one line, or None when it is sound."""
    try:
        conn = sqlite3.connect(db, timeout=30)
        try:
            found = [r[0] for r in conn.execute("PRAGMA integrity_check(3)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        return str(err)
    if found == ["ok"]:
        return None
    said = " ".join(" ".join(found).replace("*** in database main ***", "").split())  # one line
    return said if len(said) <= 120 else said[:119] + "…"


def drop_vector_caches(index_dir: Path) -> None:
    """Delete every generation's FAISS cache (the next open rebuilds it from SQLite)."""
    for cache in index_dir.glob("chunks.g*.faiss"):
        with contextlib.suppress(OSError):
            cache.unlink()


def vector_evidence(db: Path) -> VectorEvidence | None:
    """A stored sentence and its vector's hash and size, or None when nothing was embedded yet."""
    conn = connect(db)
    try:
        row = conn.execute(
            'SELECT a.text, s.start, s."end", s.vhash, length(v.vector) FROM sentences s '
            "JOIN articles a ON a.id = s.article_id JOIN vectors v ON v.hash = s.vhash LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    text, start, end, vhash, size = row
    return VectorEvidence(text[start:end], vhash, size // 4)  # float32


def uncovered_articles(store: IndexStore) -> list[str]:
    """Ids of articles whose sentence or chunk rows no longer cover their text in order."""
    conn = store.conn
    sentences: dict[str, list[int]] = defaultdict(list)
    for article_id, ordinal in conn.execute("SELECT article_id, ordinal FROM sentences ORDER BY article_id, ordinal"):
        sentences[article_id].append(ordinal)
    chunks: dict[str, list[tuple[int, int, int, int]]] = defaultdict(list)
    for row in conn.execute(
        "SELECT c.article_id, c.ordinal, c.first_sentence, c.last_sentence, f.rowid IS NOT NULL FROM chunks c "
        "LEFT JOIN chunks_fts f ON f.rowid = c.id ORDER BY c.article_id, c.ordinal"
    ):
        chunks[row[0]].append(row[1:])
    broken = []
    # The text left after the last stored sentence: only whitespace when nothing was lost from the end.
    for article_id, tail in conn.execute(
        'SELECT a.id, substr(a.text, coalesce((SELECT max("end") FROM sentences s WHERE s.article_id = a.id), 0) + 1) '
        "FROM articles a"
    ):
        ords, parts = sentences.get(article_id, []), chunks.get(article_id, [])
        in_order = ords == list(range(len(ords))) and [p[0] for p in parts] == list(range(len(parts)))
        covered = not ords or (
            bool(parts)
            and parts[0][1] == 0
            and parts[-1][2] == len(ords) - 1
            and all(b[1] <= a[2] + 1 for a, b in pairwise(parts))
        )
        if not (in_order and covered and all(p[3] for p in parts) and not tail.strip()):
            broken.append(article_id)
    return broken


def articles_lacking_vectors(store: IndexStore) -> list[str]:
    """Ids of the articles with a chunk or sentence whose vector row is gone, in id order."""
    return [
        r[0]
        for r in store.conn.execute(
            "SELECT article_id FROM chunks WHERE vhash NOT IN (SELECT hash FROM vectors) UNION "
            "SELECT article_id FROM sentences WHERE vhash NOT IN (SELECT hash FROM vectors) ORDER BY 1"
        )
    ]


def missing_vectors(store: IndexStore, article_ids: Sequence[str]) -> list[MissingVector]:
    """Every chunk and sentence of ``article_ids`` whose vector row is gone (in parts within the variable limit)."""
    rows = []
    for part in batches(article_ids):
        marks = ",".join("?" * len(part))
        rows += store.conn.execute(
            f'SELECT article_id, start, "end", vhash, 1 FROM chunks WHERE article_id IN ({marks}) '
            "AND vhash NOT IN (SELECT hash FROM vectors) "
            f'UNION ALL SELECT article_id, start, "end", vhash, 0 FROM sentences WHERE article_id IN ({marks}) '
            "AND vhash NOT IN (SELECT hash FROM vectors)",
            [*part, *part],
        ).fetchall()
    return [MissingVector(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]


# ---------------------------------------------------------------------- a damaged database
def readable_articles(db: Path) -> tuple[list[Article], int]:
    """Every article row that can still be read from a damaged database, and how many it seems to have held."""
    with tempfile.TemporaryDirectory(prefix="qabot-salvage-") as tmp:
        copy = Path(tmp) / DB
        shutil.copyfile(db, copy)
        wal = db.with_name(f"{DB}-wal")
        if wal.exists():  # committed pages not yet copied into the main file
            shutil.copyfile(wal, copy.with_name(f"{DB}-wal"))
        _pad_to_declared_size(copy)
        try:
            conn = sqlite3.connect(copy)
        except sqlite3.Error:
            return [], 0
        try:
            ids = _rows_until_error(conn, "SELECT id FROM articles INDEXED BY sqlite_autoindex_articles_1")
            rowids = _rows_until_error(conn, "SELECT rowid FROM articles")
            found: dict[str, Article] = {}
            for column, refs in (("id", ids), ("rowid", rowids)):
                for ref in refs:
                    try:
                        row = conn.execute(
                            f"SELECT id, title, text, url, published, source, author FROM articles WHERE {column} = ?",
                            (ref,),
                        ).fetchone()
                    except sqlite3.DatabaseError:
                        continue  # this row's page is lost
                    if row and all(isinstance(v, str) for v in row[:3]) and row[2].strip():
                        found.setdefault(row[0], Article(*row))
            return list(found.values()), max(len(set(ids)), len(set(rowids)), len(found))
        finally:
            conn.close()


def _rows_until_error(conn: sqlite3.Connection, sql: str) -> list[object]:
    out: list[object] = []
    try:
        for row in conn.execute(sql):
            out.append(row[0])
    except sqlite3.DatabaseError:
        pass  # the rest of this b-tree is unreadable; what was read before is kept
    return out


def _pad_to_declared_size(path: Path) -> None:
    # A truncated file is refused outright; padded with zeros to the size its header declares, SQLite reads every
    # page that survived and reports only the lost ones.
    with path.open("r+b") as fh:
        header = fh.read(100)
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            return
        page_size = struct.unpack(">H", header[16:18])[0]
        page_size = 65536 if page_size == 1 else page_size
        pages = struct.unpack(">I", header[28:32])[0]
        size = fh.seek(0, os.SEEK_END)
        if page_size and size < pages * page_size:
            fh.truncate(pages * page_size)


def replace_database(index_dir: Path, fresh: Path) -> Path:
    """Put the index built in ``fresh`` (a folder inside ``index_dir``) in place of ``index_dir``'s damaged database
    and manifest; the name the damaged file is kept under. The caller holds the write lock."""
    checkpoint(fresh / DB)
    kept = set_aside(index_dir / DB)
    os.replace(fresh / DB, index_dir / DB)
    os.replace(fresh / MANIFEST, index_dir / MANIFEST)
    drop_vector_caches(index_dir)
    return kept


def checkpoint(db: Path) -> None:
    """Copy the write-ahead log into the database file, so the file alone holds every commit."""
    conn = connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def set_aside(db: Path) -> Path:
    """Rename the damaged database (and its write-ahead log) out of the way; the new name."""
    kept = db.with_name(f"{DB}.damaged")
    n = 1
    while kept.exists():
        n += 1
        kept = db.with_name(f"{DB}.damaged{n}")
    os.replace(db, kept)
    for suffix, keep in (("-wal", True), ("-shm", False)):
        side = db.with_name(DB + suffix)
        if side.exists():
            if keep:
                os.replace(side, kept.with_name(kept.name + suffix))
            else:
                side.unlink()
    return kept
