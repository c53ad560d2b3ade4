"""The FAISS side of an index: exact search while small, an HNSW graph when large, one search thread."""

from __future__ import annotations

import faiss

# Exact search costs ~11 ms per question at 100k chunks and ~90 ms at 1M on one core; an HNSW graph answers in
# ~1-2 ms (docs/performance.md), but takes ~35 s per 100k vectors to build, so small indexes stay exact.
HNSW_MIN_CHUNKS = 50_000
HNSW_NEIGHBOURS = 32
# Candidates the graph search keeps: 256 costs ~1 ms at 1M chunks and lifted recall@10 against exact search from
# 0.81 (at 128) to 0.89 on the benchmark's clustered synthetic vectors; real embeddings do better (0.997+ at 128).
HNSW_EF_SEARCH = 256
# A graph cannot delete: removed chunks stay in it, skipped at search, until they are this share of it.
MAX_STALE_SHARE = 0.1


def new_vector_index(dimension: int, size: int) -> faiss.Index:
    """An empty id-mapped index for about ``size`` unit vectors: exact while small, an HNSW graph when large."""
    if size < HNSW_MIN_CHUNKS:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    graph = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    return tuned(faiss.IndexIDMap2(graph))


def is_graph(index: faiss.Index) -> bool:
    """True for an HNSW index (approximate, append-only), False for exact search."""
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return isinstance(inner, faiss.IndexHNSW)


def tuned(index: faiss.Index) -> faiss.Index:
    # efSearch is not kept in the saved file: set it on every load.
    if is_graph(index):
        faiss.downcast_index(index.index).hnsw.efSearch = HNSW_EF_SEARCH
    return index


def fits(index: faiss.Index, chunks: int) -> bool:
    """Whether ``index`` may serve ``chunks`` live chunks as it is, or must be rebuilt."""
    if not is_graph(index):
        return index.ntotal == chunks and chunks < HNSW_MIN_CHUNKS
    return chunks <= index.ntotal and index.ntotal - chunks <= MAX_STALE_SHARE * index.ntotal


_one_thread = False


def search_on_one_thread() -> None:
    # One question is one query: FAISS's OpenMP threads only add start-up and spinning, and on 2 cores they were
    # 2-3x slower than one thread while the embedder or another process used the other core.
    global _one_thread
    if not _one_thread:
        faiss.omp_set_num_threads(1)
        _one_thread = True
