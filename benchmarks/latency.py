"""Question → answer latency through ``Answerer.ask``, warm, at 10k, 100k and 1M chunks.

    .venv/bin/python benchmarks/latency.py                          # 10k, 100k, 1M (the 1M step takes ~30 min)
    .venv/bin/python benchmarks/latency.py --sizes 10000,100000     # quicker

The news-qa articles are ingested for real; filler articles then grow the index to each size. Fillers have real
structure (articles, sentences, chunks, FTS5 text from a Markov chain over news-qa, so lexical search does real
work) and synthetic vectors (mixtures of real chunk vectors plus noise, so the vector index sees clustered data, not
uniform noise). The questions are the 139 news-qa dev questions, asked through the real query path. At every size:

- ``qabot``: the configured backend and the index qabot chooses for that size (exact below 50k chunks, HNSW above);
- ``exact index``: the same, searching an exact IndexFlatIP over the same vectors (the old design);
- ``torch embedder``: the same index, questions embedded by sentence-transformers on torch (the old query path);
- recall@10 and recall@40 (the retrieval depth) of the chosen index against exact search, on the question vectors;
- ``vector_ms`` and ``lexical_ms``: the two searches timed alone (``search_ms`` is all of retrieval but the embedding).

Fillers reuse news-qa's vocabulary, so the questions' words are commoner among them than in real news: the lexical
numbers are an upper bound.

Table on stdout, JSON to benchmarks/results/latency.json. The index is kept under ``--workdir`` if given, so a
second run (say, with ``--skip-build``) measures without rebuilding.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode
import faiss
import numpy as np

from qabot import retrieve as retrieve_mod
from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.retrieve import Retriever, query_words
from qabot.store import IndexStore, NewChunk
from qabot.store import index as store_index
from qabot.store import lexical as store_lexical

SENTENCES_PER_CHUNK = 4
CHUNKS_PER_ARTICLE = 5


# ---------------------------------------------------------------------------------------------- building
class Filler:
    """Makes filler articles: Markov-chain sentences, vectors mixed from the real chunk vectors."""

    def __init__(self, real_vectors: np.ndarray, seed: int = 11) -> None:
        self.real = real_vectors
        self.rng = np.random.default_rng(seed)
        pool = common.generated_articles(300, seed=seed)
        self.sentences = [s for a in pool for s in a.text.replace("\n\n", " ").split(". ") if len(s) > 30]
        self.n = 0

    def vectors(self, count: int) -> np.ndarray:
        d = self.real.shape[1]
        a = self.real[self.rng.integers(0, len(self.real), count)]
        b = self.real[self.rng.integers(0, len(self.real), count)]
        w = self.rng.uniform(0.5, 0.9, (count, 1)).astype(np.float32)
        noise = self.rng.standard_normal((count, d)).astype(np.float32) * (0.6 / np.sqrt(d))
        v = w * a + (1 - w) * b + noise
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    def article(self, vec_hashes: Sequence[str]) -> tuple[Article, list[tuple[int, int, str]], list[NewChunk]]:
        self.n += 1
        picks = self.rng.integers(0, len(self.sentences), len(vec_hashes) * SENTENCES_PER_CHUNK)
        parts: list[str] = []
        sentences: list[tuple[int, int, str]] = []
        chunks: list[NewChunk] = []
        pos = 0
        title = f"Filler story {self.n}"
        for c, vh in enumerate(vec_hashes):
            first = len(sentences)
            start = pos
            for j in range(SENTENCES_PER_CHUNK):
                s = self.sentences[int(picks[c * SENTENCES_PER_CHUNK + j])] + "."
                parts.append(s)
                sentences.append((pos, pos + len(s), vh))  # sentences share their chunk's vector: no extra storage
                pos += len(s) + 1
            text = " ".join(parts)[start:]
            chunks.append(NewChunk(c, start, pos - 1, first, len(sentences) - 1, vh, f"{title}\n{text}"))
        article = Article(id=f"filler-{self.n:07d}", title=title, text=" ".join(parts), source="filler")
        return article, sentences, chunks


def grow(settings: Settings, filler: Filler, target: int) -> None:
    """Add filler articles until the index holds about ``target`` chunks (one transaction, like one big ingest)."""
    st = IndexStore.open(settings.index_dir, model=settings.model)
    need = target - st.count_chunks()
    if need <= 0:
        return
    n_articles = -(-need // CHUNKS_PER_ARTICLE)
    print(f"  growing to {target:,} chunks: {n_articles:,} filler articles", file=sys.stderr, flush=True)
    with st.writer() as w, common.Timer() as t:
        hashes: list[list[str]] = []
        for start in range(0, n_articles, 20_000):
            batch = min(20_000, n_articles - start)
            vecs = filler.vectors(batch * CHUNKS_PER_ARTICLE)
            keys = [hashlib.sha1(f"filler{filler.n}-{start}-{i}".encode()).hexdigest() for i in range(len(vecs))]
            w.save_vectors(dict(zip(keys, vecs, strict=True)))
            hashes += [keys[i : i + CHUNKS_PER_ARTICLE] for i in range(0, len(keys), CHUNKS_PER_ARTICLE)]
        for hs in hashes:
            w.put_article(*filler.article(hs))
        w.commit()
    print(f"  built in {t.seconds:.0f} s", file=sys.stderr, flush=True)
    st.close()


# ---------------------------------------------------------------------------------------------- measuring
def exact_copy(index: faiss.Index) -> faiss.Index:
    """An exact IndexIDMap2(IndexFlatIP) over the same vectors and ids as ``index``."""
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    vecs = index.index.reconstruct_n(0, index.ntotal)
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(index.d))
    flat.add_with_ids(vecs, ids)
    return flat


def recall(index: faiss.Index, exact: faiss.Index, queries: np.ndarray, k: int) -> float:
    """Share of the exact top-``k`` that ``index`` also returns, averaged over the queries."""
    _, got = index.search(queries, k)
    _, want = exact.search(queries, k)
    return float(np.mean([len(set(g) & set(w)) / k for g, w in zip(got, want, strict=True)]))


def timed_asks(answerer: Answerer, questions: Sequence[str], rounds: int) -> dict[str, Any]:
    """Ask every question ``rounds`` times after a warm-up; wall time per ask, and medians of its stages."""
    for q in questions[:10]:
        answerer.ask(q)
    walls: list[float] = []
    stages: dict[str, list[float]] = {"embed": [], "retrieve": [], "select": []}
    for _ in range(rounds):
        for q in questions:
            with common.Timer() as t:
                a = answerer.ask(q)
            walls.append(t.seconds)
            for k in stages:
                stages[k].append(a.timings_ms.get(k, float("nan")))
    out = common.summary_ms(walls)
    out["embed_ms"] = round(common.percentile(stages["embed"], 50), 2)
    out["search_ms"] = round(
        common.percentile([r - e for r, e in zip(stages["retrieve"], stages["embed"], strict=False)], 50), 2
    )
    out["select_ms"] = round(common.percentile(stages["select"], 50), 2)
    return out


def components(st: IndexStore, qvecs: np.ndarray, questions: Sequence[str], depth: int = 40) -> dict[str, float]:
    """Medians of the two searches alone: the vector index, and the lexical (FTS5) index with the words retrieval
    picks (choosing them included), at retrieval depth."""
    retriever = Retriever(st, None)  # type: ignore[arg-type]  # only its word choice is used
    choose = getattr(retriever, "_selective", lambda words: words)
    vector: list[float] = []
    lexical: list[float] = []
    for qvec, q in zip(qvecs, questions, strict=True):
        with common.Timer() as t:
            st.search_vectors(qvec, depth)
        vector.append(t.seconds)
        with common.Timer() as t:
            st.search_lexical(choose(query_words(q)), depth)
        lexical.append(t.seconds)
    return {
        "vector_ms": round(common.percentile(vector, 50) * 1000, 2),
        "lexical_ms": round(common.percentile(lexical, 50) * 1000, 2),
    }


def measure(
    settings: Settings, embedders: dict[str, Embedder], questions: list[str], rounds: int
) -> list[dict[str, Any]]:
    """All variants at the index's current size."""
    main = embedders["main"]
    answerer = Answerer.from_settings(settings, embedder=main)
    st = answerer.store
    with common.Timer() as load:
        chosen, _ = st.vector_index()
    size = st.count_chunks()
    kind = "hnsw" if store_index.is_graph(chosen) else "exact"
    base = {"chunks": size, "index_load_s": round(load.seconds, 2)}
    rows = [{**base, "variant": f"qabot ({main.backend}, {kind})", **timed_asks(answerer, questions, rounds)}]
    qvecs = main.embed_texts(questions)
    rows[0].update(components(st, qvecs, questions))
    # The same index and process without the two BM25 levers: every selective word however long its posting list,
    # and document frequencies counted afresh by FTS5 for every question.
    budget, cache = retrieve_mod._POSTING_BUDGET, store_lexical.DF_CACHE_TERMS
    retrieve_mod._POSTING_BUDGET, store_lexical.DF_CACHE_TERMS = 10**12, -1
    try:
        rows.append({**base, "variant": "no posting budget, no df cache", **timed_asks(answerer, questions, rounds)})
        rows[-1].update(components(st, qvecs, questions))
    finally:
        retrieve_mod._POSTING_BUDGET, store_lexical.DF_CACHE_TERMS = budget, cache
    if kind == "hnsw":
        exact = exact_copy(chosen)
        rows[0]["recall@10"] = round(recall(chosen, exact, qvecs, 10), 4)
        rows[0]["recall@40"] = round(recall(chosen, exact, qvecs, 40), 4)
        st._faiss = exact  # the same generation, searched exactly: what the old design did
        rows.append({**base, "variant": f"exact index ({main.backend})", **timed_asks(answerer, questions, rounds)})
        rows[-1].update(components(st, qvecs, questions))
        st._faiss = chosen
        del exact
    if "torch" in embedders:
        old = Answerer(settings, embedders["torch"], st)
        rows.append({**base, "variant": f"torch embedder ({kind})", **timed_asks(old, questions, rounds)})
    return rows


