"""``qabot repair``: check an index and rebuild what can be rebuilt from what is intact, fetching nothing."""

from __future__ import annotations

import contextlib
import sqlite3

from qabot.config import Settings
from qabot.errors import IndexCorrupt
from qabot.store import DB, IndexStore


def repair_index(settings: Settings) -> str:
    """Verify the database, re-embed articles whose vectors are missing, and rewrite the vector cache."""
    store = IndexStore.open(settings.index_dir, model=settings.model)
    try:
        result = store.conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as err:
        raise IndexCorrupt(
            f"{settings.index_dir / DB} is damaged beyond repair ({err}): re-ingest your articles"
        ) from err
    if result != "ok":
        raise IndexCorrupt(f"{settings.index_dir / DB} failed its integrity check ({result}): re-ingest your articles")
    broken = [
        r[0]
        for r in store.conn.execute(
            "SELECT DISTINCT article_id FROM chunks WHERE vhash NOT IN (SELECT hash FROM vectors) "
            "UNION SELECT DISTINCT article_id FROM sentences WHERE vhash NOT IN (SELECT hash FROM vectors)"
        )
    ]
    if broken:
        from qabot.ingest import Ingestor

        ingestor = Ingestor.from_settings(settings)
        articles = store.articles(broken)
        # Removing first forces the re-ingest to re-embed them from the stored text.
        with store.writer() as writer:
            for aid in broken:
                writer.remove_article(aid)
            writer.commit()
        ingestor.ingest_articles(articles.values())
    for cache in settings.index_dir.glob("chunks.g*.faiss"):
        with contextlib.suppress(OSError):
            cache.unlink()
    _, gen = store.vector_index()
    n = store.count_chunks()
    return f"index {settings.index_dir} is sound: {n} chunks, vector cache rebuilt (generation {gen}), " + (
        f"{len(broken)} articles re-embedded" if broken else "no article needed re-embedding"
    )
