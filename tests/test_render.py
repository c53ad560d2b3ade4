"""One answer, two front-ends: the terminal and Telegram show the same grouping, source lines and decline sentence,
and nothing from an article's fields can steer either display."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from qabot.models import Answer, Quote
from qabot.render import telegram as th
from qabot.render.common import DECLINE_TEXT, plain_text
from qabot.render.text import render_terminal
from tests.fakes.telegram_api import check_html

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _quote(text: str, article_id: str = "a", **fields: object) -> Quote:
    url = f"https://news.example/{article_id}"
    base = Quote(
        text, article_id, f"Tram line {article_id.upper()} opens", url, "2025-03-27T10:00", "Example News", 0, 1, 0.8
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _source_lines(shown: str) -> list[str]:
    return [line.strip() for line in shown.splitlines() if re.match(r"\s*\[\d+\] ", line)]


def _telegram(answer: Answer) -> str:
    return "\n\n".join(check_html(m) for m in th.render_answer_html(answer))


def test_terminal_telegram_and_the_plain_text_share_one_source_line() -> None:
    quotes = (
        _quote("The tram opened on Monday."),
        _quote("Trams run every ten minutes."),
        _quote("The line cost 40 million crowns.", "b", source=None, also_reported_by=("Other Daily",)),
    )
    answer = Answer("When?", False, plain_text(quotes), quotes)
    expected = [
        "[1] Tram line A opens · Example News · 2025-03-27",
        "[2] Tram line B opens · news.example · 2025-03-27",
    ]
    assert _source_lines(render_terminal(answer, width=100)) == expected
    assert _source_lines(_telegram(answer)) == expected
    assert _source_lines(answer.answer) == expected
    for shown in (render_terminal(answer, width=100), _telegram(answer), answer.answer):
        assert shown.count("also reported by Other Daily") == 1


def test_an_article_quoted_again_keeps_its_number_everywhere() -> None:
    quotes = (_quote("First from A."), _quote("From B.", "b"), _quote("Again from A."))  # a timeline's order
    answer = Answer("When?", False, "", quotes)
    for shown in (render_terminal(answer, width=100), _telegram(answer), plain_text(quotes)):
        assert [line[:3] for line in _source_lines(shown)] == ["[1]", "[2]", "[1]"]
        assert shown.index("First from A.") < shown.index("From B.") < shown.index("Again from A.")


@pytest.mark.parametrize(
    "declined",
    [
        Answer("Who painted the Mona Lisa?", True, DECLINE_TEXT, (), declined_because="low confidence"),
        Answer("Warum?", True, "Ich verstehe nur Fragen auf Englisch.", (), declined_because="language:de"),
    ],
)
def test_both_front_ends_decline_in_the_same_words(declined: Answer) -> None:
    assert render_terminal(declined) == _telegram(declined) == declined.answer


@pytest.mark.parametrize("evil", [f"{BIDI}", "\x1b]0;owned\x07\x1b[2J", "\x1b]52;c;cm0gLXJmIH4=\x07"])
def test_no_field_can_steer_either_display(evil: str) -> None:
    quote = _quote(
        f"The tram{evil} runs every ten minutes.",
        title=f"Harbour{evil} tram",
        source=f"Ex{evil}ample",
        url=f"https://news.example/{evil}a",
        also_reported_by=(f"Other{evil} Daily",),
    )
    answer = Answer("How often?", False, "", (quote,), note=f"Sources{evil} differ.")
    html = "\n".join(th.render_answer_html(answer))
    for shown in (render_terminal(answer), html, check_html(html)):
        assert "Harbour tram" in shown
        assert "Sources differ." in shown
        assert not re.search(f"[{BIDI}\x00-\x08\x0b-\x1f\x7f-\x9f]", shown), repr(shown)
    for shown in (render_terminal(answer), check_html(html)):  # (the link's fragment may percent-encode anything)
        assert "owned" not in shown
        assert "52;c;" not in shown
