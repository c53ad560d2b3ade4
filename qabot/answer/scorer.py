"""The fitted answer scorer: the probability that a candidate sentence answers the question, and the probability
that the question is answered at all.

The ranker is linear over standardised ``features.FEATURES`` (fitted pointwise or listwise); the gate reads the
question's best candidate against the rest (``GATE_FEATURES``) and gives the confidence that the articles answer the
question, which the decline compares with the threshold. The gate is a logistic regression or boosted trees (fitted
with scikit-learn, read here with numpy), or absent (the best sentence's own probability), whichever the fit chose.
Weights, threshold and selection limits live in ``scorer.json`` beside this file, written by
``benchmarks/train_scorer.py`` from the tune halves it names (the file records them). Nothing here is set by hand:
change the data, refit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qabot.answer.features import FEATURES
from qabot.errors import QabotError

log = logging.getLogger(__name__)
DEFAULT_PATH = Path(__file__).with_name("scorer.json")

# What the gate reads of a question's candidates: the best one's logit and features, and how it stands out.
GATE_FEATURES: tuple[str, ...] = (
    "top_logit",
    "margin",  # the best logit minus the second best
    "top_sim_sentence",
    "top_sim_chunk",
    "top_lexical",
    "top_lexical_titled",
    "top_names_in_article",
    "best_names_in_article",  # the highest share of the question's names any candidate article mentions
    "top_numbers_in_article",
    "kind_asked",
    "top_kind_stated",
    "any_kind_stated",
    "wh_asked",
    "top_wh_stated",
    "top_bm25",
    "top_article_coverage",
    "top_article_missing",
    "best_article_coverage",  # the highest coverage of the question's terms by any candidate article
    # The checks a reader makes, as the three best candidates see them (the rules of the first version, as inputs):
    "names_missing_top3",  # none of the three best candidates' articles mentions every name of the question
    "kind_missing_top3",  # the question asks for a kind of figure none of the three best sentences states
    "numbers_missing_top",  # the best candidate's article lacks a number of the question
)
_F = FEATURES.index


def gate_features(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """One row of ``GATE_FEATURES`` for a question whose candidates are ``x`` with ranking ``logits``."""
    if len(logits) == 0:
        return np.zeros(len(GATE_FEATURES))
    order = np.argsort(-logits, kind="stable")
    top = x[order[0]]
    second = logits[order[1]] if len(order) > 1 else logits[order[0]] - 5.0
    top3 = order[:3]
    return np.array(
        [
            logits[order[0]],
            logits[order[0]] - second,
            top[_F("sim_sentence")],
            top[_F("sim_chunk")],
            top[_F("lexical")],
            top[_F("lexical_titled")],
            top[_F("names_in_article")],
            x[:, _F("names_in_article")].max(),
            top[_F("numbers_in_article")],
            top[_F("kind_asked")],
            top[_F("kind_stated")],
            x[:, _F("kind_stated")].max(),
            top[_F("wh_asked")],
            top[_F("wh_stated")],
            top[_F("bm25")],
            top[_F("article_coverage")],
            top[_F("article_missing")],
            x[:, _F("article_coverage")].max(),
            float(x[top3, _F("names_in_article")].max() < 1.0),
            float(top[_F("kind_asked")] > 0 and x[top3, _F("kind_stated")].max() < 1.0),
            float(top[_F("numbers_in_article")] < 1.0),
        ]
    )


@dataclass(frozen=True)
class Linear:
    """A logistic regression over standardised columns."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The linear score of each row."""
        return ((np.atleast_2d(x).astype(np.float64) - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self) -> dict[str, Any]:
        """Rounded lists, for scorer.json."""
        return {
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Linear:
        """The inverse of ``to_json``."""
        arr = {k: np.asarray(raw[k], dtype=np.float64) for k in ("mean", "scale", "weights")}
        return cls(arr["mean"], arr["scale"], arr["weights"], float(raw["bias"]))


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees (fitted by scikit-learn's HistGradientBoostingClassifier, read here with
    numpy only): a raw score per row, the sum of one leaf per tree plus the baseline."""

    baseline: float
    trees: tuple[dict[str, list[Any]], ...]  # per tree: feature, threshold, left, right, leaf, value

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The raw (log-odds) score of each row."""
        rows = np.atleast_2d(x).astype(np.float64)
        out = np.full(len(rows), self.baseline)
        for t in self.trees:
            for r, row in enumerate(rows):
                node = 0
                while not t["leaf"][node]:
                    node = t["left"][node] if row[t["feature"][node]] <= t["threshold"][node] else t["right"][node]
                out[r] += t["value"][node]
        return out

    def to_json(self) -> dict[str, Any]:
        """For scorer.json."""
        return {"kind": "trees", "baseline": round(self.baseline, 6), "trees": list(self.trees)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Trees:
        """The inverse of ``to_json``."""
        return cls(float(raw["baseline"]), tuple(raw["trees"]))


def read_model(raw: dict[str, Any]) -> Linear | Trees:
    """A gate or ranker from scorer.json: trees when it says so, else a logistic regression."""
    return Trees.from_json(raw) if raw.get("kind") == "trees" else Linear.from_json(raw)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, safe for large magnitudes."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass(frozen=True)
class Scorer:
    """The sentence ranker, the optional gate, and the probability below which an answer is declined."""

    features: tuple[str, ...]
    ranker: Linear
    threshold: float
    gate: Linear | Trees | None = None
    selection: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """P(answers) for each row of ``x`` (columns in ``features.FEATURES`` order)."""
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        return sigmoid(self.ranker.logits(x))

    def shares(self, x: np.ndarray) -> np.ndarray:
        """For each candidate, the probability that it is *the* answering sentence if the question is answered at
        all: a softmax of the ranker's scores over this question's candidates (they sum to 1)."""
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        z = self.ranker.logits(x)
        e = np.exp(z - z.max())
        return e / e.sum()

    def judge(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """``shares(x)`` and ``confidence(x)`` from one pass of the ranker: what an answer needs of the scorer."""
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.float64), 0.0
        z = self.ranker.logits(x)
        e = np.exp(z - z.max())
        return e / e.sum(), self._confidence(x, z)

    def _confidence(self, x: np.ndarray, logits: np.ndarray) -> float:
        if self.gate is None:
            return float(sigmoid(logits.max()))
        return float(sigmoid(self.gate.logits(gate_features(x, logits)))[0])

    def confidence(self, x: np.ndarray) -> float:
        """P(the articles answer the question) from all its candidates: the gate's, else the best sentence's."""
        if x.shape[0] == 0:
            return 0.0
        return self._confidence(x, self.ranker.logits(x))

    def to_json(self) -> dict[str, Any]:
        """What ``scorer.json`` holds."""
        return {
            "features": list(self.features),
            "ranker": self.ranker.to_json(),
            "gate": None if self.gate is None else {"features": list(GATE_FEATURES), **self.gate.to_json()},
            "threshold": round(self.threshold, 4),
            "selection": self.selection,
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Scorer:
        """A scorer from ``to_json``'s shape; raises QabotError when it does not fit today's features."""
        names = tuple(raw["features"])
        gate = raw.get("gate")
        if names != FEATURES or (gate and tuple(gate["features"]) != GATE_FEATURES):
            raise QabotError("the answer scorer was fitted on other features: refit it with benchmarks/train_scorer.py")
        return cls(
            features=names,
            ranker=Linear.from_json(raw["ranker"]),
            threshold=float(raw["threshold"]),
            gate=read_model(gate) if gate else None,
            selection={k: float(v) for k, v in raw.get("selection", {}).items()},
            provenance=dict(raw.get("provenance", {})),
        )

    @classmethod
    def for_model(cls, model: str) -> Scorer:
        """The shipped scorer fitted for ``model``'s embeddings (``scorer.<model>.json``), else the default one.

        Similarities of another model sit on another scale, so a scorer fitted on one model's features misjudges
        another's; a model with no scorer of its own gets the default with a warning in the log.
        """
        own = DEFAULT_PATH.with_name(f"scorer.{model.replace('/', '_')}.json")
        if own.exists():
            return cls.load(own)
        scorer = cls.load()
        if scorer.provenance.get("model", model) != model:
            fitted_for = scorer.provenance["model"]
            log.warning("no answer scorer fitted for %s: using the one fitted for %s", model, fitted_for)
        return scorer

    @classmethod
    def load(cls, path: Path | None = None) -> Scorer:
        """The shipped scorer, or one written by the fitting script to ``path``."""
        path = path or DEFAULT_PATH
        try:
            raw = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as err:
            raise QabotError(f"cannot read the answer scorer {path}: {err}") from err
        return cls.from_json(raw)


__all__ = ["DEFAULT_PATH", "GATE_FEATURES", "Linear", "Scorer", "Trees", "gate_features", "read_model", "sigmoid"]
