"""The bot's state behind one contract: the local files (the default) and Redis (``QABOT_STATE_URL``) alike.

Each contract test runs on both backends; the Redis ones start a real ``redis-server`` on a loopback port. What
only Redis promises (two replicas see one state) is tested at the end, and end to end in test_bot_replicas.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from qabot.answer.followup import Context
from qabot.bot.feedback import Forgotten, Tally
from qabot.bot.state import StateStore, StateUnavailable
from qabot.bot.state.backends import open_state
from qabot.bot.state.claims import UpdateClaims
from qabot.config import Settings
from qabot.errors import ConfigError
from qabot.models import Answer, Quote
from qabot.redact import Redactor
from tests.telegram.redis_server import redis_server

SettingsFactory = Callable[..., Settings]
DAY = 86400.0
TOKEN = "123456:TEST-state-token"
QUOTE = Quote("Turkey was removed.", "a1", "F-35", "https://news.example/f35", "2024-05-01", "News", 0, 19, 0.9)
MORE = Quote("The jets were built in Texas.", "a2", "Jets", None, None, None, 5, 34, 0.5, ("Other News",))
OpenState = Callable[..., StateStore]


@pytest.fixture(params=["sqlite", "redis"])
async def open_states(
    request: pytest.FixtureRequest, make_settings: SettingsFactory, tmp_path: Path
) -> AsyncIterator[OpenState]:
    """``open_states(**settings)``: a state of the backend under test; every one opened shares that backend."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    opened: list[StateStore] = []

    def make(clock: Callable[[], float] = time.time, **overrides: object) -> StateStore:
        settings = make_settings(state_url=url, telegram_token=TOKEN, index_dir=tmp_path / "bot", **overrides)
        opened.append(open_state(settings, clock=clock))
        return opened[-1]

    yield make
    for state in opened:
        await state.close()


def _context(at: float, question: str = "why was Turkey removed?") -> Context:
    return Context(question, ("a1",), ("Turkey",), ("removed",), at)


async def test_an_update_is_taken_once_held_while_its_lease_runs_and_done_for_good(open_states: OpenState) -> None:
    state = open_states()
    assert await state.take_update(7, "a", 30) == "mine"
    assert await state.take_update(7, "b", 30) == "held"  # a retry while the first replica works on it
    await state.finish_update(7)
    assert await state.take_update(7, "b", 30) == "done"
    assert await state.take_update(8, "a", 0.05) == "mine"
    assert await state.take_update(9, "a", 0.05) == "mine"
    await state.renew_updates([9], "a", 30)
    await asyncio.sleep(0.3)
    assert await state.take_update(8, "b", 30) == "mine"  # its holder died: the lease lapsed, so it is answered
    assert await state.take_update(9, "b", 30) == "held"  # renewed: its holder is alive


async def test_context_is_kept_until_its_ttl_cleared_by_new_and_forgotten_with_its_chat(
    open_states: OpenState,
) -> None:
    state = open_states()
    now = time.time()
    await state.keep_context(["chat:5", "message:5:90"], 5, _context(now), now=now, ttl_minutes=30)
    assert await state.context("chat:5", now=now + 60, ttl_minutes=30) == _context(now)
    assert await state.context("chat:5", now=now + 31 * 60, ttl_minutes=30) is None  # past its TTL
    assert await state.context("chat:6", now=now, ttl_minutes=30) is None
    await state.clear_context("chat:5")
    assert await state.context("chat:5", now=now, ttl_minutes=30) is None
    assert (await state.forget_user(5)).contexts == 1  # the other key of chat 5
    assert await state.context("message:5:90", now=now, ttl_minutes=30) is None


async def test_answers_votes_and_more_sources(open_states: OpenState) -> None:
    state = open_states()
    answer = Answer("why was Turkey removed?", False, "text", (QUOTE,), more=(MORE,))
    answer_id = await state.record_answer(answer, -100, 7)
    stored = await state.answer(answer_id)
    assert stored is not None
    assert (stored.chat_id, stored.question, stored.abstained) == (-100, answer.question, False)
    assert (stored.quotes, stored.more, stored.more_shown) == ((QUOTE,), (MORE,), 0)
    assert await state.vote(answer_id, 7, 1) == Tally(True, 0, up=1, down=0)
    assert await state.vote(answer_id, 8, 1) == Tally(True, 0, up=2, down=0)
    assert await state.vote(answer_id, 7, -1) == Tally(True, 1, up=1, down=1)  # the later press replaces it
    assert await state.vote("nosuchid", 7, 1) == Tally(known=False)
    assert [await state.open_more(answer_id) for _ in range(2)] == [True, False]  # opened once
    assert await state.open_more("nosuchid") is None
    assert (await state.answer(answer_id)).more_shown == 1  # type: ignore[union-attr]
    assert await state.answer("nosuchid") is None


