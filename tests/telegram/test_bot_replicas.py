"""Two ``qabot serve --webhook`` replicas behind one bot, sharing a real Redis (``QABOT_STATE_URL``) and the index.

Each replica has its own data folder, so nothing is shared by accident but Redis and the index. Telegram's retry
of a webhook call may reach the other replica: each update is answered once, none lost, none doubled; the
conversation, "More sources", the group's budget and ``/forget`` work whichever replica an update reaches. Redis
is Debian's ``redis-server`` on a loopback port (skipped, saying why, where it cannot run).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qabot.bot.app import CONCURRENT_UPDATES
from qabot.bot.state.backends import open_state
from qabot.config import Settings
from qabot.render import telegram as th
from qabot.render.common import DECLINE_TEXT, NO_TOPIC_TEXT
from tests.fakes.telegram_api import Call, FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import Harness, buttons, quotes_in, running_bot, visible
from tests.telegram.redis_server import redis_server

F35_QUESTION = "Why was Turkey removed from the F-35 programme?"
F35_ANSWER = "Washington removed Turkey from the F-35 programme in 2019"
FOLLOW_UP = "when did that happen?"
SECRET = "replica-Secret_1"
ANN, BOB, CY, DI = user(777, "Ann"), user(778, "Bob"), user(779, "Cy"), user(780, "Di")
SettingsFactory = Callable[..., Settings]
_update_ids = itertools.count(50_000)  # the test's own ids: a retry carries the id of the first try


class OneAtATime:
    """The session's Answerer for two bots in one process. Replicas are processes, each with its own model; here
    they share one, whose tokenizer is not thread-safe, so their answer threads take turns."""

    def __init__(self, answerer: Any) -> None:
        self._answerer = answerer
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._answerer, name)

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return locked


@dataclass
class Replica:
    """One running replica and the URL its webhook listens on."""

    bot: Harness
    url: str

    async def post(self, update: dict) -> None:
        """Telegram calls this replica's webhook with ``update``."""
        assert await self.bot.fake.push_webhook(update, url=self.url) == 200


@contextlib.asynccontextmanager
async def replicas(
    fake: FakeBotApi, settings_for: Callable[[str, int], Settings], answerer: Any, ports: Callable[[], int]
) -> AsyncIterator[tuple[Replica, Replica]]:
    """Replicas A and B in webhook mode, each from ``settings_for(name, port)``."""
    shared = OneAtATime(answerer)
    async with contextlib.AsyncExitStack() as stack:
        started = []
        for name in "ab":
            settings = settings_for(name, ports())
            bot = await stack.enter_async_context(running_bot(fake, settings, shared, webhook=True))
            started.append(Replica(bot, settings.webhook_url))
        yield started[0], started[1]


@pytest.fixture
def two(
    fake: FakeBotApi,
    bot_settings: SettingsFactory,
    answerer: Any,
    redis_url: str,
    tmp_path: Path,
    unused_tcp_port_factory: Callable[[], int],
) -> Callable[..., contextlib.AbstractAsyncContextManager[tuple[Replica, Replica]]]:
    """``async with two(**settings) as (a, b)``: two replicas sharing a fresh Redis."""

    def start(**overrides: object) -> contextlib.AbstractAsyncContextManager[tuple[Replica, Replica]]:
        def settings_for(name: str, port: int) -> Settings:
            return bot_settings(
                index_dir=tmp_path / f"replica-{name}",
                state_url=redis_url,
                webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
                webhook_port=port,
                webhook_secret=SECRET,
                **overrides,
            )

        return replicas(fake, settings_for, answerer, unused_tcp_port_factory)

    return start


def _message(fake: FakeBotApi, chat: dict, who: dict, text: str, **kwargs: Any) -> dict:
    return {"update_id": next(_update_ids), "message": fake.message(chat, who, text, **kwargs)}


def _press(fake: FakeBotApi, message: dict, who: dict, data: str) -> dict:
    return {"update_id": next(_update_ids), **fake.press_button_update(message, who, data)}


async def _settle(*bots: Replica) -> None:
    """Every update posted so far fully handled on both (twice: a retry on one may wait for the other)."""
    for _ in range(2):
        for replica in bots:
            await replica.bot.settle()


async def _ask(on: Replica, other: Replica, chat: dict, who: dict, text: str, **kwargs: Any) -> Call:
    """``text`` answered by ``on``: its reply, once both replicas are idle."""
    before = len(on.bot.fake.sent())
    await on.post(_message(on.bot.fake, chat, who, text, **kwargs))
    reply = await on.bot.fake.wait_for_call("sendMessage", before + 1)
    await _settle(on, other)
    return reply


