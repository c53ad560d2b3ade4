"""Follow-up questions (issue #14): the pure reader and rewrite, the context's life, and Answerer.ask with context."""

from __future__ import annotations

import json

import pytest

from qabot.answer import Answerer
from qabot.answer.decline import NO_TOPIC
from qabot.answer.followup import Context, names_no_topic, next_context, read_followup, vocabulary
from qabot.config import Settings
from qabot.models import Answer, ContextUse, Quote
from qabot.render.common import NO_TOPIC_TEXT

VELL = "what was the hottest temperature recorded in Vellmoor?"
VELL_TEXT = (
    "The weather station at Dunmere recorded 41.3 °C on Thursday afternoon. That beat the previous valley record "
    "of 40.1 °C, set in August 2019. Households in the Vellmoor Valley will be banned from using hosepipes."
)
CTX = Context(
    VELL, ("sample-vellmoor-heatwave-water",), ("Vellmoor", "Dunmere"), ("hottest", "temperature", "recorded"), 100.0
)
VOCAB = vocabulary([VELL_TEXT])


@pytest.mark.parametrize(
    ("question", "followup", "reason"),
    [
        ("and when did that happen?", True, "anaphora"),
        ("why was he arrested?", True, "anaphora"),  # one word the story lacks is still a follow-up with a pronoun
        ("what was the previous record?", True, "same topic"),
        ("what about Greece?", True, "ellipsis"),
        ("how much did the tram cost?", False, "new topic"),
        ("how many stops are there on the tram line?", False, "new topic"),  # a pronoun-like word, a new topic
        ("why was Turkey removed from the F-35 program?", False, "new name"),
        ("what did Dunmere record?", True, "same topic"),  # a name the story has is no new name
        ("what was the valley record in 2019?", True, "same topic"),  # a year the story states
        ("what was the valley record in 1976?", False, "new topic"),  # a year it never mentions points elsewhere
    ],
)
def test_reader_tells_follow_ups_from_standalone_questions(question: str, followup: bool, reason: str) -> None:
    read = read_followup(question, CTX, VOCAB)
    assert (read.followup, read.reason) == (followup, reason)
    if not followup:
        assert read.query == question
        assert read.prefer == ()


@pytest.mark.parametrize(
    ("question", "names_nothing"),
    [
        ("when did that happen?", True),
        ("How much was it?", True),
        ("who said that?", True),
        ("What happened?", True),
        ("why?", True),
        ("why was Turkey removed from the F-35 program?", False),
        ("when did the tram open?", False),  # a topic word
        ("how much did it cost Aldwick?", False),  # a name
        ("what happened in 2019?", False),  # a number narrows it
    ],
)
def test_a_question_of_pronouns_and_generic_words_names_nothing(question: str, names_nothing: bool) -> None:
    assert names_no_topic(question) is names_nothing


def test_rewrite_puts_the_question_first_then_the_carried_words() -> None:
    read = read_followup("and when did that happen?", CTX, VOCAB)
    assert read.query == "and when did that happen? Vellmoor Dunmere hottest temperature recorded"
    assert read.prefer == CTX.articles
    # Words the question already has are not carried twice.
    assert read_followup("when was the Vellmoor record set?", CTX, VOCAB).query.count("Vellmoor") == 1


def test_ellipsis_swaps_the_names_and_keeps_the_topic() -> None:
    read = read_followup("what about Greece?", CTX, VOCAB)
    assert read.query == "what about Greece? hottest temperature recorded"
    assert read.prefer == (), "a new name is usually another story: the whole index is asked"


def test_no_context_is_standalone() -> None:
    assert read_followup("and when did that happen?", None).followup is False


def test_context_expires_and_round_trips_through_json() -> None:
    assert not CTX.expired(100.0 + 30 * 60, 30)
    assert CTX.expired(100.0 + 30 * 60 + 1, 30)
    assert CTX.expired(100.0, 0), "0 minutes turns follow-ups off"
    assert Context.from_dict(json.loads(json.dumps(CTX.to_dict()))) == CTX


