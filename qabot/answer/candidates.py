"""A sentence under consideration for a quote: where it is, how likely it answers, and how it becomes a ``Quote``."""

from __future__ import annotations

from dataclasses import dataclass

from qabot.models import Article, Quote


@dataclass(frozen=True)
class Candidate:
    """One sentence (or a run of neighbouring sentences) of an article, scored against the question.

    ``score`` is the fitted scorer's probability that this sentence is the one that answers the question, if any
    does (``Scorer.shares``); whether the question is answered at all is ``Answer.confidence``.
    """

    article_id: str
    ordinal: int
    start: int
    end: int
    score: float
    sim: float = 0.0  # the sentence's own cosine similarity to the question


def to_quote(article: Article, c: Candidate) -> Quote:
    """The verbatim quote of ``c``."""
    return Quote(
        text=article.text[c.start : c.end],
        article_id=article.id,
        title=article.title,
        url=article.url,
        published=article.published,
        source=article.source,
        start=c.start,
        end=c.end,
        score=c.score,
    )


__all__ = ["Candidate", "to_quote"]
