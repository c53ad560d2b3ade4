"""Answer quality on every set of the suite: qabot as shipped beside the tutorial RAG baseline, per half.

Run by hand from the repository root; qabot/ never imports this file:

    .venv/bin/python benchmarks/quality.py                          # every set present; JSON to results/quality.json
    .venv/bin/python benchmarks/quality.py --sets samples,news-qa --split check
    .venv/bin/python benchmarks/quality.py --scorer /tmp/other.json # the same table for another fitted scorer

Each set's index is built once (qabot's Ingestor) and kept in --cache; every system is asked the same questions in
the same process and scored by ``qabot.evaluate`` exactly as ``qabot eval --suite`` scores them. The suite
(benchmarks/suite.json) says which sets train the scorer (their tune halves) and which only check.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import common  # first: puts the repository on sys.path and sets offline mode

from qabot.answer.scorer import Scorer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.evaluate.metrics import evaluate
from qabot.evaluate.suite import LoadedSet, answerer_for, asking, load_set, read_suite
from qabot.models import Answer, Article, Quote
from qabot.render.common import plain_text

SUITE = common.REPO / "benchmarks" / "suite.json"


# ---------------------------------------------------------------------------------------------- the baseline
class TutorialBaseline:
    """The tutorial RAG: fixed 1000-character chunks, plain embeddings, FAISS IndexFlatIP, top 3 chunks quoted whole.

    It never declines. Its chunks are quoted as ``Quote`` values so the same scoring applies to it.
    """

    def __init__(self, articles: Sequence[Article], embedder: Embedder, size: int = 1000, k: int = 3) -> None:
        import faiss  # only this benchmark and qabot/store/ need it

        self.embedder = embedder
        self.k = k
        self.pieces = [(a, s, min(s + size, len(a.text))) for a in articles for s in range(0, len(a.text), size)]
        vectors = embedder.embed_texts([a.text[s:e] for a, s, e in self.pieces])
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def ask(self, question: str) -> Answer:
        """The top ``k`` chunks by cosine similarity, each quoted whole."""
        t0 = time.perf_counter()
        qvec = self.embedder.embed_query(question)
        scores, ids = self.index.search(qvec[None, :], self.k)
        quotes = tuple(_quote(*self.pieces[i], float(sc)) for sc, i in zip(scores[0], ids[0], strict=True) if i >= 0)
        ms = (time.perf_counter() - t0) * 1000
        return Answer(question, False, plain_text(quotes), quotes, {"total": ms})


def _quote(article: Article, start: int, end: int, score: float) -> Quote:
    return Quote(
        text=article.text[start:end],
        article_id=article.id,
        title=article.title,
        url=article.url,
        published=article.published,
        source=article.source,
        start=start,
        end=end,
        score=score,
    )


# ---------------------------------------------------------------------------------------------- running
def score_set(data: LoadedSet, ask: Any, split: str | None) -> dict[str, Any]:
    """One system on one half of one set: the report as a dict, with seconds per question."""
    questions, unanswerable = data.half(split)
    texts = {a.id: a.text for a in data.articles}
    t0 = time.perf_counter()
    report = evaluate(ask, questions, data.groups, unanswerable, texts=texts)
    n = len(questions) + len(unanswerable)
    out = report.as_dict()
    out.pop("misses")
    out["ms_per_question"] = round((time.perf_counter() - t0) * 1000 / max(1, n), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    """Score every set present; print one Markdown table; write JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", type=Path, default=SUITE)
    p.add_argument("--sets", default="", help="comma-separated set names (default: every set present)")
    p.add_argument("--split", choices=("tune", "check", "both", "all"), default="both")
    p.add_argument("--scorer", type=Path, default=None, help="a scorer.json to measure instead of the shipped one")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--cache", type=Path, default=Path("/tmp/qabot-eval"))
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    wanted = {n for n in args.sets.split(",") if n}
    splits: Sequence[str | None] = {"both": ("tune", "check"), "all": (None,)}.get(args.split, (args.split,))
    settings = Settings()
    embedder = Embedder.from_settings(settings)
    scorer = Scorer.load(args.scorer) if args.scorer else None
    info = common.machine()
    rows: list[dict[str, Any]] = []
    for spec in read_suite(args.suite):
        if wanted and spec.name not in wanted:
            continue
        if spec.missing():
            rows.append({"set": spec.name, "missing": str(spec.missing()[0]), "build": spec.build})
            continue
        print(f"{spec.name}…", file=sys.stderr)
        data = load_set(spec)
        answerer = answerer_for(settings, data, args.cache, embedder, **({"scorer": scorer} if scorer else {}))
        systems: list[tuple[str, Any]] = [("qabot", asking(answerer, data))]
        if not args.no_baseline:
            systems.append(("baseline", TutorialBaseline(data.articles, embedder).ask))
        for name, ask in systems:
            for split in splits:
                row = {"set": spec.name, "role": spec.role, "system": name, "half": split or "all"}
                rows.append(row | score_set(data, ask, split))
    print(f"\n{common.machine_line(info)}\n")
    print(
        "| set | half | system | n | hit@1 | hit@3 | first | ev | ans | chars | declined (ans) | n un | declined (un) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "missing" in r:
            print(f"| {r['set']} | missing: {r['missing']} ({r['build']}) |")
            continue
        un = "-" if r["abstained_unanswerable"] is None else f"{r['abstained_unanswerable']:.3f}"
        print(
            f"| {r['set']} | {r['half']} | {r['system']} | {r['n']} | {r['hit1']:.3f} | {r['hit3']:.3f} | "
            f"{r['first']:.3f} | {r['ev']:.3f} | {r['ans']:.3f} | {r['chars']:.0f} | {r['abstained']:.3f} | "
            f"{r['n_unanswerable']} | {un} |"
        )
    out = common.write_json("quality", {"machine": info, "rows": rows}, args.out)
    print(f"\nJSON written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
