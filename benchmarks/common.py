"""What the speed benchmarks share: the machine line, news-qa data, a generated news corpus, tables and JSON.

Imported by the scripts in this folder only (qabot/ never imports benchmarks/). Every script runs from a fresh
clone with the project's virtualenv, offline:  ``.venv/bin/python benchmarks/<name>.py``.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as plain scripts without installing the package
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model is local; a benchmark must never download
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qabot.chunking import split_sentences  # noqa: E402
from qabot.evaluate.metrics import EvalQuestion, read_questions  # noqa: E402
from qabot.models import Article  # noqa: E402
from qabot.sources.files import load_paths  # noqa: E402

NEWS_QA = REPO.parent / "shared" / "eval" / "news-qa"
RESULTS = REPO / "benchmarks" / "results"


# ---------------------------------------------------------------------------------------------- the machine
def machine() -> dict[str, Any]:
    """CPU, cores, load and library versions: the context every number needs."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        info["cpu"] = fields.get("Model name", "?").strip()
        flags = fields.get("Flags", "").split()
        info["simd"] = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni") if f in flags]
    except (OSError, subprocess.CalledProcessError):
        info["cpu"] = platform.processor() or "?"
    info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    for mod in ("torch", "onnxruntime", "faiss", "sentence_transformers", "numpy"):
        try:
            info[mod] = __import__(mod).__version__
        except (ImportError, AttributeError):
            info[mod] = None
    info["commit"] = commit()
    return info


def begin(workdir: Path | None, prefix: str) -> tuple[dict[str, Any], Path, tempfile.TemporaryDirectory[str] | None]:
    """The machine (its line printed to stderr) and the folder to work in: ``workdir``, or a new temporary one
    (returned too, to clean up)."""
    info = machine()
    print(machine_line(info), file=sys.stderr)
    if workdir is not None:
        return info, workdir, None
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    return info, Path(tmp.name), tmp


def machine_line(info: dict[str, Any]) -> str:
    """One line for the top of a table."""
    simd = ",".join(info.get("simd", [])) or "-"
    load, rev = info["load_avg_1m"], info["commit"]
    return f"{info['nproc']} cores, {info['cpu']} ({simd}), load {load} at start, commit {rev}"


def commit() -> str:
    """The repository commit, marked when qabot/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "log", "-1", "--format=%h"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "qabot"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+uncommitted" if dirty else head


# ---------------------------------------------------------------------------------------------- data
def news_articles(eval_dir: Path = NEWS_QA) -> list[Article]:
    """The news-qa articles, loaded as ``qabot ingest`` loads them."""
    return [x for x in load_paths([eval_dir / "articles.jsonl"]) if isinstance(x, Article)]


def news_questions(eval_dir: Path = NEWS_QA) -> list[EvalQuestion]:
    """The news-qa development questions."""
    return read_questions(eval_dir / "questions.dev.jsonl")


_WORD = re.compile(r"\S+")


def generated_articles(n: int, seed: int = 7, source: Sequence[Article] | None = None) -> list[Article]:
    """``n`` news-like articles from an order-2 word Markov chain over the news-qa articles.

    Lengths follow the real articles; every sentence is new (none repeats another or a source sentence), so the
    content-addressed vector cache cannot make qabot look faster than it is.
    """
    source = list(source) if source is not None else news_articles()
    chain: dict[tuple[str, str], list[str]] = {}
    starts: list[tuple[str, str]] = []
    seen: set[str] = set()
    lengths = [len(a.text) for a in source]
    for a in source:
        for span in split_sentences(a.text):
            sentence = a.text[span.start : span.end]
            seen.add(sentence)
            words = _WORD.findall(sentence)
            if len(words) < 4:
                continue
            starts.append((words[0], words[1]))
            for i in range(len(words) - 2):
                chain.setdefault((words[i], words[i + 1]), []).append(words[i + 2])
    rng = random.Random(seed)

    def sentence() -> str:
        while True:
            w1, w2 = rng.choice(starts)
            out = [w1, w2]
            while len(out) < 60:
                nxt = chain.get((out[-2], out[-1]))
                if not nxt:
                    break
                out.append(rng.choice(nxt))
                if out[-1][-1] in ".!?" and len(out) >= 6:
                    break
            text = " ".join(out)
            if len(out) >= 6 and text not in seen:
                seen.add(text)
                return text if text[-1] in ".!?" else text + "."

    articles = []
    for i in range(n):
        target = rng.choice(lengths)
        paragraphs: list[str] = []
        size = 0
        while size < target:
            para = " ".join(sentence() for _ in range(rng.randint(2, 4)))
            paragraphs.append(para)
            size += len(para) + 2
        title = " ".join(sentence().split()[:12]).rstrip(".")
        articles.append(
            Article(
                id=f"gen-{i:06d}",
                title=title,
                text="\n\n".join(paragraphs),
                url=f"https://example.org/gen/{i}",
                published=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                source="generated",
            )
        )
    return articles


# ---------------------------------------------------------------------------------------------- numbers
def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between ranks."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """p50, p95 and mean of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
        "n": len(ms),
    }


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------------------------- output
def print_table(title: str, rows: Sequence[dict[str, Any]], columns: Iterable[str]) -> None:
    """A plain fixed-width table on stdout."""
    cols = list(columns)
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    print(f"\n{title}")
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def write_json(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    """Write ``data`` to ``out`` or ``benchmarks/results/<name>.json``; returns the path."""
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", "utf-8")
    print(f"\nwrote {path}")
    return path


__all__ = [
    "NEWS_QA",
    "REPO",
    "RESULTS",
    "Timer",
    "begin",
    "generated_articles",
    "machine",
    "machine_line",
    "news_articles",
    "news_questions",
    "peak_rss_mb",
    "percentile",
    "print_table",
    "rss_mb",
    "summary_ms",
    "write_json",
]
