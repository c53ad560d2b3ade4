"""Answer quality on the news-qa set: the tutorial RAG baseline, qabot's Answerer, and named Tuning variants.

Run by hand from the repository root; qabot/ never imports this file:

    .venv/bin/python benchmarks/quality.py               # the table; JSON to benchmarks/results/quality.json
    .venv/bin/python benchmarks/quality.py --calibrate   # decline-score distribution → QABOT_MIN_SCORE

One temporary index of the articles is built with qabot's Ingestor (about 70 s on 2 cores) and every system is
asked the same questions in the same process, scored by ``qabot.evaluate`` exactly as ``qabot eval`` scores them.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import common  # first: puts the repository on sys.path and sets offline mode
import numpy as np

from qabot.answer import Answerer, Tuning, answer_text
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.evaluate import EvalQuestion, evaluate, read_questions, same_story_groups
from qabot.ingest import Ingestor
from qabot.loaders import load_paths
from qabot.models import Answer, Article, Quote
from qabot.news import parse_date

BASELINE = "baseline"
# Each variant turns one feature off (dense-only: all but the similarities), so a drop is that feature's share.
VARIANTS: dict[str, Tuning] = {
    "qabot": Tuning(),
    "dense-only": Tuning(w_lexical=0, w_length=0, w_rank=0),
    "no-lexical": Tuning(w_lexical=0),
    "no-chunk": Tuning(w_chunk=0),
    "no-length": Tuning(w_length=0),
    "no-rank": Tuning(w_rank=0),
    "one-sentence": Tuning(max_sentences=1),
    "no-kind-cue": Tuning(w_kind=0),
    "no-answer-checks": Tuning(answer_checks=False),
}
MAX_ABSTAIN_SUPPORTED = 0.03
MIN_ABSTAIN_UNANSWERABLE = 0.90

Ask = Callable[[str], Answer]


# ---------------------------------------------------------------------------------------------- the baseline
class TutorialBaseline:
    """The tutorial RAG: fixed 1000-character chunks, plain embeddings, FAISS IndexFlatIP, top 3 chunks quoted whole.

    It never declines. Its chunks are quoted as ``Quote`` values so the same scoring applies to it.
    """

    def __init__(self, articles: Sequence[Article], embedder: Embedder, size: int = 1000, k: int = 3) -> None:
        import faiss  # only this benchmark and qabot/store.py need it

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
        return Answer(question, False, answer_text(quotes), quotes, {"total": ms})


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


# ---------------------------------------------------------------------------------------------- the data
@dataclass
class EvalSet:
    """Articles, dev questions and unanswerable questions, with what scoring needs about them."""

    articles: list[Article]
    questions: list[EvalQuestion]
    unanswerable: list[EvalQuestion]
    kinds: dict[str, str]  # unanswerable id -> general / news / near-miss
    groups: dict[str, set[str]] = field(default_factory=dict)
    today: date | None = None  # what the Answerer takes as today; None = the clock


def newest_day(articles: Sequence[Article]) -> date | None:
    """The day after the newest article: the set was written when these articles were the news."""
    days = [d for d in (parse_date(a.published) for a in articles) if d is not None]
    return max(days) + timedelta(days=1) if days else None


def load_eval_set(eval_dir: Path, unanswerable: Path, limit: int | None) -> EvalSet:
    """Read the news-qa files as ``qabot eval`` does; ``limit`` keeps the first questions of each file (smoke runs)."""
    articles = [x for x in load_paths([eval_dir / "articles.jsonl"]) if isinstance(x, Article)]
    questions = read_questions(eval_dir / "questions.dev.jsonl")[:limit]
    off_topic = read_questions(unanswerable)[:limit]
    kinds = {}
    for line in unanswerable.read_text("utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            kinds[str(raw["id"])] = str(raw.get("kind", "unlabelled"))
    groups = same_story_groups((a.id, a.title) for a in articles)
    return EvalSet(articles, questions, off_topic, kinds, groups)


# ---------------------------------------------------------------------------------------------- running
def run_system(name: str, ask: Ask, data: EvalSet) -> tuple[dict[str, Any], list[Answer]]:
    """Ask every question once through ``ask``: the scores, abstention by question kind, and the answers in order."""
    answers: list[Answer] = []

    def recorded(question: str) -> Answer:
        a = ask(question)
        answers.append(a)
        return a

    t0 = time.perf_counter()
    report = evaluate(recorded, data.questions, data.groups, data.unanswerable)
    seconds = time.perf_counter() - t0
    dev, off = answers[: len(data.questions)], answers[len(data.questions) :]
    missing = [a.abstained for a, q in zip(dev, data.questions, strict=True) if not q.supported]
    by_kind: dict[str, list[bool]] = {}
    for a, q in zip(off, data.unanswerable, strict=True):
        by_kind.setdefault(data.kinds.get(q.id, "unlabelled"), []).append(a.abstained)
    row = report.as_dict()
    row.update(
        system=name,
        ms_per_question=round(seconds * 1000 / max(1, len(answers)), 1),
        abstained_text_missing=_rate(missing),
        abstained_by_kind={k: _rate(v) for k, v in sorted(by_kind.items())},
    )
    print(f"  {name}: done ({row['ms_per_question']} ms/question)", file=sys.stderr)
    return row, answers


def _rate(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def build_index(settings: Settings, embedder: Embedder, articles: Sequence[Article]) -> float:
    """Ingest the articles into the settings' (temporary) index; returns the seconds it took."""
    t0 = time.perf_counter()
    report = Ingestor.from_settings(settings, embedder=embedder).ingest_articles(articles)
    seconds = time.perf_counter() - t0
    print(f"index ready in {seconds:.0f} s: {report.summary()}", file=sys.stderr)
    return seconds


