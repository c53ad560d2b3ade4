"""A sentence under consideration for a quote: where it is, how well it scores, and how it becomes a ``Quote``."""

from __future__ import annotations

from dataclasses import dataclass

from qabot.models import Article, Quote


@dataclass(frozen=True)
class Candidate:
    """One sentence (or a run of neighbouring sentences) of an article, scored against the question."""

    article_id: str
    ordinal: int
    start: int
    end: int
    score: float
    sim: float = 0.0  # the sentence's own cosine similarity to the question
    cue: float = 0.0  # the part of ``score`` owed to stating the kind of answer asked for: orders, never reassures


def to_quote(article: Article, c: Candidate) -> Quote:
    """The verbatim quote of ``c``; its score leaves out the answer-kind cue, which only orders candidates."""
    return Quote(
        text=article.text[c.start : c.end],
        article_id=article.id,
        title=article.title,
        url=article.url,
        published=article.published,
        source=article.source,
        start=c.start,
        end=c.end,
        score=c.score - c.cue,
    )


__all__ = ["Candidate", "to_quote"]
