"""The translation table: every text in every language, each translation filling what English fills, with its
markup and commands intact, and the look-up's fallbacks."""

from __future__ import annotations

import re

import pytest

from qabot.render import telegram as th
from qabot.render import translations as tr
from qabot.render.common import NO_MORE
from tests.fakes.telegram_api import check_html

_TAG = re.compile(r"</?[a-z][a-z0-9-]*(?: [^>]*)?>")
_COMMAND = re.compile(r"(?<![\w@])/[a-z]+\b")
# Sent where Telegram takes plain text: command descriptions and what a button press answers.
_PLAIN = [key for key in tr.TEXTS if key.startswith(("cmd_", "vote_"))] + [
    "no_more", "private_bot", "something_wrong", "too_old_to_rate", "feedback_down", "old_button", "sources_below",
]  # fmt: skip


def _forms(key: str, lang: str) -> list[str]:
    return tr.TEXTS[key][lang].split(tr.PLURAL_SEP)


@pytest.mark.parametrize("key", sorted(tr.TEXTS))
def test_every_text_has_every_language_with_englishs_placeholders_tags_and_commands(key: str) -> None:
    entry = tr.TEXTS[key]
    assert set(entry) == {tr.DEFAULT, *tr.LANGUAGES}
    english = entry[tr.DEFAULT]
    for lang in tr.LANGUAGES:
        translated = entry[lang]
        assert translated.strip(), lang
        assert tr.placeholders(translated) == tr.placeholders(english), lang
        assert _TAG.findall(translated) == _TAG.findall(english), lang
        assert sorted(_COMMAND.findall(translated)) == sorted(_COMMAND.findall(english)), lang
        filled = translated.format(**dict.fromkeys(tr.placeholders(translated), "x"))
        check_html(filled)  # what the Bot API would parse: balanced tags, escaped "<" and "&"


@pytest.mark.parametrize("key", _PLAIN)
def test_texts_sent_as_plain_text_have_no_markup(key: str) -> None:
    for lang, value in tr.TEXTS[key].items():
        assert not re.search(r"[<>&]", value), lang
        assert len(value) <= 256  # a command description's limit, and a callback answer's tidy length


def test_a_counted_phrase_takes_each_languages_plural() -> None:
    assert [tr.plural("articles", None, n) for n in (0, 1, 2)] == ["0 articles", "1 article", "2 articles"]
    assert [tr.plural("articles", "fr", n) for n in (0, 1, 2)] == ["0 article", "1 article", "2 articles"]
    russian = [tr.plural("articles", "ru", n) for n in (1, 3, 5, 11, 12, 21, 22, 111, 1004)]
    assert russian == [
        "1 статья", "3 статьи", "5 статей", "11 статей", "12 статей", "21 статья", "22 статьи", "111 статей",
        "1004 статьи",
    ]  # fmt: skip
    for lang in (tr.DEFAULT, *tr.LANGUAGES):
        assert len(_forms("articles", lang)) == (3 if lang == "ru" else 2)


@pytest.mark.parametrize(
    ("code", "lang"),
    [("de", "de"), ("de-AT", "de"), ("es-MX", "es"), ("ES_mx", "es"), ("pt-br", "en"), ("ja", "en"), ("", "en"),
     (None, "en"), ("en-GB", "en"), ("tr", "tr"), ("ru-RU", "ru"), ("fr-CA", "fr")],
)  # fmt: skip
def test_a_language_code_reads_as_its_language_else_english(code: str | None, lang: str) -> None:
    assert tr.language(code) == lang
    assert tr.text("not_text", code) == tr.TEXTS["not_text"][lang]


def test_english_is_the_default_everywhere_a_text_was_english() -> None:
    assert th.NOT_A_QUESTION == tr.text("not_a_question") == "Glad to help — ask me anything about the articles."
    assert tr.text("no_more", "ja") == NO_MORE
    assert tr.text("slow_down", None, wait="5") == "Slow down a little, please: one question every 5 seconds."
    assert th.unknown_command_html("x<y>") == "Unknown command /x&lt;y&gt;; /help lists the commands."
    assert th.unknown_command_html("x<y>", "de") == "Unbekannter Befehl /x&lt;y&gt;; /help zeigt alle Befehle."