def make_answerer(settings: Settings, embedder: Embedder, name: str, data: EvalSet) -> Answerer:
    """The Answerer of one variant; "today" is pinned so time words in questions mean what they meant then."""
    today = data.today
    return Answerer.from_settings(
        settings, embedder=embedder, tuning=VARIANTS[name], today=None if today is None else lambda: today
    )


def quality_rows(settings: Settings, embedder: Embedder, data: EvalSet, names: list[str]) -> list[dict[str, Any]]:
    """One scored row per selected system, in the order given."""
    rows = []
    for name in names:
        if name == BASELINE:
            ask: Ask = TutorialBaseline(data.articles, embedder).ask
        else:
            ask = make_answerer(settings, embedder, name, data).ask
        rows.append(run_system(name, ask, data)[0])
    return rows


def print_table(rows: list[dict[str, Any]], min_score: float) -> None:
    """The Markdown table docs/quality.md shows."""
    print(f"\nmin_score = {min_score}; abstained(sup) on supported dev questions, abstained(un) on unanswerable\n")
    print("| system | hit@1 | hit@3 | ev | ans | chars | abstained (sup) | abstained (un) | ms/q |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        un = r["abstained_unanswerable"]
        print(
            f"| {r['system']} | {r['hit1']:.3f} | {r['hit3']:.3f} | {r['ev']:.3f} | {r['ans']:.3f} | {r['chars']:.0f} "
            f"| {r['abstained']:.3f} | {'-' if un is None else f'{un:.3f}'} | {r['ms_per_question']:.0f} |"
        )
    print("\nabstained by unanswerable kind, and on dev questions whose evidence is missing from the text:")
    for r in rows:
        kinds = "  ".join(f"{k} {v:.2f}" for k, v in r["abstained_by_kind"].items())
        missing = r["abstained_text_missing"]
        print(f"  {r['system']:<13} {kinds}  text-missing {'-' if missing is None else f'{missing:.2f}'}")


# ---------------------------------------------------------------------------------------------- calibration
class DeclineScore:
    """Asks through an Answerer and reports, per answer, the number the Answerer compares with ``min_score``.

    ``Answer`` carries no such field, so the Answerer's private ``_confidence`` is wrapped when it exists (exact);
    otherwise the best quote's score stands in (what earlier Answerers compared). Timeline answers face a lower bar
    (``timeline_relief``), so their number is raised by it to sit on the same scale. None means the answer was
    declined whatever the threshold (nothing to quote, or a name or number of the question absent from the index).
    ``check_against`` in ``calibrate`` verifies the whole construction against a run at the real threshold.
    """

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer
        self.scores: list[float | None] = []
        self._last: float | None = None
        inner = getattr(answerer, "_confidence", None)
        self.exact = callable(inner)
        if callable(inner):

            def spy(*args: Any, **kwargs: Any) -> float:
                self._last = float(inner(*args, **kwargs))
                return self._last

            answerer._confidence = spy  # type: ignore[method-assign]

    def ask(self, question: str) -> Answer:
        """Ask, and append the answer's decline score to ``scores``."""
        self._last = None
        a = self.answerer.ask(question)
        score: float | None = None
        if not a.abstained and a.quotes:
            score = self._last if self._last is not None else max(x.score for x in a.quotes)
            if getattr(a, "mode", "answer") == "timeline":
                score += getattr(self.answerer.tuning, "timeline_relief", 0.0)
        self.scores.append(score)
        return a


def abstain_rate(scores: Sequence[float | None], threshold: float) -> float:
    """Share of questions the Answerer declines at ``threshold`` (it declines when best < threshold)."""
    return sum(s is None or s < threshold for s in scores) / len(scores) if scores else 0.0


def threshold_range(
    supported: Sequence[float | None],
    unanswerable: Sequence[float | None],
    max_sup: float = MAX_ABSTAIN_SUPPORTED,
    min_un: float = MIN_ABSTAIN_UNANSWERABLE,
) -> tuple[float, float] | None:
    """``(lo, hi)``: every threshold t with lo < t <= hi meets both targets; None when no threshold does."""
    sup = sorted(s for s in supported if s is not None)
    allowed = math.floor(max_sup * len(supported) + 1e-9) - (len(supported) - len(sup))
    un = sorted(s for s in unanswerable if s is not None)
    needed = math.ceil(min_un * len(unanswerable) - 1e-9) - (len(unanswerable) - len(un))
    if allowed < 0:
        return None
    hi = sup[allowed] if allowed < len(sup) else math.inf  # at most `allowed` supported scores lie below hi
    lo = un[needed - 1] if needed > 0 else -math.inf  # at least `needed` unanswerable scores lie at or below lo
    return (lo, hi) if lo < hi else None


def describe(scores: Sequence[float | None]) -> dict[str, float | int]:
    """Percentiles of the scored questions, and how many quoted nothing."""
    xs = np.array([s for s in scores if s is not None], dtype=float)
    out: dict[str, float | int] = {"n": len(scores), "none": len(scores) - len(xs)}
    if len(xs):
        for p in (0, 1, 3, 5, 10, 25, 50, 75, 90, 95, 100):
            out[f"p{p}"] = round(float(np.percentile(xs, p)), 3)
    return out


def calibrate(settings: Settings, embedder: Embedder, data: EvalSet, names: list[str]) -> dict[str, Any]:
    """Decline scores with the threshold off, per system, and the threshold range meeting both targets."""
    open_settings = settings.model_copy(update={"min_score": -math.inf})  # never decline on score: see them all
    out: dict[str, Any] = {}
    for name in (n for n in names if n != BASELINE):
        probe = DeclineScore(make_answerer(open_settings, embedder, name, data))
        row, _ = run_system(name, probe.ask, data)
        scores = probe.scores
        dev, off = scores[: len(data.questions)], scores[len(data.questions) :]
        sup = [s for s, q in zip(dev, data.questions, strict=True) if q.supported]
        missing = [s for s, q in zip(dev, data.questions, strict=True) if not q.supported]
        rng = threshold_range(sup, off)
        out[name] = {
            "exact": probe.exact,
            "check_at_min_score": check_against(settings, embedder, name, data, sup, off),
            "quality_without_threshold": {k: v for k, v in row.items() if not k.startswith("abstained")},
            "supported": describe(sup),
            "unanswerable": describe(off),
            "text_missing": describe(missing),
            "range": None if rng is None else [round(rng[0], 4), round(rng[1], 4)],
            "scores": {"supported": sup, "unanswerable": off, "text_missing": missing},
            "closest": closest(data, dev, off),
            "unanswerable_by_kind": {
                k: describe([s for s, q in zip(off, data.unanswerable, strict=True) if data.kinds.get(q.id) == k])
                for k in sorted(set(data.kinds.values()))
            },
        }
    return out


def closest(data: EvalSet, dev: Sequence[float | None], off: Sequence[float | None], n: int = 6) -> dict[str, Any]:
    """The supported questions scoring lowest and the unanswerable ones scoring highest: where the threshold bites."""
    sup = [(s, q) for s, q in zip(dev, data.questions, strict=True) if q.supported and s is not None]
    un = [(s, q) for s, q in zip(off, data.unanswerable, strict=True) if s is not None]
    return {
        "supported_lowest": [[round(s, 3), q.id, q.question] for s, q in sorted(sup, key=lambda x: x[0])[:n]],
        "unanswerable_highest": [[round(s, 3), q.id, q.question] for s, q in sorted(un, key=lambda x: -x[0])[:n]],
    }


def check_against(
    settings: Settings,
    embedder: Embedder,
    name: str,
    data: EvalSet,
    sup: Sequence[float | None],
    off: Sequence[float | None],
) -> dict[str, float | None]:
    """Abstention predicted from the scores at ``settings.min_score`` beside the abstention a real run measures."""
    row, _ = run_system(f"{name} @ min_score", make_answerer(settings, embedder, name, data).ask, data)
    return {
        "min_score": settings.min_score,
        "predicted_supported": round(abstain_rate(sup, settings.min_score), 3),
        "measured_supported": row["abstained"],
        "predicted_unanswerable": round(abstain_rate(off, settings.min_score), 3),
        "measured_unanswerable": row["abstained_unanswerable"],
    }


def print_calibration(result: dict[str, Any], min_score: float) -> None:
    """Distributions, a threshold sweep and the feasible range, for each calibrated system."""
    for name, r in result.items():
        qo = r["quality_without_threshold"]
        how = "exact, via Answerer._confidence" if r["exact"] else "approximated by the best quote's score"
        print(f"\n== {name}: decline score with the threshold off ({how}; none = declined whatever the threshold)")
        print(
            f"quality without threshold: hit@1 {qo['hit1']:.3f}  hit@3 {qo['hit3']:.3f}  ev {qo['ev']:.3f}  "
            f"ans {qo['ans']:.3f}  chars {qo['chars']:.0f}\n"
        )
        keys = [k for k in r["supported"] if k.startswith("p")]
        print(f"{'':<14}{'n':>5}{'none':>6}" + "".join(f"{k:>8}" for k in keys))
        for label in ("supported", "unanswerable", "text_missing"):
            print(_row(label, r[label], keys))
        for kind, d in r["unanswerable_by_kind"].items():
            print(_row(f"  un/{kind}", d, keys))
        sup, off = r["scores"]["supported"], r["scores"]["unanswerable"]
        print("\nthreshold  abstained(sup)  abstained(un)")
        for t in _sweep(sup, off, min_score):
            mark = "  <- settings.min_score" if math.isclose(t, min_score) else ""
            print(f"{t:9.3f}  {abstain_rate(sup, t):14.3f}  {abstain_rate(off, t):13.3f}{mark}")
        for label, rows in r["closest"].items():
            print(f"\n{label.replace('_', ' ')}:")
            for score, qid, text in rows:
                print(f"  {score:.3f}  {qid}  {text}")
        c = r["check_at_min_score"]
        print(
            f"\ncheck at min_score {c['min_score']}: abstained (sup / un) predicted "
            f"{c['predicted_supported']:.3f} / {c['predicted_unanswerable']:.3f}, "
            f"measured {c['measured_supported']:.3f} / {c['measured_unanswerable']:.3f}"
        )
        rng = r["range"]
        goal = f"abstained <= {MAX_ABSTAIN_SUPPORTED} on supported and >= {MIN_ABSTAIN_UNANSWERABLE} on unanswerable"
        if rng:
            print(f"\nRANGE {name}: {rng[0]:.3f} < min_score <= {rng[1]:.3f} gives {goal}")
        else:
            print(f"\nRANGE {name}: no threshold gives {goal}")


def _row(label: str, d: dict[str, float | int], keys: list[str]) -> str:
    return f"{label:<14}{d['n']:>5}{d['none']:>6}" + "".join(f"{d.get(k, math.nan):>8.3f}" for k in keys)


def _sweep(sup: Sequence[float | None], off: Sequence[float | None], current: float) -> list[float]:
    """Thresholds in 0.01 steps where the trade-off happens: from the unanswerable median to the supported p10."""
    xs_sup = [s for s in sup if s is not None]
    xs_off = [s for s in off if s is not None]
    if not xs_sup or not xs_off:
        return [current]
    lo = min(float(np.percentile(xs_off, 50)), current)
    hi = max(float(np.percentile(xs_sup, 10)), current)
    steps = [round(math.floor(lo * 100) / 100 + i / 100, 2) for i in range(int((hi - lo) * 100) + 2)]
    return sorted({*steps, current})


# ---------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; paths default to the layout described in benchmarks/README.md."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--eval-dir", type=Path, default=common.REPO / ".." / "shared" / "eval" / "news-qa")
    p.add_argument("--unanswerable", type=Path, default=common.REPO / "benchmarks" / "data" / "unanswerable.jsonl")
    p.add_argument("--out", type=Path, default=None, help="JSON output (default benchmarks/results/<mode>.json)")
    p.add_argument("--systems", default="", help=f"comma-separated subset of: {BASELINE}, {', '.join(VARIANTS)}")
    p.add_argument("--calibrate", action="store_true", help="print top-score distributions instead of the table")
    p.add_argument(
        "--index-dir", type=Path, default=None, help="keep the index here and reuse it next run (default: temporary)"
    )
    p.add_argument(
        "--today",
        default="newest",
        help="the Answerer's today: YYYY-MM-DD, 'newest' (day after the newest article; default) or 'clock'",
    )
    p.add_argument("--limit", type=int, default=None, help="only the first N questions of each file (smoke runs)")
    args = p.parse_args(argv)
    known = [BASELINE, *VARIANTS]
    args.names = [n.strip() for n in args.systems.split(",") if n.strip()] or (["qabot"] if args.calibrate else known)
    unknown = [n for n in args.names if n not in known]
    if unknown:
        p.error(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Build the index once, then print the quality table (or the calibration) and write JSON."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    data = load_eval_set(args.eval_dir.resolve(), args.unanswerable, args.limit)
    if args.today == "newest":
        data.today = newest_day(data.articles)
    elif args.today != "clock":
        data.today = date.fromisoformat(args.today)
    meta: dict[str, Any] = {
        "commit": common.commit(),
        "machine": {
            "cores": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "load_at_start": [round(x, 2) for x in os.getloadavg()],  # other work on the box slows ms/question
        },
        "articles": len(data.articles),
        "questions": len(data.questions),
        "supported": sum(q.supported for q in data.questions),
        "unanswerable": len(data.unanswerable),
    }
    with tempfile.TemporaryDirectory(prefix="qabot-quality-") as tmp:
        # Ingest is idempotent by content hash, so a kept --index-dir makes the next run skip the embedding.
        settings = Settings(_env_file=None, index_dir=args.index_dir or Path(tmp))  # type: ignore[call-arg]
        meta["min_score"] = settings.min_score
        meta["today"] = None if data.today is None else data.today.isoformat()
        embedder = Embedder.from_settings(settings)
        meta["ingest_seconds"] = round(build_index(settings, embedder, data.articles), 1)
        meta["embed_backend"] = getattr(embedder, "backend", "torch")  # QABOT_EMBED_BACKEND chooses it
        if args.calibrate:
            result = calibrate(settings, embedder, data, args.names)
            print_calibration(result, settings.min_score)
            payload = {**meta, "calibration": result}
        else:
            rows = quality_rows(settings, embedder, data, args.names)
            print_table(rows, settings.min_score)
            payload = {**meta, "systems": rows}
    meta["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    name = "calibration.json" if args.calibrate else "quality.json"
    out = args.out or common.REPO / "benchmarks" / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    print(f"\ncommit {meta['commit']}; JSON written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
