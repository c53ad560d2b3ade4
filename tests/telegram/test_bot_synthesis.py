"""The LLM summary in the bot: the real Application against the fake Bot API, the real Answerer over the samples,
and a fake OpenAI-compatible server on 127.0.0.1 (tests/fakes/llm_server.py) for the user's LLM.

The bot sends the answer once, summary and all, within QABOT_LLM_TIMEOUT_SECONDS (docs/deploy.md says why it does
not send the quotes first and edit the summary in); the quotes are the same with or without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.render.common import DECLINE_TEXT, SUMMARY_LABEL
from tests.fakes.llm_server import FakeLlm, Scripted, faithful, with_changed_figure
from tests.fakes.telegram_api import FakeBotApi, private_chat, user
from tests.telegram.harness import buttons, quotes_in, running_bot, visible

F35_QUESTION = "Why was Turkey removed from the F-35 programme?"
COACH_QUESTION = "Who is the new head coach of Fenwater Rovers?"
API_KEY = "sk-bot-test-0123456789abcdef"
ANN = user(777, "Ann")
BOB = user(778, "Bob")

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    with FakeLlm() as server:
        yield server


def _answerer(sample_index: Path, embedder: Embedder, settings: Settings) -> Answerer:
    """The real answerer over the samples, with the synthesizer the bot's settings describe."""
    llm_settings = {k: v for k, v in settings.model_dump().items() if k.startswith("llm_")}
    return Answerer.from_settings(
        Settings(_env_file=None, index_dir=sample_index, **llm_settings),  # type: ignore[arg-type]
        embedder=embedder,
    )


async def test_the_summary_comes_above_the_same_quotes_in_one_message(
    fake: FakeBotApi, bot_settings: SettingsFactory, sample_index: Path, embedder: Embedder, llm: FakeLlm
) -> None:
    settings = bot_settings(llm_url=llm.url)
    llm.script(Scripted(faithful), Scripted(with_changed_figure))
    async with running_bot(fake, settings, _answerer(sample_index, embedder, settings)) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        with_summary = await fake.wait_for_call("sendMessage", chat_id=ANN["id"])
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        dropped = await fake.wait_for_call("sendMessage", 2, chat_id=ANN["id"])
        await bot.settle()

    summary = faithful([llm.requests[0].quotes[0]])
    text = visible(with_summary)
    stale = "These articles are from 27 March 2025 or earlier; newer news may exist."
    assert text.startswith(f"{stale}\n\n{SUMMARY_LABEL}\n{summary}\n\n")
    assert f"<i>{SUMMARY_LABEL}</i>" in with_summary.params["text"]
    assert quotes_in(with_summary) == quotes_in(dropped)  # the quotes don't change with the summary
    assert SUMMARY_LABEL not in visible(dropped)  # the changed figure was caught: no summary at all
    assert [b[:5] for b in buttons(with_summary)] == ["fb:+:", "fb:-:", "more:"]
    assert len(fake.sent()) == 2


async def test_a_slow_llm_delays_the_answer_by_the_timeout_at_most_and_never_other_chats(
    fake: FakeBotApi,
    bot_settings: SettingsFactory,
    sample_index: Path,
    embedder: Embedder,
    llm: FakeLlm,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = bot_settings(llm_url=llm.url, llm_timeout_seconds=1.5)
    llm.route("Fenwater", Scripted(faithful, delay=20.0))  # Ann's question hangs; Bob's is answered at once
    caplog.set_level(logging.WARNING, logger="qabot")
    async with running_bot(fake, settings, _answerer(sample_index, embedder, settings)) as bot:
        started = time.monotonic()
        fake.send_text(private_chat(ANN), ANN, COACH_QUESTION)
        await fake.wait_for_call("sendChatAction", chat_id=ANN["id"])
        fake.send_text(private_chat(BOB), BOB, F35_QUESTION)
        bobs = await fake.wait_for_call("sendMessage", chat_id=BOB["id"])
        anns = await fake.wait_for_call("sendMessage", chat_id=ANN["id"])
        waited = time.monotonic() - started
        await bot.settle()

    assert SUMMARY_LABEL in visible(bobs)  # Bob's summary came while Ann's LLM call hung
    assert SUMMARY_LABEL not in visible(anns)
    assert quotes_in(anns)
    assert quotes_in(bobs)
    assert fake.sent().index(bobs) < fake.sent().index(anns)
    assert waited < 1.5 + 0.5 + 5  # the timeout and its grace, plus answering two questions on a small machine
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("LLM summary skipped")]
    assert len(skipped) == 1
    assert "1.5 s" in skipped[0]


async def test_a_declined_question_and_the_bot_setting_off_never_reach_the_llm(
    fake: FakeBotApi, bot_settings: SettingsFactory, sample_index: Path, embedder: Embedder, llm: FakeLlm
) -> None:
    on = bot_settings(llm_url=llm.url)
    async with running_bot(fake, on, _answerer(sample_index, embedder, on)) as bot:
        fake.send_text(private_chat(ANN), ANN, "What is the capital of Peru?")
        declined = await fake.wait_for_call("sendMessage", chat_id=ANN["id"])
        await bot.settle()
    assert visible(declined) == DECLINE_TEXT
    assert llm.requests == []

    off = bot_settings(llm_url=llm.url, bot_synthesis=False)
    async with running_bot(fake, off, _answerer(sample_index, embedder, off)) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        plain = await fake.wait_for_call("sendMessage", 2, chat_id=ANN["id"])
        await bot.settle()
    assert SUMMARY_LABEL not in visible(plain)
    assert quotes_in(plain)
    assert llm.requests == []


async def test_a_failing_llm_gives_the_plain_answer(
    fake: FakeBotApi,
    bot_settings: SettingsFactory,
    sample_index: Path,
    embedder: Embedder,
    llm: FakeLlm,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = bot_settings(llm_url=llm.url, llm_api_key=API_KEY)
    caplog.set_level(logging.DEBUG)
    llm.script(Scripted(status=500), Scripted(body=b"not json"), Scripted(""), Scripted("NOT ANSWERED"))
    async with running_bot(fake, settings, _answerer(sample_index, embedder, settings)) as bot:
        for n in range(1, 5):
            fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
            await fake.wait_for_call("sendMessage", n, chat_id=ANN["id"])
        await bot.settle()

    replies = fake.sent(ANN["id"])
    assert len(replies) == 4
    assert all(SUMMARY_LABEL not in visible(r) for r in replies)
    assert all(quotes_in(r) == quotes_in(replies[0]) and quotes_in(r) for r in replies)
    assert len(llm.requests) == 4
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in llm.requests)
    # Registered with the bot's log filter, like the token: an error text that quotes it is masked.
    logging.getLogger("qabot.synthesis").warning("the LLM server refused key %s", API_KEY)
    assert "the LLM server refused key [REDACTED]" in caplog.text
    assert API_KEY not in caplog.text
