"""What a killed Milvus writer leaves, swept by the next one: rows of versions no article serves, and, after a kill
inside a commit, document frequencies and totals that may be half-updated (counted again from the live rows)."""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from qabot.store.lexical import term_counts
from qabot.store.milvus import schema

if TYPE_CHECKING:
    from qabot.store.milvus.reads import MilvusStore

log = logging.getLogger(__name__)
_RECOUNT = 2000  # chunk texts analysed per step of a recount
_SWEEP = 256  # articles swept by one delete per collection


def sweep_article(store: MilvusStore, article_id: str, version: int | None, *, keep_live: bool = False) -> None:
    """Delete the chunk, sentence and text-part rows of ``article_id`` that are not of ``version`` (None: all of
    them); ``keep_live``: of the version its committed article row serves."""
    if keep_live:
        version = store.live_versions([article_id]).get(article_id)
    q = schema.quote(article_id)
    other = "" if version is None else f" and version != {version}"
    for kind in ("chunks", "sentences"):
        store.client.delete(store.names[kind], filter=f"article_id == {q}{other}")
    parts = "" if version is None else f" and num != {version}"
    store.client.delete(store.names["meta"], filter=f'kind == "text" and ref == {q}{parts}')


def sweep_articles(store: MilvusStore, versions: dict[str, int | None]) -> None:
    """``sweep_article`` for many articles at once: one delete per collection for every ``_SWEEP`` of them (a delete
    by filter costs a query on a server, ~0.2 s on two busy cores: one per article made a commit of 60 articles
    take 40 s). ``versions`` maps each article to the version to keep (None: none).

    The rows kept are those whose version is one of the versions kept for the batch: versions are 63-bit content
    hashes (``schema.version_of``), so a row of one article never carries another article's version.
    """
    ids = sorted(versions)
    for i in range(0, len(ids), _SWEEP):
        part = ids[i : i + _SWEEP]
        keep = sorted({v for a in part if (v := versions[a]) is not None})
        other = f" and version not in [{', '.join(map(str, keep))}]" if keep else ""
        for kind in ("chunks", "sentences"):
            store.client.delete(store.names[kind], filter=f"{schema.one_of('article_id', part)}{other}")
        parts = f" and num not in [{', '.join(map(str, keep))}]" if keep else ""
        store.client.delete(store.names["meta"], filter=f'kind == "text" and {schema.one_of("ref", part)}{parts}')


def recover(store: MilvusStore) -> None:
    """Finish what a killed writer left: sweep its pending articles; after a kill inside a commit, recount."""
    pending = store._scan("meta", 'kind == "pending"', ["key", "ref"])
    for row in pending:
        sweep_article(store, row["ref"], None, keep_live=True)
    state = store.state()
    if state.get("dirty"):
        log.warning("the last commit to %s was cut short: counting its word statistics again", store.uri)
        _recount(store, state)
    if pending:
        log.info("swept the rows an interrupted ingest left for %d articles", len(pending))
        keys = [r["key"] for r in pending]
        for i in range(0, len(keys), 256):
            store.client.delete(store.names["meta"], filter=schema.one_of("key", keys[i : i + 256]))


def _recount(store: MilvusStore, state: dict[str, Any]) -> None:
    live = {r["id"]: r["version"] for r in store._scan("articles", 'id != ""', ["id", "version"])}
    sweep_all(store, live)
    df: Counter[str] = Counter()
    chunks = 0
    texts: list[str] = []
    for row in store._scan("chunks", 'article_id != ""', ["article_id", "version", "text"]):
        if live.get(row["article_id"]) == row["version"]:
            texts.append(row["text"])
        if len(texts) >= _RECOUNT:
            df.update(term_counts(store.conn, texts))
            chunks, texts = chunks + len(texts), []
    df.update(term_counts(store.conn, texts))
    chunks += len(texts)
    store.client.delete(store.names["meta"], filter='kind == "term"')
    rows = [
        {"key": f"term:{t}", "kind": "term", "ref": "", "num": n, "value": "", "dummy": schema.DUMMY}
        for t, n in df.items()
    ]
    for i in range(0, len(rows), 1000):
        store.client.upsert(store.names["meta"], rows[i : i + 1000])
    done = {**state, "chunks": chunks, "articles": len(live), "dirty": False}
    store.client.upsert(store.names["meta"], [schema.meta_row("state", done)])


def sweep_all(store: MilvusStore, live: dict[str, int] | None = None) -> int:
    """Delete every chunk and sentence row whose version its article does not serve; how many."""
    if live is None:
        live = {r["id"]: r["version"] for r in store._scan("articles", 'id != ""', ["id", "version"])}
    dropped = 0
    for kind in ("chunks", "sentences"):
        dead = [
            r["pk"]
            for r in store._scan(kind, 'article_id != ""', ["pk", "article_id", "version"])
            if live.get(r["article_id"]) != r["version"]
        ]
        for i in range(0, len(dead), 1000):
            store.client.delete(store.names[kind], filter=schema.one_of("pk", dead[i : i + 1000]))
        dropped += len(dead)
    return dropped


__all__ = ["recover", "sweep_all", "sweep_article"]
