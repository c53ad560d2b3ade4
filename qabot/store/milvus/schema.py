"""The Milvus collections of one index, designed for Milvus rather than copied from the SQLite tables.

``<prefix>_chunks``    one row per chunk of each article version: the dense vector (inner product of unit vectors
                       = cosine), the embedded text with Milvus's analyzer, a BM25 sparse vector that Milvus's BM25
                       function fills from it, article id, version, offsets, sentence range and the vector's hash.
``<prefix>_sentences`` one row per sentence of each article version: vector, offsets, version. Vectors saved
                       before their article is written (``save_vectors``) wait here too, under no article.
``<prefix>_articles``  one row per article: metadata, story, content hash and the live version; the text, with
                       any part beyond one VARCHAR in ``_meta`` rows of that version.
``<prefix>_meta``      small keyed rows: the manifest, the committed state (generation, counts), each term's
                       document frequency, the articles an unfinished write touched, text parts.

Milvus wants a vector field in every collection: ``_articles`` and ``_meta`` carry a two-dimensional dummy one.

Keys come from content: a chunk's is a hash of its article, version, ordinal and vector hash; an article's version
is a hash of everything written for it. Writing the same article again writes the same rows (an upsert of what is
there), so re-ingesting and a re-run after a kill add nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from qabot.store.api import NewChunk
from qabot.store.milvus.connection import pymilvus

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
ID_BYTES = 2048  # article ids, stories and urls: VARCHAR lengths in bytes
TEXT_BYTES = 65_535  # the largest VARCHAR: longer article texts go in parts
PART_BYTES = 60_000
DUMMY = [1.0, 0.0]  # the vector of collections that need one and search none
# Close to FTS5's "porter unicode61 remove_diacritics 2" of the local store: words, lower case, accents folded,
# English stemming (Snowball rather than Porter: a few stems differ, which moves BM25 ranks, never features).
ANALYZER = {
    "tokenizer": "standard",
    "filter": ["lowercase", "asciifolding", {"type": "stemmer", "language": "english"}],
}
# Session: a process reads its own writes at once (the ingest worker, a bot's /ingest); other processes see a commit
# once their query node has consumed it (Bounded by Milvus's time tick, ~1 s on a standalone server).
CONSISTENCY = "Session"
# The scalar fields reads filter by: an answer reads each quoted article's sentences and its story by article id,
# and a writer looks vectors up by text hash. Without an index each such read scans the collection's every row.
SCALAR_INDEXES = {"chunks": ("article_id", "vhash"), "sentences": ("article_id", "vhash"), "articles": ("story",)}
# INVERTED from Milvus 2.4 on (Lite 2.5 too); Trie, the VARCHAR index of Milvus 2.3, on older servers.
SCALAR_TYPES = ("INVERTED", "Trie")


def names(prefix: str) -> dict[str, str]:
    """The collection names of the index with ``prefix``."""
    return {kind: f"{prefix}_{kind}" for kind in ("meta", "articles", "chunks", "sentences")}


def key(*parts: object) -> int:
    """A positive 63-bit primary key from content."""
    digest = hashlib.sha1("\x00".join(map(str, parts)).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def version_of(content_hash: str, sentences: Sequence[tuple[int, int, str]], chunks: Sequence[NewChunk]) -> int:
    """An article version's number: the hash of its text and of every row written for it."""
    rows = [list(s) for s in sentences] + [
        [c.ordinal, c.start, c.end, c.first_sentence, c.last_sentence, c.vhash] for c in chunks
    ]
    return key("v", content_hash, json.dumps(rows))


def quote(value: str) -> str:
    """``value`` as a string literal of Milvus's filter expressions."""
    return json.dumps(value, ensure_ascii=False)


def one_of(field: str, values: Iterable[object]) -> str:
    """``field in [...]``."""
    return f"{field} in [{', '.join(quote(v) if isinstance(v, str) else str(int(v)) for v in values)}]"  # type: ignore[call-overload]


def text_parts(text: str) -> list[str]:
    """``text`` cut into parts of at most ``PART_BYTES`` UTF-8 bytes, at character boundaries."""
    parts, current, size = [], [], 0
    for ch in text:
        n = len(ch.encode("utf-8", "surrogatepass"))
        if size + n > PART_BYTES:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    parts.append("".join(current))
    return parts


def create(client: Any, prefix: str, dimension: int) -> bool:
    """Create the index's collections (those missing) with their indexes; whether chunks have BM25.

    A server older than Milvus 2.5 has no BM25 function (nor sparse vectors): its chunks go without, and lexical
    search is left to dense search alone (``MilvusStore.search_lexical`` finds nothing there).
    """
    have = set(client.list_collections())
    bm25 = True
    for kind, name in names(prefix).items():
        if name in have:
            continue
        try:
            _create(client, kind, name, dimension, bm25=kind == "chunks")
        except Exception as err:
            if kind != "chunks" or not type(err).__module__.startswith("pymilvus"):
                raise
            if client.has_collection(name):
                client.drop_collection(name)
            _create(client, kind, name, dimension, bm25=False)
            bm25 = False
            # Once, when the collections are made (the manifest remembers it): answers will differ from BM25's.
            log.warning(
                "this Milvus has no BM25 (it came with Milvus 2.5): the index answers from dense vectors alone "
                "and groups no wire copies into stories (%s)",
                " ".join(str(err).split())[:160],
            )
    return bm25


