"""Candidate sentences of the retrieved chunks and the features the answer scorer reads for each.

Every sentence of the top chunks is a candidate. Its features are what a reader weighs: how close the sentence and
its chunk are to the question (absolute, and against the best candidate of this question), how many of the
question's words it holds, where it sits in its article, whether the article is from the period asked about, and the
checks of ``kinds.py`` — names and numbers of the question found, the kind of answer asked for stated. No feature is
a veto; ``scorer.py`` holds the fitted weights, ``benchmarks/train_scorer.py`` fits them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from qabot.answer.candidates import Candidate
from qabot.answer.kinds import (
    AnswerKind,
    absent_in_folded,
    absent_names,
    absent_numbers,
    answer_kind,
    fold,
    names_capitalised_in,
    question_names,
    states_wh,
    wh_kind,
)
from qabot.dates import TimeHint, in_range, parse_date
from qabot.models import Article
from qabot.retrieve import ChunkHit, Retrieval
from qabot.store import Store
from qabot.text import normalize, query_words

# The order is the contract with the fitted weights in scorer.json: append, never reorder.
FEATURES: tuple[str, ...] = (
    "sim_sentence",  # cosine similarity of the sentence to the question
    "sim_chunk",  # the best similarity of a retrieved chunk holding it (the chunk is embedded with its title)
    "sim_sentence_gap",  # sim_sentence minus the best sim_sentence of this question's candidates
    "sim_chunk_gap",  # likewise for the chunk
    "lexical",  # IDF-weighted share of the question's terms in the sentence
    "lexical_gap",  # lexical minus the best lexical of this question's candidates
    "lexical_titled",  # IDF-weighted share in the sentence and its article's title together
    "bm25",  # the chunk's BM25 score over the best BM25 of this question (0 when BM25 did not find it)
    "rank",  # fused rank of the best chunk holding it, 0 (first) .. 1 (last scored)
    "length",  # characters, up to 200, over 200
    "short",  # under 40 characters: captions, cut links, datelines
    "first_sentence",  # the article's opening sentence (a lead summarises; it rarely holds the detail asked)
    "position",  # sentence ordinal, up to 20, over 20
    "in_period",  # the question names a period and the article is from it
    "out_of_period",  # the question names a period and the article is not from it
    "recency",  # the question asks for the latest: 0 (oldest candidate article) .. 1 (newest)
    "names_in_article",  # share of the question's names the article mentions (1 when the question names none)
    "names_in_sentence",  # share of the question's names in the sentence itself
    "numbers_in_article",  # share of the question's numbers the article has (1 when it has none)
    "kind_asked",  # the question asks for a sum, share, count, frequency or figure
    "kind_stated",  # ... and the sentence states one
    "wh_asked",  # the question asks who / when / where / why / how long
    "wh_stated",  # ... and the sentence carries the mark of such an answer
    "new_words",  # share of the sentence's content words the question does not have: an answer adds something
    "sim_neighbours",  # mean similarity of the sentences before and after it (its own when it has none here)
    "article_coverage",  # IDF-weighted share of the question's terms anywhere in the article (title and text)
    "article_missing",  # the rarest question term the article lacks (of those the index holds), as a share
    "kind_loose",  # the question asks for a figure and the sentence has one, whatever it counts
)

_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Question:
    """What the features need to know about a question, worked out once."""

    text: str
    words: list[str]
    names: list[str]
    kind: AnswerKind | None
    wh: str | None
    hint: TimeHint
    language: str = "en"

    @classmethod
    def read(cls, text: str, hint: TimeHint, language: str = "en") -> Question:
        """Parse ``text`` (already cleaned) with its time hint.

        The names a question asks about are looked for word for word, which only works in the articles' language:
        "Turquía" is never in an English article about Turkey, so a question in another language (read by a
        multilingual model) has none to check.
        """
        names = question_names(text) if language == "en" else []
        return cls(text, query_words(text), names, answer_kind(text), wh_kind(text), hint, language)


@dataclass(frozen=True)
class CandidateSet:
    """The candidates of one question, their feature rows (``len(FEATURES)`` columns) and the articles they are in."""

    candidates: list[Candidate]
    features: np.ndarray
    articles: dict[str, Article]


def gather(store: Store, retrieval: Retrieval, question: Question, depth: int) -> CandidateSet:
    """Every sentence of the ``depth`` best chunks once, with its feature row; ``score`` is left at 0."""
    top: Sequence[ChunkHit] = retrieval.hits[:depth]
    empty = CandidateSet([], np.zeros((0, len(FEATURES)), dtype=np.float32), {})
    if not top:
        return empty
    context: dict[tuple[str, int], float] = {}
    rank: dict[tuple[str, int], int] = {}
    bm25: dict[tuple[str, int], float] = {}
    for i, h in enumerate(top):
        for o in range(h.chunk.first_sentence, h.chunk.last_sentence + 1):
            key = (h.chunk.article_id, o)
            context[key] = max(context.get(key, -1.0), h.dense)
            bm25[key] = max(bm25.get(key, 0.0), h.lexical)
            rank.setdefault(key, i)
    rows = store.sentences_of([(h.chunk.article_id, h.chunk.first_sentence, h.chunk.last_sentence) for h in top])
    unique = {(r.article_id, r.ordinal): r for r in rows}
    keys = sorted(unique)
    articles = store.articles(dict.fromkeys(k[0] for k in keys))
    keys = [k for k in keys if k[0] in articles]  # an article removed mid-answer is not quoted
    if not keys:
        return empty
    texts = [normalize(articles[k[0]].text[unique[k].start : unique[k].end]) for k in keys]
    title_ids = list(articles)
    q_terms, *analysed = store.analyze(
        [" ".join(question.words), *texts, *(normalize(articles[a].title) for a in title_ids)]
    )
    sent_terms = analysed[: len(keys)]
    by_title = dict(zip(title_ids, analysed[len(keys) :], strict=True))
    title_terms = [by_title[k[0]] for k in keys]
    idf, unseen = _idf(store, q_terms)
    total_idf = sum(idf.values()) or 1.0
    sims = np.stack([unique[k].vector for k in keys]) @ retrieval.query_vector

    if not question.names and question.language == "en":
        # Chat questions come in lower case: the articles say which of its words are names.
        question = replace(question, names=names_capitalised_in(question.text, (a.text for a in articles.values())))
    per_article = _article_features(question, articles)
    coverage = _coverage(store, articles, idf, unseen)
    recency = _recency(articles) if question.hint.latest else {}
    best_bm25 = max(bm25.values()) or 1.0
    q_words = set(question.words)
    q_folded = {fold(w) for w in question.words}
    x = np.zeros((len(keys), len(FEATURES)), dtype=np.float32)
    cands: list[Candidate] = []
    for i, k in enumerate(keys):
        r, text = unique[k], texts[i]
        present, titled = set(sent_terms[i]), set(sent_terms[i]) | set(title_terms[i])
        names_in_article, numbers_in_article, period = per_article[k[0]]
        content = set(query_words(text))
        x[i] = (
            float(sims[i]),
            context[k],
            0.0,
            0.0,
            sum(w for t, w in idf.items() if t in present) / total_idf,
            0.0,
            sum(w for t, w in idf.items() if t in titled) / total_idf,
            bm25[k] / best_bm25 if best_bm25 > 0 else 0.0,
            rank[k] / max(1, depth - 1),
            min(r.end - r.start, 200) / 200,
            float(r.end - r.start < 40),
            float(r.ordinal == 0),
            min(r.ordinal, 20) / 20,
            float(question.hint.has_range and period),
            float(question.hint.has_range and not period),
            recency.get(k[0], 0.0),
            names_in_article,
            _share_in(question.names, fold(text)) if question.names else 1.0,
            numbers_in_article,
            float(question.kind is not None),
            float(question.kind is not None and question.kind.found_in(text)),
            float(question.wh is not None),
            float(question.wh is not None and states_wh(question.wh, text, q_words | q_folded)),
            len(content - q_words) / len(content) if content else 0.0,
            0.0,
            *coverage[k[0]],
            float(question.kind is not None and question.kind.loosely_in(text)),
        )
        cands.append(Candidate(k[0], k[1], r.start, r.end, 0.0, float(sims[i])))
    col = FEATURES.index
    own = {k: float(sims[i]) for i, k in enumerate(keys)}
    for i, (aid, o) in enumerate(keys):
        near = [own[n] for n in ((aid, o - 1), (aid, o + 1)) if n in own]
        x[i, col("sim_neighbours")] = sum(near) / len(near) if near else own[(aid, o)]
    for name in ("sim_sentence", "sim_chunk", "lexical"):
        src = col(name)
        x[:, col(f"{name}_gap")] = x[:, src] - x[:, src].max()
    return CandidateSet(cands, x, articles)


def _article_features(question: Question, articles: dict[str, Article]) -> dict[str, tuple[float, float, bool]]:
    """Per article: share of the question's names it mentions, share of its numbers it has, in the period asked."""
    n_numbers = len(_NUMBER.findall(question.text.replace(",", "")))
    out = {}
    for aid, a in articles.items():
        names = 1.0 - len(absent_names(question.names, [a])) / len(question.names) if question.names else 1.0
        numbers = 1.0 - len(absent_numbers(question.text, a)) / n_numbers if n_numbers else 1.0
        out[aid] = (names, numbers, in_range(a.published, question.hint))
    return out


