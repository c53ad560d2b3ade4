"""Conversations in Telegram, end to end through the fake Bot API with the real answerer over the samples.

A follow-up ("when did that happen?") is read about the previous answer in a private chat, in a group's reply
thread and in a forum topic (each topic its own); /new starts over; the context survives a restart and expires.
A reply that is not a question ("thanks!") gets nothing in a group and one friendly line in private.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qabot.answer.followup import Context
from qabot.bot.conversations import FILENAME, ConversationStore
from qabot.config import Settings
from qabot.render import telegram as th
from qabot.render.common import DECLINE_TEXT, NO_TOPIC_TEXT
from tests.fakes.telegram_api import Call, FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import Harness, quotes_in, running_bot, visible

F35_QUESTION = "why was Turkey removed from the F-35 program?"
FOLLOW_UP = "when did that happen?"
ANN = user(777, "Ann")
BOB = user(778, "Bob")

SettingsFactory = Callable[..., Settings]


def quotes_the_removal(reply: Call) -> bool:
    """The answer quotes the sentence that dates Turkey's removal (2019), as a follow-up about it must."""
    return visible(reply) != DECLINE_TEXT and any("2019" in q and "removed" in q for q in quotes_in(reply))


class Clock:
    """A clock the test moves by hand (seconds since the epoch)."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


async def _ask(bot: Harness, chat: dict, who: dict, text: str, **kwargs: object) -> Call:
    """Send ``text``, wait for the bot's next message and until the update is handled (its context stored)."""
    before = len(bot.fake.sent())
    bot.fake.send_text(chat, who, text, **kwargs)
    reply = await bot.fake.wait_for_call("sendMessage", before + 1)
    await bot.settle()
    return reply


