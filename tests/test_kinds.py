"""What a question asks for (the kind of answer, the names asked about) and what the scorer does with it."""

from __future__ import annotations

import pytest

from qabot.answer import Answerer
from qabot.answer.kinds import (
    absent_names,
    answer_kind,
    names_capitalised_in,
    question_names,
    states_wh,
    wh_kind,
)
from qabot.models import Article


@pytest.mark.parametrize(
    ("question", "described"),
    [
        ("How much did the new tram line cost?", "a sum of money"),
        ("What price per share did the buyer offer?", "a sum of money per share"),
        ("What salary will the new chief executive earn?", "a sum of money"),
        ("What percentage of the vote did she win?", "a share"),
        ("How many workers did the plant lay off?", "a count of workers"),
        ("How many shares of Philip Morris did the fund buy?", "a count of shares"),
        ("How many workers at the plant were laid off?", "a count of workers"),
        ("How many years in prison did he get?", "a count of years"),
        ("How many people were hurt by the packs?", "a count"),  # "two customers" answers it
        ("How many of them were arrested?", "a count"),
        ("How many iPhone 16 units did Apple sell?", "a count"),  # "37 million iPhones" answers it
        ("How much will Tesla pay, as per the filing?", "a sum of money"),
        ("What share price did the IPO set?", None),  # a price, not a share: no "%" demanded
        ("By how much did the central bank cut its rate?", "a figure"),
        ("Why was Turkey removed from the F-35 program?", None),
        ("Who leads the company now?", None),
        ("How often will the trams run?", "a frequency"),
        ("How tall are the carved figures?", "a measure"),
        ("how old is the new mayor", "an age"),
        ("At what age did she retire?", "an age"),
        ("What was the company's revenue last year?", "a sum of money"),
        ("What revenue did the firm report?", "a sum of money"),
        ("What caused the sales decline?", None),  # "sales" qualifies the decline: a reason is asked
        ("What is the unemployment rate in the province?", "a share"),
        ("How big is the city's debt?", "a size"),
        ("How long is her contract?", "a length or duration"),
        ("What is the top speed of the new trains?", "a measure"),
        ("How fast will the economy grow this year?", "a rate"),
        ("How much did the line cost in Swiss francs?", "a sum of money"),
    ],
)
def test_question_wording_says_what_kind_of_answer_it_wants(question: str, described: str | None) -> None:
    kind = answer_kind(question)
    assert (kind.describe() if kind else None) == described


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("How much did the museum pay?", "It paid 5 Swiss francs a ticket."),
        ("How much does a ticket cost?", "Tickets cost 450 crowns."),
        ("How much is the fine?", "The fine is NOK 45."),
        ("What was the price?", "The price was AUD 300."),
        ("How much did the grant pay?", "The grant paid 3,000 zlotys."),
        ("How much did they earn?", "They earned 120,000 kronor."),
        ("How much does the bread cost?", "Bread now costs 27 lira."),
    ],
)
def test_money_in_many_currencies_is_a_sum_of_money(question: str, sentence: str) -> None:
    kind = answer_kind(question)
    assert kind is not None
    assert kind.found_in(sentence)
    assert not kind.found_in("About 300 people came, in 2019, to see 14 stops.")


