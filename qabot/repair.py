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

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from qabot.config import Settings
from qabot.errors import IndexCorrupt, IndexMissing, ModelMismatch
from qabot.store import (
    DB,
    MANIFEST,
    IndexStore,
    Manifest,
    read_manifest,
    require_local,
    vector_hash,
    write_lock,
    write_manifest,
)
from qabot.store.layout import check_folder
from qabot.store.maintenance import (
    articles_lacking_vectors,
    drop_vector_caches,
    integrity_problem,
    missing_vectors,
    readable_articles,
    replace_database,
    uncovered_articles,
    vector_evidence,
)
from qabot.text import counted

if TYPE_CHECKING:
    from qabot.embed import Embedder

log = logging.getLogger(__name__)

# Articles re-chunked, or re-embedded, per step: memory stays bounded at any index size, and a repair killed
# half-way keeps every step it saved.
REPAIR_STEP = 500


def repair_index(settings: Settings, embedder: Embedder | None = None) -> str:
    """Mend the index at ``settings.index_dir`` from what is intact; a one-line account of what was done."""
    from qabot.embed import Embedder

    require_local(settings, "repair")  # before the model loads
    embedder = embedder or Embedder.from_settings(settings)  # loads the model only if something needs embedding
    index_dir = settings.index_dir
    check_folder(index_dir)
    if not (index_dir / DB).exists():
        raise IndexMissing(f"no index database at {index_dir}, so nothing to repair: run `qabot ingest PATH`")
    damage = integrity_problem(index_dir / DB)
    if damage:
        return _salvage(settings, embedder, damage)
    done = [_restore_manifest(settings, embedder)]
    store = IndexStore.open(index_dir, model=settings.model)
    try:
        with store.writer() as writer:
            dropped = writer.drop_orphans()
            if dropped:
                writer.commit()
        done.append(f"dropped {counted(dropped, 'row')} left without their article or chunk" if dropped else None)
        broken = uncovered_articles(store)
        if broken:
            from qabot.ingest import Ingestor

            ingestor = Ingestor.from_settings(settings, embedder=embedder)
            for part in _steps(broken):
                ingestor.ingest_articles(list(store.articles(part).values()), rebuild=True)
            done.append(f"chunked {counted(len(broken), 'article')} again from their stored text")
        missing, articles = _embed_missing(store, embedder)
        drop_vector_caches(index_dir)
        _, gen = store.vector_index()
        n = store.count_chunks()
    finally:
        store.close()
    done.append(
        f"{counted(missing, 'missing vector')} of {counted(articles, 'article')} re-embedded"
        if missing
        else "no article needed re-embedding"
    )
    return f"index {index_dir} is sound: {counted(n, 'chunk')}, vector cache rebuilt (generation {gen}); " + "; ".join(
        d for d in done if d
    )


# ---------------------------------------------------------------------- the manifest
def _restore_manifest(settings: Settings, embedder: Embedder) -> str | None:
    """Rewrite a missing, unreadable or wrong manifest when the stored vectors show they are this model's."""
    index_dir = settings.index_dir
    try:
        manifest = read_manifest(index_dir)
    except IndexCorrupt:
        manifest = None
    evidence = vector_evidence(index_dir / DB)
    if evidence is None:  # no vectors yet: nothing was embedded with any other model
        wanted = Manifest(settings.model, manifest.dimension if manifest else embedder.dimension)
    elif vector_hash(settings.model, evidence.text) != evidence.vhash:
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
    else:
        wanted = Manifest(settings.model, evidence.dimension)
    if manifest == wanted:
        return None
    write_manifest(index_dir, wanted)
    return f"restored {MANIFEST} ({wanted.model}, {wanted.dimension}-d)"


# ---------------------------------------------------------------------- vectors lost
def _steps(ids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), REPAIR_STEP):
        yield ids[i : i + REPAIR_STEP]


def _embed_missing(store: IndexStore, embedder: Embedder) -> tuple[int, int]:
    """Re-embed every chunk and sentence vector that is gone, ``REPAIR_STEP`` articles at a time, each step saved
    before the next; how many vectors, of how many articles."""
    lacking = articles_lacking_vectors(store)
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

    rows = missing_vectors(store, article_ids)
    articles = store.articles(article_ids)
    texts: dict[str, str] = {}
    for row in rows:
        article = articles.get(row.article_id)
        if article is None:  # a row without its article: nothing to embed it from, and nothing cites it
            continue
        body = article.text[row.start : row.end]
        texts.setdefault(row.vhash, chunk_embedding_text(article, body) if row.is_chunk else body)
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
        articles, seen = readable_articles(db)
        if not articles:
            raise IndexCorrupt(
                f"{db} is damaged ({damage}) and no article could be read from it: move {index_dir} aside and "
                "re-ingest your articles with `qabot ingest PATH`"
            )
        with tempfile.TemporaryDirectory(dir=index_dir, prefix=".repair-") as tmp:
            fresh = settings.model_copy(update={"index_dir": Path(tmp)})
            Ingestor.from_settings(fresh, embedder=embedder).ingest_articles(articles)
            kept = replace_database(index_dir, Path(tmp))
    store = IndexStore.open(index_dir, model=settings.model)
    try:
        _, gen = store.vector_index()
        n = store.count_chunks()
    finally:
        store.close()
    return (
        f"index {index_dir} rebuilt from the {len(articles)} of {counted(seen, 'article')} still readable in its "
        f"damaged {DB} ({damage}): {counted(n, 'chunk')} re-embedded from their stored text, nothing fetched, "
        f"generation {gen}; "
        f"the damaged file is kept as {kept.name}"
    )
