"""The clock jumping (a dead RTC back in 1970, a clock years ahead, the far ends of the calendar) and very long
day settings never crash an answer, a stale note or a retention prune: they answer, decline or do nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.dates import time_hint
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article

QUESTIONS = [
    "What happened with the harbour tram this week?",
    "What did the tram line cost last month?",
    "Which trams ran in the past year?",
    "What did the council decide since March?",
    "What did the council decide before December?",
    "What happened in December 9999?",
    "What is the latest on the Port Aldwick tram?",
    "What happened to the tram since 2025?",
]
DAYS = [date(1970, 1, 1), date(2999, 12, 31), date.min, date.max, date(1, 2, 28), date(9999, 12, 1)]
TRAM = Article(
    id="tram",
    title="Port Aldwick opens its harbour tram line",
    text="The harbour tram line in Port Aldwick opened on Monday. The line cost 40 million crowns.",
    published="2025-03-03",
)


@pytest.mark.parametrize("today", DAYS, ids=str)
def test_time_words_on_any_day_give_a_hint(today: date) -> None:
    for q in QUESTIONS:
        time_hint(q, today)


def test_a_jumping_clock_never_crashes_an_answer(make_settings: Callable[..., Settings], embedder: Embedder) -> None:
    settings = make_settings(stale_after_days=10**6)  # "never call it stale" written as a big number
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles([TRAM])
    clock = [date(2025, 3, 4)]
    answerer = Answerer.from_settings(settings, embedder=embedder, today=lambda: clock[0])
    for today in [date(2025, 3, 4), *DAYS, date(2025, 3, 4)]:  # forwards, back to 1970, the ends, and back again
        clock[0] = today
        for q in QUESTIONS:
            answer = answerer.ask(q)
            assert answer.abstained or answer.quotes
    answerer.store.close()


def test_stale_notes_across_a_clock_jump(make_settings: Callable[..., Settings], embedder: Embedder) -> None:
    settings = make_settings(stale_after_days=30)
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles([TRAM])
    answerer = Answerer.from_settings(settings, embedder=embedder)
    q = "What did the harbour tram line in Port Aldwick cost?"
    assert answerer.ask(q, today=date(2025, 3, 10)).note is None
    stale = "These articles are from 3 March 2025 or earlier; newer news may exist."
    assert answerer.ask(q, today=date(2031, 1, 1)).note == stale
    assert answerer.ask(q, today=date(1970, 1, 1)).note is None  # a clock behind the article: not stale
    assert answerer.ask(q, today=date.min).note is None
    answerer.store.close()


def test_a_retention_longer_than_the_calendar_prunes_nothing(
    make_settings: Callable[..., Settings], embedder: Embedder, tmp_path: Path
) -> None:
    ingestor = Ingestor.from_settings(make_settings(), embedder=embedder)
    ingestor.ingest_articles([TRAM])
    assert ingestor.prune_older_than(10**6) == []
    assert ingestor.prune_older_than(10**9) == []