@pytest.mark.parametrize(
    ("question", "label", "yes", "no"),
    [
        ("Why was the library delayed?", "reason", "It was held up by a shortage of steel.", "It opened on Monday."),
        ("When did the trams stop running?", "date", "Trams last ran in 1965.", "The trams were replaced by buses."),
        ("Who makes the F-35?", "person", "The jet is built by Lockheed Martin.", "the jet is expensive."),
        ("How long did construction take?", "duration", "Construction took three years.", "It was expensive."),
        ("What year did the festival start?", "year", "It was started in 1970 by local musicians.",
         "The festival opened on Saturday."),  # "what year" wants a year, not a weekday
        ("When in 2019 was the deal signed?", "date", "It was signed on 4 March.",
         "The deal was signed in 2019."),  # the question's own year answers nothing
        ("Who was the judge in the case?", "person", "Passing sentence, Judge Pieter Okafor said he was sorry.",
         "American officials said the case was weak."),  # a lone demonym names nobody
    ],
)
def test_wh_questions_and_the_sentences_that_answer_them(question: str, label: str, yes: str, no: str) -> None:
    assert wh_kind(question) == label
    words = {w.lower().strip("?") for w in question.split()}
    assert states_wh(label, yes, words)
    assert not states_wh(label, no, words)


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
        ("How many people died in the fire?", "Fifteen people died in the fire.", True),
        ("How many robotaxis will Tesla build?", "Tesla plans a robotaxi in 2025.", False),  # a year counts nothing
        ("How many robotaxis will Tesla build?", "A robotaxi fleet is what matters for the next 10 years.", False),
        ("How much did the price of eggs rise?", "Egg prices rose 8% in a year.", True),
        # What something paid is a sum; only a change can be answered by a share.
        ("How much did the festival pay its headline act?", "Roughly 40 per cent of buyers were local.", False),
        ("How much did the festival pay its headline act?", "The headline act was paid $90,000.", True),
        ("How much more will a season ticket cost?", "Season tickets will go up 5%.", True),
        ("What share of adults own a car?", "Two-thirds of adults own a car.", True),
        ("How old is the mayor?", "Okoro, 54, was elected in May.", True),
        ("How old is the mayor?", "The 61-year-old mayor said the line would open.", True),
        ("How old is the mayor?", "The mayor was elected in 2019 with 52% of the vote.", False),
        ("What was the firm's revenue last year?", "Revenue rose to 4.1 billion kronor.", True),
        ("What was the firm's revenue last year?", "The firm employs 3,000 people.", False),
        ("How big is the council's debt?", "The council owes €310 million.", True),
        ("How big is the council's debt?", "The council met on Tuesday.", False),
        ("How long is her contract?", "She signed a two-year contract.", True),
        ("How long is the new line?", "The line runs for 7.4 km.", True),
        ("How long is her contract?", "She signed a contract with the club.", False),
        ("How often are talks held?", "Talks are held each weekday.", True),
        ("How many times has it filed for bankruptcy?", "This marks the third time it has filed.", True),
        ("What is the unemployment rate?", "Unemployment stands at 6.1%.", True),
        ("What is the unemployment rate?", "Unemployment is rising in the north.", False),
    ],
)
def test_a_sentence_states_the_kind_of_answer_or_not(question: str, sentence: str, states: bool) -> None:
    kind = answer_kind(question)
    assert kind is not None
    assert kind.found_in(sentence) is states


def test_names_are_found_through_possessives_accents_dots_and_month_abbreviations() -> None:
    article = Article(
        id="a",
        title="Skelleftea plant",
        text="In Sept. the U.S. firm said Tyson Foods sales to American buyers rose, O’Brien told China's Wałęsa.",
        source="Reuters",
    )
    names = question_names(
        "What did Skellefteå's U.S. owners tell Tyson Foods' Americans in September, O'Brien told Chinese Walesa?"
    )
    assert names == [
        "Skellefteå's",
        "U.S.",
        "Tyson",
        "Foods'",
        "Americans",
        "September",
        "O'Brien",
        "Chinese",
        "Walesa",
    ]
    assert absent_names(names, [article]) == []
    assert absent_names(question_names("What did Reuters say?"), [article]) == []  # the outlet counts
    assert absent_names(question_names("What did Mexico's bank say in July?"), [article]) == ["Mexico's", "July"]


@pytest.mark.parametrize(
    ("question", "text", "absent"),
    [
        ("What did Oman say about the deal?", "A woman said the deal was done.", ["Oman"]),
        ("What did the US say?", "Business was slow.", ["US"]),
        ("When did the Israel-Hamas ceasefire begin?", "Israel said the talks would resume.", ["Israel-Hamas"]),
    ],
)
def test_a_name_inside_another_word_is_not_found(question: str, text: str, absent: list[str]) -> None:
    assert absent_names(question_names(question), [Article(id="a", title="", text=text)]) == absent


@pytest.mark.parametrize(
    "question", ["WHAT HAPPENED TO BOEING", "Why Is The Fed Raising Rates", "Thanks. Explain the fare rise?"]
)
def test_capitals_that_are_not_names_are_not_asked_about(question: str) -> None:
    assert question_names(question) == []


def test_answered_when_a_quoted_sentence_states_the_figure_asked_for(answerer: Answerer) -> None:
    answer = answerer.ask("How much did the Port Aldwick tram line cost?")
    assert not answer.abstained
    assert "412 million dollars" in " ".join(q.text for q in answer.quotes)


def test_a_lower_case_question_takes_its_names_from_how_the_articles_write_them() -> None:
    texts = ["Chief executive Dr. Nadia Farrow apologised on Monday. The old packs were recalled, Farrow said."]
    assert names_capitalised_in("how old is nadia farrow", texts) == ["Nadia", "Farrow"]
    # "old" and "packs" are ordinary words there; a sentence's first word says nothing.
    assert names_capitalised_in("how old are the packs", texts) == []
    assert names_capitalised_in("The packs were recalled", texts) == []  # capitals of its own: no guessing
