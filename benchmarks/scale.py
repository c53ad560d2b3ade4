"""The index on Milvus against the local folder: ingest throughput and answer latency at 100k (and 1M) chunks.

    .venv/bin/python benchmarks/scale.py                                   # 100k chunks: local, Milvus Lite, server
    .venv/bin/python benchmarks/scale.py --sizes 100000,1000000 --stores local,lite
    .venv/bin/python benchmarks/scale.py --server-uri http://host:19530     # a server of your own instead

Every store gets the same articles, written through the same ``StoreWriter`` interface in the same process:

1. news-qa, ingested for real into a local folder (embedded once), then copied into each store: the local one
   as a folder copy, each Milvus one by ``qabot.store.migrate`` — timed, as ``qabot migrate --to milvus`` runs;
2. filler articles as ``latency.py`` makes them (Markov-chain text over generated news, so BM25 does real work;
   synthetic vectors mixed from the real ones plus noise, so the vector index sees clustered data), the same seed
   for every store, until the store holds each ``--sizes`` count of chunks, in commits of ``--commit-articles``
   articles. Embedding would dominate a real ingest and is the same for every store, so it is left out here: this
   is the store's own write throughput (chunks/s, with their sentences and vectors);
3. ``--articles`` generated articles through the real ``Ingestor`` (embedding included), for the whole ingest;
4. the first ``--questions`` news-qa dev questions asked through ``Answerer.ask``, warm: p50/p95, and how many
   get the same first quote as on the local store.

Milvus stores are Milvus Lite (a file, embedded) and the standalone 2.3.5 server from the PyPI ``milvus`` wheel,
started here in a fresh folder (tests/fakes/milvus_server.py) unless ``--server-uri`` names one. The 2.3 server
has no BM25: it answers from dense vectors alone (``lexical`` says so), which makes it both cheaper and different.
Speeds are also given as a ratio to the local store in the same run (``×local``), so runs on other machines or
under other load compare. Table on stdout, JSON to benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode
import latency

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Answer
from qabot.store import open_store
from qabot.store.api import Store
from qabot.store.index import IndexStore
from qabot.store.migrate import migrate

STORES = ("local", "lite", "server")


# ---------------------------------------------------------------------------------------------- the stores
@contextlib.contextmanager
def store_settings(kind: str, local: Settings, workdir: Path, server_uri: str) -> Iterator[tuple[Settings, str]]:
    """The settings of one store under test, and where it is; a standalone server runs for the block's length."""
    index_dir = workdir / kind
    if kind == "local":  # a copy of the news-qa index, which stays as it is: the source of every Milvus store
        if not index_dir.exists():
            shutil.copytree(local.index_dir, index_dir)
        yield local.model_copy(update={"index_dir": index_dir}), str(index_dir)
        return
    if kind == "lite":
        uri = str(index_dir / "milvus.db")
        yield local.model_copy(update={"store": "milvus", "milvus_uri": uri, "index_dir": index_dir}), uri
        return
    server = None
    if not server_uri:
        from tests.fakes.milvus_server import MilvusServer

        server = MilvusServer(workdir / "milvus-server")
        with common.Timer() as t:
            server.start()
        print(f"  Milvus {server.version} standalone up in {t.seconds:.0f} s at {server.uri}", file=sys.stderr)
        server_uri = server.uri
    try:
        yield local.model_copy(update={"store": "milvus", "milvus_uri": server_uri, "index_dir": index_dir}), server_uri
    finally:
        if server is not None:
            server.stop()


