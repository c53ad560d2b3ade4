"""How well the summary check (qabot/claimcheck.py) catches wrong sentences: precision and recall, per error type.

No LLM runs here. qabot answers each question (news-qa dev; the sample questions in data/synthesis_samples.jsonl
over the bundled samples), and from the quotes it really returns this script writes the sentences an LLM might:
faithful ones (a quote restated, its figures spelt another way, a word or two paraphrased, two quotes joined) and
ones with the errors summaries typically make (a changed figure or percentage, a changed month, a citation of a
quote that does not exist or does not say it, an invented or swapped name, an unsupported claim added or made up).
Each sentence goes through ``check_sentence`` as a reply's sentence would.

- recall: the share of wrong sentences dropped; precision: the share of dropped sentences that were wrong;
  faithful kept: the share of faithful sentences kept (what the user still sees).
- The content-word threshold (``MIN_SUPPORT``) is swept on the sample questions, which choose it; news-qa dev
  reports at the configured value and chose nothing.

    .venv/bin/python benchmarks/synthesis_check.py [--index-dir DIR] [--limit N]

About 70 s of ingest on 2 cores (news-qa; ``--index-dir`` keeps the index for the next run), then seconds.
JSON: ``results/synthesis_check.json``. The table is in docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import NEWS_QA, REPO, machine, machine_line, news_articles, news_questions, print_table, write_json

from qabot.answer import Answerer
from qabot.chunking import split_sentences
from qabot.claimcheck import MAX_UNSUPPORTED_RUN, MIN_SUPPORT, check_sentence, months, names
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import IndexMissing
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.sources.files import load_paths

SAMPLES = REPO / "qabot" / "samples"
SAMPLE_QUESTIONS = REPO / "benchmarks" / "data" / "synthesis_samples.jsonl"
SWEEP_SUPPORT = [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9]
SWEEP_RUN = [2, 3, 4, 99]  # 99: no run rule

# Paraphrases a summary makes without changing a fact: each swaps a word the quote used for one it may not have.
SYNONYMS = {
    "said": "stated", "says": "states", "rose": "increased", "fell": "decreased", "cut": "lowered",
    "bought": "purchased", "big": "large", "plans": "intends", "began": "started", "ended": "finished",
    "help": "assist", "shares": "stock", "company": "firm", "expects": "anticipates", "told": "informed",
    "showed": "indicated", "announced": "declared", "increase": "rise", "decline": "drop", "biggest": "largest",
}  # fmt: skip
# How summaries open a faithful sentence: words no quote has, none of them a claim.
LEAD_INS = ["The article reports that", "According to the report,", "In short,", "The quote says that"]
INVENTED_NAMES = ["Bartholomew Quince", "Ingrid Sollberg", "Tomasz Wielgus", "Adaeze Okonkwo", "Rafael Montiel"]
UNSUPPORTED_TAILS = [
    "a decision critics said would hurt consumers",
    "which analysts expect to trigger further cuts",
    "prompting calls for an independent inquiry",
    "after months of secret negotiations",
    "raising fears of a wider financial crisis",
    "in a move that surprised most investors",
    "despite strong opposition from lawmakers",
    "amid growing public anger over rising prices",
]
_MONTH_LIST = "January February March April May June July August September October November December".split()


@dataclass(frozen=True)
class Case:
    """One scripted sentence, what it is, and whether it is wrong."""

    kind: str
    wrong: bool
    sentence: str
    quotes: tuple[str, ...]


# ---------------------------------------------------------------------------------------------- the sentences
def first_clause(quote: str, words: int = 22) -> str:
    """What a summary restates: the first words of a quote's first sentence, closing punctuation off."""
    span = next(iter(split_sentences(quote)), None)
    sentence = " ".join((quote[span.start : span.end] if span else quote).split())
    return " ".join(sentence.split()[:words]).rstrip('.,;:!?"”’)(“')


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2].isalpha() and not text[:2].isupper() and not names(text) else text


def faithful_cases(quotes: Sequence[str], rng: random.Random) -> list[tuple[str, str]]:
    """``(kind, sentence)`` pairs that only say what the quotes say."""
    out = []
    clauses = [first_clause(q) for q in quotes]
    for i, clause in enumerate(clauses[:2], 1):
        out.append(("restated quote", f"{clause} [{i}]."))
    if (spelt := respell_figures(clauses[0])) != clauses[0]:
        out.append(("figures spelt otherwise", f"{spelt} [1]."))
    words = clauses[0].split()
    swappable = [i for i, w in enumerate(words) if w.lower() in SYNONYMS]
    if swappable:
        for i in rng.sample(swappable, min(2, len(swappable))):
            words[i] = SYNONYMS[words[i].lower()]
        out.append(("paraphrased words", f"{' '.join(words)} [1]."))
    out.append(("with a lead-in", f"{rng.choice(LEAD_INS)} {_lower_first(clauses[0])} [1]."))
    if len(clauses) >= 2:
        out.append(("two quotes joined", f"{clauses[0]} [1], and {_lower_first(clauses[1])} [2]."))
    return out


