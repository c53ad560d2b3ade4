"""The one façade every front-end calls: ``Answerer.ask(question) -> Answer``.

The stages, each in its own module of this package: retrieval finds chunks (``qabot.retrieve``); ``features``
turns every sentence of the best chunks into a candidate with a feature row; ``scorer`` gives each the fitted
probability that it answers; ``newsaware`` moves copies to their original story and spots updates and
disagreements; ``select`` picks the quotes; ``decline`` says when the articles don't answer, and why.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from qabot.answer import decline, newsaware
from qabot.answer.candidates import Candidate
from qabot.answer.features import CandidateSet, Question, gather
from qabot.answer.followup import Context, Followup, names_no_topic, read_followup, vocabulary
from qabot.answer.scorer import Scorer
from qabot.answer.select import Limits, choose
from qabot.config import Settings
from qabot.dates import time_hint
from qabot.embed import Embedder
from qabot.models import Answer, Article, ContextUse, IndexStats, Quote
from qabot.render.common import DECLINE_TEXT, NO_TOPIC_TEXT, plain_text
from qabot.rerank import Reranker
from qabot.retrieve import Retrieval, Retriever, content_key
from qabot.store import Store, open_store
from qabot.synthesis import Synthesizer
from qabot.text import clean_question

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000  # longer input is cut: no question needs more, and the model reads 256 tokens at most


@dataclass(frozen=True)
class Tuning:
    """What one answer may quote, and the optional re-ranker's share. The scorer's weights and threshold are not
    here: they are fitted (``scorer.json``)."""

    candidates: int = 12  # chunks whose sentences are scored
    char_budget: int = 500  # quoted characters at most, beyond the first sentence
    max_sentences: int = 3  # sentences quoted at most
    timeline_max: int = 6  # dated quotes in a timeline at most
    rerank_depth: int = 20  # sentences the optional cross-encoder re-reads
    w_rerank: float = 0.5  # its share of the blended probability (off unless QABOT_RERANKER_MODEL is set)
    follow_chars: int | None = None  # None: the scorer's fitted value
    short_sentence: int | None = None  # None: the scorer's fitted value
    second_min: float | None = None  # None: the scorer's fitted value
    followup_narrow: bool = True  # a follow-up tries the previous turn's story alone first (then the whole index)
    followup_parse: bool = True  # a follow-up's names and kind are read from the rewritten query, not the question


class Answerer:
    """Answers questions from one index. Thread-safe; ``ask`` is CPU-bound, so async callers run it in a thread."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: Store,
        tuning: Tuning | None = None,
        today: Callable[[], date] | None = None,
        scorer: Scorer | None = None,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.tuning = tuning or Tuning()
        self.scorer = scorer or (
            Scorer.load(Path(settings.scorer_path)) if settings.scorer_path else Scorer.for_model(settings.model)
        )
        self._store = store
        self._lock = threading.Lock()
        self._today = today
        self.synthesizer = synthesizer
        self.reranker = (
            Reranker(settings.reranker_model, device=settings.device, allow_downloads=settings.allow_downloads)
            if settings.reranker_model
            else None
        )

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
        store = open_store(settings)
        return cls(settings, embedder, store, tuning, today, synthesizer=Synthesizer.from_settings(settings))

    @property
    def store(self) -> Store:
        """The index being served."""
        return self._store

    @property
    def threshold(self) -> float:
        """The probability below which an answer is declined: the setting, or the scorer's fitted value."""
        chosen = self.settings.min_confidence
        return self.scorer.threshold if chosen is None else chosen

    @property
    def limits(self) -> Limits:
        """What one answer may quote."""
        t, fitted = self.tuning, self.scorer.selection
        return Limits(
            char_budget=t.char_budget,
            max_sentences=t.max_sentences,
            max_articles=self.settings.max_articles,
            follow_chars=t.follow_chars if t.follow_chars is not None else int(fitted.get("follow_chars", 0)),
            short_sentence=t.short_sentence if t.short_sentence is not None else int(fitted.get("short_sentence", 0)),
            second_min=t.second_min if t.second_min is not None else fitted.get("second_min", 1.0),
        )

    # ------------------------------------------------------------------ the façade
    def ask(
        self,
        question: str,
        *,
        id: str | None = None,
        today: date | None = None,
        synthesis: bool = True,
        context: Context | None = None,
        now: float | None = None,
    ) -> Answer:
        """Quote the sentences that answer ``question``, or decline; then the LLM summary, if one is set and wanted.

        Deterministic for one index, question and context. ``today`` is the day the question is asked on ("this
        week", staleness); default: the answerer's today. ``context``: the conversation's previous turn
        (``followup.next_context``), ignored when older than ``QABOT_CONTEXT_TTL_MINUTES`` at ``now`` (seconds since
        the epoch; default: the clock); ``answer.context`` says how it was used.
        """
        t0 = time.perf_counter()
        q = clean_question(question, MAX_QUESTION_CHARS)
        language = decline.question_language(q)
        if language != "en" and not self.embedder.multilingual:
            text = decline.english_only_text(language)
            because = f"{decline.LANGUAGE}:{language}"
            timings = {"total": (time.perf_counter() - t0) * 1000}
            return Answer(q, True, text, (), timings, id=id, declined_because=because)
        store = self._store
        # One read snapshot for the whole answer: a concurrent ingest or removal can't change the index mid-way.
        with store.snapshot():
            day = today or self.today()
            if context is None:
                answer = self._fresh(q, Retriever(store, self.embedder), id, store, t0, day, language)
            else:
                answer = self._converse(q, context, time.time() if now is None else now, id, store, t0, day, language)
        return self.synthesize(answer) if synthesis else answer

    def synthesize(self, answer: Answer) -> Answer:
        """``answer`` with the LLM's checked summary when QABOT_LLM_URL is set; network-bound, needs no index."""
        return answer if self.synthesizer is None else self.synthesizer.add_to(answer, decline_text=DECLINE_TEXT)

    def candidates(self, question: str, *, today: date | None = None) -> tuple[Question, CandidateSet]:
        """The candidates of a question with their feature rows, unscored: what the fitting script learns from."""
        q = clean_question(question, MAX_QUESTION_CHARS)
        with self._store.snapshot():
            retrieval = Retriever(self._store, self.embedder).retrieve(q)
            parsed = Question.read(q, time_hint(q, today or self.today()), decline.question_language(q))
            return parsed, gather(self._store, retrieval, parsed, self.tuning.candidates)

    def _converse(
        self, q: str, context: Context, now: float, id: str | None, store: Store, t0: float, day: date, lang: str
    ) -> Answer:
        """A question in a conversation: a follow-up retrieves with the carried words and tries the previous story
        first; a standalone question (or an expired context) is answered exactly as if asked fresh."""
        if context.expired(now, self.settings.context_ttl_minutes):
            follow = Followup(False, q, (), "expired")
        else:
            known = store.articles(context.articles)
            follow = read_followup(q, context, vocabulary(f"{a.title}\n{a.text}" for a in known.values()))
        retriever = Retriever(store, self.embedder)
        use = ContextUse(follow.followup, follow.query, follow.reason, follow.prefer)
        log.debug("context: %s", use)
        if not follow.followup:
            return replace(self._fresh(q, retriever, id, store, t0, day, lang), context=use)
        retrieval = retriever.retrieve(follow.query)
        if follow.prefer and self.tuning.followup_narrow:
            # Within the previous story the question itself picks the sentence: the carried words only find the
            # story's chunks, they would pull every follow-up back to the sentence that answered the last turn.
            own = retriever.retrieve(q)
            narrowed = _within(retriever, own, retrieval, self._story_of(store, follow.prefer))
            answer = self._answer(q, q, narrowed, id, store, t0, day, lang)
            if not answer.abstained:
                return replace(answer, context=replace(use, narrowed=True))
        parse = follow.query if self.tuning.followup_parse else q
        return replace(self._answer(q, parse, retrieval, id, store, t0, day, lang), context=use)

    def _fresh(
        self, q: str, retriever: Retriever, id: str | None, store: Store, t0: float, day: date, lang: str
    ) -> Answer:
        """A question asked on its own. One that names nothing gets asked which story it means: the scorer has no
        question words to judge a sentence by, and would quote whatever is nearest."""
        if names_no_topic(q):
            timings = {"total": (time.perf_counter() - t0) * 1000}
            text, because = NO_TOPIC_TEXT, decline.NO_TOPIC
            return Answer(q, True, text, (), timings, id=id, declined_because=because)
        return self._answer(q, q, retriever.retrieve(q), id, store, t0, day, lang)

    @staticmethod
    def _story_of(store: Store, ids: Sequence[str]) -> set[str]:
        """The articles ``ids`` and every other copy or report of their stories."""
        stories = store.stories(ids)
        members = store.story_members(set(stories.values()))
        return set(ids) | {a.id for arts in members.values() for a in arts}

    def _answer(
        self,
        q: str,
        parse: str,
        retrieval: Retrieval,
        id: str | None,
        store: Store,
        t0: float,
        today: date,
        language: str,
    ) -> Answer:
        """The answer to ``q`` from ``retrieval``; ``parse`` is the text its names, kind and period are read from."""
        t1 = time.perf_counter()
        parsed = Question.read(parse, time_hint(parse, today), language)
        found = gather(store, retrieval, parsed, self.tuning.candidates)
        probs, confidence = self.scorer.judge(found.features)
        scored = [replace(c, score=float(p)) for c, p in zip(found.candidates, probs, strict=True)]
        meta = dict(found.articles)
        if self.reranker is not None:
            scored = self._rerank(q, scored, meta)
        scored = newsaware.rank(scored, meta)
        scored, stories = newsaware.originals(store, scored, meta)
        threshold = self.threshold
        if parsed.hint.timeline:
            quotes = newsaware.timeline(meta, scored, stories, self.limits.second_min, self.tuning.timeline_max)
            more: list[Quote] = []
            mode = "timeline"
        else:
            quotes, more = choose(store, meta, scored, stories, self.limits)
            quotes, mode = newsaware.disagreement(
                meta, scored, stories, quotes, self.limits.second_min, self.settings.max_articles
            )
        t2 = time.perf_counter()
        timings = {
            "embed": retrieval.timings_ms["embed"],
            "retrieve": (t1 - t0) * 1000,
            "select": (t2 - t1) * 1000,
            "total": (t2 - t0) * 1000,
        }
        if not quotes:
            because = decline.NOTHING_FOUND
            return Answer(q, True, DECLINE_TEXT, (), timings, id=id, confidence=confidence, declined_because=because)
        if confidence < threshold:
            log.debug("declined %r: confidence %.3f below %.3f", q, confidence, threshold)
            because = decline.LOW_CONFIDENCE
            return Answer(q, True, DECLINE_TEXT, (), timings, id=id, confidence=confidence, declined_because=because)
        quotes = newsaware.also_reported(store, quotes, stories)
        notes = [newsaware.stale_note(quotes, self.settings.stale_after_days, today)]
        if mode == "disagreement":
            notes.append("Sources differ: " + " / ".join(newsaware.outlet(x) for x in quotes[:2]) + ".")
        elif mode == "update":
            notes.append(newsaware.update_note(quotes))
        note = " ".join(n for n in notes if n) or None
        text = plain_text(quotes) if note is None else f"{note}\n{plain_text(quotes)}"
        return Answer(
            q, False, text, tuple(quotes), timings, more=tuple(more), id=id, note=note, mode=mode, confidence=confidence
        )

    def today(self) -> date:
        """Today's date for "this week" and staleness (a parameter in tests)."""
        return self._today() if self._today else datetime.now(UTC).date()

    def stats(self) -> IndexStats:
        """What the index holds."""
        return self._store.stats()

    def recent(self, n: int = 10) -> list[Article]:
        """The newest articles, newest first."""
        return self._store.recent(n)

    def warm_up(self) -> None:
        """Load the embedding model, the re-ranker (when one is set) and the newest vectors now, so that the first
        question pays for none of it (``qabot serve`` calls this before it takes updates)."""
        self.embedder.embed_query("warm up")
        if self.reranker is not None:
            self.reranker.score_pairs("warm up", ["warm up"])
        self.reload()

    def reload(self) -> bool:
        """Pick up a newer generation written by another process; True when it changed."""
        with self._lock:
            before = self._store.loaded_generation
            return self._store.refresh() != before  # loads a newer generation's vectors, then swaps them in

    def _rerank(self, question: str, scored: list[Candidate], meta: dict[str, Article]) -> list[Candidate]:
        """Blend a cross-encoder's judgement of the most probable sentences into their probabilities."""
        t = self.tuning
        head = sorted((s for s in scored if s.article_id in meta), key=lambda s: -s.score)[: t.rerank_depth]
        ce = self.reranker.score_pairs(question, [meta[s.article_id].text[s.start : s.end] for s in head])  # type: ignore[union-attr]
        blended = [replace(s, score=(1 - t.w_rerank) * s.score + t.w_rerank * c) for s, c in zip(head, ce, strict=True)]
        keep = {(s.article_id, s.ordinal) for s in head}
        return blended + [s for s in scored if (s.article_id, s.ordinal) not in keep]


def _within(retriever: Retriever, own: Retrieval, carried: Retrieval, story: set[str]) -> Retrieval:
    """The chunks of ``story`` that either retrieval found, measured against the question's own vector: its hits
    in their order, then those only the carried words found, most similar first."""
    mine = [h for h in own.hits if h.chunk.article_id in story]
    seen = {h.chunk.id for h in mine}
    extra = [h for h in carried.hits if h.chunk.article_id in story and h.chunk.id not in seen]
    dense = retriever.similarities(own.query_vector, [h.chunk.id for h in extra])
    extra = [replace(h, dense=dense.get(h.chunk.id, 0.0), lexical=0.0, fused=0.0) for h in extra]
    extra.sort(key=lambda h: (-h.dense, *content_key(h.chunk)))
    return replace(own, hits=mine + extra)


__all__ = ["Answerer", "Tuning"]
