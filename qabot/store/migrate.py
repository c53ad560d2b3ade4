"""Copy a local index folder into another store (``qabot migrate --to milvus``) without embedding anything again.

The folder's rows are read as they are — articles (with story and origin), sentences, chunks with the text their
lexical index holds, and every vector by its text hash — and written through the ``StoreWriter`` interface, so the
target stores them its own way (Milvus: collections, BM25 by its analyzer, versioned articles) and nothing here
knows which store it is.

Idempotent and resumable: an article the target already holds with the same content hash and story is left alone,
and articles go in commits of ``BATCH_ARTICLES``, so a re-run after a finished migration adds nothing and one
after a kill carries on from the last commit. The source is only read (one snapshot, no write lock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qabot.errors import IndexCorrupt
from qabot.models import Article
from qabot.store.api import NewChunk, Store, StoreWriter
from qabot.store.schema import batches

if TYPE_CHECKING:
    from qabot.store.index import IndexStore

# Articles per target commit: a kill loses at most this many, and a writer never holds more than these in memory.
BATCH_ARTICLES = 500

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class MigrateReport:
    """What one migration did: articles copied, articles the target already held, and rows written."""

    copied: int
    unchanged: int
    chunks: int
    sentences: int
    vectors: int

    def summary(self) -> str:
        """One line for the person running it."""
        if not self.copied:
            return f"Nothing to copy: the target already holds all {self.unchanged} articles."
        return (
            f"Copied {self.copied} articles ({self.chunks} chunks, {self.sentences} sentences, {self.vectors} "
            f"vectors, none embedded again); {self.unchanged} were there already."
        )


@dataclass(frozen=True)
class _Rows:
    """One article as the folder stores it, ready for ``StoreWriter.put_article``."""

    article: Article
    story: str
    sentences: list[tuple[int, int, str]]
    chunks: list[NewChunk]


def migrate(source: IndexStore, target: Store, progress: Progress | None = None) -> MigrateReport:
    """Copy every article of ``source`` that ``target`` lacks (or holds otherwise), with its rows and vectors."""
    copied = unchanged = chunks = sentences = vectors = 0
    with source.snapshot():
        ids = source.article_ids()
        if progress:
            progress(0, len(ids))
        for start in range(0, len(ids), BATCH_ARTICLES):
            part = ids[start : start + BATCH_ARTICLES]
            todo = [r for r in _read(source, part) if not _already_there(target, r)]
            unchanged += len(part) - len(todo)
            if todo:
                vectors += _write(source, target, todo)
                copied += len(todo)
                chunks += sum(len(r.chunks) for r in todo)
                sentences += sum(len(r.sentences) for r in todo)
            if progress:
                progress(start + len(part), len(ids))
    return MigrateReport(copied, unchanged, chunks, sentences, vectors)


def _already_there(target: Store, rows: _Rows) -> bool:
    if target.article_hash(rows.article.id) != rows.article.content_hash:
        return False
    return target.stories([rows.article.id]).get(rows.article.id) == rows.story


def _write(source: IndexStore, target: Store, todo: Sequence[_Rows]) -> int:
    """Put one batch of articles into ``target`` in one commit; how many vectors it saved."""
    hashes = list(dict.fromkeys(h for r in todo for h in _hashes(r)))
    with target.writer() as writer:
        saved = _save_vectors(source, writer, hashes)
        for r in todo:
            writer.put_article(r.article, r.sentences, r.chunks, story=r.story)
        writer.commit()
    return saved


def _hashes(rows: _Rows) -> Iterator[str]:
    yield from (h for _, _, h in rows.sentences)
    yield from (c.vhash for c in rows.chunks)


def _save_vectors(source: IndexStore, writer: StoreWriter, hashes: Sequence[str]) -> int:
    saved = 0
    for part in batches(hashes):
        vectors = {h: np.array(v, dtype=np.float32) for h, v in source.vectors_for(part).items()}
        if len(vectors) < len(part):
            raise _damaged(source, f"{len(part) - len(vectors)} rows without their stored vector")
        writer.save_vectors(vectors)
        saved += len(vectors)
    return saved


def _damaged(source: IndexStore, what: str) -> IndexCorrupt:
    return IndexCorrupt(f"index {source.dir} is out of step ({what}): run `qabot repair` on it, then migrate again")


def _read(source: IndexStore, ids: Sequence[str]) -> list[_Rows]:
    """The rows of these articles, in the order of ``ids``."""
    conn = source.conn
    out = []
    for article_id in ids:
        a = conn.execute(
            "SELECT id, title, text, url, published, source, author, coalesce(story, id) FROM articles WHERE id = ?",
            (article_id,),
        ).fetchone()
        if a is None:
            continue
        sentences = conn.execute(
            'SELECT start, "end", vhash FROM sentences WHERE article_id = ? ORDER BY ordinal', (article_id,)
        ).fetchall()
        chunks = conn.execute(
            'SELECT c.ordinal, c.start, c."end", c.first_sentence, c.last_sentence, c.vhash, f.body FROM chunks c '
            "LEFT JOIN chunks_fts f ON f.rowid = c.id WHERE c.article_id = ? ORDER BY c.ordinal",
            (article_id,),
        ).fetchall()
        if any(c[6] is None for c in chunks):
            raise _damaged(source, f"chunks of {article_id} missing from the lexical index")
        article = Article(*a[:7], origin=source.article_origin(article_id))
        out.append(_Rows(article, a[7], [tuple(s) for s in sentences], [NewChunk(*c) for c in chunks]))
    return out


__all__ = ["BATCH_ARTICLES", "MigrateReport", "migrate"]
