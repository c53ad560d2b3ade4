"""Ingest throughput: qabot's pipeline against the tutorial pipeline, same text, same process, characters per second.

    .venv/bin/python benchmarks/ingest.py                      # news-qa + a generated corpus of 20,000 articles
    .venv/bin/python benchmarks/ingest.py --generated 1000     # a smaller generated corpus (minutes, not hours)

The tutorial pipeline: fixed 1000-character chunks, ``SentenceTransformer.encode`` (torch) on all of them in one
call, a FAISS ``IndexFlatIP``. qabot: ``Ingestor.ingest_articles`` into a fresh index (sentence-aware chunks, every
sentence and chunk embedded, SQLite + FTS5 + FAISS written), once per embedding backend and lever. Models are loaded
(and the ONNX model exported) before any clock starts. On news-qa each qabot index is also scored with the dev
questions, so a faster variant that answers worse shows it. Table on stdout, JSON to benchmarks/results/ingest.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder, resolve_model_path
from qabot.evaluate.metrics import evaluate, same_story_groups
from qabot.ingest import Ingestor
from qabot.models import Article

TUTORIAL_CHARS = 1000


class Counting:
    """An Embedder stand-in that counts what passes through ``embed_texts`` (delegating everything)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_texts(self, texts: Sequence[str], progress: Any = None) -> Any:
        self.texts.extend(texts)
        return self.inner.embed_texts(texts, progress)


def tutorial(articles: Sequence[Article], model: Any) -> tuple[float, list[str]]:
    """The tutorial: 1000-character pieces, one encode() call, exact FAISS index. Returns seconds and the texts."""
    import faiss

    with common.Timer() as t:
        pieces = [a.text[s : s + TUTORIAL_CHARS] for a in articles for s in range(0, len(a.text), TUTORIAL_CHARS)]
        vecs = model.encode(pieces, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        index = faiss.IndexFlatIP(vecs.shape[1])
        index.add(vecs)
    return t.seconds, pieces


def tutorial_with(articles: Sequence[Article], embedder: Embedder) -> tuple[float, list[str]]:
    """The tutorial's chunks through one of qabot's backends: what the backend alone buys."""
    import faiss

    with common.Timer() as t:
        pieces = [a.text[s : s + TUTORIAL_CHARS] for a in articles for s in range(0, len(a.text), TUTORIAL_CHARS)]
        vecs = embedder.embed_texts(pieces)
        index = faiss.IndexFlatIP(vecs.shape[1])
        index.add(vecs)
    return t.seconds, pieces


def qabot(
    articles: Sequence[Article], embedder: Embedder, workdir: Path, *, score: bool, **settings: Any
) -> tuple[float, list[str], dict[str, Any]]:
    """qabot's ingest into a fresh index; with ``score``, the news-qa dev scores of that index."""
    index_dir = Path(tempfile.mkdtemp(dir=workdir))
    s = Settings(_env_file=None, index_dir=index_dir, **settings)  # type: ignore[arg-type]
    counting = Counting(embedder)
    ingestor = Ingestor(s, counting)  # type: ignore[arg-type]
    with common.Timer() as t:
        ingestor.ingest_articles(articles)
    quality: dict[str, Any] = {}
    if score:
        answerer = Answerer.from_settings(s, embedder=embedder)
        groups = same_story_groups((a.id, a.title) for a in articles)
        report = evaluate(answerer.ask, common.news_questions(), groups)
        quality = {"hit1": round(report.hit1, 3), "ev": round(report.ev, 3), "ans": round(report.ans, 3)}
        quality["chunks"] = answerer.stats().chunks
    return t.seconds, counting.texts, quality


def token_count(texts: Sequence[str], counter: Embedder, limit: int) -> int:
    """Tokens the model actually ran on: each text with its two special tokens, cut at the model limit."""
    return sum(min(counter.count_tokens(t) + 2, limit) for t in texts)


def run_corpus(
    name: str, articles: list[Article], systems: list[str], models: dict[str, Any], workdir: Path, repeat: int
) -> list[dict[str, Any]]:
    """Every system on one corpus; the best of ``repeat`` runs (the machine is shared, the minimum is the signal)."""
    chars = sum(len(a.text) for a in articles)
    score = name == "news-qa"
    runs: dict[str, Callable[[], tuple[float, list[str], dict[str, Any]]]] = {
        "tutorial (torch)": lambda: (*tutorial(articles, models["st"]), {}),
        "tutorial chunks, onnx-int8": lambda: (*tutorial_with(articles, models["onnx-int8"]), {}),
        "qabot torch": lambda: qabot(articles, models["torch"], workdir, score=score),
        "qabot onnx": lambda: qabot(articles, models["onnx"], workdir, score=score),
        "qabot onnx-int8": lambda: qabot(articles, models["onnx-int8"], workdir, score=score),
        "qabot onnx, no overlap": lambda: qabot(articles, models["onnx"], workdir, score=score, chunk_overlap=0),
    }
    rows = []
    base = None
    for system in systems:
        best: tuple[float, list[str], dict[str, Any]] | None = None
        for _ in range(repeat):
            result = runs[system]()
            if best is None or result[0] < best[0]:
                best = result
            print(f"  {name}: {system}: {result[0]:.1f} s", file=sys.stderr, flush=True)
        assert best is not None
        seconds, texts, quality = best
        row: dict[str, Any] = {
            "corpus": name,
            "system": system,
            "seconds": round(seconds, 2),
            "chars/s": round(chars / seconds),
            "articles/s": round(len(articles) / seconds, 2),
            "texts": len(texts),
            "tokens": token_count(texts, models["onnx-int8"], 256),
            **quality,
        }
        base = base or row["chars/s"]
        row["x tutorial"] = round(row["chars/s"] / base, 2)
        row["tokens/char"] = round(row["tokens"] / chars, 3)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--generated", type=int, default=20_000, help="articles in the generated corpus (0 = skip it)")
    p.add_argument("--repeat", type=int, default=2, help="runs per system on news-qa (best counts); 1 on generated")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)

    from sentence_transformers import SentenceTransformer

    info = common.machine()
    print(common.machine_line(info), file=sys.stderr)
    models: dict[str, Any] = {
        "st": SentenceTransformer(resolve_model_path("bundled"), device="cpu"),
        "torch": Embedder(backend="torch"),
        "onnx": Embedder(backend="onnx"),
        "onnx-int8": Embedder(backend="onnx-int8"),
    }
    for m in ("torch", "onnx", "onnx-int8"):
        models[m].embed_texts(["warm up the model before any clock starts"])
    models["st"].encode(["warm up"])
    systems = ["tutorial (torch)", "tutorial chunks, onnx-int8", "qabot torch", "qabot onnx", "qabot onnx-int8"]
    systems.append("qabot onnx, no overlap")

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="qabot-bench-ingest-") as tmp:
        rows += run_corpus("news-qa", common.news_articles(), systems, models, Path(tmp), args.repeat)
        if args.generated:
            corpus = common.generated_articles(args.generated)
            rows += run_corpus(f"generated-{args.generated}", corpus, systems, models, Path(tmp), 1)

    cols = ["corpus", "system", "seconds", "chars/s", "articles/s", "x tutorial", "texts", "tokens/char"]
    common.print_table("Ingest throughput — " + common.machine_line(info), rows, [*cols, "hit1", "ev", "ans"])
    common.write_json("ingest", {"machine": info, "rows": rows}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
