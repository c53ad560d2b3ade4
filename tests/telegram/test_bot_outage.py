"""A flaky Bot API and a noisy failure: the bot keeps running, answers each question exactly once when the API is
back, and no log line ever shows the bot token or the webhook secret.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

import qabot.bot.sending
from qabot.config import Settings
from qabot.models import Answer, Article, IndexStats
from qabot.render import telegram as th
from tests.fakes.telegram_api import FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import running_bot, visible

F35_QUESTION = "Why was Turkey removed from the F-35 programme?"
F35_ANSWER = "Washington removed Turkey from the F-35 programme in 2019"
COACH_QUESTION = "Who is the new head coach of Fenwater Rovers?"
SettingsFactory = Callable[..., Settings]


def _quick_request() -> HTTPXRequest:
    """The bot's requests with a short read timeout, so a stalled API times out in half a second, not five."""
    return HTTPXRequest(connection_pool_size=64, read_timeout=0.5, httpx_kwargs={"trust_env": False})


async def test_the_fake_fails_the_way_a_broken_bot_api_does(fake: FakeBotApi) -> None:
    fake.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    fake.drop_next("sendMessage")
    fake.stall_next("sendMessage", 2.0)
    async with Bot(fake.token, base_url=fake.base_url, request=_quick_request()) as bot:
        for expected in (NetworkError, NetworkError, NetworkError, TimedOut):
            with pytest.raises(expected):
                await bot.send_message(7, "hi")
        assert (await bot.send_message(7, "back")).text == "back"

    assert [(c.status, c.error) for c in fake.calls_of("sendMessage")] == [
        (500, "Internal Server Error"),
        (500, "Internal Server Error"),
        (0, "connection dropped"),
        (504, "Gateway Timeout"),
        (200, None),
    ]
    assert [c.params["text"] for c in fake.sent()] == ["back"]  # failed calls were not carried out


