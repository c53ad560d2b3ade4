"""What every update meets whichever handler takes it: a group's move to a supergroup, the allowlist gate, and the
error handler; and whether a message is addressed to the bot at all (the rules are ``qabot.bot.address``'s).

A chat that refuses the bot (blocked, removed) is one info line; any other failure is logged with context and the
user gets one neutral line.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from telegram import Message, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, filters

from qabot.bot import address
from qabot.bot.sending import lang_of, send
from qabot.render import translations as tr

if TYPE_CHECKING:
    from qabot.bot.app import Context

log = logging.getLogger(__name__)


def me(message: Message) -> tuple[int, str | None]:
    """The bot's id and username, as the rules of ``qabot.bot.address`` take them."""
    bot = message.get_bot()
    return bot.id, bot.username


class AddressedToBot(filters.MessageFilter):
    """A group message that mentions the bot or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        return address.mentions_or_replies(message.to_dict(), *me(message))


def addressed(update: Update) -> bool:
    """Whether an update is meant for the bot: a button press, or a new message addressed to it."""
    if update.callback_query is not None:
        return True
    message = update.message  # new messages only; edits and channel posts never are
    return message is not None and message.chat is not None and address.addressed(message.to_dict(), *me(message))


async def on_migrate(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    old = message.migrate_from_chat_id or message.chat_id
    new = message.migrate_to_chat_id or message.chat_id
    context.state.guard.note_migration(old, new)
    context.application.migrate_chat_data(message=message)
    log.info("Chat %s migrated to supergroup %s", old, new)


async def gate(update: Update, context: Context) -> None:
    """Outside the allowlists: say once, politely, that the bot is private; then ignore that chat.

    A button press is answered every time (a short notice only the presser sees): unanswered, it keeps spinning.
    """
    guard = context.state.guard
    user_id = update.effective_user.id if update.effective_user else None
    chat_id = update.effective_chat.id if update.effective_chat else None
    if guard.allowed(chat_id, user_id):
        return
    key = chat_id if chat_id is not None else (user_id or 0)
    first = addressed(update) and guard.first_refusal(key)
    if first:
        log.info("Refused chat %s (user %s): not in the allowlists", key, user_id)
    if update.callback_query is not None:
        await update.callback_query.answer(tr.text("private_bot", lang_of(update)))
    elif first and update.effective_message is not None:
        await send(update.effective_message, tr.text("private_bot", lang_of(update)))
    raise ApplicationHandlerStop


async def on_error(update: object, context: Context) -> None:
    """PTB's error handler: see :func:`report_failure`."""
    if isinstance(update, Update):
        await report_failure(update, context.error)
    else:
        log.error("Telegram error outside an update: %s", type(context.error).__name__, exc_info=context.error)


async def report_failure(update: Update, err: BaseException | None) -> None:
    """Log the error with what it was about, then tell the user one neutral line (never a traceback).

    ``Forbidden`` is no failure: the user blocked the bot or it was removed from the group, so there is no one to
    tell, and one info line says so.
    """
    chat = update.effective_chat.id if update.effective_chat else None
    user = update.effective_user.id if update.effective_user else None
    if isinstance(err, Forbidden):
        log.info("Chat %s (user %s) takes no messages from the bot: %s", chat, user, err.message)
        return
    log.error("Update %s (chat %s, user %s) failed: %s", update.update_id, chat, user, type(err).__name__, exc_info=err)
    with contextlib.suppress(TelegramError):
        if update.callback_query is not None:
            await update.callback_query.answer(tr.text("something_wrong", lang_of(update)))
        elif update.message is not None and addressed(update):
            await send(update.message, tr.text("something_wrong", lang_of(update)))


__all__ = ["AddressedToBot", "addressed", "gate", "me", "on_error", "on_migrate", "report_failure"]