async def test_private_follow_up_is_answered_about_the_previous_question(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    chat = private_chat(ANN)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        first = await _ask(bot, chat, ANN, F35_QUESTION)
        second = await _ask(bot, chat, ANN, FOLLOW_UP)
        await bot.settle()

    assert quotes_the_removal(first)
    assert quotes_the_removal(second)


async def test_a_reply_to_an_answer_in_a_group_continues_that_answers_thread(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1001)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        first = await _ask(bot, group, ANN, f"@QA_Test_Bot {F35_QUESTION}")
        unthreaded = await _ask(bot, group, BOB, f"@QA_Test_Bot {FOLLOW_UP}")  # replies to nothing: a new thread
        replied = await _ask(bot, group, BOB, FOLLOW_UP, reply_to=first.result)
        # The follow-up's answer joins the thread: a reply to it still continues the story.
        again = await _ask(bot, group, ANN, "and when did it happen", reply_to=replied.result)
        await bot.settle()

    assert visible(unthreaded) == NO_TOPIC_TEXT  # no thread, no story: it asks which one
    assert quotes_the_removal(replied)
    assert replied.params["reply_parameters"]["message_id"] != first.result["message_id"]
    assert quotes_the_removal(again)


async def test_forum_topics_keep_their_own_conversations(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    forum = group_chat(-1002, forum=True)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        await _ask(bot, forum, ANN, f"@QA_Test_Bot {F35_QUESTION}", thread_id=7)
        other_topic = await _ask(bot, forum, BOB, f"@QA_Test_Bot {FOLLOW_UP}", thread_id=9)
        same_topic = await _ask(bot, forum, BOB, f"@QA_Test_Bot {FOLLOW_UP}", thread_id=7)
        await bot.settle()

    assert other_topic.params["message_thread_id"] == 9
    assert visible(other_topic) == NO_TOPIC_TEXT
    assert same_topic.params["message_thread_id"] == 7
    assert quotes_the_removal(same_topic)


async def test_new_starts_over_and_is_in_the_command_list_and_help(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    chat = private_chat(ANN)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        await _ask(bot, chat, ANN, F35_QUESTION)
        new = await _ask(bot, chat, ANN, "/new")
        after = await _ask(bot, chat, ANN, FOLLOW_UP)
        help_ = await _ask(bot, chat, ANN, "/help")
        await bot.settle()

    assert visible(new) == th.NEW_CONVERSATION
    assert "\n" not in visible(new)
    assert visible(after) == NO_TOPIC_TEXT
    menus = [{c["command"] for c in call.params["commands"]} for call in fake.calls_of("setMyCommands")]
    assert all("new" in menu for menu in menus)
    assert "/new — start a new conversation" in visible(help_)


async def test_the_conversation_survives_a_restart(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    settings = bot_settings()
    chat = private_chat(ANN)
    async with running_bot(fake, settings, answerer) as bot:
        await _ask(bot, chat, ANN, F35_QUESTION)
        await bot.settle()
    assert (Path(settings.index_dir) / FILENAME).is_file()

    async with running_bot(fake, settings, answerer) as bot:  # a new Application over the same index folder
        after_restart = await _ask(bot, chat, ANN, FOLLOW_UP)
        await bot.settle()

    assert quotes_the_removal(after_restart)


async def test_the_context_expires_after_the_configured_minutes(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    clock = Clock()
    chat = private_chat(ANN)
    async with running_bot(fake, bot_settings(context_ttl_minutes=30), answerer, clock=clock) as bot:
        await _ask(bot, chat, ANN, F35_QUESTION)
        clock.now += 29 * 60
        in_time = await _ask(bot, chat, ANN, FOLLOW_UP)  # answered: the context is 29 minutes old, and renewed
        clock.now += 31 * 60
        too_late = await _ask(bot, chat, ANN, FOLLOW_UP)
        await bot.settle()

    assert quotes_the_removal(in_time)
    assert visible(too_late) == NO_TOPIC_TEXT


async def test_a_reply_that_is_no_question_gets_no_message_in_a_group(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1003)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        answer = await _ask(bot, group, ANN, f"@QA_Test_Bot {F35_QUESTION}")
        await bot.settle()
        typing = len(fake.calls_of("sendChatAction"))
        for text in ("thanks!", "👍", "ok", "lol", "great", "@QA_Test_Bot thank you so much"):
            fake.send_text(group, BOB, text, reply_to=answer.result)
        await bot.settle()
        assert len(fake.sent()) == 1
        assert len(fake.calls_of("sendChatAction")) == typing  # not even "typing…"
        # Asked in words, without a question mark, it is a question.
        worded = await _ask(bot, group, BOB, "when was that", reply_to=answer.result)
        await bot.settle()

    assert quotes_the_removal(worded)


async def test_private_thanks_stickers_and_unknown_commands_get_one_line(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    chat = private_chat(ANN)
    sticker = {
        "message_id": 5001,
        "date": 1767225600,
        "chat": chat,
        "from": ANN,
        "sticker": {
            "file_id": "s1",
            "file_unique_id": "us1",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": "👍",
        },
    }
    photo = {**sticker, "message_id": 5002, "photo": [{"file_id": "p1", "file_unique_id": "up1", "width": 9}]}
    photo.pop("sticker")
    photo["photo"][0]["height"] = 9
    async with running_bot(fake, bot_settings(), answerer) as bot:
        thanks = await _ask(bot, chat, ANN, "thanks!")
        unknown = await _ask(bot, chat, ANN, "/frobnicate now")
        fake.push_update({"message": sticker})
        on_sticker = await fake.wait_for_call("sendMessage", 3)
        fake.push_update({"message": photo})
        on_photo = await fake.wait_for_call("sendMessage", 4)
        await bot.settle()

    assert visible(thanks) == "Glad to help — ask me anything about the articles."
    assert visible(unknown) == "Unknown command /frobnicate; /help lists the commands."
    assert visible(on_sticker) == visible(on_photo) == th.NOT_TEXT
    assert len(fake.sent()) == 4
    assert fake.calls_of("sendChatAction") == []  # nothing was looked up


# ---------------------------------------------------------------- the store's bounds


def _context(at: float) -> Context:
    return Context("q", ("a",), ("Turkey",), ("removed",), at)


def test_the_store_drops_expired_rows_and_keeps_at_most_its_bound(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / FILENAME, max_rows=3)
    store.put(["old"], 1, _context(0.0), now=0.0, ttl_minutes=30)
    assert store.get("old", now=29 * 60, ttl_minutes=30) == _context(0.0)
    assert store.get("old", now=31 * 60, ttl_minutes=30) is None  # enforced on read

    for n in range(5):
        store.put([f"k{n}"], 1, _context(31 * 60 + n), now=31 * 60 + n, ttl_minutes=30)
    assert store.count() == 3  # "old" pruned as expired, then the two oldest beyond the bound
    assert [store.get(f"k{n}", now=32 * 60, ttl_minutes=30) is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


async def test_an_unusable_conversation_store_costs_only_the_follow_up(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, caplog: pytest.LogCaptureFixture
) -> None:
    settings = bot_settings()
    chat = private_chat(ANN)
    async with running_bot(fake, settings, answerer) as bot:
        await _ask(bot, chat, ANN, F35_QUESTION)
        (Path(settings.index_dir) / FILENAME).write_bytes(b"not a database " * 100)  # damaged while running
        follow_up = await _ask(bot, chat, ANN, FOLLOW_UP)
        fresh = await _ask(bot, chat, ANN, F35_QUESTION)
        await bot.settle()

    assert visible(follow_up) == NO_TOPIC_TEXT  # asked as a new question, not "something went wrong"
    assert quotes_the_removal(fresh)
    warnings = [r.getMessage() for r in caplog.records if r.name == "qabot.bot.conversations"]
    assert any("unreadable" in w for w in warnings)
    assert any("not stored" in w for w in warnings)
