"""Fitting the answer scorer: the pure steps ``benchmarks/train_scorer.py`` runs on tune halves.

Labels for candidates, the pointwise (logistic) and listwise (conditional logit) rankers with their penalties chosen
by cross-validation over questions, the question-level gates (logistic or boosted trees, judged out of fold), and
the decline threshold. numpy only, except scipy for the listwise optimiser and scikit-learn for the trees, both
imported when used: answering never loads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qabot.answer.features import FEATURES, CandidateSet
from qabot.answer.scorer import Linear, Scorer, Trees, gate_features, sigmoid
from qabot.text import query_words

if TYPE_CHECKING:
    from qabot.evaluate.metrics import EvalQuestion

PENALTIES = (0.01, 0.1, 1.0, 10.0, 100.0)


def _words(text: str) -> set[str]:
    return set(query_words(text))


@dataclass
class Example:
    """One tune question's candidates and labels."""

    set: str
    answerable: bool
    x: np.ndarray
    y: np.ndarray


def null_scorer() -> Scorer:
    """A scorer that scores nothing: features are computed before any weights exist."""
    n = len(FEATURES)
    return Scorer(FEATURES, Linear(np.zeros(n), np.ones(n), np.zeros(n), 0.0), 0.0)


def labels(found: CandidateSet, q: EvalQuestion, gold: set[str]) -> np.ndarray:
    """1 for each candidate that is a gold sentence of ``q``."""
    evidence = _words(q.evidence or q.answer)
    wanted = " ".join(q.answer.split()).strip(' ."').lower()
    out = np.zeros(len(found.candidates), dtype=np.float64)
    for i, c in enumerate(found.candidates):
        if c.article_id not in gold:
            continue
        text = found.articles[c.article_id].text[c.start : c.end]
        words = _words(text)
        share = len(evidence & words) / len(evidence) if evidence else 0.0
        verbatim = bool(wanted) and len(wanted) <= 80 and wanted in " ".join(text.split()).lower()
        out[i] = float(share >= 0.6 or (verbatim and share >= 0.25))
    return out