def _coverage(
    store: Store, articles: dict[str, Article], idf: dict[str, float], unseen: set[str]
) -> dict[str, tuple[float, float]]:
    """Per article: the IDF-weighted share of the question's terms it has, and the weight of the rarest term it
    lacks among those the index holds somewhere, as a share of the rarest such term's weight.

    A near miss names the story but asks for a detail it never mentions ("how many drivers…"): that detail's word
    is missing from the whole article, not only from the sentence. A word no article of the index holds (a typo, a
    word the corpus never uses) is missing from every article alike, so it says nothing about this one: counted,
    it would set the feature to 1.0 for every article of most questions, answerable or not.
    """
    total = sum(idf.values()) or 1.0
    known = {t: w for t, w in idf.items() if t not in unseen}
    top = max(known.values(), default=0.0) or 1.0
    ids = list(articles)
    present = store.terms_present([f"{articles[a].title}\n{articles[a].text}" for a in ids], list(idf))
    out = {}
    for aid, have in zip(ids, present, strict=True):
        missing = [w for t, w in known.items() if t not in have]
        out[aid] = (sum(w for t, w in idf.items() if t in have) / total, max(missing, default=0.0) / top)
    return out


def _recency(articles: dict[str, Article]) -> dict[str, float]:
    dates = {aid: parse_date(a.published) for aid, a in articles.items()}
    known = sorted({d for d in dates.values() if d is not None})
    if not known:
        return {}
    span = max(1, (known[-1] - known[0]).days)
    first: date = known[0]
    return {aid: (d - first).days / span for aid, d in dates.items() if d is not None}


def _share_in(names: list[str], folded_text: str) -> float:
    return 1.0 - len(absent_in_folded(names, folded_text)) / len(names)


def _idf(store: Store, terms: list[str]) -> tuple[dict[str, float], set[str]]:
    """BM25's IDF of each term, and the terms no chunk of the index holds."""
    df, n = store.document_frequencies(terms)
    idf = {t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in dict.fromkeys(terms)}
    return idf, {t for t in idf if not df.get(t, 0)}


__all__ = ["FEATURES", "CandidateSet", "Question", "gather"]
