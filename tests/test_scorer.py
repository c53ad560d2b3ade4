"""The fitted answer scorer: what it is fitted from, that its pieces fit what they should on small fixtures, and
what a user sees of it (confidence, the reason for a decline) with the real bundled model."""

from __future__ import annotations

import numpy as np
import pytest

from qabot.answer import Answerer
from qabot.answer.features import FEATURES
from qabot.answer.scorer import GATE_FEATURES, Linear, Scorer, Trees
from qabot.answer.training import (
    GATE_SPLITS,
    Example,
    choose_threshold,
    choose_threshold_over,
    fit,
    fit_listwise,
    fit_tree_gate,
    fold_splits,
    top1,
)


def test_the_shipped_scorer_says_it_was_fitted_on_tune_halves_only() -> None:
    scorer = Scorer.load()
    assert scorer.features == FEATURES
    assert 0.0 < scorer.threshold < 1.0
    trained = scorer.provenance["trained_on"]
    assert trained, "it names the sets it was fitted on"
    assert set(trained.values()) == {"tune half"}
    assert "check halves" in scorer.provenance["never_read"]
    assert "multilingual" not in trained  # a set marked train: false is never fitted on


def test_a_scorer_fitted_on_other_features_is_refused_with_the_way_out(tmp_path) -> None:
    from qabot.errors import QabotError

    raw = Scorer.load().to_json()
    raw["features"] = raw["features"][:-1]
    with pytest.raises(QabotError, match=r"refit it with benchmarks/train_scorer\.py"):
        Scorer.from_json(raw)


def test_logistic_fit_recovers_a_planted_relationship() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0)))).astype(float)
    w, b = fit(x, y, penalty=0.01)
    assert w[0] == pytest.approx(2.0, abs=0.25)
    assert abs(w[1]) < 0.2  # noise gets no weight
    assert b == pytest.approx(-1.0, abs=0.2)


