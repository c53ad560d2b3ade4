"""Privacy in Telegram, end to end through the fake Bot API with the real answerer over the samples.

/privacy says what is kept and for how long; rows past QABOT_RETENTION_DAYS are deleted at start, on the next write
and hourly; /forget deletes one person's records and nobody else's; /stats shows admins the questions, declines
and votes of the last days and everybody else only what the index holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from qabot.answer.followup import Context
from qabot.bot import conversations, feedback
from qabot.bot.conversations import Conversations, ConversationStore
from qabot.bot.feedback import FeedbackStore
from qabot.bot.privacy import Privacy
from qabot.bot.state.local import LocalState
from qabot.config import Settings
from qabot.models import Answer, IndexStats
from tests.fakes.telegram_api import Call, FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import Harness, buttons, running_bot, visible

F35_QUESTION = "Why was Turkey removed from the F-35 programme?"
TRAM_QUESTION = "How much did the Harbour Line cost?"
ANN = user(777, "Ann")
BOB = user(778, "Bob")
ADMIN = user(42, "Ada")
DAY = 86400.0
T0 = 1_767_225_600.0  # 2026-01-01

SettingsFactory = Callable[..., Settings]


class Clock:
    """A clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _say(bot: Harness, chat: dict, who: dict, text: str, **kwargs: object) -> Call:
    """Send ``text``, wait for the bot's next message and until the update is handled."""
    before = len(bot.fake.sent())
    bot.fake.send_text(chat, who, text, **kwargs)
    reply = await bot.fake.wait_for_call("sendMessage", before + 1)
    await bot.settle()
    return reply


async def _vote(bot: Harness, answer: Call, who: dict, sign: str) -> None:
    before = len(bot.fake.calls_of("answerCallbackQuery"))
    vote = next(b for b in buttons(answer) if b.startswith(f"fb:{sign}:"))
    bot.fake.press_button(answer.result, who, vote)
    await bot.fake.wait_for_call("answerCallbackQuery", before + 1)
    await bot.settle()


