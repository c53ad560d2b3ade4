"""Follow-up questions (issue #14): conversations of two and three turns over the samples and news-qa, per half.

Run by hand from the repository root; qabot/ never imports this file:

    .venv/bin/python benchmarks/conversations.py --split tune      # choose knobs here
    .venv/bin/python benchmarks/conversations.py --split check     # report these
    .venv/bin/python benchmarks/conversations.py --split tune --no-narrow --anaphora-unknown 0   # a knob's effect

benchmarks/data/conversations.jsonl holds the conversations (``set``: samples or news-qa; ``split`` fixed when the
set was written, before any score). Each turn is asked with the context the previous turns left (their real
answers, ``qabot.answer.followup.next_context``) and scored:

- follow-up: the first quote holds the turn's gold answer (from the gold article or a copy of its story);
  *baseline*: the same question asked with no context;
- standalone (a topic switch written into a conversation) and opener (the first turn of the next conversation,
  asked in the context the previous conversation left): the first quote is the one the question gets when asked
  fresh (both declined counts as the same);
- first: the opening question, asked fresh, for reference.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import common  # first: puts the repository on sys.path and sets offline mode

from qabot.answer import Answerer, Tuning, followup
from qabot.answer.followup import Context, next_context
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.evaluate.suite import LoadedSet, answerer_for, load_set, read_suite
from qabot.models import Answer

SUITE = common.REPO / "benchmarks" / "suite.json"
DATA = common.REPO / "benchmarks" / "data" / "conversations.jsonl"
NOW = 1_700_000_000.0  # a fixed clock: turns are a minute apart, well inside the context's lifetime


def read_conversations(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def first_key(answer: Answer) -> tuple[str, int, int] | None:
    q = answer.quotes[0] if answer.quotes and not answer.abstained else None
    return (q.article_id, q.start, q.end) if q else None


def holds(answer: Answer, turn: dict[str, Any], groups: dict[str, set[str]]) -> bool:
    """The first quote comes from the gold article (or a copy) and holds the gold answer."""
    if answer.abstained or not answer.quotes:
        return False
    q = answer.quotes[0]
    return q.article_id in groups.get(turn["article_id"], {turn["article_id"]}) and turn["answer"] in q.text


class Counter:
    def __init__(self) -> None:
        self.n: dict[str, int] = defaultdict(int)
        self.ok: dict[str, int] = defaultdict(int)
        self.misses: dict[str, list[str]] = defaultdict(list)

    def add(self, what: str, ok: bool, note: str) -> None:
        self.n[what] += 1
        self.ok[what] += int(ok)
        if not ok:
            self.misses[what].append(note)

    def rate(self, what: str) -> str:
        return f"{self.ok[what] / self.n[what]:.3f} ({self.ok[what]}/{self.n[what]})" if self.n[what] else "-"


def run_set(answerer: Answerer, convs: list[dict[str, Any]], data: LoadedSet) -> Counter:
    c = Counter()
    fresh: dict[str, Answer] = {}

    def asked_fresh(q: str) -> Answer:
        if q not in fresh:
            fresh[q] = answerer.ask(q, synthesis=False)
        return fresh[q]

    left: Context | None = None  # what the previous conversation left
    clock = NOW
    for conv in convs:
        ctx: Context | None = None
        for i, turn in enumerate(conv["turns"]):
            q, kind = turn["question"], turn["kind"]
            clock += 60
            alone = asked_fresh(q)
            if i == 0:
                c.add("first", holds(alone, turn, data.groups), f"{conv['id']}: {q}")
                if left is not None:
                    opener = answerer.ask(q, context=left, now=clock, synthesis=False)
                    c.add(
                        "opener as fresh", first_key(opener) == first_key(alone), f"{conv['id']}: {q} ({_why(opener)})"
                    )
                answer = alone
            else:
                answer = answerer.ask(q, context=ctx, now=clock, synthesis=False)
                if kind == "followup":
                    c.add("follow-up first", holds(answer, turn, data.groups), f"{conv['id']}: {q} ({_why(answer)})")
                    c.add("baseline (no context)", holds(alone, turn, data.groups), f"{conv['id']}: {q}")
                    c.add("read as follow-up", bool(answer.context and answer.context.followup), f"{conv['id']}: {q}")
                else:
                    same = first_key(answer) == first_key(alone)
                    c.add("standalone as fresh", same, f"{conv['id']}: {q} ({_why(answer)})")
            ctx = next_context(ctx, answer, now=clock)
        left = ctx
    return c


def _why(answer: Answer) -> str:
    used = answer.context
    first = answer.quotes[0].text[:70] if answer.quotes else f"declined: {answer.declined_because}"
    return f"{used.reason if used else 'no context'}; {first!r}"


ROWS = (
    "follow-up first",
    "baseline (no context)",
    "read as follow-up",
    "standalone as fresh",
    "opener as fresh",
    "first",
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("tune", "check", "all"), default="tune")
    ap.add_argument("--sets", default="samples,news-qa")
    ap.add_argument("--cache", default="/tmp/qabot-eval")
    ap.add_argument("--no-narrow", action="store_true", help="no first pass over the previous story alone")
    ap.add_argument("--parse-question", action="store_true", help="read names and kind from the question alone")
    ap.add_argument("--anaphora-unknown", type=int, default=None, help="followup.ANAPHORA_UNKNOWN")
    ap.add_argument("--misses", action="store_true", help="list what was missed")
    ap.add_argument("--json", help="write the rates here")
    args = ap.parse_args(argv)
    if args.anaphora_unknown is not None:
        followup.ANAPHORA_UNKNOWN = args.anaphora_unknown
    tuning = Tuning(followup_narrow=not args.no_narrow, followup_parse=not args.parse_question)
    settings = Settings(_env_file=None)
    embedder = Embedder.from_settings(settings)
    specs = {s.name: s for s in read_suite(SUITE)}
    convs = read_conversations()
    out: dict[str, Any] = {}
    for name in args.sets.split(","):
        spec = specs[name]
        if spec.missing():
            print(f"{name}: missing {', '.join(map(str, spec.missing()))}", file=sys.stderr)
            continue
        data = load_set(spec)
        answerer = answerer_for(settings, data, Path(args.cache), embedder, tuning=tuning)
        mine = [x for x in convs if x["set"] == name and args.split in ("all", x["split"])]
        c = run_set(answerer, mine, data)
        print(f"\n{name} / {args.split}: {len(mine)} conversations")
        for row in ROWS:
            print(f"  {row:24s} {c.rate(row)}")
        if args.misses:
            for row in ROWS[:-1]:
                for m in c.misses[row]:
                    print(f"    miss [{row}] {m}")
        out[name] = {row: {"ok": c.ok[row], "n": c.n[row]} for row in ROWS}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
