"""The optional cross-encoder re-ranker, plumbed end to end with a tiny model this test builds itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qabot.answer import Answerer, Tuning
from qabot.config import Settings
from qabot.embed import resolve_model_path
from qabot.rerank import Reranker


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer BERT sequence classifier with random weights and the bundled model's tokenizer: no download."""
    transformers = pytest.importorskip("transformers")
    bundled = Path(resolve_model_path("bundled"))
    out = tmp_path_factory.mktemp("tiny-cross-encoder")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (bundled / name).exists():
            shutil.copy(bundled / name, out / name)
    config = transformers.BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        num_labels=1, max_position_embeddings=512,
    )  # fmt: skip
    transformers.set_seed(7)
    transformers.BertForSequenceClassification(config).save_pretrained(out)
    return out


def test_reranker_scores_each_pair_between_zero_and_one(tiny_cross_encoder: Path) -> None:
    scores = Reranker(str(tiny_cross_encoder)).score_pairs("why?", ["because of the S-400", "a tram line", "rain"])
    assert len(scores) == 3
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_answerer_ranks_by_the_cross_encoder_when_it_has_full_weight(
    tiny_cross_encoder: Path, sample_index: Path, embedder
) -> None:
    settings = Settings(
        _env_file=None, index_dir=sample_index, reranker_model=str(tiny_cross_encoder), min_confidence=0
    )
    tuning = Tuning(w_rerank=1.0, follow_chars=0, short_sentence=0)
    answerer = Answerer.from_settings(settings, embedder=embedder, tuning=tuning)
    question = "why was Turkey removed from the F-35 program?"
    answer = answerer.ask(question)
    assert answer.quotes
    top = answer.quotes[0]
    article = answerer.store.articles([top.article_id])[top.article_id]
    assert article.text[top.start : top.end] == top.text
    # With full weight the quote's score is the cross-encoder's own judgement of that sentence.
    assert top.score == pytest.approx(answerer.reranker.score_pairs(question, [top.text])[0], abs=1e-5)


def test_a_missing_reranker_model_is_a_one_line_config_error(sample_index: Path, embedder) -> None:
    from qabot.errors import ConfigError

    settings = Settings(_env_file=None, index_dir=sample_index, reranker_model=str(sample_index / "no-such-model"))
    with pytest.raises(ConfigError, match="QABOT_RERANKER_MODEL"):  # at start, not on the first question
        Answerer.from_settings(settings, embedder=embedder)
