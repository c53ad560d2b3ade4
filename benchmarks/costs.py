"""Costs that grow with the index, once per commit or per article, at 1M chunks: what a feed's few new articles cost.

    .venv/bin/python benchmarks/costs.py                                   # builds 1M chunks (~15-30 min) and measures
    .venv/bin/python benchmarks/costs.py --chunks 200000 --workdir /tmp/costs   # smaller; keeps the index
    .venv/bin/python benchmarks/costs.py --workdir /tmp/costs --skip-build      # measure the kept index again

The index is built as ``latency.py`` builds it (news-qa for real, then Markov-chain filler articles with vectors
mixed from real ones; its functions are imported). Then, at that size:

- a small ingest commit (``--articles`` new generated articles, as from one feed) through ``Ingestor``, broken down
  into the story lookup (grouping), the presence test of ``_embed_missing``, the embedding itself and the commit
  (the vector sweep, the document-frequency log, the FAISS update); and the same for removing them again;
- each of those costs beside the old way of doing it, timed in this process on the same index at the same moment
  (functions below keep the old code paths): the ``NOT IN (… UNION …)`` sweep, the 32-word story query, reading
  vector blobs to test presence, a document-frequency cache emptied by the commit;
- the document-frequency lookups of ``--questions`` news-qa questions right after the commit vs warm, and whole
  answers right after it vs warm.

Every time is also given as ``×ref``: its ratio to a fixed reference query (``SELECT count(*) FROM chunks``) timed
in the same process, so runs under different load compare. Table on stdout, JSON to benchmarks/results/costs.json.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode
import latency

from qabot import ingest as ingest_mod
from qabot.answer import Answerer
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.store import IndexStore, IndexWriter
from qabot.stories import grouping
from qabot.stories.copies import resemblance, shingles
from qabot.stories.grouping import SAME_STORY
from qabot.text import query_words

OLD_SWEEP = "DELETE FROM vectors WHERE hash NOT IN (SELECT vhash FROM chunks UNION SELECT vhash FROM sentences)"


# ---------------------------------------------------------------------------------------------- the old code paths
def old_sweep(writer: IndexWriter) -> None:
    """The sweep every commit ran before: every vector against every chunk and sentence."""
    writer._conn.execute(OLD_SWEEP)


def current_sweep(writer: IndexWriter) -> None:
    """The sweep of this code."""
    getattr(writer, "_sweep_vectors", lambda: old_sweep(writer))()


def old_probe(writer: IndexWriter, article: Article) -> list[tuple[str, str, str]]:
    """The story lookup before: all 32 title-and-lead words, however common; the candidates it finds."""
    words = query_words(f"{article.title} {' '.join(article.text.split()[:40])}")[:32]
    return writer.similar_articles(words, k=12)


def new_probe(writer: IndexWriter, article: Article) -> list[tuple[str, str, str]]:
    """The story lookup of this code (``grouping.assign_story`` before comparing texts); the candidates it finds."""
    words = query_words(f"{article.title} {' '.join(article.text.split()[:40])}")[:32]
    probe = grouping._probe(writer, words) if hasattr(grouping, "_probe") else words
    return writer.similar_articles(probe, k=12)


def copies(article: Article, candidates: list[tuple[str, str, str]]) -> list[str]:
    """The candidates ``assign_story`` would take for copies of ``article``."""
    mine = shingles(article.text)
    return sorted(i for i, text, _ in candidates if i != article.id and resemblance(mine, shingles(text)) >= SAME_STORY)


def old_presence(store: IndexStore, hashes: list[str]) -> None:
    """The presence test before: read the vectors themselves."""
    store.vectors_for(hashes)


def new_presence(store: IndexStore, hashes: list[str]) -> None:
    """The presence test of this code."""
    getattr(store, "stored_hashes", store.vectors_for)(hashes)


def empty_df_cache(store: IndexStore) -> None:
    """What every commit did to a reader's document-frequency cache before."""
    if isinstance(getattr(store, "_df", None), dict):  # the old layout
        store._df, store._df_gen = {}, -1  # type: ignore[attr-defined]
    else:
        store._df = type(store._df)()


