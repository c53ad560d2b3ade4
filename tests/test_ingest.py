"""Ingest: idempotent by content hash, replaces changed articles (same id or URL), removes, and skips bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Answer, Article, IngestReport
from qabot.sources.inputs import Sources
from qabot.store import IndexStore
from tests.helpers import BAKERY, COST, TRAM


def ingestor_for(settings: Settings, embedder: Embedder) -> Ingestor:
    return Ingestor.from_settings(settings, embedder=embedder)


def open_store(settings: Settings) -> IndexStore:
    return IndexStore.open(settings.index_dir, model=settings.model)


def ask(settings: Settings, embedder: Embedder, question: str) -> Answer:
    answerer = Answerer.from_settings(settings, embedder=embedder)
    answer = answerer.ask(question)
    articles = answerer.store.articles(q.article_id for q in answer.quotes)
    for q in answer.quotes:
        assert q.text == articles[q.article_id].text[q.start : q.end]
    return answer


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def test_an_ingest_that_read_nothing_makes_no_index(settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    ingestor = ingestor_for(settings, embedder)
    report = ingestor.ingest_sources(Sources(paths=(tmp_path / "missing.md",)), sync=True)
    assert [s.reason for s in report.skipped] == ["no such file or directory"]
    assert report.removed == []
    assert ingestor.prune_older_than(30) == []  # a feed refresh that found nothing yet: nothing to prune
    assert not settings.index_dir.exists()


def test_first_ingest_adds_and_reports(settings: Settings, embedder: Embedder) -> None:
    report = ingestor_for(settings, embedder).ingest_articles([TRAM, BAKERY])
    assert sorted(report.added) == ["bakery-1", "tram-1"]
    assert report.summary() == "added 2, updated 0, unchanged 0, skipped 0"
    store = open_store(settings)
    assert store.article_ids() == ["bakery-1", "tram-1"]
    assert store.stats().chunks >= 2


def test_reingesting_the_same_articles_changes_nothing(settings: Settings, embedder: Embedder) -> None:
    ingestor = ingestor_for(settings, embedder)
    ingestor.ingest_articles([TRAM, BAKERY])
    store = open_store(settings)
    generation, chunks = store.generation, store.count_chunks()

    again = ingestor.ingest_articles([TRAM, BAKERY])

    assert sorted(again.unchanged) == ["bakery-1", "tram-1"]
    assert again.added == []
    assert again.updated == []
    assert again.summary() == "added 0, updated 0, unchanged 2, skipped 0"
    assert store.generation == generation
    assert store.count_chunks() == chunks


def test_changed_article_with_same_id_is_replaced(settings: Settings, embedder: Embedder) -> None:
    ingestor = ingestor_for(settings, embedder)
    ingestor.ingest_articles([TRAM, BAKERY])
    assert "40 million" in ask(settings, embedder, COST).quotes[0].text

    corrected = Article(**{**TRAM.__dict__, "text": TRAM.text.replace("40 million crowns", "55 million crowns")})
    report = ingestor.ingest_articles([corrected])

    assert report.updated == ["tram-1"]
    assert report.added == []
    store = open_store(settings)
    assert store.article_ids() == ["bakery-1", "tram-1"]
    assert store.articles(["tram-1"])["tram-1"].text == corrected.text
    answer = ask(settings, embedder, COST)
    assert answer.quotes[0].article_id == "tram-1"
    assert "55 million" in answer.quotes[0].text
    assert all("40 million" not in q.text for q in (*answer.quotes, *answer.more))
    # The old wording is gone from the lexical index too, not just hidden.
    assert store.search_lexical(["40"], 10) == []


def test_same_url_under_a_new_id_replaces_the_old_article(settings: Settings, embedder: Embedder) -> None:
    ingestor = ingestor_for(settings, embedder)
    ingestor.ingest_articles([TRAM, BAKERY])
    moved = Article(**{**TRAM.__dict__, "id": "tram-2", "title": "Harbour tram line opens in Port Aldwick"})

    report = ingestor.ingest_articles([moved])

    assert report.updated == ["tram-2"]
    store = open_store(settings)
    assert store.article_ids() == ["bakery-1", "tram-2"]
    answer = ask(settings, embedder, COST)
    assert {q.article_id for q in (*answer.quotes, *answer.more)} <= {"tram-2", "bakery-1"}
    assert answer.quotes[0].title == "Harbour tram line opens in Port Aldwick"


def test_same_article_twice_in_one_run_is_stored_once(settings: Settings, embedder: Embedder) -> None:
    newer = Article(**{**BAKERY.__dict__, "text": BAKERY.text + "\n\nA new bakery will open in spring."})
    report = ingestor_for(settings, embedder).ingest_articles([BAKERY, TRAM, newer])
    assert sorted(report.added) == ["bakery-1", "tram-1"]
    store = open_store(settings)
    assert store.articles(["bakery-1"])["bakery-1"].text == newer.text


@pytest.mark.parametrize("ref", ["tram-1", "https://news.example.invalid/tram"])
def test_remove_by_id_or_url(settings: Settings, embedder: Embedder, ref: str) -> None:
    ingestor = ingestor_for(settings, embedder)
    ingestor.ingest_articles([TRAM, BAKERY])
    store = open_store(settings)
    before = store.generation

    assert ingestor.remove(ref) is True

    assert store.article_ids() == ["bakery-1"]
    assert store.generation == before + 1
    answer = ask(settings, embedder, COST)
    assert all(q.article_id == "bakery-1" for q in (*answer.quotes, *answer.more))
    assert ingestor.remove(ref) is False  # already gone
    assert ingestor.remove("no-such-article") is False


def test_folder_with_good_and_broken_files(settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    (folder / "nested").mkdir(parents=True)
    (folder / "tram.md").write_text(
        "---\nid: md-tram\npublished: 2025-03-03\n---\n# Tram line opens\n\n" + TRAM.text, encoding="utf-8"
    )
    (folder / "nested" / "bakery.txt").write_text("Oldest bakery closes\n\n" + BAKERY.text, encoding="utf-8")
    (folder / "broken.json").write_text('{"title": "cut off', encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00\x14\x00binary")
    (folder / "empty.md").write_text("", encoding="utf-8")
    (folder / "records.jsonl").write_text(
        '{"id": "j-ok", "title": "Council approves bridge", "text": "The council approved a new footbridge."}\n'
        "this line is not json\n",
        encoding="utf-8",
    )
    (folder / "report.pdf").write_bytes(b"%PDF-1.4")  # not a supported type: ignored inside a folder

    report = ingestor_for(settings, embedder).ingest_paths([folder])

    assert len(report.added) == 3
    assert "md-tram" in report.added
    assert "j-ok" in report.added
    skipped = {Path(s.where.split(":")[0]).name: s.reason for s in report.skipped}
    assert set(skipped) == {"broken.json", "binary.txt", "empty.md", "records.jsonl"}
    assert all(reason and "\n" not in reason for reason in skipped.values())
    assert "JSON" in skipped["broken.json"]
    assert "binary" in skipped["binary.txt"]
    assert "empty" in skipped["empty.md"]
    assert report.summary() == "added 3, updated 0, unchanged 0, skipped 4"
    assert len(open_store(settings).article_ids()) == 3


def test_summary_counts_every_kind() -> None:
    from qabot.models import Skip

    report = IngestReport(added=["a"], updated=["b", "c"], unchanged=[], skipped=[Skip("x.bin", "binary file")])
    assert report.summary() == "added 1, updated 2, unchanged 0, skipped 1"


def test_same_id_twice_in_one_run_reports_the_dropped_copy(settings: Settings, embedder: Embedder) -> None:
    newer = Article(**{**BAKERY.__dict__, "text": BAKERY.text + "\n\nA new bakery will open in spring."})
    report = ingestor_for(settings, embedder).ingest_articles([BAKERY, TRAM, newer])
    assert [(s.where, s.reason) for s in report.skipped] == [
        ("bakery-1", "the same id comes again later in this run; the last copy wins")
    ]
    assert report.summary() == "added 2, updated 0, unchanged 0, skipped 1"


def test_two_new_articles_with_an_indexed_url_one_replaces_it_the_other_is_skipped(
    settings: Settings, embedder: Embedder
) -> None:
    ingestor = ingestor_for(settings, embedder)
    ingestor.ingest_articles([TRAM, BAKERY])
    first = Article(**{**TRAM.__dict__, "id": "tram-2", "title": "Harbour tram line opens"})
    second = Article(**{**TRAM.__dict__, "id": "tram-3", "title": "Port Aldwick tram opens", "text": TRAM.text + " X."})

    report = ingestor.ingest_articles([first, second])

    # The rule: one article per URL per run, the last record wins (as for ids); the earlier one is a Skip.
    assert report.updated == ["tram-3"]
    assert [(s.where, s.reason) for s in report.skipped] == [
        ("tram-2", "same URL as tram-3, later in this run; the last one wins")
    ]
    assert open_store(settings).article_ids() == ["bakery-1", "tram-3"]


def test_two_new_articles_with_one_new_url_are_not_both_reported_added(settings: Settings, embedder: Embedder) -> None:
    twin = Article(**{**TRAM.__dict__, "id": "tram-copy"})
    report = ingestor_for(settings, embedder).ingest_articles([TRAM, twin, BAKERY])
    assert sorted(report.added) == ["bakery-1", "tram-copy"]
    assert [s.where for s in report.skipped] == ["tram-1"]
    assert open_store(settings).article_ids() == ["bakery-1", "tram-copy"]