async def test_a_retry_that_reaches_the_other_replica_is_not_answered_again(fake: FakeBotApi, two: Any) -> None:
    update = _message(fake, private_chat(ANN), ANN, F35_QUESTION)
    async with two() as (a, b):
        await asyncio.gather(a.post(update), b.post(update))  # the first try timed out at Telegram: it tries again
        await fake.wait_for_call("sendMessage")
        await _settle(a, b)
        await b.post(update)  # and once more, long after the answer
        await _settle(a, b)

    [answer] = fake.sent(ANN["id"])
    assert F35_ANSWER in visible(answer)


async def test_a_burst_over_both_replicas_is_answered_once_each_none_lost_none_doubled(
    fake: FakeBotApi, two: Any
) -> None:
    people = [user(900 + n, f"Reader {n}") for n in range(8)]
    updates = [_message(fake, private_chat(p), p, "/help" if n % 2 else F35_QUESTION) for n, p in enumerate(people)]
    async with two() as (a, b):
        posts = [(a, b)[n % 2].post(u) for n, u in enumerate(updates)]  # the load balancer spreads them
        posts += [(b, a)[n % 2].post(u) for n, u in enumerate(updates) if n % 3 == 0]  # some retried on the other
        await asyncio.gather(*posts)
        await fake.wait_for_call("sendMessage", len(people))
        await _settle(a, b)

    for n, person in enumerate(people):
        [reply] = fake.sent(person["id"])
        assert ("How to ask" if n % 2 else F35_ANSWER) in visible(reply)


async def test_a_follow_up_on_the_other_replica_continues_the_conversation(fake: FakeBotApi, two: Any) -> None:
    chat = private_chat(ANN)
    async with two() as (a, b):
        await _ask(a, b, chat, ANN, F35_QUESTION)
        follow_up = await _ask(b, a, chat, ANN, FOLLOW_UP)

    assert visible(follow_up) != DECLINE_TEXT
    assert any("2019" in q and "removed" in q for q in quotes_in(follow_up))


async def test_more_sources_of_an_answer_one_replica_sent_open_on_the_other(fake: FakeBotApi, two: Any) -> None:
    chat = private_chat(ANN)
    async with two() as (a, b):
        answer = await _ask(a, b, chat, ANN, F35_QUESTION)
        more = next(data for data in buttons(answer) if data.startswith("more:"))
        await b.post(_press(fake, answer.result, ANN, more))
        page = await fake.wait_for_call("sendMessage", 2)
        await a.post(_press(fake, answer.result, ANN, more))  # a stale press on the first replica
        stale = await fake.wait_for_call("answerCallbackQuery", 2)
        await _settle(a, b)

    assert visible(page).startswith(th.MORE_SOURCES)
    assert page.params["reply_parameters"]["message_id"] == answer.result["message_id"]
    assert stale.params["text"] == th.SOURCES_BELOW  # already opened, by the other replica
    assert len(fake.sent()) == 2


async def test_a_groups_budget_used_up_on_one_replica_holds_on_the_other(fake: FakeBotApi, two: Any) -> None:
    group = group_chat(-1077)
    async with two(group_budget_per_minute=2) as (a, b):
        for on, person in zip((a, b, a, b), (ANN, BOB, CY, DI), strict=True):
            await on.post(_message(fake, group, person, f"@QA_Test_Bot {F35_QUESTION}"))
            await _settle(a, b)

    in_group = [visible(c) for c in fake.sent(group["id"])]
    # Ann (on A) and Bob (on B) use up the budget; Cy (on A) hears why; Di (on B) is not told again.
    assert len(in_group) == 3
    assert F35_ANSWER in in_group[0]
    assert F35_ANSWER in in_group[1]
    assert "asking faster than I may answer" in in_group[2]


async def test_forget_on_one_replica_deletes_what_both_kept(fake: FakeBotApi, two: Any) -> None:
    chat = private_chat(ANN)
    async with two() as (a, b):
        answer = await _ask(a, b, chat, ANN, F35_QUESTION)
        vote = next(data for data in buttons(answer) if data.startswith("fb:+:"))
        await b.post(_press(fake, answer.result, ANN, vote))
        await fake.wait_for_call("answerCallbackQuery")
        await _settle(a, b)
        forgot = await _ask(b, a, chat, ANN, "/forget")
        follow_up = await _ask(a, b, chat, ANN, FOLLOW_UP)
        await a.post(_press(fake, answer.result, ANN, vote))
        pressed = await fake.wait_for_call("answerCallbackQuery", 2)
        await _settle(a, b)

    assert visible(forgot) == "Deleted what I kept of yours: 1 question, 1 vote and our conversation."
    assert visible(follow_up) == NO_TOPIC_TEXT  # no context left: asked as a new question, which names nothing
    assert pressed.params["text"] == "That answer is too old to rate."  # the answer is gone on A too


