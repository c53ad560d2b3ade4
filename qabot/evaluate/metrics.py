"""Answer-quality scoring as ``shared/eval/news-qa/README.md`` defines it: hit@1, hit@3, ev, ans, chars, abstention.

Pure scoring over ``Answer`` values; ``qabot.evaluate.suite`` asks the questions through the same ``Answerer`` the bot
uses, so what is measured is what users get.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qabot.models import Answer
from qabot.text import STOPWORDS  # not qabot.retrieve: scoring must not load numpy and faiss

_WORD = re.compile(r"\w+", re.UNICODE)


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` without stopwords: what ev and ans count."""
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS}


@dataclass(frozen=True)
class EvalQuestion:
    """One line of a questions file; unanswerable questions have no article."""

    id: str
    question: str
    answer: str = ""
    evidence: str = ""
    article_id: str | None = None
    supported: bool = True
    split: str = ""  # "tune" or "check" as the file says; empty: decided by ``split_of``
    also: tuple[str, ...] = ()  # other articles that state the answer too (RealTime QA's also_supported_by)
    lang: str = "en"
    asked_on: str = ""  # the day the question was written (RealTime QA's quiz date): "this week" means that week


def read_questions(path: Path) -> list[EvalQuestion]:
    """Questions from JSON Lines (``id``, ``question`` and, for answerable ones, answer/evidence/article_id)."""
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        out.append(
            EvalQuestion(
                id=str(raw.get("id", n)),
                question=str(raw["question"]),
                answer=str(raw.get("answer") or ""),
                evidence=str(raw.get("evidence") or ""),
                article_id=raw.get("article_id"),
                supported=bool(raw.get("supported", True)),
                split=str(raw.get("split") or ""),
                also=tuple(str(x) for x in raw.get("also_supported_by") or ()),
                lang=str(raw.get("lang") or "en"),
                asked_on=str(raw.get("question_date") or raw.get("asked_on") or ""),
            )
        )
    return out


def same_story_groups(articles: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Article id → ids sharing its title: the README counts either copy of a duplicated story as the source."""
    by_title: dict[str, set[str]] = {}
    for aid, title in articles:
        by_title.setdefault(title.strip().lower(), set()).add(aid)
    return {aid: ids for ids in by_title.values() for aid in ids}


@dataclass(frozen=True)
class Scored:
    """The scores of one answered question."""

    hit1: float
    hit3: float
    ev: float
    ans: float
    chars: int
    abstained: bool
    first: float = 0.0  # the first quote holds the gold answer


def score(
    answer: Answer, q: EvalQuestion, groups: dict[str, set[str]], texts: Mapping[str, str] | None = None
) -> Scored:
    """Score one answer against one supported question; ``texts`` (article id → text) enables ``first``."""
    gold = set(groups.get(q.article_id or "", {q.article_id})) | set(q.also)
    gold.discard(None)  # type: ignore[arg-type]
    quotes = list(answer.quotes)
    cited: list[str] = list(dict.fromkeys(x.article_id for x in quotes))
    first3 = quotes[:3]
    words: set[str] = set()
    for x in first3:
        words |= content_words(x.text)

    def share(text: str, among: set[str]) -> float:
        wanted = content_words(text)
        return len(wanted & among) / len(wanted) if wanted else 0.0

    return Scored(
        hit1=float(bool(quotes) and quotes[0].article_id in gold),
        hit3=float(any(a in gold for a in cited[:3])),
        ev=share(q.evidence, words),
        ans=share(q.answer, words),
        chars=sum(len(x.text) for x in first3),
        abstained=answer.abstained,
        first=float(first_holds(answer, q, gold, texts or {})),
    )


def first_holds(answer: Answer, q: EvalQuestion, gold: set[str], texts: Mapping[str, str]) -> bool:
    """Whether the first quote holds the gold answer.

    A short answer that a gold article states word for word must be in the first quote; otherwise (paraphrased
    answers) the first quote must come from a gold article and hold most (60%) of the evidence's content words.
    """
    if not answer.quotes:
        return False
    first = answer.quotes[0]
    wanted = " ".join(q.answer.split()).strip(' ."').lower()
    if wanted and len(wanted) <= 80 and any(wanted in " ".join(texts.get(a, "").split()).lower() for a in gold):
        return wanted in " ".join(first.text.split()).lower()
    evidence = content_words(q.evidence or q.answer)
    if first.article_id not in gold or not evidence:
        return False
    return len(evidence & content_words(first.text)) / len(evidence) >= 0.6


@dataclass
class EvalReport:
    """Averages over the supported questions, plus the abstention rate on unanswerable ones."""

    n: int = 0
    hit1: float = 0.0
    hit3: float = 0.0
    first: float = 0.0
    ev: float = 0.0
    ans: float = 0.0
    chars: float = 0.0
    abstained: float = 0.0
    n_unanswerable: int = 0
    abstained_unanswerable: float | None = None
    misses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Rounded numbers for ``--json`` and the docs table."""
        out: dict[str, object] = {
            k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items() if k != "misses"
        }
        out["misses"] = self.misses
        return out

    def table(self) -> str:
        """The human-readable lines ``qabot eval`` prints."""
        lines = [
            f"supported questions: {self.n}",
            f"hit@1 {self.hit1:.3f}  hit@3 {self.hit3:.3f}  first {self.first:.3f}  ev {self.ev:.3f}  "
            f"ans {self.ans:.3f}  chars {self.chars:.0f}  abstained {self.abstained:.3f}",
        ]
        if self.abstained_unanswerable is not None:
            lines.append(f"unanswerable questions: {self.n_unanswerable}  abstained {self.abstained_unanswerable:.3f}")
        return "\n".join(lines)


def evaluate(
    ask: Callable[[str], Answer],
    questions: Sequence[EvalQuestion],
    groups: dict[str, set[str]],
    unanswerable: Sequence[EvalQuestion] = (),
    progress: Callable[[int], None] | None = None,
    texts: Mapping[str, str] | None = None,
) -> EvalReport:
    """Ask every question and average the scores as the news-qa README defines them."""
    report = EvalReport()
    scored = []
    for q in questions:
        a = ask(q.question)
        if progress:
            progress(1)
        if not q.supported:
            continue
        s = score(a, q, groups, texts)
        scored.append(s)
        if not s.hit1:
            report.misses.append(q.id)
    if scored:
        n = len(scored)
        report.n = n
        report.hit1 = sum(s.hit1 for s in scored) / n
        report.hit3 = sum(s.hit3 for s in scored) / n
        report.first = sum(s.first for s in scored) / n
        report.ev = sum(s.ev for s in scored) / n
        report.ans = sum(s.ans for s in scored) / n
        report.chars = sum(s.chars for s in scored) / n
        report.abstained = sum(s.abstained for s in scored) / n
    if unanswerable:
        declined = 0
        for q in unanswerable:
            declined += ask(q.question).abstained
            if progress:
                progress(1)
        report.n_unanswerable = len(unanswerable)
        report.abstained_unanswerable = declined / len(unanswerable)
    return report


def split_of(q: EvalQuestion) -> str:
    """"tune" or "check": the file's own label, else a fixed hash of the id, so a set is split before any scoring."""
    if q.split in ("tune", "check"):
        return q.split
    return "tune" if hashlib.sha1(q.id.encode()).digest()[0] % 2 == 0 else "check"


__all__ = [
    "EvalQuestion",
    "EvalReport",
    "Scored",
    "content_words",
    "evaluate",
    "first_holds",
    "read_questions",
    "same_story_groups",
    "score",
    "split_of",
]
