"""The bot's rules without Telegram or a network: who is addressed, who may ask how often, what logs may show."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import pytest

from qabot.bot import address
from qabot.bot.guard import Guard, webhook_options
from qabot.bot.state.local import LocalState
from qabot.config import Settings, bot_api_urls
from qabot.errors import ConfigError
from qabot.redact import RedactingFilter, Redactor, install_log_redaction
from tests.fakes.telegram_api import group_chat, text_entities

BOT_ID, BOT_NAME = 123456, "QA_Test_Bot"
SettingsFactory = Callable[..., Settings]


def _msg(text: str, *, chat: dict | None = None, **extra: object) -> dict:
    """A message as the Bot API sends it (and as ``Message.to_dict()`` gives it back)."""
    return {"message_id": 50, "chat": chat or group_chat(-1001), "text": text, "entities": text_entities(text), **extra}


def _guard(settings: Settings) -> Guard:
    """A guard counting its limits in the default (local) state."""
    return Guard(settings, LocalState.from_settings(settings))


# ---------------------------------------------------------------- addressing


@pytest.mark.parametrize(
    ("text", "extra", "addressed"),
    [
        ("why is the sky blue?", {}, False),
        ("@qa_test_bot why is the sky blue?", {}, True),
        ("😀🎉 @QA_TEST_BOT why?", {}, True),  # emoji before the mention shift its UTF-16 offset
        ("@QA_Test_Botty why?", {}, False),
        ("/ask why?", {}, True),
        ("/ask@QA_Test_Bot why?", {}, True),
        ("/ask@OtherBot why?", {}, False),
        ("thanks", {"reply_to_message": {"message_id": 9, "from": {"id": BOT_ID}}}, True),
        ("thanks", {"reply_to_message": {"message_id": 9, "from": {"id": 5}}}, False),
        (  # every message in a forum topic "replies" to the topic's first message, even one the bot created
            "why?",
            {
                "is_topic_message": True,
                "message_thread_id": 9,
                "reply_to_message": {"message_id": 9, "from": {"id": BOT_ID}, "forum_topic_created": {"name": "F"}},
            },
            False,
        ),
    ],
)
def test_who_a_group_message_addresses(text: str, extra: dict, addressed: bool) -> None:
    assert address.addressed(_msg(text, **extra), BOT_ID, BOT_NAME) is addressed


def test_every_private_message_addresses_the_bot_and_a_text_mention_counts_by_user_id() -> None:
    assert address.addressed(_msg("hello", chat={"id": 5, "type": "private"}), BOT_ID, BOT_NAME)
    mention = {"type": "text_mention", "offset": 0, "length": 6, "user": {"id": BOT_ID}}
    assert address.addressed({**_msg("QA bot why?"), "entities": [mention]}, BOT_ID, BOT_NAME)


@pytest.mark.parametrize(
    ("text", "extra", "question"),
    [
        ("@QA_Test_Bot, why is the sky blue?", {}, "why is the sky blue?"),
        ("Tell me — @qa_test_bot — why is the sky blue?", {}, "Tell me —  — why is the sky blue?"),
        ("🎉 why is the sky @QA_Test_Bot blue?", {}, "🎉 why is the sky  blue?"),
        ("@QA_Test_Bot", {"reply_to_message": {"message_id": 8, "from": {"id": 5}, "text": "Is it?"}}, "Is it?"),
        ("@QA_Test_Bot", {"reply_to_message": {"message_id": 8, "from": {"id": BOT_ID}, "text": "Yes."}}, ""),
        ("@QA_Test_Bot  ,:; ", {}, ""),
    ],
)
def test_the_question_in_a_group_message_is_its_text_without_the_bots_mentions(
    text: str, extra: dict, question: str
) -> None:
    assert address.group_question(_msg(text, **extra), BOT_ID, BOT_NAME) == question


def test_the_question_after_ask() -> None:
    assert address.command_question(_msg("/ask@QA_Test_Bot\nwhy?")) == "why?"
    reply = {"message_id": 8, "from": {"id": 5}, "text": "Is it true?"}
    assert address.command_question(_msg("/ask", reply_to_message=reply)) == "Is it true?"
    root = {"message_id": 9, "forum_topic_created": {"name": "F"}, "text": "topic"}
    assert address.command_question(_msg("/ask", reply_to_message=root)) == ""
    assert address.command_name(_msg("/Refresh@QA_Test_Bot now")) == "refresh"


# ---------------------------------------------------------------- access and limits


def test_allowlists_admins_and_migrated_groups(make_settings: SettingsFactory) -> None:
    assert _guard(make_settings()).allowed(-1, 5)  # no lists: anyone
    guard = _guard(make_settings(allowed_chats=[-100], allowed_users=[7], admin_ids=[42]))
    assert guard.allowed(-100, 5)
    assert guard.allowed(5, 7)
    assert guard.allowed(-999, 7)
    assert guard.allowed(-999, 42)  # admins are allowed everywhere
    assert not guard.allowed(-999, 5)
    assert not guard.allowed(None, None)
    guard.note_migration(-100, -1000100)
    assert guard.allowed(-1000100, 5)
    assert [guard.is_admin(u) for u in (42, 7, None)] == [True, False, False]
    assert [guard.first_refusal(-999), guard.first_refusal(-999)] == [True, False]


async def test_cooldown_and_group_budget_warn_once_per_period(make_settings: SettingsFactory) -> None:
    guard = _guard(make_settings(user_cooldown_seconds=10, group_budget_per_minute=2))
    assert await guard.check(1, 1, group=False, now=0.0) == (True, None)
    assert await guard.check(1, 1, group=False, now=3.0) == (
        False,
        "Slow down a little, please: one question every 10 seconds.",
    )
    assert await guard.check(1, 1, group=False, now=4.0) == (False, None)  # told already
    assert await guard.check(1, 1, group=False, now=10.0) == (True, None)
    assert await guard.check(2, -5, group=True, now=0.0) == (True, None)
    assert await guard.check(3, -5, group=True, now=1.0) == (True, None)
    assert await guard.check(4, -5, group=True, now=2.0) == (
        False,
        "This group is asking faster than I may answer. Please try again in a minute.",
    )
    assert await guard.check(5, -5, group=True, now=3.0) == (False, None)
    assert await guard.check(6, -5, group=True, now=61.0) == (True, None)  # the first answer left the minute


async def test_limit_state_stays_bounded_with_many_senders_and_groups(make_settings: SettingsFactory) -> None:
    settings = make_settings(user_cooldown_seconds=1)
    state = LocalState.from_settings(settings)
    guard = Guard(settings, state)
    for i in range(25_000):
        await guard.check(i, -i, group=True, now=float(i))
    assert len(state.limits.last_question) <= 10_001
    assert len(state.limits.group_answers) <= 10_001


# ---------------------------------------------------------------- connection settings


def test_bot_api_roots_and_webhook_settings(make_settings: SettingsFactory) -> None:
    assert bot_api_urls("https://api.telegram.org/bot") == (
        "https://api.telegram.org/bot",
        "https://api.telegram.org/file/bot",
    )
    assert bot_api_urls("http://10.0.0.5:8081/") == ("http://10.0.0.5:8081/bot", "http://10.0.0.5:8081/file/bot")
    with pytest.raises(ConfigError, match="QABOT_WEBHOOK_URL"):
        webhook_options(make_settings())
    with pytest.raises(ConfigError, match="QABOT_WEBHOOK_SECRET"):
        webhook_options(make_settings(webhook_url="https://bot.example/hook", webhook_secret="has spaces"))
    options = webhook_options(make_settings(webhook_url="https://bot.example/tg/hook", webhook_secret="s3cret_-"))
    assert options["url_path"] == "tg/hook"
    assert options["secret_token"] == "s3cret_-"
    assert options["drop_pending_updates"] is True


# ---------------------------------------------------------------- logs


def test_redaction_covers_messages_arguments_and_tracebacks() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter(Redactor.of("111:SeCrEt", "SeCrEt")))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("POST https://api.example/bot%s/getMe", "111:SeCrEt")
        try:
            raise RuntimeError("failed https://api.example/bot111:SeCrEt/sendMessage")
        except RuntimeError:
            logger.exception("send failed", stack_info=True)
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "SeCrEt" not in text
    assert "https://api.example/bot[REDACTED]/getMe" in text
    assert "RuntimeError: failed https://api.example/bot[REDACTED]/sendMessage" in text


def test_httpx_is_quietened_only_when_nobody_set_its_level() -> None:
    httpx_logger, httpcore_logger = logging.getLogger("httpx"), logging.getLogger("httpcore")
    saved = httpx_logger.level, httpcore_logger.level
    try:
        httpx_logger.setLevel(logging.NOTSET)
        httpcore_logger.setLevel(logging.DEBUG)
        install_log_redaction(Redactor())
        assert httpx_logger.level == logging.WARNING
        assert httpcore_logger.level == logging.DEBUG  # turned up on purpose: kept, and still redacted
    finally:
        httpx_logger.setLevel(saved[0])
        httpcore_logger.setLevel(saved[1])