def _answer(question: str, text: str, aid: str, used: ContextUse | None = None, abstained: bool = False) -> Answer:
    quote = Quote(text, aid, "t", None, None, None, 0, len(text), 0.9)
    return Answer(question, abstained, text, () if abstained else (quote,), context=used)


def test_next_context_chains_follow_ups_and_restarts_on_a_new_story() -> None:
    first = next_context(None, _answer(VELL, VELL_TEXT, "v"), now=1.0)
    assert first is not None
    assert first.articles == ("v",)
    assert first.names[:2] == ("Vellmoor", "Dunmere")
    assert first.turns == 1
    assert "Thursday" not in first.names
    assert "C" not in first.names
    used = ContextUse(True, "q", "anaphora", ("v",))
    second = next_context(first, _answer("and when did that happen?", VELL_TEXT, "v", used), now=2.0)
    assert second is not None
    assert second.turns == 2
    assert second.question == VELL
    assert second.at == 2.0
    declined = next_context(second, _answer("what about Mars?", "", "v", abstained=True), now=3.0)
    assert declined == second, "a declined turn leaves the conversation where it was"
    fresh = next_context(second, _answer("how much did the tram cost?", "The line cost 412 million.", "t"), now=4.0)
    assert fresh is not None
    assert fresh.turns == 1
    assert fresh.articles == ("t",)


# ---------------------------------------------------------------------------- with the real model and samples
def _context_after(answerer: Answerer, question: str, now: float = 1000.0) -> Context:
    context = next_context(None, answerer.ask(question, synthesis=False), now=now)
    assert context is not None
    return context


def test_follow_up_is_answered_about_the_previous_story(answerer: Answerer) -> None:
    alone = answerer.ask("and when did that happen?", synthesis=False)  # the reported bug, asked alone
    assert alone.abstained
    # Not a guess at some sentence, and not "the articles don't answer": it asks which story is meant.
    assert (alone.declined_because, alone.answer) == (NO_TOPIC, NO_TOPIC_TEXT)
    assert alone.to_json()["declined_because"] == "no topic"
    context = _context_after(answerer, VELL)
    answer = answerer.ask("and when did that happen?", context=context, now=1060.0, synthesis=False)
    assert not answer.abstained
    first = answer.quotes[0]
    assert first.article_id == "sample-vellmoor-heatwave-water"
    assert "41.3 °C on Thursday afternoon" in first.text
    article = answerer.store.articles([first.article_id])[first.article_id]
    assert article.text[first.start : first.end] == first.text, "quotes stay verbatim"
    assert answer.context is not None
    assert answer.context.followup
    assert "Vellmoor" in answer.context.query
    assert "Vellmoor" not in answer.answer.split("”")[0][:40]
    data = answer.to_json()["context"]
    assert data["followup"] is True
    assert data["articles"] == ["sample-vellmoor-heatwave-water"]


def test_a_new_name_ignores_the_context(answerer: Answerer) -> None:
    question = "why was Turkey removed from the F-35 program?"
    fresh = answerer.ask(question, synthesis=False)
    answer = answerer.ask(question, context=_context_after(answerer, VELL), now=1060.0, synthesis=False)
    assert answer.context is not None
    assert not answer.context.followup
    assert answer.context.reason == "new name"
    assert answer.quotes == fresh.quotes
    assert answer.answer == fresh.answer


def test_an_expired_context_is_ignored(answerer: Answerer) -> None:
    context = _context_after(answerer, VELL)
    late = answerer.ask("and when did that happen?", context=context, now=1000.0 + 31 * 60, synthesis=False)
    assert late.abstained
    assert late.declined_because == NO_TOPIC
    assert late.context is not None
    assert late.context.reason == "expired"
    short = Answerer(
        Settings(_env_file=None, index_dir=answerer.settings.index_dir, context_ttl_minutes=0),
        answerer.embedder,
        answerer.store,
    )
    off = short.ask("and when did that happen?", context=context, now=1001.0, synthesis=False)
    assert off.abstained, "QABOT_CONTEXT_TTL_MINUTES=0 turns follow-ups off"
