"""Rough edges a Telegram user hits, through the fake Bot API: a user who blocked the bot, HTML Telegram refuses,
a broken feedback file, buttons nobody answered, invisible votes, "more sources" paging, and a burst of questions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from qabot.answer import Answerer, Tuning
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import Article
from qabot.render import telegram as th
from tests.fakes.telegram_api import BLOCKED, UNPARSABLE, FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import buttons, quotes_in, running_bot, visible

ANN = user(777, "Ann")
BOB = user(778, "Bob")
F35_QUESTION = "Why was Turkey removed from the F-35 programme?"
F35_ANSWER = "Washington removed Turkey from the F-35 programme in 2019"
COACH_QUESTION = "Who is the new head coach of Fenwater Rovers?"

SettingsFactory = Callable[..., Settings]


async def test_a_user_who_blocked_the_bot_costs_one_info_line_and_no_second_send(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qabot")
    fake.refuse_chat(ANN["id"], *BLOCKED)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        await fake.wait_for_call("sendMessage", ok=False)
        await bot.settle()

    assert [c.status for c in fake.calls_of("sendMessage")] == [403]  # no "Sorry, something went wrong" after it
    mine = [r for r in caplog.records if r.name == "qabot.bot.updates"]
    assert [(r.levelno, r.exc_info) for r in mine] == [(logging.INFO, None)]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"Chat {ANN['id']} (user {ANN['id']})" in mine[0].getMessage()
    assert "blocked" in mine[0].getMessage()


async def test_html_telegram_cannot_parse_is_sent_again_as_plain_text(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, caplog: pytest.LogCaptureFixture
) -> None:
    fake.refuse_chat(ANN["id"], *UNPARSABLE, html_only=True)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        plain = await fake.wait_for_call("sendMessage")
        await bot.settle()

    refused, sent = fake.calls_of("sendMessage")
    assert (refused.status, sent.status) == (400, 200)
    assert "parse_mode" not in sent.params
    assert visible(sent) == plain.params["text"]
    assert F35_ANSWER in visible(sent)
    assert "<" not in visible(sent)
    assert "Turkey hopes to rejoin the F-35 programme" in visible(sent)  # the source line is still there
    assert [b[:5] for b in buttons(sent)] == ["fb:+:", "fb:-:", "more:"]
    replying = ("qabot.bot.sending", "qabot.bot.updates")  # the fallback, and any failure it led to
    assert [r.levelno for r in caplog.records if r.name in replying] == [logging.WARNING]


async def test_every_button_press_is_answered_even_unknown_ones_and_refused_users(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    stranger_group = group_chat(-1009)
    async with running_bot(fake, bot_settings(allowed_users=[ANN["id"]]), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, "/help")
        help_message = (await fake.wait_for_call("sendMessage")).result
        for data in ("bogus:1", "fb:x:y", "more"):
            fake.press_button(help_message, ANN, data)
        elsewhere = fake.message(stranger_group, BOB, "an old message of the bot's")
        for _ in range(2):  # the second press of a refused user is answered too, not only the first
            fake.press_button(elsewhere, BOB, "fb:+:abcdefgh")
        await fake.wait_for_call("answerCallbackQuery", 5)
        await bot.settle()

    answered = sorted(c.params.get("text") for c in fake.calls_of("answerCallbackQuery", ok=True))
    assert answered == sorted([th.OLD_BUTTON] * 3 + [th.PRIVATE_BOT] * 2)  # updates are handled concurrently
    assert len(fake.sent()) == 1  # the refusals are notices to the presser, not messages in the group


async def test_a_deleted_or_broken_feedback_file_costs_the_buttons_never_the_answer(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, caplog: pytest.LogCaptureFixture
) -> None:
    settings = bot_settings()
    store = Path(settings.index_dir) / "feedback.sqlite"
    chat = private_chat(ANN)
    async with running_bot(fake, settings, answerer) as bot:
        fake.send_text(chat, ANN, F35_QUESTION)
        first = await fake.wait_for_call("sendMessage")
        await bot.settle()
        store.unlink()  # deleted while the bot runs: made again, buttons and all
        fake.send_text(chat, ANN, COACH_QUESTION)
        after_delete = await fake.wait_for_call("sendMessage", 2)
        await bot.settle()
        store.write_bytes(b"this is not a database " * 200)  # unusable while the bot runs
        for n, question in enumerate((F35_QUESTION, COACH_QUESTION), start=3):
            fake.send_text(chat, ANN, question)
            await fake.wait_for_call("sendMessage", n)
            await bot.settle()
        fake.press_button(first.result, ANN, buttons(first)[0])
        pressed = await fake.wait_for_call("answerCallbackQuery")
        await bot.settle()

    assert "Marta Lindqvist" in visible(after_delete)
    assert [b[:5] for b in buttons(after_delete)] == ["fb:+:", "fb:-:", "more:"]
    broken = fake.sent()[2:]
    assert F35_ANSWER in visible(broken[0])
    assert "Marta Lindqvist" in visible(broken[1])
    assert [buttons(c) for c in broken] == [[], []]
    assert th.SOMETHING_WRONG not in [visible(c) for c in fake.sent()]
    assert pressed.params["text"] == th.FEEDBACK_DOWN
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "feedback.sqlite is unusable" in warning.getMessage()
    assert warning.exc_info is None


def _labels(fake: FakeBotApi, message: dict) -> list[str]:
    """The button labels under a message as the chat shows them now."""
    markup = fake.messages[(message["chat"]["id"], message["message_id"])].get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_votes_show_on_the_buttons_and_a_changed_vote_moves_there(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1010)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(group, ANN, f"@QA_Test_Bot {F35_QUESTION}")
        answer = (await fake.wait_for_call("sendMessage")).result
        await bot.settle()
        seen = [_labels(fake, answer)]
        up, down, _more = (b["callback_data"] for b in answer["reply_markup"]["inline_keyboard"][0])
        for n, (who, data) in enumerate([(ANN, up), (BOB, up), (ANN, down), (ANN, down)], start=1):
            fake.press_button(answer, who, data)
            await fake.wait_for_call("answerCallbackQuery", n)
            await bot.settle()
            seen.append(_labels(fake, answer))

    assert seen == [
        ["👍", "👎", "More sources"],
        ["👍 1", "👎", "More sources"],
        ["👍 2", "👎", "More sources"],
        ["👍 1", "👎 1", "More sources"],  # Ann changed her mind
        ["👍 1", "👎 1", "More sources"],  # the same press again changes nothing
    ]
    notices = [c.params["text"] for c in fake.calls_of("answerCallbackQuery")]
    assert notices == [
        "Thanks! Your 👍 is counted.",
        "Thanks! Your 👍 is counted.",
        "Changed your vote to 👎.",
        "You already voted 👎.",
    ]
    assert len(fake.calls_of("editMessageReplyMarkup", ok=True)) == 3
    assert len(fake.sent()) == 1


def _report(id: str, title: str, text: str, source: str, published: str = "2025-04-07") -> Article:
    return Article(id, title, text, url=f"https://news.example/{id}", published=published, source=source)


# Two reports that give different figures (the answer quotes both), and other Marrow Valley stories for more sources.
FLOOD = [
    _report("d1", "Flooding in Marrow Valley", "At least 1,200 homes were flooded in Marrow Valley after the river "
            "burst its banks on Sunday, the regional council said.", "Valley Post"),
    _report("d2", "Marrow Valley floods", "Around 3,000 homes were flooded in Marrow Valley when the river burst its "
            "banks on Sunday, according to emergency services.", "National"),
    _report("s1", "Marrow Valley school reopens", "The Marrow Valley primary school reopened on Wednesday after "
            "repairs to its flooded roof.", "Valley Post", "2025-04-09"),
    _report("s2", "Marrow Valley bridge checked", "Engineers checked the old stone bridge in Marrow Valley for flood "
            "damage on Monday.", "Radio Marrow", "2025-04-08"),
    _report("s3", "Marrow Valley farmers count losses", "Farmers in Marrow Valley said the flood water ruined much "
            "of the spring planting.", "Farm Weekly", "2025-04-10"),
    _report("f1", "Library extends opening hours", "The city library will stay open until nine in the evening.",
            "Local", "2025-05-02"),
]  # fmt: skip


def _numbers(text: str) -> dict[str, int]:
    """Source title → the number its source line shows."""
    return {title: int(n) for n, title in re.findall(r"^\[(\d+)\] (.+?) · ", text, re.M)}


async def test_more_sources_page_in_place_never_repeat_a_quote_and_keep_their_numbers(
    fake: FakeBotApi, bot_settings: SettingsFactory, embedder: Embedder
) -> None:
    settings = bot_settings(max_articles=2)
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles(FLOOD)
    # A small budget: the rival figure is not chosen at first, so it is both quoted and among the further passages.
    answerer = Answerer.from_settings(settings, embedder=embedder, tuning=Tuning(char_budget=150))
    chat = private_chat(ANN)
    async with running_bot(fake, settings, answerer) as bot:
        fake.send_text(chat, ANN, "How many homes were flooded in Marrow Valley?")
        answer = await fake.wait_for_call("sendMessage")
        more = buttons(answer)[2]
        fake.press_button(answer.result, ANN, more)
        first = await fake.wait_for_call("sendMessage", 2)
        await bot.settle()
        pages = [visible(first)]
        for n, arrow in enumerate([-1, -1, 0], start=1):  # More ▶, More ▶ (or ◀ on the last page), ◀ Back
            message = fake.messages[(ANN["id"], first.result["message_id"])]
            data = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row][arrow]
            fake.press_button(message, ANN, data)
            pages.append(visible(await fake.wait_for_call("editMessageText", n)))
            await bot.settle()
        fake.press_button(answer.result, ANN, more)  # a stale "More sources" under the answer: no second message
        stale = await fake.wait_for_call("answerCallbackQuery", 5)
        await bot.settle()

    assert len(fake.sent()) == 2
    edits = fake.calls_of("editMessageText", ok=True)
    assert {c.params["message_id"] for c in edits} == {first.result["message_id"]}
    assert stale.params["text"] == th.SOURCES_BELOW
    assert _labels(fake, answer.result) == ["👍", "👎"]  # "More sources" moved into the message under the answer
    answered = {normalised for normalised in quotes_in(answer)}
    assert {"1,200" in q or "3,000" in q for q in answered} == {True}
    shown = _numbers(visible(answer))
    for page in pages:
        assert not any(q in page for q in answered)  # never a quote the answer already holds
        assert all(shown.get(title, number) == number for title, number in _numbers(page).items())
    numbers = {title: n for page in pages for title, n in _numbers(page).items()}
    assert sorted(numbers.values()) == list(range(len(shown) + 1, len(shown) + 1 + len(numbers)))  # 3, 4, 5 …
    assert len(set(pages)) == len({*pages[:2]}) >= 2  # paging back shows the same page again
    assert pages[0].startswith("More sources (1/")


async def test_a_burst_of_questions_is_answered_in_order_and_the_rest_counted_once_after(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1011)
    first_four = [F35_QUESTION, COACH_QUESTION, F35_QUESTION, COACH_QUESTION]
    expected = [F35_ANSWER, "Marta Lindqvist", F35_ANSWER, "Marta Lindqvist"]
    async with running_bot(fake, bot_settings(user_cooldown_seconds=0.05), answerer) as bot:
        questions = first_four + [f"{F35_QUESTION} ({n})" for n in range(16)]
        asked = [fake.send_text(group, ANN, f"@QA_Test_Bot {q}") for q in questions]
        await fake.wait_for_call("sendMessage", 5)
        await bot.settle()

    sent = fake.sent(group["id"])
    assert len(sent) == 5
    *answers, note = sent
    assert [c.params["reply_parameters"]["message_id"] for c in answers] == [m["message_id"] for m in asked[:4]]
    assert all(e in visible(c) for e, c in zip(expected, answers, strict=True))
    assert visible(note) == th.skipped_note(16)
    assert visible(note).startswith("I skipped 16 more questions")
    assert "reply_parameters" not in note.params
