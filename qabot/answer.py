"""The one façade every front-end calls: ``Answerer.ask(question) -> Answer``.

Retrieval finds candidate chunks; this module scores their sentences (dense similarity to the question, IDF-weighted
coverage of the question's words, and the chunk's own similarity), quotes the best sentence of the best articles
verbatim, and declines when even the best sentence scores below the threshold or ``answerable`` rules the quotes
out. The news-aware steps (periods, wire copies, timelines, disagreeing sources, staleness) are in ``newsaware``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import numpy as np

from qabot import newsaware
from qabot.answerable import AnswerKind, answer_kind, unanswerable
from qabot.candidates import Candidate, to_quote
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import BadQuestion
from qabot.models import Answer, Article, IndexStats, Quote
from qabot.news import time_hint
from qabot.rerank import Reranker
from qabot.retrieve import ChunkHit, Retriever
from qabot.store import IndexStore
from qabot.synthesis import Synthesizer

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "The articles don't answer this question."
MAX_QUESTION_CHARS = 1000  # longer input is cut: no question needs more, and the model reads 256 tokens at most


@dataclass(frozen=True)
class Tuning:
    """Weights of the sentence score; the defaults are what the news-qa evaluation supported (docs/quality.md)."""

    candidates: int = 12  # chunks whose sentences are scored
    w_sentence: float = 0.3  # the sentence's own cosine similarity to the question
    w_chunk: float = 0.3  # the similarity of the best chunk holding it (its context, with the title)
    w_lexical: float = 0.45  # IDF-weighted share of the question's words found in the sentence
    w_length: float = 0.1  # fragments (cut links, captions) rarely answer: up to this much for 200+ characters
    w_rank: float = 0.1  # penalty growing with the fused rank of the sentence's best chunk
    second_margin: float = 0.2  # another sentence is quoted when its score is this close to the best one
    char_budget: int = 500  # quoted characters at most, beyond the first sentence
    max_sentences: int = 3  # sentences quoted at most
    short_sentence: int = 60  # a lone best sentence shorter than this takes its next sentence along
    w_time: float = 0.06  # bonus for articles inside a period the question names ("in 2019", "this week")
    w_recent: float = 0.06  # bonus for newer articles when the question asks for the latest
    timeline_margin: float = 0.25  # stories this close to the best one join a timeline
    timeline_max: int = 6  # dated quotes in a timeline at most
    timeline_relief: float = 0.1  # how much lower the decline threshold is for timeline questions
    conflict_margin: float = 0.25  # a conflicting figure this close to the best sentence is shown beside it
    rerank_depth: int = 20  # sentences the optional cross-encoder re-reads
    w_rerank: float = 0.5  # its share of the blended score
    w_kind: float = 0.05  # bonus for a sentence stating the kind of answer asked for (a sum for "how much did it cost")
    answer_checks: bool = True  # decline when the quotes lack a name, number or kind of answer asked (answerable.py)
    w_confidence_sim: float = 0.2  # weight of the best sentence's own similarity in the decision to decline
    follow_chars: int = 450  # the best sentence takes its next sentence along when both fit in this many characters


class Answerer:
    """Answers questions from one index. Thread-safe; ``ask`` is CPU-bound, so async callers run it in a thread."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: IndexStore,
        tuning: Tuning | None = None,
        today: Callable[[], date] | None = None,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.settings = settings
        self.synthesizer = synthesizer
        self.embedder = embedder
        self.tuning = tuning or Tuning()
        self._store = store
        self._lock = threading.Lock()
        self._today = today
        self.reranker = Reranker(settings.reranker_model, device=settings.device) if settings.reranker_model else None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        tuning: Tuning | None = None,
        today: Callable[[], date] | None = None,
    ) -> Answerer:
        """An answerer over the settings' index; raises IndexMissing or ModelMismatch with a one-line fix."""
        embedder = embedder or Embedder.from_settings(settings)
        store = IndexStore.open(settings.index_dir, model=settings.model)
        return cls(settings, embedder, store, tuning, today, Synthesizer.from_settings(settings))

    @property
    def store(self) -> IndexStore:
        """The index being served."""
        return self._store

    # ------------------------------------------------------------------ the façade
    def ask(self, question: str, *, id: str | None = None, synthesis: bool = True) -> Answer:
        """Quote the sentences that answer ``question``, or decline; then the LLM summary, if one is set and wanted."""
        t0 = time.perf_counter()
        q = _clean_question(question)
        store = self._store
        # One read snapshot for the whole answer: a concurrent ingest or removal can't change the index mid-way.
        with store.snapshot():
            answer = self._answer(q, id, store, t0)
        return self.synthesize(answer) if synthesis else answer

    def synthesize(self, answer: Answer) -> Answer:
        """``answer`` with the LLM's checked summary when QABOT_LLM_URL is set; network-bound, needs no index."""
        return answer if self.synthesizer is None else self.synthesizer.add_to(answer, decline_text=ABSTAIN_TEXT)

    def _answer(self, q: str, id: str | None, store: IndexStore, t0: float) -> Answer:
        retrieval = Retriever(store, self.embedder).retrieve(q)
        t1 = time.perf_counter()
        hint = time_hint(q, self.today())
        kind = answer_kind(q)
        scored = self._score_sentences(store, retrieval.query_vector, retrieval.words, retrieval.hits, kind)
        meta = store.articles(dict.fromkeys(s.article_id for s in scored))
        if self.reranker is not None:
            scored = self._rerank(q, scored, meta)
        scored = newsaware.by_time(scored, meta, hint, self.tuning)
        scored, stories = newsaware.originals(store, scored, meta)
        if hint.timeline:
            quotes, more, mode = newsaware.timeline(meta, scored, stories, self.tuning), [], "timeline"
        else:
            quotes, more = self._choose(meta, scored, stories)
            quotes, mode = newsaware.disagreement(
                meta, scored, stories, quotes, self.tuning, self.settings.max_articles
            )
        t2 = time.perf_counter()
        timings = {
            "embed": retrieval.timings_ms["embed"],
            "retrieve": (t1 - t0) * 1000,
            "select": (t2 - t1) * 1000,
            "total": (t2 - t0) * 1000,
        }
        best = self._confidence(scored, quotes)
        # "How did X unfold" asks about a whole story, so no single sentence matches it as closely as a pointed
        # question's answer does: the bar is lower, and the story must still be named in the articles.
        floor = self.settings.min_score - (self.tuning.timeline_relief if mode == "timeline" else 0.0)
        if not quotes or best < floor:
            return Answer(q, True, ABSTAIN_TEXT, (), timings, more=(), id=id)
        why_not = unanswerable(q, meta, quotes, kind) if self.tuning.answer_checks else None
        if why_not:
            log.debug("declined %r: %s", q, why_not)
            return Answer(q, True, ABSTAIN_TEXT, (), timings, more=(), id=id)
        quotes = newsaware.also_reported(store, quotes, stories)
        note = newsaware.stale_note(quotes, self.settings.stale_after_days, self.today())
        if mode == "disagreement":
            note = "Sources differ: " + " / ".join(x.source or x.title for x in quotes[:2]) + "."
        text = answer_text(quotes) if note is None else f"{note}\n{answer_text(quotes)}"
        return Answer(q, False, text, tuple(quotes), timings, more=tuple(more), id=id, note=note, mode=mode)

    def today(self) -> date:
        """Today's date for "this week" and staleness (a parameter in tests)."""
        return self._today() if self._today else datetime.now(UTC).date()

    def stats(self) -> IndexStats:
        """What the index holds."""
        return self._store.stats()

    def recent(self, n: int = 10) -> list[Article]:
        """The newest articles, newest first."""
        return self._store.recent(n)

    def reload(self) -> bool:
        """Pick up a newer generation written by another process; True when it changed."""
        with self._lock:
            before = self._store.loaded_generation
            _, now = self._store.vector_index()  # loads a newer generation's vectors, then swaps them in
            return now != before

    # ------------------------------------------------------------------ scoring
    def _score_sentences(
        self,
        store: IndexStore,
        qvec: np.ndarray,
        words: list[str],
        hits: Sequence[ChunkHit],
        kind: AnswerKind | None = None,
    ) -> list[Candidate]:
        t = self.tuning
        top = hits[: t.candidates]
        if not top:
            return []
        # Every sentence once, with the best similarity among the chunks that hold it.
        context: dict[tuple[str, int], float] = {}
        rank: dict[tuple[str, int], int] = {}
        for i, h in enumerate(top):
            for o in range(h.chunk.first_sentence, h.chunk.last_sentence + 1):
                key = (h.chunk.article_id, o)
                context[key] = max(context.get(key, -1.0), h.dense)
                rank.setdefault(key, i)
        rows = []
        for h in top:
            rows.extend(store.sentences(h.chunk.article_id, h.chunk.first_sentence, h.chunk.last_sentence))
        unique = {(r.article_id, r.ordinal): r for r in rows}
        keys = sorted(unique)
        if not keys:
            return []
        bodies = {aid: a.text for aid, a in store.articles(k[0] for k in keys).items()}
        texts = {k: bodies.get(k[0], "")[unique[k].start : unique[k].end] for k in keys}
        q_terms, *sent_terms = store.analyze([" ".join(words), *(texts[k] for k in keys)])
        idf = _idf(store, q_terms)
        total_idf = sum(idf.values()) or 1.0
        mat = np.stack([unique[k].vector for k in keys])
        sims = mat @ qvec
        out = []
        for i, k in enumerate(keys):
            present = set(sent_terms[i])
            lex = sum(w for term, w in idf.items() if term in present) / total_idf
            r = unique[k]
            score = (
                t.w_sentence * float(sims[i])
                + t.w_chunk * context[k]
                + t.w_lexical * lex
                + t.w_length * min(r.end - r.start, 200) / 200
                - t.w_rank * rank[k] / t.candidates
            )
            cue = t.w_kind if kind is not None and kind.found_in(texts[k]) else 0.0
            out.append(Candidate(r.article_id, r.ordinal, r.start, r.end, score + cue, float(sims[i]), cue))
        out.sort(key=lambda s: (-s.score, s.article_id, s.ordinal))
        return out

    def _choose(
        self, articles: dict[str, Article], scored: list[Candidate], stories: dict[str, str]
    ) -> tuple[list[Quote], list[Quote]]:
        """Greedy by score: the best sentence, then others close to it, within a character budget and article cap.

        One story is quoted from one article only (its original publisher, see ``newsaware.originals``).
        """
        t = self.tuning
        if not scored:
            return [], []
        top = scored[0].score
        story_article: dict[str, str] = {}
        seen_text: set[str] = set()
        chosen: list[Candidate] = []
        rest: list[Candidate] = []
        used = 0
        for s in scored:
            article = articles.get(s.article_id)
            if article is None:
                continue
            text = " ".join(article.text[s.start : s.end].split()).lower()
            story = stories.get(s.article_id, s.article_id)
            if text in seen_text or story_article.get(story, s.article_id) != s.article_id:
                continue  # a copy of a story already quoted adds nothing
            seen_text.add(text)
            cited = {c.article_id for c in chosen}
            fits = not chosen or (
                s.score >= top - t.second_margin
                and used + (s.end - s.start) <= t.char_budget
                and len(chosen) < t.max_sentences
                and (s.article_id in cited or len(cited) < self.settings.max_articles)
            )
            if fits:
                chosen.append(s)
                story_article[story] = s.article_id
                used += s.end - s.start
            elif len(rest) < 6:
                rest.append(s)
        if t.follow_chars:
            chosen = self._follow(chosen, t.follow_chars)
        return self._quotes(articles, chosen), [to_quote(articles[s.article_id], s) for s in rest]

    def _rerank(self, question: str, scored: list[Candidate], meta: dict[str, Article]) -> list[Candidate]:
        """Blend a cross-encoder's judgement of the top sentences into their scores."""
        t = self.tuning
        head = [s for s in scored[: t.rerank_depth] if s.article_id in meta]
        ce = self.reranker.score_pairs(question, [meta[s.article_id].text[s.start : s.end] for s in head])  # type: ignore[union-attr]
        # The cue is kept whole outside the blend, so a quote's score (which leaves it out) is the blend itself.
        blended = [
            replace(s, score=(1 - t.w_rerank) * (s.score - s.cue) + t.w_rerank * c + s.cue)
            for s, c in zip(head, ce, strict=True)
        ]
        out = blended + scored[len(head) :]
        out.sort(key=lambda s: (-s.score, s.article_id, s.ordinal))
        return out

    def _confidence(self, scored: list[Candidate], quotes: list[Quote]) -> float:
        """How sure the best quote answers: its score, moved by how closely its own sentence matches the question.

        The sentence similarity separates "answers it" from "is about the same story" better than the chunk and
        word features inside the score (docs/quality.md has the calibration).
        """
        if not quotes:
            return 0.0
        best = quotes[0]
        sims = [s.sim for s in scored if s.article_id == best.article_id and best.start <= s.start < best.end]
        sim = max(sims, default=0.5)
        return max(q.score for q in quotes) + self.tuning.w_confidence_sim * (sim - 0.5)

    def _follow(self, chosen: list[Candidate], limit: int) -> list[Candidate]:
        """News sentences often finish their thought in the next one ("…, he added."): quote both when short."""
        top = chosen[0]
        if any(c.article_id == top.article_id and c.ordinal == top.ordinal + 1 for c in chosen):
            return chosen
        nxt = self._store.sentences(top.article_id, top.ordinal + 1, top.ordinal + 1)
        if not nxt or nxt[0].end - top.start > limit:
            return chosen
        extra = Candidate(top.article_id, top.ordinal + 1, nxt[0].start, nxt[0].end, top.score, top.sim, top.cue)
        return [top, extra, *chosen[1:]]

    def _quotes(self, articles: dict[str, Article], chosen: list[Candidate]) -> list[Quote]:
        """Group chosen sentences by article (best article first), joining neighbours into one passage."""
        t = self.tuning
        order = list(dict.fromkeys(s.article_id for s in chosen))
        quotes: list[Quote] = []
        for aid in order:
            mine = sorted((s for s in chosen if s.article_id == aid), key=lambda s: s.ordinal)
            spans: list[Candidate] = []
            for s in mine:
                if spans and s.ordinal == spans[-1].ordinal + 1:
                    prev = spans[-1]
                    # A joined passage scores as its best sentence, cue apart: the cue never raises confidence.
                    base = max(prev.score - prev.cue, s.score - s.cue)
                    cue = max(prev.cue, s.cue)
                    spans[-1] = replace(prev, end=s.end, ordinal=s.ordinal, score=base + cue, cue=cue)
                else:
                    spans.append(s)
            if len(mine) == 1 and mine[0].end - mine[0].start < t.short_sentence:
                spans = [self._extend_short(articles[aid], mine[0])]
            spans.sort(key=lambda s: -s.score)
            quotes.extend(to_quote(articles[aid], s) for s in spans)
        return quotes

    def _extend_short(self, article: Article, s: Candidate) -> Candidate:
        """A very short best sentence (a fragment or a lead-in) reads better with the sentence after it."""
        nxt = self._store.sentences(article.id, s.ordinal + 1, s.ordinal + 1)
        return replace(s, end=nxt[0].end) if nxt else s


def _idf(store: IndexStore, terms: list[str]) -> dict[str, float]:
    df, n = store.document_frequencies(terms)
    return {t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in dict.fromkeys(terms)}


_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")  # terminal colour and cursor sequences


def _clean_question(question: str) -> str:
    question = _ESCAPES.sub(" ", question)
    q = " ".join("".join(ch if ch.isprintable() else " " for ch in question).split())
    if not any(ch.isalnum() for ch in q):
        raise BadQuestion("please ask a question in words")
    return q[:MAX_QUESTION_CHARS]


def answer_text(quotes: Sequence[Quote]) -> str:
    """The plain text a person reads: each quote with its source, numbered."""
    lines = []
    for i, q in enumerate(quotes, 1):
        src = ", ".join(p for p in (q.title, q.source, (q.published or "")[:10]) if p)
        lines.append(f"[{i}] “{q.text}” — {src}")
    return "\n".join(lines)


__all__ = ["ABSTAIN_TEXT", "Answerer", "Tuning", "answer_text"]
