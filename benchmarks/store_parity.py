"""The same answers on either store: every question of a set asked on the local folder and on Milvus Lite.

    .venv/bin/python benchmarks/store_parity.py                       # samples and news-qa (dev), ~3 min
    .venv/bin/python benchmarks/store_parity.py --sets samples --cache /tmp/parity

Each set's articles are ingested into a local index and into a Milvus Lite file (``QABOT_STORE=milvus``), both
cached under ``--cache``; every question, answerable and not, both halves, is asked on each through the real
``Answerer.ask`` on the day it was written. A question counts as the same when both decline, or both quote the same
first passage. The table gives the share per set and each store's answer p50; the JSON lists every difference with
both first quotes, to explain them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode

from qabot.config import Settings
from qabot.embed import Embedder
from qabot.evaluate.suite import answerer_for, asking, load_set, read_suite
from qabot.models import Answer

SUITE = common.REPO / "benchmarks" / "suite.json"


def first(answer: Answer) -> str | None:
    """What must agree: the first quoted passage, or None for a decline."""
    return None if answer.abstained or not answer.quotes else answer.quotes[0].text


def compare(name: str, cache: Path, embedder: Embedder) -> dict[str, Any]:
    """Ask every question of the set ``name`` on both stores; the row and the differences."""
    spec = next(s for s in read_suite(SUITE) if s.name == name)
    if spec.missing():
        return {"set": name, "missing": [str(p) for p in spec.missing()], "build": spec.build}
    data = load_set(spec)
    questions = [q.question for q in (*data.questions, *data.unanswerable)]
    firsts: dict[str, list[str | None]] = {}
    times: dict[str, list[float]] = {}
    for store in ("local", "milvus"):
        settings = Settings(_env_file=None, store=store)  # type: ignore[call-arg]
        ask = asking(answerer_for(settings, data, cache / store, embedder), data)
        firsts[store], times[store] = [], []
        for q in questions:
            t0 = time.perf_counter()
            firsts[store].append(first(ask(q)))
            times[store].append(time.perf_counter() - t0)
        print(f"{name}: asked {len(questions)} questions on {store}", file=sys.stderr)
    pairs = list(zip(questions, firsts["local"], firsts["milvus"], strict=True))
    differ = [{"question": q, "local": a, "milvus": b} for q, a, b in pairs if a != b]
    return {
        "set": name,
        "questions": len(questions),
        "same": len(questions) - len(differ),
        "share": round(1 - len(differ) / len(questions), 4),
        "local_p50_ms": common.summary_ms(times["local"])["p50_ms"],
        "milvus_p50_ms": common.summary_ms(times["milvus"])["p50_ms"],
        "differences": differ,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="samples,news-qa", help="comma-separated set names of suite.json")
    parser.add_argument("--cache", type=Path, help="where the indexes are kept (default: a new temporary folder)")
    args = parser.parse_args()
    info, work, tmp = common.begin(args.cache, "qabot-parity-")
    embedder = Embedder()
    rows = [compare(name, work, embedder) for name in args.sets.split(",") if name]
    common.print_table(
        "first quote on the local store and on Milvus Lite", rows, ["set", "questions", "same", "share",
                                                                    "local_p50_ms", "milvus_p50_ms"]
    )  # fmt: skip
    common.write_json("store_parity", {"machine": info, "rows": rows})
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