@pytest.mark.slow
async def test_questions_sent_during_an_outage_are_each_answered_exactly_once_afterwards(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The production back-off (1 s, doubling) is for a real outage; the same retries, faster, keep this test short.
    monkeypatch.setattr(qabot.bot.sending, "NETWORK_BACKOFF", 0.05)
    people = [user(2000 + i, f"P{i}") for i in range(6)]
    # Polling fails in three ways (PTB's updater backs off 1 s, 1.5 s, then waits out the 429) ...
    fake.fail_next("getUpdates", 500, "Internal Server Error")
    fake.drop_next("getUpdates")
    fake.fail_next("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    # ... and so do the first sends of answers: errors, dropped connections, timeouts, flood control.
    fake.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    fake.drop_next("sendMessage", times=2)
    fake.stall_next("sendMessage", 1.5, times=2)
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    fake.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    group = group_chat(-1009, forum=True)  # in groups every answer replies to its question: count them per question
    async with running_bot(fake, bot_settings(), answerer, request=_quick_request()) as bot:
        asked = [
            fake.send_text(group, p, f"@{fake.username} {F35_QUESTION if i % 2 else COACH_QUESTION}", thread_id=i)
            for i, p in enumerate(people)
        ]
        await fake.wait_for_call("sendMessage", len(people))
        await bot.settle()
        late = fake.send_text(group, people[0], f"@{fake.username} {F35_QUESTION}", thread_id=9)  # still running
        await fake.wait_for_call("sendMessage", len(people) + 1)
        await bot.settle()

    failed_polls = [c for c in fake.calls_of("getUpdates") if c.error]
    failed_sends = [c for c in fake.calls_of("sendMessage") if c.error]
    assert len(failed_polls) == 3
    assert len(failed_sends) == 9  # every injected failure was met by a real send attempt
    replies = Counter(c.params["reply_parameters"]["message_id"] for c in fake.sent())
    assert replies == Counter({q["message_id"]: 1 for q in [*asked, late]})
    for call in fake.sent():
        assert call.params.get("message_thread_id") == next(
            q["message_thread_id"]
            for q in [*asked, late]
            if q["message_id"] == call.params["reply_parameters"]["message_id"]
        )
        assert visible(call) != th.SOMETHING_WRONG
        question = next(q for q in [*asked, late] if q["message_id"] == call.params["reply_parameters"]["message_id"])
        assert (F35_ANSWER if "Turkey" in question["text"] else "Marta Lindqvist") in visible(call)


@pytest.mark.slow
async def test_flood_control_that_outlasts_the_rate_limiter_is_still_waited_out(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    # AIORateLimiter retries a 429 three times, then gives up; the bot's own retry waits out a fourth.
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", times=4, retry_after=1)
    ann = user(777, "Ann")
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ann), ann, F35_QUESTION)
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()

    assert [c.status for c in fake.calls_of("sendMessage")] == [429, 429, 429, 429, 200]
    assert F35_ANSWER in visible(reply)
    assert len(fake.sent()) == 1


class _ExplodingAnswerer:
    """The real answerer, except that questions about volcanoes crash it with a path in the message."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def ask(self, question: str, **options: Any) -> Answer:
        if "volcano" in question:
            raise RuntimeError("index exploded at /srv/qabot/index/chunks.sqlite")
        return self.inner.ask(question, **options)  # type: ignore[attr-defined]

    def stats(self) -> IndexStats:
        return self.inner.stats()  # type: ignore[attr-defined]

    def recent(self, n: int = 10) -> list[Article]:
        return self.inner.recent(n)  # type: ignore[attr-defined]

    def reload(self) -> bool:
        return self.inner.reload()  # type: ignore[attr-defined]

    def warm_up(self) -> None:
        self.inner.warm_up()  # type: ignore[attr-defined]


@pytest.fixture
def all_logs() -> Iterator[io.StringIO]:
    """Every log record of every library at DEBUG, formatted with tracebacks, as an operator's log file would be.

    Installed before the bot is built, as ``qabot serve`` configures logging before it starts the bot.
    """
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    names = ("", "httpx", "httpcore", "telegram", "tornado", "qabot")
    saved = {name: logging.getLogger(name).level for name in names}
    root.addHandler(handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_no_log_line_shows_the_token_or_secret_and_users_see_no_exception_text(
    fake: FakeBotApi,
    bot_settings: SettingsFactory,
    answerer: object,
    all_logs: io.StringIO,
    unused_tcp_port: int,
    webhook: bool,
) -> None:
    secret = "hook-Secret_0123456789"
    settings = bot_settings(
        webhook_url=f"http://127.0.0.1:{unused_tcp_port}/telegram/hook",
        webhook_port=unused_tcp_port,
        webhook_secret=secret,
    )
    ann = user(777, "Ann")
    fake.fail_next("sendMessage", 500, "Internal Server Error")
    if not webhook:
        fake.fail_next("getUpdates", 500, "Internal Server Error")
    async with running_bot(fake, settings, _ExplodingAnswerer(answerer), webhook=webhook) as bot:
        for text in ("Why did the volcano erupt?", F35_QUESTION):
            if webhook:
                assert await fake.push_webhook({"message": fake.message(private_chat(ann), ann, text)}) == 200
            else:
                fake.send_text(private_chat(ann), ann, text)
            await fake.wait_for_call("sendMessage", len(fake.sent()) + 1)
        await bot.settle()

    logged = all_logs.getvalue()
    for leak in (fake.token, fake.token.split(":", 1)[1], secret):
        assert leak not in logged
    assert "[REDACTED]" in logged  # PTB and httpx did log the API URL (and the webhook secret): redacted
    assert "HTTP Request: POST" in logged  # httpx's own request lines were among them
    assert "RuntimeError: index exploded at /srv/qabot/index/chunks.sqlite" in logged  # the operator gets it all
    crash_reply, answer = fake.sent()
    assert visible(crash_reply) == th.SOMETHING_WRONG  # one neutral line: no exception type, text or path
    assert "exploded" not in crash_reply.params["text"]
    assert "RuntimeError" not in crash_reply.params["text"]
    assert F35_ANSWER in visible(answer)
    assert [c.status for c in fake.calls_of("sendMessage")] == [500, 200, 200]  # the neutral line was retried too
