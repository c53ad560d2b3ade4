"""The Answerer over the bundled samples: verbatim quotes with sources, declines, and the JSON contract."""

from __future__ import annotations

import json

import pytest

from qabot.answer import Answerer
from qabot.errors import BadQuestion
from qabot.models import Answer

F35 = "why was Turkey removed from the F-35 program?"

# The JSON contract of `qabot ask --json` (README, "The JSON answer"); other tools read these names.
ANSWER_KEYS = {
    "id", "question", "abstained", "answer", "note", "mode", "confidence", "declined_because", "quotes", "synthesis",
    "timings_ms", "context",
}  # fmt: skip
QUOTE_KEYS = {
    "text", "article_id", "title", "url", "published", "source", "start", "end", "score", "link", "also_reported_by",
}  # fmt: skip


def assert_verbatim(answerer: Answerer, answer: Answer) -> None:
    """Every quote (and every 'more' passage) is exactly the slice of its article that it claims to be."""
    quotes = [*answer.quotes, *answer.more]
    articles = answerer.store.articles(q.article_id for q in quotes)
    for q in quotes:
        article = articles[q.article_id]
        assert q.text == article.text[q.start : q.end]
        assert q.text.strip(), "an empty quote answers nothing"


def test_f35_question_quotes_the_f35_article_about_the_s400(answerer: Answerer) -> None:
    answer = answerer.ask(F35)
    assert not answer.abstained
    first = answer.quotes[0]
    assert first.article_id == "sample-turkey-f35"
    assert "S-400" in first.text
    assert first.text in answer.answer  # the plain-text answer shows the quote itself
    assert_verbatim(answerer, answer)


def test_quotes_carry_their_sources(answerer: Answerer) -> None:
    answer = answerer.ask(F35)
    articles = answerer.store.articles(q.article_id for q in answer.quotes)
    for q in answer.quotes:
        article = articles[q.article_id]
        assert (q.title, q.url, q.published, q.source) == (
            article.title,
            article.url,
            article.published,
            article.source,
        )
        assert q.title
        assert q.url
        assert q.published
        assert q.source
    assert "Turkey hopes to rejoin the F-35 programme" in answer.answer  # the title is named in the text too


def test_the_plain_text_names_each_source_as_the_terminal_and_telegram_do(answerer: Answerer) -> None:
    from qabot.render import telegram as th
    from qabot.render.text import render_terminal
    from tests.fakes.telegram_api import check_html

    answer = answerer.ask(F35)
    q = answer.quotes[0]
    line = f"[1] {q.title} · {q.source} · {(q.published or '')[:10]}"
    assert line in answer.answer.splitlines()
    assert q.url in answer.answer.splitlines()  # the link on its own line, after the source
    assert line in " ".join(render_terminal(answer).split())  # the terminal may wrap it between its parts
    assert line in check_html(th.render_answer_html(answer)[0]).splitlines()


def test_a_decline_says_the_one_decline_sentence(answerer: Answerer) -> None:
    from qabot.render.common import DECLINE_TEXT

    answer = answerer.ask("Who painted the Mona Lisa?")
    assert answer.abstained
    assert answer.answer == DECLINE_TEXT == "The articles don't answer this question."


@pytest.mark.parametrize(
    ("question", "article_id", "needle"),
    [
        ("Why was Turkey kicked out of the F-35 programme?", "sample-turkey-f35", "S-400"),
        ("Why did the US expel Turkey from the F-35 project?", "sample-turkey-f35", "S-400"),
        (
            "How often do trams run in the evening in Port Aldwick?",
            "sample-port-aldwick-harbour-tram",
            "every 10 minutes in the evening",
        ),
    ],
)
def test_question_in_other_words_is_still_answered(
    answerer: Answerer, question: str, article_id: str, needle: str
) -> None:
    """People ask in their own words: a common word the articles never use ("kicked", "project", "often")."""
    answer = answerer.ask(question)
    assert not answer.abstained
    assert answer.quotes[0].article_id == article_id
    assert any(needle in q.text for q in answer.quotes)  # the passage that answers it is quoted


@pytest.mark.parametrize(
    "question",
    ["Who painted the Mona Lisa?", "When did the Berlin Wall fall?", "What is the boiling point of ethanol?"],
)
def test_question_no_sample_answers_is_declined(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question)
    assert answer.abstained
    assert answer.quotes == ()
    assert answer.answer  # says so in words rather than staying silent


def test_same_question_twice_gives_the_same_quotes(answerer: Answerer) -> None:
    first = answerer.ask("What did Trump say to Erdogan on the call?")
    second = answerer.ask("What did Trump say to Erdogan on the call?")
    assert first.quotes == second.quotes
    assert first.more == second.more
    assert first.answer == second.answer


def test_question_id_is_carried_into_the_answer(answerer: Answerer) -> None:
    assert answerer.ask(F35, id="q-17").id == "q-17"
    assert answerer.ask(F35).id is None


@pytest.mark.parametrize("question", ["", "   \n\t ", "🙂🙂🎉", "???", "\x00\x07"])
def test_question_without_words_is_refused(answerer: Answerer, question: str) -> None:
    with pytest.raises(BadQuestion) as err:
        answerer.ask(question)
    assert "\n" not in str(err.value)
    assert str(err.value)


def test_very_long_question_still_gets_an_answer(answerer: Answerer) -> None:
    question = (F35 + " ") * (10_000 // (len(F35) + 1) + 1)
    assert len(question) >= 10_000
    answer = answerer.ask(question[:10_000])
    assert not answer.abstained
    assert answer.quotes[0].article_id == "sample-turkey-f35"
    assert_verbatim(answerer, answer)


def test_more_passages_are_verbatim_and_not_repeats(answerer: Answerer) -> None:
    answer = answerer.ask(F35)
    assert answer.more, "the samples hold more than one passage about Turkey"
    assert_verbatim(answerer, answer)
    shown = {(q.article_id, q.start, q.end) for q in answer.quotes}
    assert not shown & {(q.article_id, q.start, q.end) for q in answer.more}


def test_to_json_has_exactly_the_documented_keys(answerer: Answerer) -> None:
    answer = answerer.ask(F35, id="x1")
    data = json.loads(json.dumps(answer.to_json()))  # and it is plain JSON
    assert set(data) == ANSWER_KEYS
    assert data["id"] == "x1"
    assert data["question"] == F35
    assert data["abstained"] is False
    assert data["quotes"], "an answered question has quotes"
    for q in data["quotes"]:
        assert set(q) == QUOTE_KEYS
        assert isinstance(q["start"], int)
        assert isinstance(q["end"], int)
        assert isinstance(q["score"], float)
    assert data["quotes"][0]["text"] == answer.quotes[0].text
    assert data["synthesis"] is None  # no LLM set
    assert {"retrieve", "total"} <= set(data["timings_ms"])
    assert all(isinstance(v, float) and v >= 0 for v in data["timings_ms"].values())


def test_declined_answer_json_has_no_quotes(answerer: Answerer) -> None:
    data = answerer.ask("Who painted the Mona Lisa?").to_json()
    assert data["abstained"] is True
    assert data["quotes"] == []
    assert set(data) == ANSWER_KEYS