def _examples(n: int, seed: int) -> list[Example]:
    """Questions of 20 candidates; the gold one has the largest feature 0, feature 1 is noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        x = rng.normal(size=(20, 2))
        gold = int(np.argmax(x[:, 0] + 0.3 * rng.normal(size=20)))
        y = np.zeros(20)
        y[gold] = 1.0
        out.append(Example("s" if i % 2 else "t", True, x, y))
    return out


def test_listwise_weights_rank_the_gold_candidate_first() -> None:
    train, test = _examples(200, 1), _examples(100, 2)
    w = fit_listwise(train, np.zeros(2), np.ones(2), penalty=0.1)
    assert w[0] > 5 * abs(w[1])
    oracle = top1(test, lambda x: x[:, 0])  # ranking by the planted feature itself
    assert top1(test, lambda x: x @ w) >= oracle - 0.02
    assert top1(test, lambda x: x[:, 1]) < oracle - 0.3  # the noise feature alone would rank badly


def test_the_threshold_is_the_highest_that_keeps_every_half_within_its_decline_budget() -> None:
    # Set "a": answerable confidences 0.5..0.99 (50), unanswerable 0.0..0.49; set "b" has one weak answerable one.
    judged = [("a", 0.5 + i / 100, True) for i in range(50)] + [("a", i / 100, False) for i in range(50)]
    judged += [("b", 0.9, True)] * 49 + [("b", 0.2, True), ("b", 0.1, False)]
    threshold, report = choose_threshold(judged, max_declined=0.02)
    for name in ("a", "b"):
        answerable = [p for s, p, ok in judged if s == name and ok]
        assert sum(p < threshold for p in answerable) / len(answerable) <= 0.02
    # One more step up would decline a second answerable question of "a": 2/50 > 2%.
    assert 0.5 < threshold <= 0.51
    assert report["a"]["declined_unanswerable"] == 1.0


def test_a_small_half_does_not_set_the_threshold_alone_when_the_budget_is_pooled() -> None:
    # 200 confident answerable questions in "big"; "small" has 50, three of them weak (0.2, 0.3, 0.4), and its
    # unanswerable ones sit at 0.05..0.45. At 2 % per half, the second weak one would set the line near 0.25.
    judged = [("big", 0.6 + i / 1000, True) for i in range(200)]
    judged += [("small", 0.9, True)] * 47 + [("small", p, True) for p in (0.2, 0.3, 0.4)]
    judged += [("small", 0.05 + i / 100, False) for i in range(41)]
    strict, _ = choose_threshold(judged, max_declined=0.02)
    assert 0.2 < strict <= 0.3
    # Pooled 2 % of 250 answerable questions, at most 4 % (2 of 50) in any half: the third weak one is the limit.
    pooled, report = choose_threshold(judged, max_declined=0.02, max_half=0.04)
    assert 0.3 < pooled <= 0.4
    assert report["small"]["declined_answerable"] == 0.04
    assert report["small"]["declined_unanswerable"] > 0.6


def test_every_fold_split_is_a_fair_five_way_split_and_the_same_on_every_run() -> None:
    splits = fold_splits(23)
    assert len(splits) == GATE_SPLITS
    assert splits[0].tolist() == [i % 5 for i in range(23)]  # the split the ranker is cross-fitted on
    for fold in splits:
        assert sorted(np.bincount(fold, minlength=5).tolist()) == [4, 4, 5, 5, 5]
    assert len({tuple(f) for f in splits}) == GATE_SPLITS, "the reshuffles really reshuffle"
    assert all((a == b).all() for a, b in zip(splits, fold_splits(23), strict=True))


def test_the_line_over_several_splits_keeps_the_budget_on_their_mean_and_reports_it() -> None:
    # Three splits of the same 100 answerable and 10 unanswerable questions (0.0 .. 0.9); in each, one answerable
    # question is weak, at 0.25, 0.45 or 0.65. With no budget each split draws its line just under its weak one.
    def split(weak: float) -> list[tuple[str, float, bool]]:
        return [("s", 0.95, True)] * 99 + [("s", weak, True)] + [("s", i / 10, False) for i in range(10)]

    splits = [split(w) for w in (0.65, 0.25, 0.45)]
    alone = [choose_threshold(split(w), max_declined=0.0)[0] for w in (0.25, 0.45, 0.65)]
    assert alone == pytest.approx([0.225, 0.425, 0.625])
    # No budget at all: no split may lose its weak question, so the lowest of them draws the line.
    strict, report = choose_threshold_over(splits, max_declined=0.0)
    assert strict == pytest.approx(0.225)
    assert report["s"]["declined_answerable"] == 0.0
    assert report["s"]["declined_unanswerable"] == 0.3  # 0.0 .. 0.2 are under it in every split
    # A budget of 0.5 %: one split of three losing its weak question is 0.33 % on average, two are 0.67 %.
    threshold, report = choose_threshold_over(splits, max_declined=0.005)
    assert threshold == pytest.approx(0.425)
    assert report["s"]["declined_answerable"] == round(0.01 / 3, 3)
    assert report["s"]["declined_unanswerable"] == 0.5  # 0.0 .. 0.4 are under it in every split
    assert choose_threshold_over(splits[::-1], max_declined=0.005)[0] == threshold  # whatever order they come in


def test_tree_gate_inference_reads_the_trees_as_scikit_learn_wrote_them() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(3)
    exs = []
    for i in range(120):
        answerable = i % 3 != 0
        x = rng.normal(size=(8, len(FEATURES)))
        x[:, FEATURES.index("names_in_article")] = 1.0 if answerable else 0.0
        exs.append(Example("s", answerable, x, np.eye(8)[0] if answerable else np.zeros(8)))
    ranker = Linear(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), rng.normal(size=len(FEATURES)), 0.0)
    trees, oofs, sizes = fit_tree_gate(exs, [ranker.logits(e.x) for e in exs], sizes=((20, 2, 5), (30, 3, 10)))
    assert len(sizes) == 2, "the tree size was chosen among those offered"
    assert isinstance(trees, Trees)
    assert len(oofs) == GATE_SPLITS
    assert all(len(oof) == len(exs) for oof in oofs)
    scorer = Scorer(FEATURES, ranker, 0.5, trees)
    names_missing = [scorer.confidence(e.x) for e in exs if not e.answerable]
    named = [scorer.confidence(e.x) for e in exs if e.answerable]
    assert max(names_missing) < min(named)  # the near-veto was learned, and read back the same way
    assert isinstance(HistGradientBoostingClassifier, type)


def test_no_candidates_means_no_confidence() -> None:
    assert Scorer.load().confidence(np.zeros((0, len(FEATURES)))) == 0.0
    assert len(GATE_FEATURES) == len(set(GATE_FEATURES))


# ---------------------------------------------------------------------------------------------- with the model
def test_an_answer_carries_its_confidence_and_a_decline_its_reason(answerer: Answerer) -> None:
    answered = answerer.ask("why was Turkey removed from the F-35 program?")
    assert not answered.abstained
    assert answered.confidence >= answerer.threshold
    assert answered.declined_because is None
    assert answered.to_json()["confidence"] == round(answered.confidence, 4)
    declined = answerer.ask("What is the capital of Mongolia?")
    assert declined.abstained
    assert declined.declined_because == "low confidence"
    assert declined.confidence < answerer.threshold
    assert declined.to_json()["declined_because"] == "low confidence"


def test_a_threshold_setting_overrides_the_fitted_one(answerer: Answerer) -> None:
    strict = Answerer(
        answerer.settings.model_copy(update={"min_confidence": 1.0}), answerer.embedder, answerer.store
    )
    answer = strict.ask("why was Turkey removed from the F-35 program?")
    assert answer.abstained
    assert answer.declined_because == "low confidence"


@pytest.mark.parametrize(
    ("question", "language", "says"),
    [
        ("Warum wurde die Türkei aus dem F-35-Programm ausgeschlossen?", "de", "Englisch"),
        ("¿Por qué fue expulsada Turquía del programa F-35?", "es", "inglés"),
        ("Pourquoi la Turquie a-t-elle été exclue du programme F-35 ?", "fr", "anglais"),
        ("Türkiye neden F-35 programından çıkarıldı?", "tr", "İngilizce"),
        ("Почему Турцию исключили из программы F-35?", "ru", "английском"),
    ],
)
def test_a_question_in_another_language_gets_one_line_in_that_language(
    answerer: Answerer, question: str, language: str, says: str
) -> None:
    answer = answerer.ask(question)
    assert answer.abstained
    assert answer.declined_because == f"language:{language}"
    assert says in answer.answer
    assert "\n" not in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "Why was Erdoğan's call with Trump important?",
        "who is the mayor of Port Aldwick",
        "Was the tram late?",
        "What did Müller say about the merger?",
        "Who won La Liga this season?",
        "What did de Gaulle say?",
        "Why did São Paulo raise bus fares?",
        "Who is the new U.S. ambassador to Türkiye?",
        "Was Van Dijk injured?",
        "Is De Bruyne fit?",
        "Is von der Leyen running again?",
        "Is El Niño over?",
        "Did La Niña end?",
        "Is Café de Flore closing?",
        "Is Le Pen ahead in the polls?",
        "What did Lula da Silva announce?",
    ],
)
def test_english_questions_with_foreign_names_are_read_as_english(answerer: Answerer, question: str) -> None:
    assert not (answerer.ask(question).declined_because or "").startswith("language")


@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\u2060", "\ufeff"])
def test_an_invisible_character_inside_a_word_changes_nothing(answerer: Answerer, invisible: str) -> None:
    plain = answerer.ask("why was Turkey removed from the F-35 program?")
    tricky = answerer.ask(f"why was Tur{invisible}key removed from the F-35 program?")
    assert not tricky.abstained
    assert [q.text for q in tricky.quotes] == [q.text for q in plain.quotes]


def test_the_features_see_the_answer_kind_and_the_names(answerer: Answerer) -> None:
    _, found = answerer.candidates("How much did the Port Aldwick tram line cost?")
    texts = [found.articles[c.article_id].text[c.start : c.end] for c in found.candidates]
    col = FEATURES.index
    gold = next(i for i, t in enumerate(texts) if "412 million dollars" in t)
    assert found.features[gold, col("kind_stated")] == 1.0
    assert found.features[gold, col("names_in_article")] == 1.0
    _, missing = answerer.candidates("What did the mayor of Ulaanbaatar say about the Port Aldwick tram?")
    assert missing.features[:, col("names_in_article")].max() < 1.0


def test_a_question_in_lower_case_still_has_its_names_checked(answerer: Answerer) -> None:
    # Typed in a chat without capitals, "okoro" is still the mayor's name: the articles write it as one.
    _, found = answerer.candidates("how old is mayor helen okoro")
    texts = [found.articles[c.article_id].text[c.start : c.end] for c in found.candidates]
    col = FEATURES.index
    hers = [i for i, t in enumerate(texts) if "Okoro" in t]
    others = [i for i, t in enumerate(texts) if "Okoro" not in t and "Helen" not in t]
    assert hers
    assert others
    named = found.features[hers, col("names_in_sentence")].min()
    assert named > 0.0
    assert found.features[others, col("names_in_sentence")].max() < named
    assert found.features[:, col("names_in_article")].min() < 1.0  # an article that never names her


def _article_missing(answerer: Answerer, question: str) -> dict[str, float]:
    _, found = answerer.candidates(question)
    col = FEATURES.index("article_missing")
    return {c.article_id: float(found.features[i, col]) for i, c in enumerate(found.candidates)}


def test_a_word_the_index_never_saw_is_not_a_detail_the_article_lacks(answerer: Answerer) -> None:
    # "cots" (a typo) is in no article, so it cannot tell the tram article from any other: the article that holds
    # every other word of the question lacks nothing.
    typo = _article_missing(answerer, "How much did the Port Aldwick tram line cots?")
    assert typo["sample-port-aldwick-harbour-tram"] == 0.0
    # "inflation" is in the index (the Caldera article) but not in the tram article: a detail that story lacks.
    near = _article_missing(answerer, "How much inflation did the Port Aldwick tram line see?")
    assert near["sample-port-aldwick-harbour-tram"] > 0.5
