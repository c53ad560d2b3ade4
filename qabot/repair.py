"""``qabot repair``: check an index and rebuild what can be rebuilt from what is intact, fetching nothing."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING

from qabot.config import Settings
from qabot.errors import IndexCorrupt
from qabot.store import DB, IndexStore

if TYPE_CHECKING:
    from qabot.embed import Embedder


def repair_index(settings: Settings, embedder: Embedder | None = None) -> str:
    """Verify the database, re-embed texts whose vectors are missing, and rewrite the vector cache.

    Nothing is deleted: a missing vector is recomputed from the stored article text and saved under the hash its
    chunk or sentence already names, so a repair killed half-way leaves the index as it found it.
    """
    store = IndexStore.open(settings.index_dir, model=settings.model)
    try:
        try:
            result = store.conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise IndexCorrupt(
                f"{settings.index_dir / DB} is damaged beyond repair ({err}): re-ingest your articles"
            ) from err
        if result != "ok":
            raise IndexCorrupt(
                f"{settings.index_dir / DB} failed its integrity check ({result}): re-ingest your articles"
            )
        missing, articles = _missing_texts(store)
        if missing:
            from qabot.embed import Embedder

            embedder = embedder or Embedder.from_settings(settings)
            hashes = list(missing)
            vectors = embedder.embed_texts([missing[h] for h in hashes])
            with store.writer() as writer:
                writer.save_vectors(dict(zip(hashes, vectors, strict=True)))
        for cache in settings.index_dir.glob("chunks.g*.faiss"):
            with contextlib.suppress(OSError):
                cache.unlink()
        _, gen = store.vector_index()
        n = store.count_chunks()
    finally:
        store.close()
    return f"index {settings.index_dir} is sound: {n} chunks, vector cache rebuilt (generation {gen}), " + (
        f"{len(missing)} missing vectors of {articles} articles re-embedded"
        if missing
        else "no article needed re-embedding"
    )


def _missing_texts(store: IndexStore) -> tuple[dict[str, str], int]:
    """Vector hash → the text it embeds, for every chunk and sentence whose vector is gone; and how many articles."""
    from qabot.ingest import chunk_embedding_text

    rows = store.conn.execute(
        'SELECT article_id, start, "end", vhash, 1 FROM chunks WHERE vhash NOT IN (SELECT hash FROM vectors) '
        'UNION ALL SELECT article_id, start, "end", vhash, 0 FROM sentences '
        "WHERE vhash NOT IN (SELECT hash FROM vectors)"
    ).fetchall()
    articles = store.articles(r[0] for r in rows)
    texts: dict[str, str] = {}
    for article_id, start, end, vhash, is_chunk in rows:
        article = articles.get(article_id)
        if article is None:  # a row without its article: nothing to embed it from, and nothing cites it
            continue
        body = article.text[start:end]
        texts.setdefault(vhash, chunk_embedding_text(article, body) if is_chunk else body)
    return texts, len(articles)
