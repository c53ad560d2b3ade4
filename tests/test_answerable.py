"""Declining what the quotes cannot answer: the kind of answer asked for, and the names asked about."""

from __future__ import annotations

import pytest

from qabot.answer import Answerer
from qabot.answerable import absent_names, answer_kind, question_names
from qabot.models import Article


@pytest.mark.parametrize(
    ("question", "described"),
    [
        ("How much did the new tram line cost?", "a sum of money"),
        ("What price per share did the buyer offer?", "a sum of money per share"),
        ("What salary will the new chief executive earn?", "a sum of money"),
        ("What percentage of the vote did she win?", "a share"),
        ("How many workers did the plant lay off?", "a count of workers"),
        ("How many iPhone 16 units did Apple sell?", "a count of units"),
        ("How many shares of Philip Morris did the fund buy?", "a count of shares"),
        ("How many people were hurt by the packs?", "a count"),  # "two customers" answers it
        ("By how much did the central bank cut its rate?", "a figure"),
        ("Why was Turkey removed from the F-35 program?", None),
        ("Who leads the company now?", None),
    ],
)
def test_question_wording_says_what_kind_of_answer_it_wants(question: str, described: str | None) -> None:
    kind = answer_kind(question)
    assert (kind.describe() if kind else None) == described


@pytest.mark.parametrize(
    ("question", "sentence", "states"),
    [
        ("How much did the line cost?", "The line cost 412 million dollars.", True),
        ("How much did the line cost?", "The line cost €3.5bn in the end.", True),
        ("How much did the line cost?", "The line opened in 2025 after three years of work.", False),
        ("What price per share did they offer?", "They offered $54 a share in cash.", True),
        ("What price per share did they offer?", "The deal is worth $8 billion.", False),
        ("What share of the vote did she win?", "She won 42.3% of first-preference votes.", True),
        ("What share of the vote did she win?", "She was one of 38 candidates.", False),
        ("How many workers did the plant lay off?", "The plant laid off 1,600 workers.", True),
        ("How many workers did the plant lay off?", "The plant will cut costs by 20% this year.", False),
        ("How many people were hurt by the packs?", "Two customers suffered minor burns.", True),
    ],
)
def test_a_sentence_states_the_kind_of_answer_or_not(question: str, sentence: str, states: bool) -> None:
    kind = answer_kind(question)
    assert kind is not None
    assert kind.found_in(sentence) is states


def test_names_are_found_through_possessives_accents_dots_and_month_abbreviations() -> None:
    article = Article(
        id="a", title="Skelleftea plant", text="In Sept. the U.S. firm said Tyson Foods sales to American buyers rose.", url=None
    )
    names = question_names("What did Skellefteå's U.S. owners tell Tyson Foods' Americans in September?")
    assert absent_names(names, [article]) == []
    assert absent_names(question_names("What did Mexico's bank say in July?"), [article]) == ["Mexico's", "July"]


def test_answered_when_a_quoted_sentence_states_the_figure_asked_for(answerer: Answerer) -> None:
    answer = answerer.ask("How much did the Port Aldwick tram line cost?")
    assert not answer.abstained
    assert "412 million dollars" in " ".join(q.text for q in answer.quotes)


@pytest.mark.parametrize(
    "question",
    [
        # The right story, but no sentence counts drivers or names a salary: quoting the story would mislead.
        "How many drivers does Aldwick Metro Trams employ on the Harbour Line?",
        "What salary does Brindlewick pay its chief executive Nadia Farrow?",
        # Erdogan is in the samples, but not in the tram article the question is otherwise about.
        "What did Erdogan say about the Port Aldwick tram line?",
    ],
)
def test_near_miss_on_a_known_story_is_declined(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question)
    assert answer.abstained, [q.text for q in answer.quotes]
    assert answer.quotes == ()