# ---------------------------------------------------------------------------------------------- timing
class Stages:
    """Wall time spent in wrapped functions, by stage name, while ``recording``."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self.recording = ""

    @contextlib.contextmanager
    def wrap(self, owner: Any, name: str, stage: str, *, only_within: str = "") -> Iterator[None]:
        if not hasattr(owner, name):
            yield
            return
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if only_within and self.recording != only_within:
                return original(*args, **kwargs)
            outer, self.recording = self.recording, stage
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.recording = outer
                self.ms[stage] = self.ms.get(stage, 0.0) + (time.perf_counter() - start) * 1000

        setattr(owner, name, timed)
        try:
            yield
        finally:
            setattr(owner, name, original)


def instrumented(stages: Stages) -> contextlib.ExitStack:
    """Wrap the stages of an ingest or removal (those this code has)."""
    stack = contextlib.ExitStack()
    stack.enter_context(stages.wrap(ingest_mod, "assign_story", "grouping"))
    stack.enter_context(stages.wrap(ingest_mod, "regroup", "grouping"))
    stack.enter_context(stages.wrap(Ingestor, "_embed_missing", "embed_missing"))
    stack.enter_context(stages.wrap(Embedder, "embed_texts", "embedding", only_within="embed_missing"))
    for name in ("stored_hashes", "vectors_for"):
        stack.enter_context(stages.wrap(IndexStore, name, "presence", only_within="embed_missing"))
    stack.enter_context(stages.wrap(IndexWriter, "commit", "commit"))
    stack.enter_context(stages.wrap(IndexWriter, "_sweep_vectors", "sweep", only_within="commit"))
    return stack


def best_ms(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs of ``fn``, in ms (the least disturbed by other jobs)."""
    times = []
    for _ in range(repeat):
        with common.Timer() as t:
            fn()
        times.append(t.seconds * 1000)
    return min(times)


def in_rolled_back(store: IndexStore, prepare: Callable[[IndexWriter], object], fn: Callable[[IndexWriter], object]):
    """Time ``fn`` in a writer transaction after ``prepare``, then roll everything back; ms."""
    with store.writer() as w:
        w._begin()
        prepare(w)
        with common.Timer() as t:
            fn(w)
    return t.seconds * 1000


# ---------------------------------------------------------------------------------------------- measuring
def df_pass(store: IndexStore, term_lists: list[list[str]]) -> tuple[float, dict[str, int]]:
    """Total ms of the document-frequency lookups of every question, and the frequencies found."""
    found: dict[str, int] = {}
    total = 0.0
    with store.snapshot():
        for terms in term_lists:
            with common.Timer() as t:
                df, _ = store.document_frequencies(terms)
            total += t.seconds * 1000
            found.update({term: df.get(term, 0) for term in terms})
    return total, found


def ask_pass(answerer: Answerer, questions: list[str]) -> list[float]:
    out = []
    for q in questions:
        with common.Timer() as t:
            answerer.ask(q)
        out.append(t.seconds * 1000)
    return out


def commit_rows(stages: Stages, wall_ms: float, what: str) -> dict[str, Any]:
    return {"step": what, "wall_ms": round(wall_ms, 1), **{k: round(v, 1) for k, v in stages.ms.items()}}


