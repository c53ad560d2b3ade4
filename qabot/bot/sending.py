"""How the bot's messages go out: every reply, edit and "typing…" of the handlers passes through here, in the
language :func:`lang_of` picks.

Sends ride out flood control and a Bot API outage of about two minutes, follow a group that became a supergroup,
and go again as plain text when Telegram refuses the HTML.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter, TelegramError

from qabot.render import telegram as th

log = logging.getLogger(__name__)

# A send that fails on the network is retried after 1, 2, 4 … 30 s: about two minutes in all, so a short Bot API
# outage delays answers instead of losing them.
NETWORK_RETRIES = 8
NETWORK_BACKOFF = 1.0
NETWORK_BACKOFF_MAX = 30.0
TYPING_EVERY = 4.0  # Telegram shows "typing…" for at most 5 s

T = TypeVar("T")


def lang_of(source: Update | Message) -> str | None:
    """The language the replies to an update or message are in: that of the user who wrote or pressed (Telegram's
    ``language_code``, from the user's app settings); ``qabot.render.translations`` falls back to English."""
    user = source.effective_user if isinstance(source, Update) else source.from_user
    return user.language_code if user else None


@contextlib.asynccontextmanager
async def typing_in(message: Message) -> AsyncIterator[None]:
    """Show "typing…" in the question's chat and topic until the block ends."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await message.reply_chat_action(ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def send_parts(
    message: Message, parts: list[str], keyboard: InlineKeyboardMarkup | None, *, quote_first: bool | None = None
) -> list[Message]:
    """Send a split answer in order; the first part replies to the question, the buttons go under the last."""
    sent = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        markup = keyboard if last else None
        sent.append(await send(message, part, reply_markup=markup, do_quote=quote_first if i == 0 else False))
    return sent


async def send(message: Message, text: str, **kwargs: Any) -> Message:
    """Reply in the message's chat and topic; retry network errors with back-off, follow a group's migration.

    ``reply_text`` keeps the forum topic (never ``send_message`` by hand, which loses it). HTML that Telegram
    refuses to parse goes again as plain text: the same words without formatting, rather than no answer.
    """
    try:
        return await _send_as_is(message, text, **kwargs)
    except BadRequest as err:
        if not _refused_html(err):
            raise
        log.warning("Chat %s refused the HTML (%s); sent as plain text", message.chat_id, err.message)
        return await _send_as_is(message, th.plain_text(text), parse_mode=None, **kwargs)


def _refused_html(err: BadRequest) -> bool:
    return "can't parse entities" in err.message.lower()


async def _send_as_is(message: Message, text: str, **kwargs: Any) -> Message:
    return await _with_retries(
        lambda: message.reply_text(text, **kwargs),
        on_migrated=lambda chat_id: message.get_bot().send_message(
            chat_id, text, reply_markup=kwargs.get("reply_markup")
        ),
        where=f"chat {message.chat_id}",
    )


async def _with_retries(
    call: Callable[[], Awaitable[T]], *, on_migrated: Callable[[int], Awaitable[T]], where: str
) -> T:
    """``call()`` until it works: flood waits as Telegram asks, network errors with back-off, 400s never.

    A request that timed out may have been carried out; Telegram has no idempotency key for messages, so a retry
    can then show the answer twice. That is preferred to losing it.
    """
    delay = NETWORK_BACKOFF
    for attempt in range(NETWORK_RETRIES + 1):
        try:
            return await call()
        except ChatMigrated as err:
            log.info("%s moved to %s; sending there", where, err.new_chat_id)
            return await on_migrated(err.new_chat_id)
        except BadRequest:
            raise  # a 400 will fail the same way again
        except (NetworkError, RetryAfter) as err:
            if attempt == NETWORK_RETRIES:
                raise
            wait = _seconds(err.retry_after) + 0.1 if isinstance(err, RetryAfter) else delay
            log.warning("Sending to %s failed (%s); retry %d in %.1f s", where, err, attempt + 1, wait)
            await asyncio.sleep(wait)
            if not isinstance(err, RetryAfter):
                delay = min(delay * 2, NETWORK_BACKOFF_MAX)
    raise AssertionError("unreachable")


def _seconds(value: float | dt.timedelta) -> float:
    # RetryAfter.retry_after is a timedelta with PTB_TIMEDELTA=1 (recommended), seconds otherwise.
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def edit_text(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Replace a message's text and buttons, as plain text if Telegram refuses the HTML."""
    try:
        await message.edit_text(text, reply_markup=keyboard)
    except BadRequest as err:
        if "not modified" in err.message.lower():
            return  # two presses of the same button: the page is already there
        if not _refused_html(err):
            raise
        log.warning("Chat %s refused the HTML (%s); edited as plain text", message.chat_id, err.message)
        await message.edit_text(th.plain_text(text), reply_markup=keyboard, parse_mode=None)


__all__ = ["edit_text", "lang_of", "send", "send_parts", "typing_in"]
