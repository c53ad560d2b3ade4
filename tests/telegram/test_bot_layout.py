"""The answer as a Telegram user reads it, end to end through the fake Bot API with the real answerer over the
samples: the best quote in full and the others collapsed, and the staleness caveat in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qabot.config import Settings
from tests.fakes.telegram_api import FakeBotApi, private_chat, user
from tests.telegram.harness import running_bot, visible

ANN = user(777, "Ann")
TRAM_QUESTION = "How much did the Harbour Line cost?"
F35_QUESTION = "Why was Turkey removed from the F-35 programme?"

SettingsFactory = Callable[..., Settings]


async def test_the_first_quote_shows_in_full_and_later_ones_are_collapsed(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, TRAM_QUESTION)
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()

    tags = re.findall(r"<blockquote[^>]*>", reply.params["text"])
    assert len(tags) >= 2
    assert tags[0] == "<blockquote>"
    assert set(tags[1:]) == {"<blockquote expandable>"}
    assert "The line cost 412 million dollars" in reply.params["text"].split("<blockquote expandable>")[0]


async def test_an_old_answer_says_in_words_how_recent_its_articles_are(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()

    first_line = visible(reply).split("\n", 1)[0]
    assert first_line == "These articles are from 27 March 2025 or earlier; newer news may exist."
    assert "<i>These articles are from 27 March 2025" in reply.params["text"]
    assert "As of" not in visible(reply)