def respell_figures(text: str) -> str:
    """The same figures written another way: "87%" as "87 per cent", "1,200" as "1200", "September" as "Sept."."""
    text = re.sub(r"(\d)\s?%", r"\1 per cent", text)
    text = re.sub(r"(\d) per ?cent\b(?! per cent)", r"\1%", text) if "per cent" not in text else text
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"\b(\d+(?:\.\d+)?) billion\b", r"\1bn", text)
    text = re.sub(r"\b(\d+(?:\.\d+)?) million\b", r"\1m", text)
    for month in ("January", "February", "August", "September", "October", "November", "December"):
        text = re.sub(rf"\b{month}\b", month[:3] + ".", text)
    return text


def wrong_cases(
    quotes: Sequence[str], question: str, rng: random.Random, other_names: Sequence[str]
) -> list[tuple[str, str]]:
    """``(kind, sentence)`` pairs with one typical summary error each (where the quotes allow that error)."""
    out = []
    clause = first_clause(quotes[0])
    everything = " ".join(quotes)
    numbers = [m for m in re.finditer(r"\d+(?:[.,]\d+)*", clause)]
    if numbers:
        m = rng.choice(numbers)
        changed = _change_number(m.group(0), rng, everything)
        if changed:
            percent = re.match(r"\s?(?:%|per ?cent)", clause[m.end() :]) is not None
            kind = "changed percentage" if percent else "changed figure"
            out.append((kind, f"{clause[: m.start()]}{changed}{clause[m.end() :]} [1]."))
    if found := months(clause):
        month = _MONTH_LIST[min(found) - 1]
        other = _MONTH_LIST[(min(found) + rng.randint(1, 10)) % 12]
        if other not in everything and month in clause:
            out.append(("changed month", f"{clause.replace(month, other, 1)} [1]."))
    out.append(("citation of a quote that does not exist", f"{clause} [{len(quotes) + 1}]."))
    if len(quotes) >= 2 and _overlap(clause, quotes[1]) < 0.5:
        out.append(("citation of a quote that does not say it", f"{clause} [2]."))
    out.append(("invented name", f"{clause}, {rng.choice(['said', 'according to'])} {rng.choice(INVENTED_NAMES)} [1]."))
    own = names(clause)
    strangers = [n for n in other_names if n.lower() not in everything.lower()]
    if own and strangers:
        swapped = re.sub(rf"\b{re.escape(rng.choice(own))}\b", rng.choice(strangers), clause, count=1)
        out.append(("swapped name", f"{swapped} [1]."))
    out.append(("unsupported claim added", f"{clause}, {rng.choice(UNSUPPORTED_TAILS)} [1]."))
    topic = " ".join(w for w in re.findall(r"[A-Za-z][\w-]*", question)[2:6])
    out.append(("unsupported claim", f"Experts expect {topic} to be reviewed again after new evidence emerged [1]."))
    return out


