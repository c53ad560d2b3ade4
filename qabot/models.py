"""Typed, frozen values that cross module boundaries: articles, chunks, quotes, answers, reports.

Standard library only. ``Answer.to_json()`` is the JSON contract other tools read; keep its names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote as _pct


@dataclass(frozen=True)
class Article:
    """One news article as loaded: ``text`` is what quotes are cut from, so it is never altered later."""

    id: str
    title: str
    text: str
    url: str | None = None
    published: str | None = None  # ISO 8601 date or datetime, as given by the source
    source: str | None = None  # site or outlet name
    author: str | None = None
    # The resolved path of the file it was read from; None for web pages, feeds and uploads. Not part of the
    # content (nor of equality): the same article moved to another file is the same article.
    origin: str | None = field(default=None, compare=False)

    @property
    def content_hash(self) -> str:
        """A hash of everything a reader sees; re-ingesting an article with the same hash is a no-op."""
        h = hashlib.sha256()
        for part in (self.title, self.text, self.url or "", self.published or "", self.source or ""):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()


def _fragment_part(text: str) -> str:
    # Text fragments reserve '-', '&' and ',' as syntax: those must be percent-encoded inside the text.
    return _pct(text, safe="").replace("-", "%2D")


def text_fragment_url(url: str | None, quote_text: str, *, max_words: int = 8) -> str | None:
    """``url#:~:text=…`` that opens the page scrolled to the quote (start,end form for long quotes)."""
    if not url or not url.startswith(("http://", "https://")):
        return url
    base = url.split("#", 1)[0]
    words = quote_text.split()
    if not words:
        return url
    if len(words) <= 2 * max_words:
        frag = _fragment_part(" ".join(words))
    else:
        frag = _fragment_part(" ".join(words[:max_words])) + "," + _fragment_part(" ".join(words[-max_words:]))
    return f"{base}#:~:text={frag}"


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` into an article's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences embedded as one vector; ``text == article.text[start:end]``."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]


@dataclass(frozen=True)
class Quote:
    """A verbatim passage: ``text == article.text[start:end]`` of the article it names."""

    text: str
    article_id: str
    title: str
    url: str | None
    published: str | None
    source: str | None
    start: int
    end: int
    score: float
    also_reported_by: tuple[str, ...] = ()  # other outlets that ran the same story

    @property
    def link(self) -> str | None:
        """The article URL with a text fragment that opens the page at the quoted sentence."""
        return text_fragment_url(self.url, self.text)


@dataclass(frozen=True)
class Dropped:
    """A sentence of the LLM's summary that failed a check against the quotes, and which check (one line)."""

    text: str
    why: str


_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Synthesis:
    """A summary written by the user's LLM from the quotes, every kept sentence checked against the quotes it cites.

    ``text`` cites quotes as ``[n]``, 1-based positions in ``Answer.quotes``; empty when every sentence was dropped
    (then nothing is shown). ``citations``: the quote numbers the kept sentences cite, in order.
    """

    text: str
    citations: tuple[int, ...] = ()
    dropped: tuple[Dropped, ...] = ()

    def cited_as(self, numbers: Sequence[int]) -> str:
        """``text`` with each ``[n]`` renumbered to ``numbers[n - 1]`` (the source number a front-end shows for
        quote n), a marker repeated right after itself dropped: "[1][1]" reads "[1]"."""

        def shown(m: re.Match[str]) -> str:
            n = int(m.group(1))
            return f"[{numbers[n - 1]}]" if 1 <= n <= len(numbers) else m.group(0)

        text = _MARKER.sub(shown, self.text)
        return re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", text)

    def to_json(self) -> dict[str, object]:
        """The ``synthesis`` object of ``qabot ask --json``."""
        return {
            "text": self.text,
            "citations": list(self.citations),
            "dropped": [{"text": d.text, "why": d.why} for d in self.dropped],
        }


@dataclass(frozen=True)
class ContextUse:
    """How a conversation's previous turn was used for this question (``qabot.answer.followup``).

    ``followup``: the question was read as continuing the previous turn; ``query``: what retrieval read (the question
    and the carried names and topic words; never shown as answer text); ``reason``: why ("anaphora", "new name",
    "expired", …); ``articles``: the previous turn's articles tried first; ``narrowed``: the answer came from them
    (False: from the whole index).
    """

    followup: bool
    query: str
    reason: str
    articles: tuple[str, ...] = ()
    narrowed: bool = False

    def to_json(self) -> dict[str, object]:
        """The ``context`` object of ``qabot ask --json``."""
        return {
            "followup": self.followup,
            "query": self.query,
            "reason": self.reason,
            "articles": list(self.articles),
            "narrowed": self.narrowed,
        }


@dataclass(frozen=True)
class Answer:
    """What every front-end renders. ``abstained`` means the articles do not answer the question."""

    question: str
    abstained: bool
    answer: str
    quotes: tuple[Quote, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    more: tuple[Quote, ...] = ()  # the next passages, for "more sources"
    id: str | None = None
    note: str | None = None  # a caveat before the quotes ("These articles are from … or earlier", "Sources differ")
    mode: str = "answer"  # "answer", "timeline" (quotes in date order), "disagreement" or "update"
    confidence: float = 0.0  # the fitted gate's probability that the articles answer the question (0 when not asked)
    declined_because: str | None = None  # "low confidence", "nothing retrieved", "no topic", "language:de"
    synthesis: Synthesis | None = None  # the LLM's checked summary; None when off, declined or the LLM failed
    context: ContextUse | None = None  # how the conversation's previous turn was used; None when asked without one

    def to_json(self) -> dict[str, object]:
        """The documented JSON shape of ``qabot ask --json`` and ``--jsonl``."""
        return {
            "id": self.id,
            "question": self.question,
            "abstained": self.abstained,
            "answer": self.answer,
            "note": self.note,
            "mode": self.mode,
            "confidence": round(self.confidence, 4),
            "declined_because": self.declined_because,
            "quotes": [quote_json(q) for q in self.quotes],
            "synthesis": self.synthesis.to_json() if self.synthesis is not None else None,
            "context": self.context.to_json() if self.context is not None else None,
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }


def quote_json(q: Quote) -> dict[str, object]:
    """One quote as the JSON contract spells it."""
    return {
        "text": q.text,
        "article_id": q.article_id,
        "title": q.title,
        "url": q.url,
        "published": q.published,
        "source": q.source,
        "start": q.start,
        "end": q.end,
        "score": round(q.score, 4),
        "link": q.link,
        "also_reported_by": list(q.also_reported_by),
    }


@dataclass(frozen=True)
class Skip:
    """An input that was not ingested, and why (one line)."""

    where: str
    reason: str


@dataclass
class IngestReport:
    """What one ingest run did; ``summary()`` is the line the CLI prints last.

    ``removed``: with ``--sync``, the articles dropped because their files are gone (None: no sync was asked for).
    ``titles``: id → title of every article the run read (added, updated or unchanged).
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    removed: list[str] | None = None
    titles: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: counts of added, updated, unchanged and skipped articles (and removed ones, with a sync)."""
        line = (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}"
        )
        return line if self.removed is None else f"{line}, removed {len(self.removed)} (files gone)"


@dataclass(frozen=True)
class IndexStats:
    """What ``qabot stats``, ``/stats`` and the REPL banner show."""

    articles: int
    chunks: int
    model: str
    dimension: int
    size_bytes: int
    newest: str | None
    path: str


__all__ = [
    "Answer",
    "Article",
    "Chunk",
    "ContextUse",
    "Dropped",
    "IndexStats",
    "IngestReport",
    "Quote",
    "Skip",
    "Span",
    "Synthesis",
    "quote_json",
    "text_fragment_url",
]