def ensure_scalar_indexes(client: Any, prefix: str) -> list[str]:
    """Create the scalar indexes the index's collections lack (collections made before qabot had them get them at
    their first open); the ``collection.field`` names indexed now. A collection gaining one is released to build it,
    and loaded again by the caller: readers of other processes wait for that, once."""
    made = []
    for kind, fields in SCALAR_INDEXES.items():
        name = names(prefix)[kind]
        missing = [f for f in fields if not client.list_indexes(name, field_name=f)]
        if missing:
            client.release_collection(name)
        for field in missing:
            _scalar_index(client, name, field)
            made.append(f"{name}.{field}")
    if made:
        log.info("created the scalar indexes %s", ", ".join(made))
    return made


def _scalar_index(client: Any, name: str, field: str) -> None:
    for i, index_type in enumerate(SCALAR_TYPES):
        index = client.prepare_index_params()
        index.add_index(field, index_type=index_type, index_name=f"{field}_scalar")
        try:
            client.create_index(name, index)
            return
        except Exception as err:
            if i == len(SCALAR_TYPES) - 1 or not type(err).__module__.startswith("pymilvus"):
                raise


def _create(client: Any, kind: str, name: str, dimension: int, *, bm25: bool) -> None:
    m = pymilvus()
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    index = client.prepare_index_params()
    _FIELDS[kind](schema, m.DataType, dimension)
    vector = "vector" if kind in ("chunks", "sentences") else "dummy"
    index.add_index(vector, index_type="AUTOINDEX", metric_type="IP")
    if kind == "chunks":
        text = {"enable_analyzer": True, "analyzer_params": ANALYZER} if bm25 else {}
        schema.add_field("text", m.DataType.VARCHAR, max_length=TEXT_BYTES, **text)
    if bm25:
        schema.add_field("sparse", m.DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            m.Function(
                name="bm25",
                function_type=m.FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=["sparse"],
            )
        )
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=schema, index_params=index, consistency_level=CONSISTENCY)


def _meta(s: Any, t: Any, dim: int) -> None:
    s.add_field("key", t.VARCHAR, is_primary=True, max_length=ID_BYTES + 64)
    s.add_field("kind", t.VARCHAR, max_length=16)
    s.add_field("ref", t.VARCHAR, max_length=ID_BYTES)  # the article of a pending or text-part row
    s.add_field("num", t.INT64)  # a term's document frequency; a text part's version
    s.add_field("value", t.VARCHAR, max_length=TEXT_BYTES)
    s.add_field("dummy", t.FLOAT_VECTOR, dim=2)


def _articles(s: Any, t: Any, dim: int) -> None:
    s.add_field("id", t.VARCHAR, is_primary=True, max_length=ID_BYTES)
    for name, size in (("title", 16_384), ("text", TEXT_BYTES), ("url", ID_BYTES * 4), ("published", 64)):
        s.add_field(name, t.VARCHAR, max_length=size)
    for name, size in (("source", ID_BYTES), ("author", ID_BYTES), ("hash", 64), ("story", ID_BYTES)):
        s.add_field(name, t.VARCHAR, max_length=size)
    s.add_field("origin", t.VARCHAR, max_length=ID_BYTES * 4)
    s.add_field("added", t.DOUBLE)
    s.add_field("version", t.INT64)
    s.add_field("parts", t.INT64)
    s.add_field("dummy", t.FLOAT_VECTOR, dim=2)


def _spans(s: Any, t: Any) -> None:
    s.add_field("pk", t.INT64, is_primary=True)
    s.add_field("article_id", t.VARCHAR, max_length=ID_BYTES)
    for name in ("version", "ordinal", "char_start", "char_end"):
        s.add_field(name, t.INT64)
    s.add_field("vhash", t.VARCHAR, max_length=64)


def _chunks(s: Any, t: Any, dim: int) -> None:
    _spans(s, t)
    s.add_field("first_sentence", t.INT64)
    s.add_field("last_sentence", t.INT64)
    s.add_field("vector", t.FLOAT_VECTOR, dim=dim)  # the text (and its BM25 vector) come in ``_create``


def _sentences(s: Any, t: Any, dim: int) -> None:
    _spans(s, t)
    s.add_field("vector", t.FLOAT_VECTOR, dim=dim)


def search_chunks(client: Any, name: str, data: list[Any], field: str, limit: int) -> list[dict[str, Any]]:
    """The hits of one search, with article id and version; none from BM25 over a collection of no chunk (Milvus
    divides by the mean length of none and refuses the NaN it gets)."""
    try:
        return list(
            client.search(name, data=data, anns_field=field, limit=limit, output_fields=["article_id", "version"])[0]
        )
    except Exception as err:
        if field == "sparse" and "NaN" in str(err):
            return []
        raise


def meta_row(key: str, value: dict[str, Any]) -> dict[str, Any]:
    """A ``_meta`` row holding ``value`` as JSON under ``key``."""
    return {"key": key, "kind": "meta", "ref": "", "num": 0, "value": json.dumps(value), "dummy": DUMMY}


_FIELDS = {"meta": _meta, "articles": _articles, "chunks": _chunks, "sentences": _sentences}
ARTICLE_FIELDS = [
    "id",
    "title",
    "text",
    "url",
    "published",
    "source",
    "author",
    "hash",
    "story",
    "origin",
    "added",
    "version",
    "parts",
]
CHUNK_FIELDS = ["pk", "article_id", "version", "ordinal", "char_start", "char_end", "first_sentence", "last_sentence"]

__all__ = [
    "ANALYZER",
    "CONSISTENCY",
    "SCHEMA_VERSION",
    "create",
    "ensure_scalar_indexes",
    "key",
    "names",
    "one_of",
    "quote",
    "text_parts",
    "version_of",
]
