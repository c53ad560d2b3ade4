"""``qabot repair``: check an index and rebuild what can be rebuilt from what is intact, fetching nothing.

What it mends, in order:

1. a damaged ``qabot.sqlite`` (fails SQLite's integrity check, or is truncated): every article row that can still
   be read is stored into a fresh database (re-embedded from its text), and the damaged file is kept beside it;
2. a missing, unreadable or wrongly edited ``manifest.json``: rewritten when the stored vector hashes show they were
   made by the configured model (a genuinely different model is refused, as ever);
3. rows out of step: chunks or sentences without their article and lexical rows without their chunk are dropped;
   articles whose sentences or chunks no longer cover their text are chunked again from their stored text;
4. vectors missing for chunks or sentences: recomputed and saved under the hash their rows already name;
5. the FAISS cache: always rebuilt from the database.

Nothing is deleted that an answer could still use, so a repair killed half-way leaves the index no worse.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import struct
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from qabot.config import Settings
from qabot.errors import IndexCorrupt, IndexMissing, ModelMismatch
from qabot.models import Article
from qabot.store import DB, MANIFEST, IndexStore, Manifest, read_manifest, write_lock, write_manifest
from qabot.store.schema import batches

if TYPE_CHECKING:
    from qabot.embed import Embedder

log = logging.getLogger(__name__)

# Articles re-chunked, or re-embedded, per step: memory stays bounded at any index size, and a repair killed
# half-way keeps every step it saved.
REPAIR_STEP = 500


def repair_index(settings: Settings, embedder: Embedder | None = None) -> str:
    """Mend the index at ``settings.index_dir`` from what is intact; a one-line account of what was done."""
    from qabot.embed import Embedder

    embedder = embedder or Embedder.from_settings(settings)  # loads the model only if something needs embedding
    index_dir = settings.index_dir
    if not (index_dir / DB).exists():
        raise IndexMissing(f"no index database at {index_dir}, so nothing to repair: run `qabot ingest PATH`")
    damage = _damage(index_dir / DB)
    if damage:
        return _salvage(settings, embedder, damage)
    done = [_restore_manifest(settings, embedder)]
    store = IndexStore.open(index_dir, model=settings.model)
    try:
        with store.writer() as writer:
            dropped = writer.drop_orphans()
            if dropped:
                writer.commit()
        done.append(f"dropped {_n(dropped, 'row')} left without their article or chunk" if dropped else None)
        broken = _uncovered_articles(store)
        if broken:
            from qabot.ingest import Ingestor

            ingestor = Ingestor.from_settings(settings, embedder=embedder)
            for part in _steps(broken):
                ingestor.ingest_articles(list(store.articles(part).values()), rebuild=True)
            done.append(f"chunked {_n(len(broken), 'article')} again from their stored text")
        missing, articles = _embed_missing(store, embedder)
        _drop_caches(index_dir)
        _, gen = store.vector_index()
        n = store.count_chunks()
    finally:
        store.close()
    done.append(
        f"{missing} missing vectors of {articles} articles re-embedded"
        if missing
        else "no article needed re-embedding"
    )
    return f"index {index_dir} is sound: {n} chunks, vector cache rebuilt (generation {gen}); " + "; ".join(
        d for d in done if d
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _damage(db: Path) -> str | None:
    """What SQLite finds wrong with the database file, or None when it is sound."""
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


def _drop_caches(index_dir: Path) -> None:
    for cache in index_dir.glob("chunks.g*.faiss"):
        with contextlib.suppress(OSError):
            cache.unlink()


# ---------------------------------------------------------------------- the manifest
def _restore_manifest(settings: Settings, embedder: Embedder) -> str | None:
    """Rewrite a missing, unreadable or wrong manifest when the stored vectors show they are this model's."""
    index_dir = settings.index_dir
    try:
        manifest = read_manifest(index_dir)
    except IndexCorrupt:
        manifest = None
    conn = sqlite3.connect(index_dir / DB, timeout=30)
    try:
        evidence = conn.execute(
            'SELECT a.text, s.start, s."end", s.vhash, length(v.vector) FROM sentences s '
            "JOIN articles a ON a.id = s.article_id JOIN vectors v ON v.hash = s.vhash LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    if evidence is None:  # no vectors yet: nothing was embedded with any other model
        wanted = Manifest(settings.model, manifest.dimension if manifest else embedder.dimension)
    else:
        from qabot.ingest import _vhash

        text, start, end, vhash, size = evidence
        if _vhash(settings.model, text[start:end]) != vhash:
            if manifest is not None and manifest.model == settings.model:
                return None  # hashes from another naming of the model: nothing to restore
            if manifest is not None:
                raise ModelMismatch(
                    f"index {index_dir} was built with model {manifest.model!r} (its vectors agree), not "
                    f"{settings.model!r}: set QABOT_MODEL={manifest.model}, or ingest your articles into a new folder "
                    "with `qabot --index NEW_DIR ingest PATH`"
                )
            raise ModelMismatch(
                f"the vectors in {index_dir} were not made by {settings.model!r} and its {MANIFEST} is lost: "
                f"set QABOT_MODEL to the model it was built with and run `qabot repair` again"
            )
        wanted = Manifest(settings.model, size // 4)
    if manifest == wanted:
        return None
    write_manifest(index_dir, wanted)
    return f"restored {MANIFEST} ({wanted.model}, {wanted.dimension}-d)"


# ---------------------------------------------------------------------- rows out of step
def _uncovered_articles(store: IndexStore) -> list[str]:
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


def _steps(ids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), REPAIR_STEP):
        yield ids[i : i + REPAIR_STEP]


def _embed_missing(store: IndexStore, embedder: Embedder) -> tuple[int, int]:
    """Re-embed every chunk and sentence vector that is gone, ``REPAIR_STEP`` articles at a time, each step saved
    before the next; how many vectors, of how many articles."""
    lacking = [
        r[0]
        for r in store.conn.execute(
            "SELECT article_id FROM chunks WHERE vhash NOT IN (SELECT hash FROM vectors) UNION "
            "SELECT article_id FROM sentences WHERE vhash NOT IN (SELECT hash FROM vectors) ORDER BY 1"
        )
    ]
    vectors = articles = 0
    for part in _steps(lacking):
        missing, found = _missing_texts(store, part)
        hashes = list(missing)
        if hashes:
            embedded = embedder.embed_texts([missing[h] for h in hashes])
            with store.writer() as writer:
                writer.save_vectors(dict(zip(hashes, embedded, strict=True)))
        vectors, articles = vectors + len(hashes), articles + found
        log.info("repair: re-embedded %d vectors of %d of %d articles", vectors, articles, len(lacking))
    return vectors, articles


def _missing_texts(store: IndexStore, article_ids: list[str]) -> tuple[dict[str, str], int]:
    """Vector hash → the text it embeds, for every chunk and sentence of ``article_ids`` whose vector is gone; and
    how many of those articles are there to embed them from."""
    from qabot.ingest import chunk_embedding_text

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
    articles = store.articles(article_ids)
    texts: dict[str, str] = {}
    for article_id, start, end, vhash, is_chunk in rows:
        article = articles.get(article_id)
        if article is None:  # a row without its article: nothing to embed it from, and nothing cites it
            continue
        body = article.text[start:end]
        texts.setdefault(vhash, chunk_embedding_text(article, body) if is_chunk else body)
    return texts, len(articles)


# ---------------------------------------------------------------------- a damaged database
def _salvage(settings: Settings, embedder: Embedder, damage: str) -> str:
    """Store every readable article of a damaged database into a fresh one; keep the damaged file beside it."""
    index_dir, db = settings.index_dir, settings.index_dir / DB
    try:
        manifest = read_manifest(index_dir)
    except IndexCorrupt:
        manifest = None
    if manifest is not None and manifest.model != settings.model:
        raise ModelMismatch(
            f"index {index_dir} was built with model {manifest.model!r}, not {settings.model!r}: "
            f"set QABOT_MODEL={manifest.model} and run `qabot repair` again"
        )
    from qabot.ingest import Ingestor

    with write_lock(index_dir):
        articles, seen = _readable_articles(db)
        if not articles:
            raise IndexCorrupt(
                f"{db} is damaged ({damage}) and no article could be read from it: move {index_dir} aside and "
                "re-ingest your articles with `qabot ingest PATH`"
            )
        with tempfile.TemporaryDirectory(dir=index_dir, prefix=".repair-") as tmp:
            fresh = settings.model_copy(update={"index_dir": Path(tmp)})
            Ingestor.from_settings(fresh, embedder=embedder).ingest_articles(articles)
            _checkpoint(Path(tmp) / DB)
            kept = _set_aside(db)
            os.replace(Path(tmp) / DB, db)
            os.replace(Path(tmp) / MANIFEST, index_dir / MANIFEST)
        _drop_caches(index_dir)
    store = IndexStore.open(index_dir, model=settings.model)
    try:
        _, gen = store.vector_index()
        n = store.count_chunks()
    finally:
        store.close()
    return (
        f"index {index_dir} rebuilt from the {len(articles)} of {seen} articles still readable in its damaged "
        f"{DB} ({damage}): {n} chunks re-embedded from their stored text, nothing fetched, generation {gen}; "
        f"the damaged file is kept as {kept.name}"
    )


def _readable_articles(db: Path) -> tuple[list[Article], int]:
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


def _checkpoint(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _set_aside(db: Path) -> Path:
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
