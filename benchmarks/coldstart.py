"""Cold start of ``qabot ask``: process start to printed answer, with a warm disk cache, per embedding backend.

    .venv/bin/python benchmarks/coldstart.py
    .venv/bin/python benchmarks/coldstart.py --index-dir DIR    # an existing index instead of a fresh news-qa one

Each run is a new ``qabot --index DIR ask QUESTION`` process, as a user or a restarted service starts it. The first
run of each backend is discarded (it fills the page cache, and for onnx it may export the model once); the median
of the rest is reported, next to ``python -c pass`` and ``import qabot.cli`` for scale, and to which heavy modules
the process imported (``-X importtime``). Table on stdout, JSON to benchmarks/results/coldstart.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode

QUESTION = "When did the Federal Reserve cut interest rates for the first time since the COVID-19 pandemic?"
HEAVY = ("torch", "sentence_transformers", "transformers", "onnxruntime", "faiss", "telegram")


def qabot_cmd() -> list[str]:
    """``qabot`` from this virtualenv, or the module if the script is not installed."""
    exe = Path(sys.executable).with_name("qabot")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "qabot.cli"]


def wall(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Seconds from spawning ``cmd`` to its exit (its answer is printed just before)."""
    t = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=common.REPO, timeout=600)
    return time.perf_counter() - t, result


def heavy_imports(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Cumulative import seconds of the heavy top-level packages the command loaded (``-X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *cmd[1:]] if cmd[0] == sys.executable else [sys.executable, "-X",
         "importtime", "-c", "from qabot.cli import main; import sys; sys.exit(main())", *cmd[1:]],
        capture_output=True, text=True, env=env, cwd=common.REPO, timeout=600,
    )  # fmt: skip
    found: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (p.strip() for p in line.split(":", 1)[1].split("|"))
        if name in HEAVY:
            found[name] = round(int(cumulative) / 1e6, 2)
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index-dir", type=Path, default=None, help="an existing index (default: news-qa, built now)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per backend, after one discarded")
    p.add_argument("--backends", default="onnx-int8,onnx,torch")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)

    info = common.machine()
    print(common.machine_line(info), file=sys.stderr)
    tmp = None
    if args.index_dir is None:
        from qabot.config import Settings
        from qabot.ingest import Ingestor

        tmp = tempfile.TemporaryDirectory(prefix="qabot-bench-cold-")
        args.index_dir = Path(tmp.name) / "index"
        print("building a news-qa index…", file=sys.stderr, flush=True)
        settings = Settings(_env_file=None, index_dir=args.index_dir)  # type: ignore[call-arg]
        Ingestor.from_settings(settings).ingest_articles(common.news_articles())

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    rows: list[dict[str, Any]] = []
    for label, cmd in (("python -c pass", [sys.executable, "-c", "pass"]),
                       ("import qabot.cli", [sys.executable, "-c", "import qabot.cli"])):  # fmt: skip
        times = [wall(cmd, base_env)[0] for _ in range(args.runs + 1)][1:]
        rows.append({"command": label, "p50_s": round(statistics.median(times), 3), "min_s": round(min(times), 3)})
    for backend in args.backends.split(","):
        env = {**base_env, "QABOT_EMBED_BACKEND": backend}
        cmd = [*qabot_cmd(), "--index", str(args.index_dir), "ask", QUESTION]
        times = []
        for i in range(args.runs + 1):
            seconds, result = wall(cmd, env)
            if result.returncode != 0:
                raise SystemExit(f"{backend}: qabot ask failed: {result.stderr.strip()[-500:]}")
            if i:
                times.append(seconds)
        row: dict[str, Any] = {
            "command": f"qabot ask ({backend})",
            "p50_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "answer": result.stdout.strip().splitlines()[0][:60] if result.stdout.strip() else "",
        }
        row["heavy imports (s)"] = " ".join(f"{k}={v}" for k, v in heavy_imports(cmd, env).items())
        rows.append(row)
    common.print_table(
        "Cold start, warm disk cache — " + common.machine_line(info),
        rows,
        ["command", "p50_s", "min_s", "heavy imports (s)"],
    )
    common.write_json("coldstart", {"machine": info, "runs": args.runs, "rows": rows}, args.out)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