async def test_a_replica_that_took_an_update_and_died_costs_a_delay_not_the_answer(
    fake: FakeBotApi, two: Any, bot_settings: SettingsFactory, redis_url: str
) -> None:
    update = _message(fake, private_chat(ANN), ANN, F35_QUESTION)
    async with two() as (a, b):
        dead = open_state(bot_settings(state_url=redis_url))  # the replica that took it, then crashed
        assert await dead.take_update(update["update_id"], "crashed-replica", lease=0.5) == "mine"
        await dead.close()
        await b.post(update)  # Telegram's retry: it waits out the dead replica's lease, then answers
        await fake.wait_for_call("sendMessage")
        await _settle(a, b)

    [answer] = fake.sent(ANN["id"])
    assert F35_ANSWER in visible(answer)


async def test_redis_going_down_costs_the_buttons_not_the_answers(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    chat = private_chat(ANN)
    with contextlib.ExitStack() as redis:
        url = redis.enter_context(redis_server(tmp_path / "redis"))
        async with running_bot(fake, bot_settings(state_url=url), answerer) as bot:
            fake.send_text(chat, ANN, F35_QUESTION)
            before = await fake.wait_for_call("sendMessage")
            await bot.settle()
            redis.close()  # Redis stops while the bot runs
            fake.send_text(chat, ANN, F35_QUESTION)
            after = await fake.wait_for_call("sendMessage", 2)
            await bot.settle()

    assert [b[:5] for b in buttons(before)] == ["fb:+:", "fb:-:", "more:"]
    assert F35_ANSWER in visible(after)
    assert buttons(after) == []  # they would lead nowhere
    assert th.SOMETHING_WRONG not in [visible(c) for c in fake.sent()]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(w.startswith(f"Feedback store {url} is unusable") for w in warnings), warnings
    assert any("updates are handled without the retry check" in w for w in warnings), warnings


async def test_a_senders_burst_spread_over_both_replicas_is_answered_in_turn_none_refused(
    fake: FakeBotApi, two: Any
) -> None:
    chat = private_chat(ANN)
    burst = [_message(fake, chat, ANN, F35_QUESTION), _message(fake, chat, ANN, "When was Turkey removed?")]
    async with two(user_cooldown_seconds=1) as (a, b):
        await asyncio.gather(a.post(burst[0]), b.post(burst[1]))  # one sender, the load balancer splits the burst
        await fake.wait_for_call("sendMessage", 2)
        await _settle(a, b)

    replies = [visible(c) for c in fake.sent(ANN["id"])]
    # One process answers a burst in turn, each after the cooldown; two replicas sharing the cooldown must as well.
    assert not [r for r in replies if r.startswith("Slow down")], replies
    assert len(replies) == 2


class HeldAnswers:
    """The session's Answerer whose answers wait until the test lets them go (``release``)."""

    def __init__(self, answerer: Any) -> None:
        self._answerer = answerer
        self.asking = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._answerer, name)
        if name != "ask":
            return method

        def ask(*args: Any, **kwargs: Any) -> Any:
            self.asking.set()
            self.release.wait(60)
            return method(*args, **kwargs)

        return ask


async def test_retries_of_an_update_this_replica_is_answering_hold_none_of_its_update_slots(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: Any, unused_tcp_port: int
) -> None:
    # Telegram retries a webhook call whose 200 came late; behind a sticky load balancer, or with one process, the
    # retries reach the replica that is still answering the first try. Dropping them must not wait for that answer.
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram/hook"
    settings = bot_settings(webhook_url=url, webhook_port=unused_tcp_port, webhook_secret=SECRET)  # one process
    held = HeldAnswers(answerer)
    question = _message(fake, private_chat(ANN), ANN, F35_QUESTION)
    async with running_bot(fake, settings, held, webhook=True) as bot:
        replica = Replica(bot, settings.webhook_url)
        await replica.post(question)
        await asyncio.to_thread(held.asking.wait, 30)  # its answer is being computed
        for _ in range(CONCURRENT_UPDATES):
            await replica.post(question)
        await replica.post(_message(fake, private_chat(BOB), BOB, "/help"))
        try:
            help_reply = await fake.wait_for_call("sendMessage", within=10)  # while the answer is still held
        finally:
            held.release.set()
        await fake.wait_for_call("sendMessage", 2)
        await bot.settle()

    assert "How to ask" in visible(help_reply)
    [answer] = fake.sent(ANN["id"])
    assert F35_ANSWER in visible(answer)