def grow(store: Store, filler: latency.Filler, target: int, commit_articles: int) -> dict[str, Any]:
    """Add filler articles until ``store`` holds about ``target`` chunks; chunks written and chunks per second."""
    need = target - store.count_chunks()
    if need <= 0:
        return {"chunks_written": 0}
    n_articles = -(-need // latency.CHUNKS_PER_ARTICLE)
    print(f"  growing to {target:,} chunks: {n_articles:,} filler articles", file=sys.stderr, flush=True)
    with common.Timer() as t:
        for start in range(0, n_articles, commit_articles):
            batch = min(commit_articles, n_articles - start)
            vecs = filler.vectors(batch * latency.CHUNKS_PER_ARTICLE)
            keys = [hashlib.sha1(f"filler{filler.n}-{i}".encode()).hexdigest() for i in range(len(vecs))]
            with store.writer() as w:
                w.save_vectors(dict(zip(keys, vecs, strict=True)))
                per = latency.CHUNKS_PER_ARTICLE
                for i in range(0, len(keys), per):
                    w.put_article(*filler.article(keys[i : i + per]))
                w.commit()
            took = time.perf_counter() - t.start
            print(f"    {start + batch:,} of {n_articles:,} articles, {took:.0f} s", file=sys.stderr, flush=True)
    store.refresh()
    written = n_articles * latency.CHUNKS_PER_ARTICLE
    return {"chunks_written": written, "write_s": round(t.seconds, 1), "chunks_per_s": round(written / t.seconds)}


def bulk_grow(store: Store, filler: latency.Filler, target: int, commit_articles: int) -> dict[str, Any]:
    """Fill a Milvus store to about ``target`` chunks by inserting rows straight into its collections.

    For the query rows at sizes the ``StoreWriter`` takes hours to reach on two cores (1M chunks: ~1.5 h on Lite).
    The rows are exactly those ``MilvusWriter.put_article`` writes, live from the start (each article's row names
    its version), with the term frequencies and counts a commit would leave; what it skips is what makes a write
    safe — pending marks, saved vectors, the switch-over, the sweep — so its speed is *not* a write throughput and
    is reported as ``bulk_s`` only. The local store is always grown through its writer (``grow``)."""
    from qabot.store.lexical import term_counts
    from qabot.store.milvus import schema

    need = target - store.count_chunks()
    if need <= 0:
        return {"chunks_written": 0}
    client, names = store.client, store.names  # type: ignore[attr-defined]
    n_articles = -(-need // latency.CHUNKS_PER_ARTICLE)
    per = latency.CHUNKS_PER_ARTICLE
    print(f"  bulk-filling to {target:,} chunks: {n_articles:,} filler articles", file=sys.stderr, flush=True)
    terms: Counter[str] = Counter()
    with common.Timer() as t:
        for start in range(0, n_articles, commit_articles):
            batch = min(commit_articles, n_articles - start)
            vecs = filler.vectors(batch * per)
            keys = [hashlib.sha1(f"bulk{filler.n}-{i}".encode()).hexdigest() for i in range(len(vecs))]
            vec = {k: v.tolist() for k, v in zip(keys, vecs, strict=True)}
            rows: dict[str, list[dict[str, Any]]] = {"sentences": [], "chunks": [], "articles": []}
            for i in range(0, len(keys), per):
                article, sentences, chunks = filler.article(keys[i : i + per])
                aid, version = article.id, schema.version_of(article.content_hash, sentences, chunks)
                rows["sentences"] += [
                    {"pk": schema.key("s", aid, version, j), "article_id": aid, "version": version, "ordinal": j,
                     "char_start": s, "char_end": e, "vhash": h, "vector": vec[h]}
                    for j, (s, e, h) in enumerate(sentences)
                ]  # fmt: skip
                rows["chunks"] += [
                    {"pk": schema.key("c", aid, version, c.ordinal, c.vhash), "article_id": aid, "version": version,
                     "ordinal": c.ordinal, "char_start": c.start, "char_end": c.end,
                     "first_sentence": c.first_sentence, "last_sentence": c.last_sentence, "vhash": c.vhash,
                     "vector": vec[c.vhash], "text": c.lexical_text}
                    for c in chunks
                ]  # fmt: skip
                rows["articles"].append({
                    "id": aid, "title": article.title, "text": article.text, "url": "", "published": "",
                    "source": article.source or "", "author": "", "hash": article.content_hash, "story": aid,
                    "origin": "", "added": time.time(), "version": version, "parts": 1, "dummy": schema.DUMMY,
                })  # fmt: skip
                terms.update(term_counts(store.conn, [c.lexical_text for c in chunks]))  # type: ignore[attr-defined]
            for kind, batch_rows in rows.items():
                for i in range(0, len(batch_rows), 2_000):
                    client.insert(names[kind], batch_rows[i : i + 2_000])
            took = time.perf_counter() - t.start
            print(f"    {start + batch:,} of {n_articles:,} articles, {took:.0f} s", file=sys.stderr, flush=True)
        now = {r["key"][5:]: int(r["num"]) for r in store._where(  # type: ignore[attr-defined]
            "meta", "key", [f"term:{w}" for w in terms], ["key", "num"])}  # fmt: skip
        term_rows = [{"key": f"term:{w}", "kind": "term", "ref": "", "num": now.get(w, 0) + n, "value": "",
                      "dummy": schema.DUMMY} for w, n in terms.items()]  # fmt: skip
        for i in range(0, len(term_rows), 2_000):
            client.upsert(names["meta"], term_rows[i : i + 2_000])
        state = store.state()  # type: ignore[attr-defined]
        written = n_articles * per
        done = {"generation": int(state["generation"]) + 1, "chunks": int(state["chunks"]) + written,
                "articles": int(state["articles"]) + n_articles, "dirty": False}  # fmt: skip
        client.upsert(names["meta"], [schema.meta_row("state", done)])
        client.flush(names["chunks"])
    store.refresh()
    return {"chunks_written": written, "bulk_s": round(t.seconds, 1)}


def asks(answerer: Answerer, questions: list[str]) -> tuple[dict[str, float], list[Answer]]:
    """Warm p50/p95 of ``Answerer.ask`` over ``questions`` (after a warm-up pass over the first ten)."""
    for q in questions[:10]:
        answerer.ask(q)
    walls, answers = [], []
    for q in questions:
        with common.Timer() as t:
            answers.append(answerer.ask(q))
        walls.append(t.seconds)
    out = common.summary_ms(walls)
    # Where the time goes: the question's embedding and the selection run on the replica's CPU; search (all of
    # retrieval but the embedding) is mostly waiting for the store.
    timed = [a.timings_ms for a in answers if {"embed", "retrieve", "select"} <= a.timings_ms.keys()]
    out["embed_ms"] = round(common.percentile([t["embed"] for t in timed], 50), 1)
    out["search_ms"] = round(common.percentile([t["retrieve"] - t["embed"] for t in timed], 50), 1)
    out["select_ms"] = round(common.percentile([t["select"] for t in timed], 50), 1)
    return out, answers


def first_quote(answer: Answer) -> str | None:
    return None if answer.abstained or not answer.quotes else answer.quotes[0].text


# ---------------------------------------------------------------------------------------------- one store
def run_store(kind: str, args: argparse.Namespace, local: Settings, embedder: Embedder) -> list[dict[str, Any]]:
    """Fill one store step by step to every size and measure it at each."""
    rows: list[dict[str, Any]] = []
    questions = [q.question for q in common.news_questions()][: args.questions]
    with store_settings(kind, local, args.workdir, args.server_uri) as (settings, where):
        base = {"store": kind, "where": where}
        copy_s = None
        store: Store
        if kind == "local":
            store = IndexStore.open(settings.index_dir, model=local.model)
        else:
            store = open_store(settings, dimension=embedder.dimension, create=True)
            with common.Timer() as t:
                migrate(IndexStore.open(local.index_dir, model=local.model), store)
            copy_s = round(t.seconds, 1)
        _, filler = latency.prepare(args.workdir / "news-qa", args.backend)  # the same seed for every store
        filler.n = 0
        for size in args.sizes:
            fill = bulk_grow if args.bulk and kind != "local" else grow
            wrote = fill(store, filler, size, args.commit_articles)
            ingest = ingest_real(settings, embedder, args.articles, size)
            answerer = Answerer.from_settings(settings, embedder=embedder)
            latencies, answers = asks(answerer, questions)
            rows.append({
                **base, "chunks": store.count_chunks(), "migrate_news_qa_s": copy_s, **wrote, **ingest, **latencies,
                "lexical": lexical_kind(store), "first_quotes": [first_quote(a) for a in answers],
            })  # fmt: skip
            print(f"  {kind} at {size:,}: p50 {latencies['p50_ms']} ms", file=sys.stderr, flush=True)
            remove_real(settings, embedder, args.articles, size)
    return rows


def ingest_real(settings: Settings, embedder: Embedder, n: int, size: int) -> dict[str, Any]:
    """``n`` generated articles through the real Ingestor (embedding included): articles and chunks per second."""
    if n <= 0:
        return {}
    articles = common.generated_articles(n, seed=size)
    with common.Timer() as t:
        report = Ingestor.from_settings(settings, embedder=embedder).ingest_articles(articles)
    return {"real_ingest_articles": len(report.added), "real_ingest_s": round(t.seconds, 1)}


def remove_real(settings: Settings, embedder: Embedder, n: int, size: int) -> None:
    # Out again, so the next size holds fillers only plus news-qa, in every store alike.
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    for a in common.generated_articles(n, seed=size):
        ingestor.remove(a.id)


def lexical_kind(store: Store) -> str:
    """``bm25`` when the store has a lexical index, ``dense only`` when it has none (the 2.3 server)."""
    return "bm25" if getattr(store, "bm25", True) else "dense only"


# ---------------------------------------------------------------------------------------------- the report
def compare(rows: list[dict[str, Any]], questions: list[str]) -> None:
    """Add ratios to the local store's row of the same size, and first-quote agreement with it: a count for the
    table, and each question whose first quotes differ for the JSON, so a difference can be traced without a rerun."""
    local = {r["chunks_target"]: r for r in rows if r["store"] == "local"}
    for r in rows:
        ref = local.get(r["chunks_target"])
        if ref is None:
            continue
        r["p50×local"] = round(r["p50_ms"] / ref["p50_ms"], 2)
        r["p95×local"] = round(r["p95_ms"] / ref["p95_ms"], 2)
        if r.get("chunks_per_s") and ref.get("chunks_per_s"):
            r["write×local"] = round(r["chunks_per_s"] / ref["chunks_per_s"], 2)
        pairs = list(zip(questions, ref["first_quotes"], r["first_quotes"], strict=True))
        r["same_first_quote"] = f"{sum(a == b for _, a, b in pairs)}/{len(pairs)}"
        if r is not ref:
            r["differing_first_quotes"] = [{"question": q, "local": a, "store": b} for q, a, b in pairs if a != b]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="100000", help="comma-separated chunk counts, ascending (default 100000)")
    p.add_argument("--stores", default=",".join(STORES), help=f"comma-separated, of {', '.join(STORES)}")
    p.add_argument("--server-uri", default="", help="a running Milvus server to use instead of starting 2.3.5")
    p.add_argument("--commit-articles", type=int, default=5000, help="filler articles per commit (default 5000)")
    p.add_argument(
        "--bulk",
        action="store_true",
        help="fill Milvus stores by inserting rows straight into the collections (query rows only)",
    )
    p.add_argument("--articles", type=int, default=20, help="generated articles ingested for real at each size")
    p.add_argument("--questions", type=int, default=60, help="news-qa dev questions asked at each size")
    p.add_argument("--backend", default="auto", help="the embedding backend (QABOT_EMBED_BACKEND)")
    p.add_argument("--workdir", type=Path, default=None, help="keep the stores here (default: a temporary folder)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    kinds = [k for k in args.stores.split(",") if k]
    if "local" not in kinds or any(k not in STORES for k in kinds):
        p.error(f"--stores must include local (the reference) and name only {', '.join(STORES)}")

    info, args.workdir, tmp = common.begin(args.workdir, "qabot-bench-scale-")
    with common.Timer() as wall:
        local, _ = latency.prepare(args.workdir / "news-qa", args.backend)
        embedder = Embedder.from_settings(local)
        rows: list[dict[str, Any]] = []
        for kind in ["local", *[k for k in kinds if k != "local"]]:
            print(f"{kind}:", file=sys.stderr, flush=True)
            for size, row in zip(args.sizes, run_store(kind, args, local, embedder), strict=True):
                rows.append({**row, "chunks_target": size})
        compare(rows, [q.question for q in common.news_questions()][: args.questions])
    head = f"{common.machine_line(info)}; {args.questions} news-qa questions; total {wall.seconds:.0f} s"
    common.print_table("Stores side by side — " + head, rows, COLUMNS)
    for r in rows:
        r.pop("first_quotes")
    common.write_json("scale", {"machine": info, "command": sys.argv, "wall_s": round(wall.seconds), "rows": rows},
                      args.out)  # fmt: skip
    if tmp is not None:
        tmp.cleanup()
    return 0


COLUMNS = [
    "store", "chunks", "lexical", "chunks_per_s", "write×local", "bulk_s", "migrate_news_qa_s", "real_ingest_s",
    "p50_ms", "p95_ms", "p50×local", "p95×local", "embed_ms", "search_ms", "select_ms", "same_first_quote",
]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
