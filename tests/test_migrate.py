"""`qabot migrate --to milvus`: a local index copied into Milvus (Lite, from PyPI) answers as the folder did,
without embedding anything again; a re-run adds nothing; a missing source or another model's target is refused
in one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.models import Answer
from qabot.store import open_store
from qabot.store.index import IndexStore
from qabot.store.migrate import migrate
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]
QUESTION_SETS = [ROOT / "benchmarks" / "data" / f"samples.{name}.jsonl" for name in ("questions", "unanswerable")]


def sample_questions() -> list[str]:
    lines = (line for path in QUESTION_SETS for line in path.read_text("utf-8").splitlines() if line.strip())
    return [json.loads(line)["question"] for line in lines]


def first_quote(answer: Answer) -> tuple[str, int, str] | None:
    """The first quote's article, where it starts and its text; None for a decline."""
    if answer.abstained or not answer.quotes:
        return None
    quote = answer.quotes[0]
    return quote.article_id, quote.start, quote.text


@pytest.fixture
def milvus_settings(tmp_path: Path, sample_index: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings naming the samples index as the folder and a fresh Milvus Lite file as the Milvus store."""
    uri = str(tmp_path / "lite" / "milvus.db")
    monkeypatch.setenv("QABOT_MILVUS_URI", uri)  # for `qabot migrate` run in this process
    return Settings(_env_file=None, index_dir=sample_index, store="milvus", milvus_uri=uri)


@pytest.fixture
def migrated(
    milvus_settings: Settings, sample_index: Path, run_main: Callable[..., helpers.CliRun]
) -> tuple[Settings, helpers.CliRun]:
    """The samples index migrated by `qabot migrate --to milvus`: the Milvus settings and the run."""
    return milvus_settings, run_main("--index", str(sample_index), "migrate", "--to", "milvus")


def test_migrated_index_answers_every_sample_question_with_the_same_first_quote(
    migrated: tuple[Settings, helpers.CliRun], answerer: Answerer, embedder: Embedder, sample_index: Path
) -> None:
    settings, run = migrated
    assert run.code == 0, run.err
    source = IndexStore.open(sample_index, model=settings.model).stats()
    assert f"Copied {source.articles} articles ({source.chunks} chunks" in run.out
    assert "none embedded again" in run.out
    on_milvus = Answerer.from_settings(settings, embedder=embedder)
    assert (on_milvus.stats().articles, on_milvus.stats().chunks) == (source.articles, source.chunks)
    questions = sample_questions()
    answers = [(answerer.ask(q), on_milvus.ask(q)) for q in questions]
    differ = [(a, b) for a, b in answers if first_quote(a) != first_quote(b)]
    shown = [(a.question, first_quote(a), first_quote(b), a.confidence, b.confidence) for a, b in differ]
    assert len(differ) <= 0.05 * len(questions), f"{len(differ)} of {len(questions)} differ: {shown[:5]}"
    # Milvus's BM25 (its own analyzer and length statistics) scores a chunk a little apart from FTS5's, so at a
    # near-tie a quote's extent may differ (the same sentence of the same article first), two sentences whose
    # shares tie may swap places (the folder quotes Milvus's first sentence too, its share within 0.02 of its own
    # first), or a question the scorer is unsure of may fall on either side of the decline threshold (both
    # confidences near it).
    threshold = answerer.threshold
    for (a, b), row in zip(differ, shown, strict=True):
        local, milvus = first_quote(a), first_quote(b)
        if local and milvus:
            if local[:2] == milvus[:2]:
                continue
            swapped = [q for q in a.quotes[1:] if (q.article_id, q.start) == milvus[:2]]
            assert swapped, row
            assert a.quotes[0].score - swapped[0].score < 0.02, row
        else:
            assert abs(a.confidence - threshold) < 0.1, row
            assert abs(b.confidence - threshold) < 0.1, row
    # The F-35 question quotes the S-400 sentence from the migrated store too (a real answer, not a decline).
    f35 = on_milvus.ask("Why was Turkey removed from the F-35 program?")
    assert not f35.abstained
    assert "S-400" in f35.quotes[0].text


def test_a_second_migration_adds_nothing(
    migrated: tuple[Settings, helpers.CliRun], run_main: Callable[..., helpers.CliRun], sample_index: Path
) -> None:
    settings, first = migrated
    assert first.code == 0, first.err
    target = open_store(settings)
    before = (target.generation, target.stats().articles, target.stats().chunks)

    again = run_main("--index", str(sample_index), "migrate", "--to", "milvus")

    assert again.code == 0, again.err
    assert "Nothing to copy: the target already holds all" in again.out
    target.refresh()
    assert (target.generation, target.stats().articles, target.stats().chunks) == before
    # Progress runs from none to every article, as ingest's does, even when there is nothing to copy.
    seen: list[tuple[int, int]] = []
    report = migrate(IndexStore.open(sample_index, model=settings.model), target, lambda d, t: seen.append((d, t)))
    assert report.copied == 0
    assert report.unchanged == before[1]
    assert seen[0] == (0, before[1])
    assert seen[-1] == (before[1], before[1])


def test_migrate_refuses_a_missing_source_in_one_line(
    milvus_settings: Settings, tmp_path: Path, run_main: Callable[..., helpers.CliRun]
) -> None:
    run = run_main("--index", str(tmp_path / "nothing-here"), "migrate", "--to", "milvus")
    helpers.assert_one_error_line(run, "no index at")
    assert not Path(milvus_settings.milvus_uri).exists()  # nothing was created in Milvus either


def test_migrate_refuses_a_target_holding_another_models_data(
    milvus_settings: Settings, sample_index: Path, run_main: Callable[..., helpers.CliRun]
) -> None:
    other = milvus_settings.model_copy(update={"model": "intfloat/other-model"})
    open_store(other, dimension=768, create=True)  # another model's (empty) index in the same collections

    run = run_main("--index", str(sample_index), "migrate", "--to", "milvus")

    helpers.assert_one_error_line(run, "other-model")
