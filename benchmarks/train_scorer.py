"""Fit the answer scorer (qabot/answer/scorer.json) on the TUNE halves of the suite, and nothing else.

    .venv/bin/python benchmarks/train_scorer.py                      # all trainable sets that are present
    .venv/bin/python benchmarks/train_scorer.py --sets news-qa,samples --out /tmp/scorer.json

What it does, each step chosen by data, none by hand:
1. For every tune question of every trainable set (``train: true`` in benchmarks/suite.json), the candidates the
   real pipeline retrieves, with their feature rows (``Answerer.candidates``). A candidate is positive when it is a
   gold sentence: in a gold article and holding the gold evidence (most of its content words), or the short gold
   answer word for word with some of the evidence. Unanswerable questions give only negatives.
2. The ranker: pointwise (logistic, Newton's method, L2) or listwise (conditional logit), way and penalty chosen by
   5-fold cross-validated top-1 over questions, every set weighted equally; then scaled to probabilities.
3. The gate: the best sentence's own probability, a logistic gate or boosted trees, each judged out of fold on
   scores of a ranker that never saw the question; the one declining most unanswerable tune questions ships.
4. The decline threshold: the highest confidence at which the tune halves together decline at most
   ``--max-declined`` of their answerable questions and no half more than ``--max-declined-half`` (then as many
   unanswerable ones as that allows).
5. The selection limits (``follow_chars``, ``short_sentence``, ``second_min``): the triple that quotes the answer
   best (first quote holds it, plus evidence coverage) with every tune half within 500 characters.
The check halves are never read here. Writes the scorer with its provenance (sets, counts, commit, choices).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import common  # first: puts the repository on sys.path and sets offline mode
import numpy as np

from qabot.answer.facade import Answerer, Tuning
from qabot.answer.features import FEATURES
from qabot.answer.scorer import DEFAULT_PATH, GATE_FEATURES, Linear, Scorer, Trees, sigmoid
from qabot.answer.training import (
    GATE_SPLITS,
    Example,
    Judged,
    choose_ranker,
    choose_threshold,
    choose_threshold_over,
    cross_fitted_logits,
    fit_gate,
    fit_tree_gate,
    labels,
    null_scorer,
    pooled_unanswerable,
    stack,
)
from qabot.config import Settings
from qabot.dates import parse_date
from qabot.embed import Embedder
from qabot.errors import QabotError
from qabot.evaluate.metrics import evaluate
from qabot.evaluate.suite import LoadedSet, answerer_for, asking, load_set, read_suite

SUITE = common.REPO / "benchmarks" / "suite.json"
CACHE = Path("/tmp/qabot-eval")
SELECTIONS = [(f, s, m) for f in (0, 450) for s in (0, 60) for m in (0.03, 0.08, 0.15, 0.3)]  # second_min: a share


def examples(answerer: Answerer, data: LoadedSet) -> list[Example]:
    """Candidates and labels of the tune half of one set."""
    questions, unanswerable = data.half("tune")
    out = []
    for q in questions:
        gold = set(data.groups.get(q.article_id or "", {q.article_id or ""})) | set(q.also)
        _, found = answerer.candidates(q.question, today=parse_date(q.asked_on))
        out.append(Example(data.spec.name, True, found.features.astype(np.float64), labels(found, q, gold)))
    for q in unanswerable:
        _, found = answerer.candidates(q.question, today=parse_date(q.asked_on))
        out.append(Example(data.spec.name, False, found.features.astype(np.float64), np.zeros(len(found.candidates))))
    return out


def choose_selection(
    settings: Settings, sets: list[LoadedSet], embedder: Embedder, scorer: Scorer
) -> tuple[dict[str, float], dict[str, object]]:
    """The (follow_chars, short_sentence, second_min) quoting the answer best within 500 characters on tune halves."""
    results: dict[str, object] = {}
    best, best_value = (0, 0, 1.0), -1.0
    for follow, short, second in SELECTIONS:
        tuning = Tuning(follow_chars=follow, short_sentence=short, second_min=second)
        values, chars = [], []
        for data in sets:
            answerer = answerer_for(settings, data, CACHE, embedder, tuning=tuning, scorer=scorer)
            questions, _ = data.half("tune")
            texts = {a.id: a.text for a in data.articles}
            r = evaluate(asking(answerer, data), questions, data.groups, (), texts=texts)
            values.append((r.first + r.ev) / 2)
            chars.append(r.chars)
        value, most_chars = float(np.mean(values)), float(np.max(chars))
        results[f"{follow}/{short}/{second}"] = {"first+ev": round(value, 4), "chars": round(most_chars)}
        if most_chars <= 500 and value > best_value:  # the budget holds on every tune half, not on average
            best, best_value = (follow, short, second), value
    return {"follow_chars": best[0], "short_sentence": best[1], "second_min": best[2]}, results


def _previous(path: Path) -> Scorer | None:
    """The scorer being replaced, when it can still be read (its selection limits are kept with --no-selection)."""
    try:
        return Scorer.load(path) if path.exists() else None
    except QabotError:
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", type=Path, default=SUITE)
    p.add_argument("--sets", default="", help="comma-separated set names (default: every trainable set present)")
    p.add_argument("--out", type=Path, default=DEFAULT_PATH)
    p.add_argument("--cache", type=Path, default=CACHE)
    p.add_argument("--max-declined", type=float, default=0.02, help="answerable tune questions declined, pooled")
    p.add_argument("--max-declined-half", type=float, default=0.04, help="answerable questions any tune half declines")
    p.add_argument("--no-selection", action="store_true", help="keep the selection limits of the current scorer")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    settings = Settings()
    embedder = Embedder.from_settings(settings)
    wanted = {s for s in args.sets.split(",") if s}
    sets = []
    for spec in read_suite(args.suite):
        if not spec.train or (wanted and spec.name not in wanted):
            continue
        if spec.missing():
            print(f"skipping {spec.name}: missing {spec.missing()[0]} ({spec.build})", file=sys.stderr)
            continue
        sets.append(load_set(spec))
    if not sets:
        print("no training set is present", file=sys.stderr)
        return 1
    exs: list[Example] = []
    for data in sets:
        answerer = answerer_for(settings, data, args.cache, embedder, scorer=null_scorer())
        mine = examples(answerer, data)
        exs.extend(mine)
        n = sum(len(e.y) for e in mine)
        print(f"{data.spec.name}: {len(mine)} tune questions, {n} candidates", file=sys.stderr)
    raw = np.vstack([e.x for e in exs if len(e.x)])
    mean, scale = raw.mean(axis=0), raw.std(axis=0)
    scale[scale < 1e-9] = 1.0
    ranker, ranking = choose_ranker(exs, mean, scale)
    _, y, _ = stack(exs, mean, scale)
    w = ranker.weights
    # The gate and the threshold learn from scores of a ranker that never saw the question (cross-fitted).
    logits = cross_fitted_logits(exs, mean, scale, str(ranking["way"]), float(ranking["penalty"]))  # type: ignore[arg-type]
    # Three ways to decide whether a question is answered, chosen by which declines more unanswerable tune questions
    # at the same limit on answerable ones: the best sentence's own probability, a logistic gate or a tree gate.
    plain: Judged = [
        (e.set, float(sigmoid(z).max()) if len(z) else 0.0, e.answerable) for e, z in zip(exs, logits, strict=True)
    ]
    budget = (args.max_declined, args.max_declined_half)
    plain_t, plain_report = choose_threshold(plain, *budget)
    linear_gate, linear_oofs, gate_penalty, gate_cv = fit_gate(exs, logits)
    tree_gate, tree_oofs, tree_sizes = fit_tree_gate(exs, logits, *budget)
    ways: dict[str, tuple[Linear | Trees | None, float, dict[str, object]]] = {
        "best sentence": (None, plain_t, plain_report)
    }
    # A gate is judged, and its line drawn, over several fold splits: one split alone moves the result by points.
    for name, gate_model, oofs in (("linear gate", linear_gate, linear_oofs), ("tree gate", tree_gate, tree_oofs)):
        splits: list[Judged] = [[(e.set, p, e.answerable) for e, p in zip(exs, oof, strict=True)] for oof in oofs]
        ways[name] = (gate_model, *choose_threshold_over(splits, *budget))
    decline_by = max(ways, key=lambda k: pooled_unanswerable(ways[k][2]))
    gate, threshold, _ = ways[decline_by]
    old = _previous(args.out)
    scorer = Scorer(FEATURES, ranker, threshold, gate, old.selection if old else {})
    if args.no_selection and old:
        selection, sel_report = old.selection, {"kept": old.selection}
    else:
        selection, sel_report = choose_selection(settings, sets, embedder, scorer)
    provenance = {
        "fitted_by": "benchmarks/train_scorer.py",
        "commit": common.commit(),
        "model": settings.model,
        "trained_on": {d.spec.name: "tune half" for d in sets},
        "never_read": "the check halves of every set, and every set with train: false",
        "questions": {d.spec.name: sum(e.set == d.spec.name for e in exs) for d in sets},
        "positives": int(y.sum()),
        "candidates": len(y),
        "ranker": ranking,
        "max_declined_answerable_tune_pooled": args.max_declined,
        "max_declined_answerable_per_tune_half": args.max_declined_half,
        "decline_by": decline_by,
        "linear_gate_penalty": gate_penalty,
        "linear_gate_cv_log_loss": gate_cv,
        "gate_fold_splits": GATE_SPLITS,
        "tree_gate_sizes_out_of_fold (mean over the splits)": tree_sizes,
        "tune_declines (gates out of fold)": {k: v[2] for k, v in ways.items()},
        "selection_grid": sel_report,
        "seconds": round(time.perf_counter() - t0),
    }
    final = Scorer(FEATURES, ranker, threshold, gate, selection, provenance)
    args.out.write_text(json.dumps(final.to_json(), indent=1) + "\n", encoding="utf-8")
    summary = {"threshold": round(threshold, 4), "decline_by": provenance["decline_by"], "selection": selection}
    print(json.dumps(summary, indent=1))
    print(json.dumps(dict(zip(FEATURES, np.round(w, 3).tolist(), strict=True))))
    print(json.dumps(dict(zip(GATE_FEATURES, np.round(linear_gate.weights, 3).tolist(), strict=True))))
    print(json.dumps({k: v[2] for k, v in ways.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
