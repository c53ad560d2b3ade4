"""Memory of a serving process per indexed chunk: peak RSS of a process that opens the index and answers questions.

    .venv/bin/python benchmarks/memory.py                                 # 10k, 100k, 1M chunks (~30 min)
    .venv/bin/python benchmarks/memory.py --sizes 10000,100000
    .venv/bin/python benchmarks/memory.py --workdir DIR --sizes 1000000   # reuse benchmarks/latency.py's index

The index grows as in benchmarks/latency.py (news-qa articles, then filler articles). At each size a fresh process
loads the model and answers one question (its RSS then is the baseline: model, libraries), opens the vector index
and answers 20 questions; its peak RSS minus the baseline is what the index costs. Per chunk is the slope between
sizes, so fixed costs cancel; "beyond vectors" subtracts the 4 x 384 = 1,536 bytes of the float32 vector itself.
Table on stdout, JSON to benchmarks/results/memory.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode

VECTOR_BYTES = 384 * 4


def probe(index_dir: Path, backend: str) -> dict[str, Any]:
    """Run the measuring process on ``index_dir``; its numbers."""
    cmd = [sys.executable, __file__, "--probe", str(index_dir), "--backend", backend]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=common.REPO)
    if result.returncode != 0:
        raise SystemExit(f"probe failed: {result.stderr.strip()[-800:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _probe_main(index_dir: Path, backend: str) -> None:
    from qabot import store
    from qabot.answer import Answerer
    from qabot.config import Settings
    from qabot.embed import Embedder

    settings = Settings(_env_file=None, index_dir=index_dir, embed_backend=backend)  # type: ignore[arg-type]
    questions = [q.question for q in common.news_questions()][:20]
    embedder = Embedder.from_settings(settings)
    embedder.embed_texts(questions)
    base = common.rss_mb()
    answerer = Answerer.from_settings(settings, embedder=embedder)
    with common.Timer() as t:
        index, _ = answerer.store.vector_index()
    loaded = common.rss_mb()
    for q in questions:
        answerer.ask(q)
    out = {
        "chunks": answerer.store.count_chunks(),
        "index": "hnsw" if store.is_graph(index) else "exact",
        "load_s": round(t.seconds, 2),
        "baseline_mb": round(base, 1),
        "loaded_mb": round(loaded, 1),
        "peak_mb": round(common.peak_rss_mb(), 1),
        "after_asks_mb": round(common.rss_mb(), 1),
        "faiss_file_mb": round(sum(p.stat().st_size for p in index_dir.glob("*.faiss")) / 2**20, 1),
        "sqlite_mb": round(sum(p.stat().st_size for p in index_dir.glob("qabot.sqlite*")) / 2**20, 1),
    }
    print(json.dumps(out))


def add_slopes(rows: list[dict[str, Any]]) -> None:
    """Bytes per chunk between consecutive sizes (fixed costs cancel), and what is beyond the vector itself."""
    for prev, row in itertools.pairwise(rows):
        extra = (row["after_asks_mb"] - row["baseline_mb"]) - (prev["after_asks_mb"] - prev["baseline_mb"])
        per = extra * 2**20 / (row["chunks"] - prev["chunks"])
        row["bytes/chunk"] = round(per)
        row["beyond vectors"] = round(per - VECTOR_BYTES)


COLUMNS = [
    "chunks", "index", "baseline_mb", "loaded_mb", "after_asks_mb", "peak_mb", "bytes/chunk", "beyond vectors",
    "faiss_file_mb", "sqlite_mb", "load_s",
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--backend", default="auto")
    p.add_argument("--workdir", type=Path, default=None, help="keep (or reuse) the index here")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--probe", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.probe:
        _probe_main(args.probe, args.backend)
        return 0

    import latency

    info = common.machine()
    print(common.machine_line(info), file=sys.stderr)
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="qabot-bench-memory-")
        args.workdir = Path(tmp.name)
    settings, filler = latency.prepare(args.workdir, args.backend)
    rows = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        latency.grow(settings, filler, size)
        rows.append(probe(settings.index_dir, args.backend))
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    add_slopes(rows)
    common.print_table("Serving memory — " + common.machine_line(info), rows, COLUMNS)
    common.write_json("memory", {"machine": info, "rows": rows}, args.out)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
