"""Issue 16, "same content gives the same answers": answers depend on what an index holds, not on how it got there.

The same articles are ingested in another order, in other batches, with a history (an article first stored in
another version, one added and removed again), and rebuilt by ``qabot repair``; every index must print
byte-identical ``qabot ask --json`` answers (less the timings) to a clean one. The corpus has exact wire copies
(identical chunks, so identical scores: only a tie-break tells them apart), a copy under another title, a story
chained through a partial copy, and boilerplate shared across stories.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from qabot.answer import Answerer
from qabot.cli.commands import samples_dir
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.repair import repair_index
from qabot.sources.files import load_paths
from qabot.store import DB

TODAY = date(2025, 11, 1)
BOILERPLATE = " The council will publish its full report on the matter in the spring."
FERRY = (
    "Ferry crews on the Skarra Sound route walked out on Monday in a dispute over night shifts. "
    "The union said 1,200 workers joined the strike, halting all sailings between Skarra and the mainland. "
    "Islanders queued at the small airfield for the few seats on the daily flight. "
    "The operator, Sound Lines, said it had offered a new rota and called the walkout premature."
)
FERRY_TALKS = (
    "Talks between Sound Lines and the union resumed on Wednesday with a mediator from the labour office. "
    "The union now puts the number of striking workers at 1,450, after harbour staff joined the crews. "
    "The mediator said she hoped to put a proposal to both sides by the weekend."
)
# Half a copy of FERRY and half of FERRY_TALKS: it resembles both, which resemble each other not at all.
FERRY_DIGEST = FERRY + " " + FERRY_TALKS


def corpus() -> list[Article]:
    """The bundled samples plus generated copies, a chained story and boilerplate: 20 articles."""
    samples = {a.id: a for a in load_paths([samples_dir()]) if isinstance(a, Article)}
    rates = samples["sample-caldera-reserve-bank-rates"]
    heat = samples["sample-vellmoor-heatwave-water"]
    tram = samples["sample-port-aldwick-harbour-tram"]
    made = [
        # Exact wire copies: same title, text and date, so identical chunks, vectors and BM25 scores.
        replace(rates, id="wire-rates-a", url="https://northwire.example/rates", source="Northwire"),
        replace(rates, id="wire-rates-b", url="https://coastal.example/rates", source="Coastal Times"),
        replace(rates, id="wire-rates-c", url="https://daily.example/rates", source="Daily Ledger",
                title="Caldera central bank holds its key rate", published="2025-09-12"),
        replace(heat, id="wire-heat", url="https://valley.example/heat", source="Valley Post"),
        replace(tram, id="tram-repeat", url="https://aldwick.example/tram", source="Aldwick Echo",
                text=tram.text + BOILERPLATE),
        Article("ferry-strike", "Skarra ferry crews strike over night shifts", FERRY,
                url="https://islands.example/strike", published="2025-08-04", source="Island News"),
        Article("ferry-talks", "Skarra ferry talks resume with a mediator", FERRY_TALKS,
                url="https://islands.example/talks", published="2025-08-06", source="Island News"),
        Article("ferry-digest", "The week on Skarra: strike and talks", FERRY_DIGEST,
                url="https://weekly.example/skarra", published="2025-08-08", source="Skarra Weekly"),
        Article("council-roads", "Council orders a review of road repairs",
                "The city council ordered a review of its road repair contracts after complaints about potholes. "
                "Repairs on 14 streets will be checked by an outside engineer." + BOILERPLATE,
                url="https://city.example/roads", published="2025-08-20", source="City Desk"),
    ]  # fmt: skip
    return sorted([*samples.values(), *made], key=lambda a: a.id)


QUESTIONS = [
    "What was the main interest rate of the Caldera Reserve Bank on Thursday?",
    "Did the Reserve Bank of Caldera change interest rates?",
    "How full was the reservoir above Vellmoor during the heatwave?",
    "How often do trams run in the evening in Port Aldwick?",
    "How many workers joined the Skarra ferry strike?",
    "What happened in the Skarra ferry dispute?",
    "When will the council publish its full report?",
    "Why was Turkey kicked out of the F-35 programme?",
    "What did Trump say to Erdogan on the call?",
    "How many battery packs did Brindlewick recall?",
    "Who is the new head coach of Fenwater Rovers?",
    "How many carved figures did the Hallberg Museum return?",
    "Who painted the Mona Lisa?",
]


def ingest(index: Path, embedder: Embedder, groups: Iterable[list[Article]]) -> None:
    ingestor = Ingestor.from_settings(Settings(_env_file=None, index_dir=index), embedder=embedder)
    for group in groups:
        report = ingestor.ingest_articles(group)
        assert not report.skipped, report.skipped


def answers(index: Path, embedder: Embedder) -> str:
    """Every question's ``qabot ask --json`` text, without the timings (the only field that may differ)."""
    answerer = Answerer.from_settings(Settings(_env_file=None, index_dir=index), embedder=embedder)
    try:
        out = []
        for question in QUESTIONS:
            shown = answerer.ask(question, today=TODAY).to_json()
            del shown["timings_ms"]
            out.append(json.dumps(shown, ensure_ascii=False, indent=2))
        return "\n".join(out)
    finally:
        answerer.store.close()


