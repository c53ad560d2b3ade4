"""Evaluation sets as a suite: which articles, which questions, which half tunes and which checks, and an index of
each set's articles built once and kept in a cache folder.

A suite is a JSON file (``benchmarks/suite.json``) listing sets; relative paths resolve against the suite file's
folder. A set whose files are missing is reported as missing with the command that builds it, never skipped in
silence. ``qabot eval --suite`` and ``benchmarks/`` both run through ``run_suite``, so what is measured is what
users get.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qabot.config import Settings
from qabot.dates import parse_date
from qabot.errors import QabotError
from qabot.evaluate.metrics import EvalQuestion, EvalReport, evaluate, read_questions, same_story_groups, split_of
from qabot.models import Answer, Article

if TYPE_CHECKING:
    from qabot.answer import Answerer
    from qabot.embed import Embedder

log = logging.getLogger(__name__)
SPLITS = ("tune", "check")


@dataclass(frozen=True)
class EvalSet:
    """One set of the suite: its articles and questions, and what building it takes when the files are missing."""

    name: str
    articles: tuple[Path, ...]
    questions: tuple[Path, ...] = ()
    unanswerable: tuple[Path, ...] = ()
    build: str = ""  # the command that recreates missing files (data that may not be committed)
    role: str = ""  # what the set is for, e.g. "dev: trained on", "check only"
    train: bool = True  # its tune half may be used to fit the scorer

    def missing(self) -> list[Path]:
        """Files of the set that are not there."""
        return [p for p in (*self.articles, *self.questions, *self.unanswerable) if not p.exists()]


@dataclass
class LoadedSet:
    """A set read into memory."""

    spec: EvalSet
    articles: list[Article]
    questions: list[EvalQuestion]
    unanswerable: list[EvalQuestion]
    groups: dict[str, set[str]] = field(default_factory=dict)

    @property
    def today(self) -> date | None:
        """The day after the newest article: the questions were written when these articles were the news."""
        days = [d for d in (parse_date(a.published) for a in self.articles) if d is not None]
        return max(days) + timedelta(days=1) if days else None

    def half(self, split: str | None) -> tuple[list[EvalQuestion], list[EvalQuestion]]:
        """The answerable and unanswerable questions of one split (None: all)."""
        if split is None:
            return self.questions, self.unanswerable
        mine = [q for q in self.questions if split_of(q) == split]
        return mine, [q for q in self.unanswerable if split_of(q) == split]


def read_suite(path: Path) -> list[EvalSet]:
    """The sets a suite file lists; raises QabotError with the file and the problem on a malformed one."""
    try:
        raw = json.loads(path.read_text("utf-8"))
        base = path.resolve().parent

        def paths(value: Any) -> tuple[Path, ...]:
            items = [value] if isinstance(value, str) else list(value or [])
            return tuple((base / p).resolve() for p in items)

        return [
            EvalSet(
                name=str(s["name"]),
                articles=paths(s["articles"]),
                questions=paths(s.get("questions")),
                unanswerable=paths(s.get("unanswerable")),
                build=str(s.get("build", "")),
                role=str(s.get("role", "")),
                train=bool(s.get("train", True)),
            )
            for s in raw["sets"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise QabotError(f"cannot read the evaluation suite {path}: {err}") from err


def load_set(spec: EvalSet) -> LoadedSet:
    """Read a set's files (the caller has checked ``missing()``)."""
    from qabot.sources.files import load_paths

    articles = [x for x in load_paths(list(spec.articles)) if isinstance(x, Article)]
    questions = [q for p in spec.questions for q in read_questions(p) if q.supported]
    unanswerable = [q for p in spec.unanswerable for q in read_questions(p)]
    groups = same_story_groups((a.id, a.title) for a in articles)
    return LoadedSet(spec, articles, questions, unanswerable, groups)


def cached_index(settings: Settings, data: LoadedSet, cache: Path, embedder: Embedder) -> Path:
    """The folder of an index of the set's articles for the settings' model, built on first use and then reused."""
    from qabot.ingest import Ingestor

    # Everything that changes what an index holds: the model, its backend and chunking (named only when not the
    # defaults, so indexes built before they were part of the key stay valid), and every article.
    h = hashlib.sha256(settings.model.encode())
    built = (settings.embed_backend, settings.chunk_tokens, settings.chunk_overlap)
    if built != ("auto", 128, 1):
        h.update(repr(built).encode())
    if settings.store != "local":  # another store's index of the same articles is another index
        h.update(f"{settings.store} {settings.milvus_uri} {settings.milvus_prefix}".encode())
    for a in sorted(data.articles, key=lambda a: a.id):
        h.update(a.content_hash.encode())
    where = cache / f"{data.spec.name}-{h.hexdigest()[:12]}"
    done = where / "complete"
    if not done.exists():
        log.info("building the index of %s (%d articles) in %s, once", data.spec.name, len(data.articles), where)
        s = set_settings(settings, where)
        Ingestor.from_settings(s, embedder=embedder).ingest_articles(data.articles)
        done.write_text("ok\n", encoding="utf-8")
    return where


def set_settings(settings: Settings, where: Path) -> Settings:
    """The settings of a set's cached index in ``where``: its folder, and on a shared Milvus server its own
    collections (a Lite file is in the folder already)."""
    update: dict[str, Any] = {"index_dir": where}
    if settings.store == "milvus" and settings.milvus_uri:
        update["milvus_prefix"] = f"{settings.milvus_prefix}_{where.name.rsplit('-', 1)[-1]}"
    return settings.model_copy(update=update)


