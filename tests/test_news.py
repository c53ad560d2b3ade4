"""News-aware answers: one story once, timelines, disagreements, dates, and links to the quoted sentence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import unquote

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.dates import time_hint
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article, text_fragment_url
from qabot.stories.copies import figures

WIRE = (
    "Harbour officials in Port Selby confirmed on Monday that the new container terminal will open in June. "
    "The terminal cost 410 million dollars and will handle up to 900,000 containers a year. "
    "Dock workers had campaigned for two years for the expansion, saying the old quays were unsafe. "
    "The port authority said shipping lines from Asia had already booked berths for the first month."
)


def _index(make_settings: Callable[..., Settings], embedder: Embedder, articles: list[Article], **kw: object):
    settings = make_settings(**kw)
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles(articles)
    return Answerer.from_settings(settings, embedder=embedder, today=lambda: date(2025, 6, 30))


def _filler() -> list[Article]:
    return [
        Article("f1", "Library extends opening hours", "The city library will stay open until nine in the evening. "
                "Readers asked for longer hours in a survey last autumn.", published="2025-05-02", source="Local"),
        Article("f2", "Rain delays cricket final", "Heavy rain delayed the county cricket final by two days. "
                "Organisers said tickets remain valid for the new date.", published="2025-05-20", source="Sport"),
    ]  # fmt: skip


def test_three_copies_of_a_wire_story_are_quoted_once_with_also_reported_by(make_settings, embedder):
    copies = [
        Article("w1", "Port Selby terminal to open in June", WIRE, url="https://wire.example/a",
                published="2025-06-02", source="Wire Service"),
        Article("w2", "Port Selby terminal to open in June", WIRE + " Reporting by staff.", url="https://daily.example/b",
                published="2025-06-03", source="Daily Courier"),
        Article("w3", "New terminal for Port Selby", WIRE, url="https://gazette.example/c",
                published="2025-06-04", source="Evening Gazette"),
    ]  # fmt: skip
    answerer = _index(make_settings, embedder, copies + _filler())
    answer = answerer.ask("How much did the Port Selby container terminal cost?")
    assert not answer.abstained
    story_quotes = [q for q in answer.quotes if q.article_id in {"w1", "w2", "w3"}]
    assert {q.article_id for q in story_quotes} == {"w1"}, "one story, quoted from its original publisher"
    assert "410 million" in " ".join(q.text for q in story_quotes)
    assert set(story_quotes[0].also_reported_by) == {"Daily Courier", "Evening Gazette"}


def test_timeline_question_returns_dated_quotes_in_date_order(make_settings, embedder):
    steps = [
        Article("t3", "Mayor Okafor resigns after council vote", "Mayor Lena Okafor resigned on Friday after the "
                "council voted to censure her over the bridge contract.", published="2025-03-21", source="C"),
        Article("t1", "Questions raised over bridge contract", "Auditors questioned how Mayor Lena Okafor's office "
                "awarded the bridge contract without a tender.", published="2025-02-03", source="A"),
        Article("t2", "Council opens inquiry into bridge contract", "The council opened an inquiry into Mayor Lena "
                "Okafor's handling of the bridge contract on Tuesday.", published="2025-02-25", source="B"),
    ]  # fmt: skip
    answerer = _index(make_settings, embedder, steps + _filler())
    answer = answerer.ask("How did the bridge contract affair around Mayor Okafor unfold?")
    assert answer.mode == "timeline"
    dates = [q.published for q in answer.quotes]
    assert dates == sorted(dates)
    assert len(dates) == 3
    assert [q.article_id for q in answer.quotes] == ["t1", "t2", "t3"]


def test_two_sources_with_different_figures_are_both_quoted(make_settings, embedder):
    reports = [
        Article("d1", "Flooding in Marrow Valley", "At least 1,200 homes were flooded in Marrow Valley after the river "
                "burst its banks on Sunday, the regional council said.", published="2025-04-07", source="Valley Post"),
        Article("d2", "Marrow Valley floods", "Around 3,000 homes were flooded in Marrow Valley when the river burst "
                "its banks on Sunday, according to emergency services.", published="2025-04-07", source="National"),
    ]  # fmt: skip
    answerer = _index(make_settings, embedder, reports + _filler())
    answer = answerer.ask("How many homes were flooded in Marrow Valley?")
    texts = " ".join(q.text for q in answer.quotes)
    assert "1,200" in texts
    assert "3,000" in texts
    assert answer.mode == "disagreement"
    assert answer.note
    assert "differ" in answer.note


def test_a_next_day_report_with_a_new_figure_is_an_update_not_a_disagreement(make_settings, embedder):
    reports = [
        Article("n1", "Marrow Valley floods", "At least 1,200 homes were flooded in Marrow Valley after the river "
                "burst its banks on Sunday, the regional council said.", published="2025-04-07", source="Valley Post"),
        Article("n2", "Marrow Valley flood damage grows", "Around 3,000 homes were flooded in Marrow Valley after the "
                "river burst its banks on Sunday, the regional council said on Monday.", published="2025-04-08",
                source="National"),
    ]  # fmt: skip
    answerer = _index(make_settings, embedder, reports + _filler())
    answer = answerer.ask("How many homes were flooded in Marrow Valley?")
    assert answer.mode == "update"
    assert [q.article_id for q in answer.quotes[:2]] == ["n2", "n1"]  # the newer figure first
    assert answer.note is not None
    assert "differ" not in answer.note
    assert "2025-04-08" in answer.note
    assert "2025-04-07" in answer.note


def test_latest_question_prefers_the_newer_article(make_settings, embedder):
    updates = [
        Article("u1", "Glenmoor reservoir level", "The Glenmoor reservoir is at 64 percent of capacity, the water "
                "board said in its weekly update.", published="2025-05-01", source="Water Board"),
        Article("u2", "Glenmoor reservoir level", "The Glenmoor reservoir is at 41 percent of capacity, the water "
                "board said in its weekly update.", published="2025-06-20", source="Water Board"),
    ]  # fmt: skip
    answerer = _index(make_settings, embedder, updates + _filler())
    answer = answerer.ask("What is the latest level of the Glenmoor reservoir?")
    assert answer.quotes[0].article_id == "u2"


@pytest.mark.parametrize(
    "quote",
    [
        "Washington removed Turkey from the F-35 programme in 2019.",
        "Prices rose 2.5% & fell, then rose again - a 'volatile' week, analysts said — and more: a very long sentence "
        "that keeps going well past sixteen words so that the start,end form of the fragment is used.",
    ],
)
def test_text_fragment_link_round_trips_to_the_quote(quote):
    link = text_fragment_url("https://news.example/story?id=7#top", quote)
    assert link is not None
    assert link.startswith("https://news.example/story?id=7#:~:text=")
    frag = link.split("#:~:text=", 1)[1]
    parts = [unquote(p) for p in frag.split(",")]  # ',' separates start and end; a literal comma is %2C
    words = quote.split()
    if len(parts) == 1:
        assert parts[0] == " ".join(words)
    else:
        assert quote.startswith(parts[0])
        assert quote.endswith(parts[1])
    assert "-" not in frag
    assert "&" not in frag


def test_stale_caveat_appears_only_when_every_quote_is_old(make_settings, embedder):
    arts = [Article("s1", "Port Selby terminal to open in June", WIRE, published="2025-06-02", source="Wire")]
    fresh = _index(make_settings, embedder, arts + _filler(), stale_after_days=30)
    answer = fresh.ask("How much did the Port Selby container terminal cost?")
    assert answer.note is None  # 28 days old on 2025-06-30: not stale
    stale = Answerer(fresh.settings, embedder, fresh.store, today=lambda: date(2025, 12, 1))
    answer = stale.ask("How much did the Port Selby container terminal cost?")
    assert answer.note == "These articles are from 2 June 2025 or earlier; newer news may exist."
    assert answer.answer.startswith(f"{answer.note}\n")


def test_time_hints_read_periods_from_questions():
    today = date(2025, 4, 10)
    assert time_hint("what happened in 2019?", today).start == date(2019, 1, 1)
    assert time_hint("news since March", today).start == date(2025, 3, 1)
    assert time_hint("anything this week", today).start == date(2025, 4, 7)
    assert time_hint("the latest on the talks", today).latest
    assert time_hint("timeline of the protests", today).timeline
    assert not time_hint("why was Turkey removed from the F-35 program?", today).has_range


def test_figures_ignore_years_and_normalise_thousands():
    assert figures("In 2024 about 1,200 homes, or 12%, flooded") == {"1200", "12%"}