def measure(settings: Any, n_articles: int, n_questions: int) -> dict[str, Any]:
    embedder = Embedder.from_settings(settings)
    ingestor = Ingestor.from_settings(settings, embedder)
    answerer = Answerer.from_settings(settings, embedder=embedder)
    store = answerer.store
    questions = [q.question for q in common.news_questions()][:n_questions]
    term_lists = [[t for ts in store.analyze(query_words(q)) for t in ts] for q in questions]
    ref = best_ms(store.count_chunks, 5)
    chunks = store.count_chunks()
    # New stories, and one wire copy of a news-qa article: the story lookup must still find its original.
    original = common.news_articles()[0]
    new = [
        Article(id=f"costs-{a.id}", title=a.title, text=a.text, url=f"{a.url}/costs", published=a.published,
                source="costs")
        for a in [*common.generated_articles(n_articles - 1, seed=2026), original]
    ]  # fmt: skip
    ids = [a.id for a in new]
    # Two commits that change nothing but the generation: the first after an upgrade also builds what this code
    # needs (indexes, the sweep's mark), the second is what such a commit costs from then on.
    empty = []
    for what in ("commit, nothing changed (first)", "commit, nothing changed (again)"):
        stages = Stages()
        with instrumented(stages), common.Timer() as t, store.writer() as w:
            w._begin()
            w.commit()
        empty.append(commit_rows(stages, t.seconds * 1000, what))
    ask_pass(answerer, questions)  # warm: model, vector cache, page cache, document frequencies
    ask_pass(answerer, questions)

    stages = Stages()
    with instrumented(stages), common.Timer() as t:
        report = ingestor.ingest_articles(new)
    assert len(report.added) == n_articles, report
    stories = store.stories([original.id, new[-1].id])
    copy_joined = stories[new[-1].id] == stories[original.id]
    ingest = commit_rows(stages, t.seconds * 1000, f"ingest {n_articles} new articles")
    with common.Timer() as t:
        store.vector_index()  # the new generation's vector cache, loaded before the questions
    load_ms = t.seconds * 1000
    first_asks = ask_pass(answerer, questions)
    warm_asks = ask_pass(answerer, questions)

    # The old and new ways side by side, on the index holding the new articles.
    hashes = [r[0] for r in store._in("SELECT vhash FROM chunks WHERE article_id IN ({})", ids)]
    hashes += [r[0] for r in store._in("SELECT vhash FROM sentences WHERE article_id IN ({})", ids)]
    many = [r[0] for r in store.conn.execute("SELECT hash FROM vectors ORDER BY hash LIMIT 20000")]

    def remove_new(w: IndexWriter) -> None:
        for i in ids:
            w.remove_article(i)

    found: list[list[list[tuple[str, str, str]]]] = []  # the candidates each lookup found

    def fresh() -> IndexStore:  # as an ingest opens it: nothing remembered yet
        return IndexStore.open(settings.index_dir, model=settings.model)

    def lookups(on: IndexStore, probe: Callable[[IndexWriter, Article], list[tuple[str, str, str]]]) -> None:
        try:
            in_rolled_back(on, lambda w: None, lambda w: found.append([probe(w, a) for a in new]))
        finally:
            if on is not store:
                on.close()

    sides: dict[str, tuple[float, float]] = {
        "sweep after removing them": (
            min(in_rolled_back(store, remove_new, old_sweep) for _ in range(2)),
            min(in_rolled_back(store, remove_new, current_sweep) for _ in range(2)),
        ),
        f"story lookup of {n_articles} articles, fresh process": (
            best_ms(lambda: lookups(fresh(), old_probe), 2),
            best_ms(lambda: lookups(fresh(), new_probe), 2),
        ),
        f"story lookup of {n_articles} articles, again": (
            best_ms(lambda: lookups(store, old_probe), 2),
            best_ms(lambda: lookups(store, new_probe), 2),
        ),
        f"presence of their {len(hashes)} vectors": (
            best_ms(lambda: old_presence(store, hashes)),
            best_ms(lambda: new_presence(store, hashes)),
        ),
        f"presence of {len(many):,} vectors": (
            best_ms(lambda: old_presence(store, many)),
            best_ms(lambda: new_presence(store, many)),
        ),
    }

    stages = Stages()
    with instrumented(stages), common.Timer() as t:
        assert ingestor.remove(ids[0])
        for i in ids[1:]:
            ingestor.remove(i)
    remove = commit_rows(stages, t.seconds * 1000, f"remove them ({n_articles} commits)")
    store.vector_index()
    df_after, seen = df_pass(store, term_lists)  # shifted by the removals' log (or recounted, before)
    df_warm, _ = df_pass(store, term_lists)
    empty_df_cache(store)
    df_empty, recounted = df_pass(store, term_lists)
    sides[f"df of {len(questions)} questions after a commit"] = (df_empty, df_after)
    exact = seen == recounted
    found_copies = [[copies(a, rows) for a, rows in zip(new, f, strict=True)] for f in found]

    rows = []
    for what, (old, new_ms) in sides.items():
        rows.append({
            "cost": what, "old_ms": round(old, 2), "new_ms": round(new_ms, 2),
            "old/new": round(old / new_ms, 1) if new_ms else None,
            "old×ref": round(old / ref, 2), "new×ref": round(new_ms / ref, 2),
        })  # fmt: skip
    return {
        "chunks": chunks,
        "reference_ms": round(ref, 3),
        "sides": rows,
        "commits": [*empty, ingest, remove],
        "questions": {
            "n": len(questions),
            "vector_cache_load_ms": round(load_ms, 1),
            "first_after_ingest_p50_ms": round(common.percentile(first_asks, 50), 2),
            "first_after_ingest_total_ms": round(sum(first_asks), 1),
            "warm_p50_ms": round(common.percentile(warm_asks, 50), 2),
            "warm_total_ms": round(sum(warm_asks), 1),
            "df_after_remove_ms": round(df_after, 2),
            "df_warm_ms": round(df_warm, 2),
            "df_emptied_ms": round(df_empty, 2),
            "df_exact": exact,
        },
        "stories": {
            "copy_joined_its_story": copy_joined,
            "same_copies_found_old_and_new": len({str(c) for c in found_copies}) == 1,
            "copies_found": found_copies[-1],
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chunks", type=int, default=1_000_000, help="index size to build (default 1,000,000)")
    p.add_argument("--articles", type=int, default=5, help="new articles in the measured commit")
    p.add_argument("--questions", type=int, default=30, help="news-qa questions asked after it")
    p.add_argument("--backend", default="auto", help="the embedding backend (QABOT_EMBED_BACKEND)")
    p.add_argument("--workdir", type=Path, default=None, help="keep the index here (default: a temporary folder)")
    p.add_argument("--skip-build", action="store_true", help="measure the index under --workdir as it is")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)

    info, args.workdir, tmp = common.begin(args.workdir, "qabot-bench-costs-")
    if args.skip_build and not (args.workdir / "index" / "manifest.json").exists():
        print(f"Error: no index under {args.workdir} to reuse", file=sys.stderr)
        return 1
    settings, filler = latency.prepare(args.workdir, args.backend)
    if not args.skip_build:
        latency.grow(settings, filler, args.chunks)
    result = measure(settings, args.articles, args.questions)
    head = f"at {result['chunks']:,} chunks; reference query {result['reference_ms']} ms — {common.machine_line(info)}"
    common.print_table("Old vs new, same process — " + head, result["sides"], SIDE_COLUMNS)
    common.print_table("Commits (ms in each stage)", result["commits"], COMMIT_COLUMNS)
    common.print_table("Questions after the commit", [result["questions"]], list(result["questions"]))
    common.print_table("Stories", [result["stories"]], list(result["stories"]))
    common.write_json("costs", {"machine": info, "command": sys.argv, **result}, args.out)
    if tmp is not None:
        tmp.cleanup()
    return 0


SIDE_COLUMNS = ["cost", "old_ms", "new_ms", "old/new", "old×ref", "new×ref"]
COMMIT_COLUMNS = ["step", "wall_ms", "grouping", "embed_missing", "embedding", "presence", "commit", "sweep"]


if __name__ == "__main__":
    raise SystemExit(main())