def answerer_for(settings: Settings, data: LoadedSet, cache: Path, embedder: Embedder, **kw: Any) -> Answerer:
    """An Answerer over the set's cached index, with "today" pinned to when the set's articles were news."""
    from qabot.answer import Answerer
    from qabot.store import open_store

    where = cached_index(settings, data, cache, embedder)
    s = set_settings(settings, where)
    today = data.today
    store = open_store(s)
    return Answerer(s, embedder, store, today=(lambda: today) if today else None, **kw)


def asking(answerer: Answerer, data: LoadedSet) -> Callable[[str], Answer]:
    """``answerer.ask`` on the day each question was written, where the set records it."""
    days = {q.question: d for q in (*data.questions, *data.unanswerable) if (d := parse_date(q.asked_on))}
    # Eval scores the quotes: no LLM summary to wait for.
    return lambda text: answerer.ask(text, today=days.get(text), synthesis=False)


@dataclass(frozen=True)
class Row:
    """One line of the suite table: a set's half (or a missing set, with how to build it)."""

    set: str
    split: str
    role: str
    report: EvalReport | None
    missing: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        out: dict[str, Any] = {"set": self.set, "split": self.split, "role": self.role}
        if self.report is None:
            out["missing"] = self.missing
        else:
            out |= self.report.as_dict()
        return out


def run_suite(
    settings: Settings,
    specs: list[EvalSet],
    cache: Path,
    *,
    names: list[str] | None = None,
    splits: tuple[str | None, ...] = SPLITS,
    embedder: Embedder | None = None,
    answerer_kw: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Iterator[Row]:
    """Score every set (or those ``names``) of a suite, one row per split (None: the whole set)."""
    from qabot.embed import Embedder

    unknown = set(names or []) - {s.name for s in specs}
    if unknown:
        raise QabotError(f"no set named {', '.join(sorted(unknown))} in the suite")
    embedder = embedder or Embedder.from_settings(settings)
    cache.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        if names and spec.name not in names:
            continue
        if gone := spec.missing():
            how = f"; build it with: {spec.build}" if spec.build else ""
            yield Row(spec.name, "-", spec.role, None, f"missing {gone[0]}{how}")
            continue
        if progress:
            progress(spec.name)
        data = load_set(spec)
        answerer = answerer_for(settings, data, cache, embedder, **(answerer_kw or {}))
        texts = {a.id: a.text for a in data.articles}
        ask = asking(answerer, data)
        for split in splits:
            questions, unanswerable = data.half(split)
            report = evaluate(ask, questions, data.groups, unanswerable, texts=texts)
            yield Row(spec.name, split or "all", spec.role, report)


@dataclass(frozen=True)
class EvalRequest:
    """What ``qabot eval`` was asked to score: a suite (``suite``), or one set (``articles`` and ``questions``).

    ``sets``: with a suite, the names to score (empty: all). ``split``: "tune", "check", "both" or "all"; None
    means both halves of a suite's sets, every question of one set. ``cache``: where each set's index is kept and
    reused (None: a temporary folder, gone afterwards).
    """

    suite: Path | None = None
    articles: Path | None = None
    questions: Path | None = None
    unanswerable: Path | None = None
    sets: tuple[str, ...] = ()
    split: str | None = None
    cache: Path | None = None


def run_eval(settings: Settings, request: EvalRequest, *, progress: Callable[[str], None] | None = None) -> list[Row]:
    """Score what ``request`` names; one set that cannot be scored (its files are missing) raises QabotError."""
    import tempfile

    if request.suite:
        specs = read_suite(request.suite)
    elif request.articles and request.questions:
        unanswerable = (request.unanswerable,) if request.unanswerable else ()
        specs = [EvalSet("eval", (request.articles,), (request.questions,), unanswerable)]
    else:
        raise QabotError("give --suite FILE, or --articles and --questions")
    halves = {"tune": ("tune",), "check": ("check",), "both": SPLITS}
    splits: tuple[str | None, ...] = halves.get(request.split or ("both" if request.suite else "all"), (None,))
    with tempfile.TemporaryDirectory(prefix="qabot-eval-") as tmp:
        cache = request.cache or Path(tmp)
        rows = list(run_suite(settings, specs, cache, names=list(request.sets), splits=splits, progress=progress))
    if not request.suite and rows and rows[0].report is None:
        raise QabotError(f"cannot evaluate: {rows[0].missing}")
    return rows


def rows_table(rows: list[Row]) -> str:
    """The suite as a table in Markdown, one row per set and half."""
    head = (
        "| set | half | role | n | hit@1 | hit@3 | first | ev | ans | chars | declined (ans) | n un | declined (un) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        if r.report is None:
            lines.append(f"| {r.set} | - | {r.role} | {r.missing} |" + " |" * 9)
            continue
        p = r.report
        un = "-" if p.abstained_unanswerable is None else f"{p.abstained_unanswerable:.3f}"
        lines.append(
            f"| {r.set} | {r.split} | {r.role} | {p.n} | {p.hit1:.3f} | {p.hit3:.3f} | {p.first:.3f} | {p.ev:.3f} | "
            f"{p.ans:.3f} | {p.chars:.0f} | {p.abstained:.3f} | {p.n_unanswerable} | {un} |"
        )
    return "\n".join(lines)


__all__ = [
    "EvalRequest",
    "EvalSet",
    "LoadedSet",
    "Row",
    "answerer_for",
    "asking",
    "cached_index",
    "load_set",
    "read_suite",
    "rows_table",
    "run_eval",
    "run_suite",
]