def prepare(workdir: Path, backend: str) -> tuple[Settings, Filler]:
    """The settings of the benchmark index under ``workdir`` (news-qa ingested on first use) and its filler maker."""
    settings = Settings(_env_file=None, index_dir=workdir / "index", embed_backend=backend)  # type: ignore[arg-type]
    if not (settings.index_dir / "manifest.json").exists():
        print("ingesting news-qa…", file=sys.stderr, flush=True)
        Ingestor.from_settings(settings).ingest_articles(common.news_articles())
    st = IndexStore.open(settings.index_dir, model=settings.model)
    real = st.conn.execute(
        "SELECT v.vector FROM chunks c JOIN vectors v ON v.hash = c.vhash WHERE c.article_id NOT LIKE 'filler-%'"
    ).fetchall()
    fillers = st.conn.execute("SELECT count(*) FROM articles WHERE id LIKE 'filler-%'").fetchone()[0]
    st.close()
    filler = Filler(np.stack([np.frombuffer(r[0], dtype=np.float32) for r in real]))
    filler.n = int(fillers)  # a second run on the same index adds new fillers instead of replacing the first ones
    return settings, filler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated chunk counts, ascending")
    p.add_argument("--rounds", type=int, default=2, help="times each question is asked per variant")
    p.add_argument("--backend", default="auto", help="the embedding backend under test (QABOT_EMBED_BACKEND)")
    p.add_argument("--no-torch", action="store_true", help="skip the torch-embedder comparison")
    p.add_argument("--memory", action="store_true", help="also run benchmarks/memory.py's probe at each size")
    p.add_argument("--workdir", type=Path, default=None, help="keep the index here (default: a temporary folder)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    info = common.machine()
    print(common.machine_line(info), file=sys.stderr)
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="qabot-bench-latency-")
        args.workdir = Path(tmp.name)
    settings, filler = prepare(args.workdir, args.backend)
    embedders = {"main": Embedder.from_settings(settings)}
    if not args.no_torch:
        embedders["torch"] = Embedder(backend="torch")
    questions = [q.question for q in common.news_questions()]

    rows: list[dict[str, Any]] = []
    memory_rows: list[dict[str, Any]] = []
    for size in sizes:
        grow(settings, filler, size)
        if args.memory:
            import memory

            memory_rows.append(memory.probe(settings.index_dir, args.backend))
        step = measure(settings, embedders, questions, args.rounds)
        rows += step
        common.print_table(f"after {size:,}", step, COLUMNS)
    common.print_table("Question → answer latency — " + common.machine_line(info), rows, COLUMNS)
    result: dict[str, Any] = {"machine": info, "rounds": args.rounds, "rows": rows}
    if memory_rows:
        import memory

        memory.add_slopes(memory_rows)
        common.print_table("Serving memory", memory_rows, memory.COLUMNS)
        result["memory"] = memory_rows
    common.write_json("latency", result, args.out)
    if tmp is not None:
        tmp.cleanup()
    return 0


COLUMNS = [
    "chunks", "variant", "p50_ms", "p95_ms", "embed_ms", "search_ms", "select_ms", "vector_ms", "lexical_ms",
    "recall@10", "recall@40", "index_load_s",
]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