def in_groups(articles: list[Article], size: int) -> list[list[Article]]:
    return [articles[i : i + size] for i in range(0, len(articles), size)]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, str]:
    """An index of the corpus ingested in one run, in id order, and its answers."""
    index = tmp_path_factory.mktemp("clean") / "index"
    ingest(index, embedder, [corpus()])
    said = answers(index, embedder)
    # The questions reach the ties they are meant to: copies of one story, quoted once with the others named.
    for needle in ("Northwire", "Skarra", "spring"):
        assert needle in said
    return index, said


def test_the_corpus_in_reverse_and_shuffled_batches_answers_the_same(
    clean: tuple[Path, str], tmp_path: Path, embedder: Embedder
) -> None:
    articles = corpus()
    ingest(tmp_path / "reverse", embedder, in_groups(articles[::-1], 3))
    assert answers(tmp_path / "reverse", embedder) == clean[1]
    random.Random(16).shuffle(articles)
    ingest(tmp_path / "shuffled", embedder, in_groups(articles, 7))
    assert answers(tmp_path / "shuffled", embedder) == clean[1]


def test_an_index_with_a_history_answers_like_a_clean_one(
    clean: tuple[Path, str], tmp_path: Path, embedder: Embedder
) -> None:
    articles = {a.id: a for a in corpus()}
    index = tmp_path / "index"
    first = [articles.pop("ferry-digest"), articles.pop("wire-rates-b")]
    # Another version of an article first (its chunks and vectors are replaced later), and articles that are added
    # and removed again: row ids, arrival times and the stories seen along the way all differ from a clean run. One
    # of them copies two stories whole, joining them into one until it goes.
    draft = replace(articles["ferry-talks"], text=articles["ferry-talks"].text.replace("1,450", "1,300"))
    passing = replace(articles["sample-caldera-reserve-bank-rates"], id="aaa-passing", url="https://x.example/p")
    roads, tram = articles["council-roads"], articles["tram-repeat"]
    bridge = Article("aaa-bridge", "Council roundup", f"{roads.text}\n\n{tram.text}", url="https://x.example/b")
    ingest(index, embedder, [first, [draft, passing, bridge], list(articles.values())])
    ingestor = Ingestor.from_settings(Settings(_env_file=None, index_dir=index), embedder=embedder)
    assert ingestor.remove("aaa-passing")
    assert ingestor.remove("https://x.example/b")
    assert answers(index, embedder) == clean[1]


def test_an_index_repaired_after_losing_rows_answers_like_a_clean_one(
    clean: tuple[Path, str], tmp_path: Path, embedder: Embedder
) -> None:
    index = tmp_path / "index"
    ingest(index, embedder, in_groups(corpus()[::-1], 5))
    conn = sqlite3.connect(index / DB)
    # Repair chunks these articles again (new row ids, a new arrival time) and re-embeds the lost vectors.
    conn.execute("DELETE FROM chunks WHERE article_id IN ('sample-caldera-reserve-bank-rates', 'ferry-strike')")
    conn.execute("DELETE FROM vectors WHERE hash IN (SELECT vhash FROM sentences WHERE article_id = 'wire-heat')")
    conn.commit()
    conn.close()
    said = repair_index(Settings(_env_file=None, index_dir=index), embedder)
    assert "is sound" in said, said
    assert "chunked 2 articles again" in said, said
    assert answers(index, embedder) == clean[1]


def test_the_default_backend_embeds_a_text_alike_alone_and_in_any_batch(embedder: Embedder) -> None:
    # Padding to the longest text of a batch must not move a vector: a re-run after a crash, a repair or another
    # grouping embeds the same text among other texts, and its stored vector must be the clean run's, bit for bit.
    texts = [s for a in corpus() for s in (a.title, *a.text.split(". ")[:3], a.text[:600])]
    together = embedder.embed_texts(texts)
    assert embedder.backend == "onnx"
    alone = np.stack([embedder.embed_texts([t])[0] for t in texts[::5]])
    assert np.array_equal(alone, together[::5])
    small = Embedder(batch_size=7)
    assert np.array_equal(small.embed_texts(texts[::-1])[::-1], together)
