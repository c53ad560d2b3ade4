"""Rough edges a Telegram user hits, through the fake Bot API: a user who blocked the bot, HTML Telegram refuses,
a broken feedback file, buttons nobody answered, invisible votes, "more sources" paging, and a burst of questions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from qabot.config import Settings
from tests.fakes.telegram_api import BLOCKED, FakeBotApi, private_chat, user
from tests.telegram.harness import running_bot

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