def fit(
    x: np.ndarray, y: np.ndarray, penalty: float, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """L2 logistic regression by Newton's method on standardised columns; the bias is not penalised."""
    sw = np.ones(len(y)) if sample_weight is None else sample_weight
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], penalty)
    reg[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (sw * (p - y)) + reg * w
        hess = (xb * (sw * p * (1 - p))[:, None]).T @ xb + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-7:
            break
    return w[:-1], float(w[-1])


def fit_listwise(exs: list[Example], mean: np.ndarray, scale: np.ndarray, penalty: float) -> np.ndarray:
    """Weights maximising, per answerable question, the softmax probability of its gold sentences among all its
    candidates (a conditional logit): it learns what ranks the answer first, not what is common among answers."""
    from scipy.optimize import minimize

    weight = set_weights(exs)
    groups = [
        ((e.x - mean) / scale, e.y > 0, weight[e.set]) for e in exs if e.answerable and len(e.x) and e.y.sum() > 0
    ]
    d = len(mean)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * penalty * w @ w, penalty * w
        for x, pos, k in groups:
            z = x @ w
            e = np.exp(z - z.max())
            p = e / e.sum()
            total -= k * np.log(p[pos].sum())
            grad = grad - k * (x[pos].T @ (p[pos] / p[pos].sum()) - x.T @ p)
        return float(total), grad

    return minimize(loss, np.zeros(d), jac=True, method="L-BFGS-B").x


def set_weights(exs: list[Example]) -> dict[str, float]:
    """A weight per set so that every set counts as much as any other, however many questions it has: a big
    generated corpus must not teach the scorer its own style at the expense of real news."""
    counts: dict[str, int] = {}
    for e in exs:
        counts[e.set] = counts.get(e.set, 0) + 1
    return {name: len(exs) / (len(counts) * n) for name, n in counts.items()}


def top1(exs: list[Example], score: Callable[[np.ndarray], np.ndarray]) -> float:
    """Per set, the share of answerable questions with a gold candidate whose best-scored candidate is gold;
    averaged over sets."""
    hits: dict[str, list[bool]] = {}
    for e in exs:
        if e.answerable and len(e.x) and e.y.sum() > 0:
            hits.setdefault(e.set, []).append(bool(e.y[int(np.argmax(score(e.x)))] > 0))
    return float(np.mean([np.mean(h) for h in hits.values()])) if hits else 0.0


def choose_ranker(exs: list[Example], mean: np.ndarray, scale: np.ndarray) -> tuple[Linear, dict[str, object]]:
    """Pointwise or listwise weights, and the penalty of each, by 5-fold cross-validated top-1 over questions.

    The chosen weights are then scaled to probabilities (Platt: a logistic fit of the labels on their scores)."""
    folds = [exs[i::5] for i in range(5)]
    results: dict[str, float] = {}
    for way in ("pointwise", "listwise"):
        for pen in PENALTIES:
            hits = []
            for k in range(5):
                train = [e for j, f in enumerate(folds) if j != k for e in f]
                if way == "pointwise":
                    xt, yt, swt = stack(train, mean, scale)
                    w, _ = fit(xt, yt, pen, swt)
                else:
                    w = fit_listwise(train, mean, scale, pen)
                hits.append(top1(folds[k], lambda x, w=w: ((x - mean) / scale) @ w))
            results[f"{way} {pen}"] = round(float(np.mean(hits)), 4)
    best = max(results, key=lambda k: (results[k], k.startswith("pointwise")))
    way, pen = best.split()[0], float(best.split()[1])
    return fit_ranker(exs, mean, scale, way, pen), {"cv_top1": results, "chosen": best, "way": way, "penalty": pen}


def fit_ranker(exs: list[Example], mean: np.ndarray, scale: np.ndarray, way: str, penalty: float) -> Linear:
    """The ranker's weights fitted one way, then scaled to probabilities (Platt: a logistic fit of the labels)."""
    x, y, sw = stack(exs, mean, scale)
    w = fit(x, y, penalty, sw)[0] if way == "pointwise" else fit_listwise(exs, mean, scale, penalty)
    (a,), b = fit((x @ w)[:, None], y, 0.0, sw)
    return Linear(mean, scale, w * a, b)


def cross_fitted_logits(
    exs: list[Example], mean: np.ndarray, scale: np.ndarray, way: str, penalty: float
) -> list[np.ndarray]:
    """Each question's ranker scores from a ranker fitted without it (5 folds): what the gate learns from must look
    like what it meets on new questions, not like the ranker's own training data."""
    out: list[np.ndarray] = [np.zeros(0)] * len(exs)
    for k in range(5):
        held = list(range(k, len(exs), 5))
        ranker = fit_ranker([e for i, e in enumerate(exs) if i % 5 != k], mean, scale, way, penalty)
        for i in held:
            out[i] = ranker.logits(exs[i].x) if len(exs[i].x) else np.zeros(0)
    return out


def stack(exs: list[Example], mean: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All candidates of ``exs`` as one standardised matrix, label vector and per-candidate set weight."""
    weight = set_weights(exs)
    x = np.vstack([e.x for e in exs if len(e.x)])
    y = np.concatenate([e.y for e in exs if len(e.x)])
    sw = np.concatenate([np.full(len(e.y), weight[e.set]) for e in exs if len(e.x)])
    return (x - mean) / scale, y, sw


Judged = list[tuple[str, float, bool]]  # (set, confidence, answerable) per tune question


def choose_threshold(
    judged: Judged, max_declined: float, max_half: float | None = None
) -> tuple[float, dict[str, object]]:
    """The highest threshold at which the tune halves together decline at most ``max_declined`` of their answerable
    questions and no half more than ``max_half`` (default: ``max_declined`` too).

    A per-half budget alone lets the smallest half set the line: at 2 % of 50 questions one weak question is the
    whole budget. The pooled budget is the estimate; the per-half one keeps a set from being given up for the rest.
    """
    return choose_threshold_over([judged], max_declined, max_half)


def choose_threshold_over(
    splits: list[Judged], max_declined: float, max_half: float | None = None
) -> tuple[float, dict[str, object]]:
    """``choose_threshold`` with the budget kept on average over several fold splits' out-of-fold confidences, and
    the declines it gives averaged over the splits.

    The final gate is one model; each split is one estimate of where its answerable questions fall. The budget is a
    rate, so it is kept by the mean over the splits. (A median of each split's own line keeps it on only about half
    of them: the third round's refit drew its line so and declined 5.8 % of the samples tune half on average, over
    the 4 % it allows a half.)
    """
    half_budget = max_declined if max_half is None else max_half
    candidates = np.array(sorted({p for judged in splits for _, p, _ in judged}))
    # declined[s][k]: the share of set s's answerable questions under candidates[k], averaged over the splits.
    names = list(dict.fromkeys(n for judged in splits for n, _, a in judged if a))
    per_set = np.zeros((len(names), len(candidates)))
    pooled = np.zeros(len(candidates))
    for judged in splits:
        everyone: list[float] = []
        for i, name in enumerate(names):
            ans = np.sort([p for n, p, a in judged if n == name and a])
            everyone.extend(ans)
            per_set[i] += np.searchsorted(ans, candidates, side="left") / max(1, len(ans))
        pooled += np.searchsorted(np.sort(everyone), candidates, side="left") / max(1, len(everyone))
    per_set /= len(splits)
    pooled /= len(splits)
    eps = 1e-9  # a share equal to the budget is within it
    ok = (per_set <= half_budget + eps).all(axis=0) & (pooled <= max_declined + eps)
    # The declines only grow with the line, so the line is the last candidate before the first one over budget.
    over = np.flatnonzero(~ok)
    k = (over[0] if len(over) else len(candidates)) - 1
    chosen = float(candidates[k]) if k >= 0 else 0.0
    # Halfway to the next lower score, so a tune question exactly at the line is not decided by rounding.
    threshold = (chosen + float(candidates[k - 1])) / 2 if k >= 1 else chosen
    reports = [declines(judged, threshold) for judged in splits]
    out: dict[str, object] = {}
    for name, first in reports[0].items():
        row = dict(first)  # type: ignore[call-overload]
        for key in ("declined_answerable", "declined_unanswerable"):
            values = [r[name][key] for r in reports]  # type: ignore[index]
            row[key] = None if values[0] is None else round(float(np.mean(values)), 3)
        out[name] = row
    return threshold, out


def declines(judged: Judged, threshold: float) -> dict[str, object]:
    """Per set: how many answerable and unanswerable tune questions ``threshold`` declines."""
    out: dict[str, object] = {}
    for name in dict.fromkeys(n for n, _, _ in judged):
        ans = [p for n, p, a in judged if n == name and a]
        un = [p for n, p, a in judged if n == name and not a]
        out[name] = {
            "answerable": len(ans),
            "declined_answerable": round(sum(p < threshold for p in ans) / max(1, len(ans)), 3),
            "unanswerable": len(un),
            "declined_unanswerable": round(sum(p < threshold for p in un) / len(un), 3) if un else None,
        }
    return out


def pooled_unanswerable(report: dict[str, object]) -> float:
    """The share of all unanswerable tune questions declined."""
    rows = [r for r in report.values() if isinstance(r, dict) and r["unanswerable"]]
    total = sum(r["unanswerable"] for r in rows)
    return sum(r["declined_unanswerable"] * r["unanswerable"] for r in rows) / max(1, total)


def gate_rows(exs: list[Example], logits: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The gate's feature rows and labels (answerable or not) of the tune questions, from cross-fitted logits."""
    g = np.vstack([gate_features(e.x, z) for e, z in zip(exs, logits, strict=True)])
    return g, np.array([float(e.answerable) for e in exs])


# Sizes of the tree gate tried: (trees, depth, questions per leaf at least). Small: a few hundred tune questions.
TREE_SIZES = tuple((n, d, leaf) for n in (50, 100, 200) for d in (2, 3) for leaf in (5, 10, 20))

# How many ways the tune questions are split into 5 folds to judge a gate. On one split the pooled share of
# unanswerable questions declined moves by about 3.5 points with the split alone, as much as any size or feature
# changes it (docs/quality.md, "Third round"), so sizes are compared by their mean over several.
GATE_SPLITS = 4


def fold_splits(n: int, repeats: int = GATE_SPLITS) -> list[np.ndarray]:
    """The fold (0-4) of each of ``n`` questions under ``repeats`` splits: first the interleaved one the ranker is
    cross-fitted on, then seeded shuffles of it (the same on every run)."""
    splits = [np.arange(n) % 5]
    for seed in range(1, repeats):
        fold = np.empty(n, dtype=int)
        fold[np.random.default_rng(seed).permutation(n)] = np.arange(n) % 5
        splits.append(fold)
    return splits


def fit_tree_gate(
    exs: list[Example],
    logits: list[np.ndarray],
    max_declined: float = 0.02,
    max_half: float | None = None,
    sizes: Sequence[tuple[int, int, int]] = TREE_SIZES,
) -> tuple[Trees, list[list[float]], dict[str, float]]:
    """Boosted trees as the gate (they can learn "a name of the question in no article" as a near-veto), with
    out-of-fold confidences under each of ``fold_splits``. The size is chosen by what the gate is for: the share of
    unanswerable tune questions declined, averaged over the splits, at the line that keeps the decline budget on
    answerable ones on average over them (``choose_threshold_over``): the line the gate ships with."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def model(size: tuple[int, int, int]) -> HistGradientBoostingClassifier:
        n, depth, leaf = size
        return HistGradientBoostingClassifier(
            max_iter=n, learning_rate=0.05, max_depth=depth, min_samples_leaf=leaf, random_state=0
        )

    g, y = gate_rows(exs, logits)
    weight = set_weights(exs)
    sw = np.array([weight[e.set] for e in exs])
    splits = fold_splits(len(exs))

    def out_of_fold(size: tuple[int, int, int], fold: np.ndarray) -> np.ndarray:
        oof = np.zeros(len(exs))
        for k in range(5):
            test, train = fold == k, fold != k
            oof[test] = model(size).fit(g[train], y[train], sample_weight=sw[train]).predict_proba(g[test])[:, 1]
        return oof

    tried: dict[str, float] = {}
    best_size, best_oofs, best_value = sizes[0], [np.zeros(0)], -1.0
    for size in sizes:
        oofs = [out_of_fold(size, fold) for fold in splits]
        judged = [[(e.set, float(p), e.answerable) for e, p in zip(exs, oof, strict=True)] for oof in oofs]
        value = pooled_unanswerable(choose_threshold_over(judged, max_declined, max_half)[1])
        tried[f"{size[0]} trees, depth {size[1]}, leaf {size[2]}"] = round(value, 4)
        if value > best_value:
            best_size, best_oofs, best_value = size, oofs, value
    final = model(best_size).fit(g, y, sample_weight=sw)
    trees = []
    for (predictor,) in final._predictors:
        nodes = predictor.nodes
        trees.append(
            {
                "feature": [int(v) for v in nodes["feature_idx"]],
                "threshold": [float(v) for v in nodes["num_threshold"]],
                "left": [int(v) for v in nodes["left"]],
                "right": [int(v) for v in nodes["right"]],
                "leaf": [bool(v) for v in nodes["is_leaf"]],
                "value": [round(float(v), 6) for v in nodes["value"]],
            }
        )
    return Trees(float(np.ravel(final._baseline_prediction)[0]), tuple(trees)), [o.tolist() for o in best_oofs], tried


def fit_gate(exs: list[Example], logits: list[np.ndarray]) -> tuple[Linear, list[list[float]], float, dict[str, float]]:
    """The question-level logistic gate, its penalty chosen by cross-validated log loss, with out-of-fold
    confidences under each of ``fold_splits`` for choosing its threshold honestly."""
    g, y = gate_rows(exs, logits)
    mean, scale = g.mean(axis=0), g.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (g - mean) / scale
    splits = fold_splits(len(exs))

    def out_of_fold(pen: float, fold: np.ndarray) -> np.ndarray:
        oof = np.zeros(len(exs))
        for k in range(5):
            w, b = fit(z[fold != k], y[fold != k], pen)
            oof[fold == k] = z[fold == k] @ w + b
        return oof

    cv: dict[str, float] = {}
    first: dict[float, np.ndarray] = {}  # each penalty's out-of-fold logits on the first split, kept for the winner
    for pen in PENALTIES:
        first[pen] = out_of_fold(pen, splits[0])
        p = np.clip(sigmoid(first[pen]), 1e-12, 1 - 1e-12)
        cv[str(pen)] = round(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), 6)
    pen = min(PENALTIES, key=lambda q: cv[str(q)])
    w, b = fit(z, y, pen)
    oofs = [first[pen], *(out_of_fold(pen, fold) for fold in splits[1:])]
    return Linear(mean, scale, w, b), [sigmoid(o).tolist() for o in oofs], pen, cv


__all__ = [
    "Example",
    "Judged",
    "choose_ranker",
    "choose_threshold",
    "choose_threshold_over",
    "cross_fitted_logits",
    "declines",
    "fit",
    "fit_gate",
    "fit_listwise",
    "fit_ranker",
    "fit_tree_gate",
    "fold_splits",
    "gate_rows",
    "labels",
    "null_scorer",
    "pooled_unanswerable",
    "set_weights",
    "stack",
    "top1",
]