async def test_the_cooldown_the_group_budget_and_warning_once(open_states: OpenState) -> None:
    state = open_states(user_cooldown_seconds=30, group_budget_per_minute=2)
    now = time.time()
    assert await state.admit(1, 1, group=False, now=now) is None
    assert await state.admit(1, 1, group=False, now=now + 1) == "user"
    assert 28 < await state.cooldown_left(1, now=now + 1) <= 30
    assert await state.cooldown_left(2, now=now) == 0
    assert await state.admit(2, -5, group=True, now=now) is None
    assert await state.admit(3, -5, group=True, now=now) is None
    assert await state.admit(4, -5, group=True, now=now) == "group"
    assert await state.admit(4, -6, group=True, now=now) is None  # another group has its own budget
    assert [await state.warn_once("chat:-5", now=now, period=60) for _ in range(2)] == [True, False]


async def test_forget_deletes_one_persons_questions_and_votes_and_stats_count_the_rest(
    open_states: OpenState,
) -> None:
    state = open_states()
    mine = await state.record_answer(Answer("my question", False, "text", (QUOTE,)), 5, 5)
    theirs = await state.record_answer(Answer("their question", True, "", ()), -100, 6)
    await state.vote(mine, 6, 1)  # someone's vote on my question goes with it
    await state.vote(theirs, 5, -1)  # my vote on theirs goes too
    await state.vote(theirs, 6, 1)
    seen = await state.activity(0)
    assert (seen.questions, seen.declined, seen.up, seen.down, seen.people) == (2, 1, 2, 1, 2)

    assert await state.forget_user(5) == Forgotten(questions=1, votes=1, contexts=0)

    assert await state.answer(mine) is None
    assert await state.vote(theirs, 6, 1) == Tally(True, 1, up=1, down=0)
    seen = await state.activity(0)
    assert (seen.questions, seen.declined, seen.up, seen.down, seen.people) == (1, 1, 1, 0, 1)
    assert await state.forget_user(5) == Forgotten(0, 0, 0)


async def test_answers_past_the_retention_are_pruned(open_states: OpenState) -> None:
    now = time.time()
    old = open_states(clock=lambda: now - 31 * DAY, retention_days=30)
    gone = await old.record_answer(Answer("old question", False, "text", (QUOTE,)), 5, 5)
    state = open_states(retention_days=30)
    assert await state.answer(gone) is not None  # 31 days old, not yet pruned
    assert await state.prune(now=now, context_ttl_minutes=30) == (1, 0)
    assert await state.answer(gone) is None
    kept = await state.record_answer(Answer("new question", False, "text", (QUOTE,)), 5, 5)
    assert await state.prune(now=now, context_ttl_minutes=30) == (0, 0)
    assert await state.answer(kept) is not None


# ---------------------------------------------------------------- what only Redis promises: one state for many


async def test_two_redis_states_are_one_limits_leases_and_answers_shared(
    redis_url: str, make_settings: SettingsFactory
) -> None:
    settings = make_settings(state_url=redis_url, telegram_token=TOKEN, user_cooldown_seconds=30)
    a, b = open_state(settings), open_state(settings)
    try:
        now = time.time()
        assert await a.admit(1, 1, group=False, now=now) is None
        assert await b.admit(1, 1, group=False, now=now) == "user"  # the cooldown started on A holds on B
        assert await a.take_update(70, "replica-a", 30) == "mine"
        assert await b.take_update(70, "replica-b", 30) == "held"
        answer_id = await a.record_answer(Answer("q", False, "text", (QUOTE,), more=(MORE,)), 5, 5)
        assert await b.open_more(answer_id) is True
        assert await a.open_more(answer_id) is False
        other_bot = open_state(make_settings(state_url=redis_url, telegram_token="999:OTHER-bot-token"))
        assert await other_bot.take_update(70, "replica-c", 30) == "mine"  # keys are the bot's own
        await other_bot.close()
    finally:
        await a.close()
        await b.close()


async def test_a_retry_waits_for_the_holder_and_is_dropped_once_it_is_done(
    redis_url: str, make_settings: SettingsFactory
) -> None:
    settings = make_settings(state_url=redis_url, telegram_token=TOKEN)
    a, b = open_state(settings), open_state(settings)
    first, retry = UpdateClaims(a, poll=0.01), UpdateClaims(b, poll=0.01)
    try:
        assert await first.take(71)
        waiting = asyncio.ensure_future(retry.take(71))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # held under a live lease: the retry waits, neither answers nor drops it yet
        await first.finish(71)
        assert await waiting is False
    finally:
        await a.close()
        await b.close()


async def test_redis_down_is_state_unavailable_and_the_password_never_shows(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    with redis_server(tmp_path / "redis", password="s3cret-redis-pw") as url:
        settings = make_settings(state_url=url, telegram_token=TOKEN)
        state = open_state(settings)
        await state.ping()
        await state.close()
    state = open_state(settings)  # the server is gone
    with pytest.raises(StateUnavailable) as err:
        await state.ping()
    await state.close()
    assert "s3cret-redis-pw" not in str(err.value) + state.where
    assert state.where.startswith("redis://:***@127.0.0.1:")
    assert (
        Redactor.from_settings(settings)(f"connecting to {url}")
        == f"connecting to {url.replace('s3cret-redis-pw', '[REDACTED]')}"
    )


def test_a_state_url_that_is_not_redis_is_one_clear_error(make_settings: SettingsFactory) -> None:
    with pytest.raises(ConfigError, match=r"QABOT_STATE_URL=postgres://u:\*\*\*@db/x is not a redis:// URL"):
        open_state(make_settings(state_url="postgres://u:pw@db/x"))