def _change_number(raw: str, rng: random.Random, everything: str) -> str | None:
    plain = raw.replace(",", "")
    for _ in range(10):
        if re.fullmatch(r"(?:19|20)\d\d", plain):
            new = str(int(plain) + rng.choice([-2, -1, 1, 2]))
        elif "." in plain:
            head, tail = plain.split(".")
            new = f"{head}.{(int(tail) + rng.randint(1, 8)) % 10 ** len(tail):0{len(tail)}d}"
        else:
            value = int(plain)
            new = str(max(0, value + rng.choice([-2, -1, 1, 2, 3]) * max(1, value // 10)))
        if new != plain and new not in everything.replace(",", ""):
            return new
    return None


def _overlap(clause: str, quote: str) -> float:
    words = [w for w in re.findall(r"[a-z]{4,}", clause.lower())]
    return sum(w in quote.lower() for w in words) / len(words) if words else 1.0


def build_cases(answers: Sequence[tuple[str, tuple[str, ...]]], seed: int = 18) -> list[Case]:
    """Every scripted sentence for every answered question, faithful and wrong."""
    rng = random.Random(seed)
    pool = sorted({n for _, quotes in answers for q in quotes for n in names(first_clause(q)) if len(n) > 3})
    cases = []
    for question, quotes in answers:
        for kind, sentence in faithful_cases(quotes, rng):
            cases.append(Case(kind, False, sentence, quotes))
        for kind, sentence in wrong_cases(quotes, question, rng, pool):
            cases.append(Case(kind, True, sentence, quotes))
    return cases


# ---------------------------------------------------------------------------------------------- scoring
def score(cases: Sequence[Case], min_support: float, max_run: int) -> dict[str, Any]:
    """Precision and recall of "dropped" at catching wrong sentences; per kind, the share dropped."""
    dropped = [
        check_sentence(c.sentence, c.quotes, min_support=min_support, max_run=max_run)[1] is not None for c in cases
    ]
    tp = sum(d and c.wrong for d, c in zip(dropped, cases, strict=True))
    fp = sum(d and not c.wrong for d, c in zip(dropped, cases, strict=True))
    wrong = sum(c.wrong for c in cases)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for d, c in zip(dropped, cases, strict=True):
        by_kind[c.kind].append(d)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / wrong if wrong else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    faithful = len(cases) - wrong
    return {
        "min_support": min_support,
        "max_run": max_run,
        "sentences": len(cases),
        "wrong": wrong,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "faithful_kept": (faithful - fp) / faithful if faithful else None,
        "kinds": {k: {"n": len(v), "dropped": sum(v) / len(v)} for k, v in sorted(by_kind.items())},
    }


def choose_threshold(cases: Sequence[Case]) -> tuple[tuple[float, int], list[dict[str, Any]]]:
    """The (min_support, max_run) with the best F1 on these cases (on a tie the laxer), and the sweep."""
    sweep = [score(cases, t, r) for t in SWEEP_SUPPORT for r in SWEEP_RUN]
    best = max(sweep, key=lambda r: (round(r["f1"], 4), -r["min_support"], r["max_run"]))
    return (best["min_support"], best["max_run"]), sweep


# ---------------------------------------------------------------------------------------------- data
def answered(
    settings: Settings, embedder: Embedder, articles: Sequence[Article], questions: Sequence[str]
) -> list[tuple[str, tuple[str, ...]]]:
    """(question, quote texts) for every question qabot answers (declines have no summary to check)."""
    try:
        answerer = Answerer.from_settings(settings, embedder=embedder)  # an index kept by --index-dir
    except IndexMissing:
        Ingestor.from_settings(settings, embedder=embedder).ingest_articles(articles)
        answerer = Answerer.from_settings(settings, embedder=embedder)
    out = []
    for i, question in enumerate(questions, 1):
        answer = answerer.ask(question, synthesis=False)
        if not answer.abstained and answer.quotes:
            out.append((question, tuple(q.text for q in answer.quotes)))
        print(f"\rasked {i}/{len(questions)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return out


def run_set(index_dir: Path, embedder: Embedder, articles: list[Article], questions: list[str]) -> list[Case]:
    """The scripted sentences over the quotes qabot gives for ``questions`` from an index of ``articles``."""
    settings = Settings(_env_file=None, index_dir=index_dir)  # type: ignore[call-arg]
    return build_cases(answered(settings, embedder, articles, questions))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--eval-dir", type=Path, default=NEWS_QA)
    p.add_argument("--index-dir", type=Path, help="keep the news-qa index here (reused when it exists)")
    p.add_argument("--limit", type=int, help="first N questions of each set (smoke runs)")
    p.add_argument("--out", type=Path)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine()
    embedder = Embedder.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    sample_questions = [json.loads(line)["question"] for line in SAMPLE_QUESTIONS.read_text("utf-8").splitlines()]
    dev_questions = [q.question for q in news_questions(args.eval_dir) if q.supported]
    samples = [a for a in load_paths([SAMPLES]) if isinstance(a, Article)]
    with tempfile.TemporaryDirectory(prefix="qabot-synth-") as tmp:
        tune = run_set(Path(tmp) / "samples", embedder, samples, sample_questions[: args.limit])
        dev_dir = args.index_dir or Path(tmp) / "dev"
        report = run_set(dev_dir, embedder, news_articles(args.eval_dir), dev_questions[: args.limit])
    chosen, sweep = choose_threshold(tune)
    configured = (MIN_SUPPORT, MAX_UNSUPPORTED_RUN)
    rows = [{"set": "samples (tune)", **score(tune, *configured)}, {"set": "news-qa dev", **score(report, *configured)}]
    print(machine_line(info))
    print_table(
        f"sweep on the samples: chooses (MIN_SUPPORT, MAX_UNSUPPORTED_RUN) = {chosen}; configured {configured}",
        sweep,
        ["min_support", "max_run", "precision", "recall", "f1", "faithful_kept"],
    )
    print_table(
        f"the check at MIN_SUPPORT={MIN_SUPPORT}, MAX_UNSUPPORTED_RUN={MAX_UNSUPPORTED_RUN}",
        rows,
        ["set", "sentences", "wrong", "precision", "recall", "faithful_kept"],
    )
    kinds = sorted(rows[1]["kinds"])
    table: list[dict[str, Any]] = []
    for kind in kinds:
        row: dict[str, Any] = {"kind": kind}
        for r in rows:
            got = r["kinds"].get(kind)
            label = "samples" if r["set"].startswith("samples") else "dev"
            row[f"{label} n"], row[f"{label} dropped"] = (got["n"], got["dropped"]) if got else (0, None)
        table.append(row)
    print_table("dropped, by kind of sentence", table, ["kind", "samples n", "samples dropped", "dev n", "dev dropped"])
    write_json("synthesis_check", {"machine": info, "chosen": chosen, "sweep": sweep, "rows": rows}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
