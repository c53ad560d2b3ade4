"""Is it a question? Read from the wording, so the bot stays quiet on "thanks!" and answers "when was that"."""

from __future__ import annotations

import pytest

from qabot.answer.chitchat import is_courtesy, is_question

NOT_QUESTIONS = [
    "thanks!",
    "Thanks",
    "thank you so much",
    "👍",
    "🙏🙏",
    "ok",
    "OK 👌",
    "okay, got it",
    "lol",
    "haha nice",
    "great",
    "great, thanks!",
    "cool, that was helpful",
    "thanks, that explains it",
    "thanks for the help",
    "good bot",
    "wow",
    "yes",
    "no",
    "...",
    "",
]
QUESTIONS = [
    "when was that",
    "who built it",
    "why was he arrested",
    "and when did that happen",
    "so why",
    "is it still closed",
    "did they win",
    "tell me more about the tram",
    "explain the F-35 decision",
    "thanks! and what about Greece",
    "ok, how much did it cost",
    "great, who paid for it",
    "Turkey F-35",
    "tram line opening date",
    "?!",
    "any news on the strike",
    "warum wurde die Türkei ausgeschlossen",
]


@pytest.mark.parametrize("text", NOT_QUESTIONS)
def test_courtesy_and_reactions_are_not_questions(text: str) -> None:
    assert not is_question(text)


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions_are_recognised_by_their_wording(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(("text", "courtesy"), [("thanks!", True), ("ok 👍", True), ("👍", False), ("  ", False)])
def test_courtesy_needs_words_so_blanks_and_emoji_keep_the_ask_in_words_nudge(text: str, courtesy: bool) -> None:
    assert is_courtesy(text) is courtesy
