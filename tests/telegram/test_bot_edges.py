"""Rough edges a Telegram user hits, through the fake Bot API: a user who blocked the bot, HTML Telegram refuses,
a broken feedback file, buttons nobody answered, invisible votes, "more sources" paging, and a burst of questions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from qabot.config import Settings
from tests.fakes.telegram_api import BLOCKED, UNPARSABLE, FakeBotApi, private_chat, user
from tests.telegram.harness import buttons, running_bot, visible

ANN = user(777, "Ann")
F35_QUESTION = "Why was Turkey removed from the F-35 programme?"
F35_ANSWER = "Washington removed Turkey from the F-35 programme in 2019"

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
    mine = [r for r in caplog.records if r.name == "qabot.bot.app"]
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
    assert [r.levelno for r in caplog.records if r.name == "qabot.bot.app"] == [logging.WARNING]