def _rows(index_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(index_dir / feedback.FILENAME) as conn:
        return conn.execute(sql).fetchall()


def _context_chats(index_dir: Path) -> list[int]:
    with sqlite3.connect(index_dir / conversations.FILENAME) as conn:
        return sorted(chat for (chat,) in conn.execute("SELECT chat_id FROM contexts"))


def _seed(index_dir: Path, at: float, question: str, user_id: int) -> None:
    """One answer with a vote and one private-chat context, all stored at ``at`` (as an earlier run left them)."""
    store = FeedbackStore(index_dir / feedback.FILENAME, clock=lambda: at)
    answer_id = store.record_answer(Answer(question, False, "text", ()), chat_id=user_id, user_id=user_id)
    store.record_vote(answer_id, user_id, 1)
    context = Context(question, ("a",), ("Turkey",), ("removed",), at)
    ConversationStore(index_dir / conversations.FILENAME).put(
        [f"chat:{user_id}"], user_id, context, now=at, ttl_minutes=10**9
    )


async def test_privacy_says_what_is_kept_for_how_long_and_how_to_delete_it(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(retention_days=14), answerer) as bot:
        reply = await _say(bot, private_chat(ANN), ANN, "/privacy")

    text = visible(reply)
    assert "deleted after 14 days" in text
    for kept in ("question", "user id", "chat's id", "👍/👎", "follow-ups"):
        assert kept in text
    assert "/forget deletes your questions, your votes" in text
    menu = {c["command"] for c in fake.calls_of("setMyCommands")[0].params["commands"]}
    assert "privacy" in menu


async def test_rows_older_than_the_retention_are_deleted_when_the_bot_starts(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    # Follow-ups kept for 100 days: the 30-day retention still bounds the stored context.
    settings = bot_settings(retention_days=30, context_ttl_minutes=100 * 24 * 60)
    _seed(settings.index_dir, T0 - 31 * DAY, "old question", ANN["id"])
    _seed(settings.index_dir, T0 - 29 * DAY, "recent question", BOB["id"])

    async with running_bot(fake, settings, answerer, clock=Clock()) as bot:
        await bot.settle()  # nothing sent: pruning happened before the first update

    assert _rows(settings.index_dir, "SELECT question FROM answers") == [("recent question",)]
    assert _rows(settings.index_dir, "SELECT user_id FROM votes") == [(BOB["id"],)]
    assert _context_chats(settings.index_dir) == [BOB["id"]]


async def test_rows_that_pass_the_retention_while_running_go_on_the_next_answer(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    settings = bot_settings(retention_days=30)
    _seed(settings.index_dir, T0 - 29 * DAY, "old question", BOB["id"])
    clock = Clock()
    async with running_bot(fake, settings, answerer, clock=clock) as bot:
        assert _rows(settings.index_dir, "SELECT question FROM answers") == [("old question",)]
        clock.now += 2 * DAY  # the seeded answer is 31 days old now
        await _say(bot, private_chat(ANN), ANN, F35_QUESTION)

    assert _rows(settings.index_dir, "SELECT question, user_id FROM answers") == [(F35_QUESTION, ANN["id"])]
    assert _rows(settings.index_dir, "SELECT * FROM votes") == []


async def test_an_idle_bot_prunes_hourly(tmp_path: Path, make_settings: SettingsFactory) -> None:
    settings = make_settings(index_dir=tmp_path / "bot", retention_days=30)
    _seed(settings.index_dir, T0 - 29 * DAY, "old question", ANN["id"])
    clock = Clock()

    async def no_index() -> IndexStats:
        raise AssertionError("not asked")

    store = FeedbackStore.from_settings(settings, clock=clock)
    state = LocalState.from_settings(settings, clock=clock)
    privacy = Privacy(settings, state, Conversations(settings, state, clock=clock), index_stats=no_index, clock=clock)
    await privacy.start(every=0.01)
    try:
        assert privacy.runs == 1
        assert store.activity(0).questions == 1  # kept at start: 29 days old
        clock.now += 2 * DAY
        await privacy.wait_for_runs(privacy.runs + 2)  # one whole run after the clock moved
    finally:
        await privacy.stop()
    assert store.activity(0).questions == 0


async def test_forget_deletes_that_persons_questions_votes_and_private_context_only(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    settings = bot_settings()
    group = group_chat(-1009)
    async with running_bot(fake, settings, answerer) as bot:
        ann_private = await _say(bot, private_chat(ANN), ANN, F35_QUESTION)
        await _vote(bot, ann_private, ANN, "+")
        bob_private = await _say(bot, private_chat(BOB), BOB, TRAM_QUESTION)
        await _vote(bot, bob_private, BOB, "-")
        ann_group = await _say(bot, group, ANN, f"/ask {TRAM_QUESTION}")
        await _vote(bot, ann_group, BOB, "+")  # goes with Ann's question
        bob_group = await _say(bot, group, BOB, f"/ask {F35_QUESTION}")
        await _vote(bot, bob_group, ANN, "+")  # Ann's vote goes, Bob's question stays
        before = _context_chats(settings.index_dir)
        forgot = await _say(bot, private_chat(ANN), ANN, "/forget")
        again = await _say(bot, private_chat(ANN), ANN, "/forget")

    assert visible(forgot) == "Deleted what I kept of yours: 2 questions, 2 votes and our conversation."
    assert visible(again) == "Nothing to delete: I keep no questions, votes or conversation of yours."
    asked = _rows(settings.index_dir, "SELECT chat_id, user_id FROM answers ORDER BY created")
    assert asked == [(BOB["id"], BOB["id"]), (group["id"], BOB["id"])]
    assert _rows(settings.index_dir, "SELECT user_id, vote FROM votes") == [(BOB["id"], -1)]
    assert ANN["id"] in before
    assert _context_chats(settings.index_dir) == [c for c in before if c != ANN["id"]]


async def test_admins_stats_count_questions_declines_and_votes_others_see_the_index(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(admin_ids=[ADMIN["id"]]), answerer) as bot:
        answer = await _say(bot, private_chat(ANN), ANN, F35_QUESTION)
        await _vote(bot, answer, ANN, "+")
        await _vote(bot, answer, BOB, "-")
        await _say(bot, private_chat(BOB), BOB, "What is the capital of Peru?")  # declined
        public = visible(await _say(bot, private_chat(ANN), ANN, "/stats"))
        admin = visible(await _say(bot, private_chat(ADMIN), ADMIN, "/stats"))
        month = visible(await _say(bot, private_chat(ADMIN), ADMIN, "/stats 30"))

    assert public.startswith("11 articles, ")
    assert "Newest article: 2025-10-20" in public
    assert "question" not in public
    assert "👍" not in public
    assert admin.startswith(public)
    assert "Last 7 days (admins only; records are kept 30 days):" in admin
    assert "2 questions from 2 people, 1 declined\n👍 1, 👎 1" in admin
    assert "Last 30 days" in month
