"""The bot's commands: /start, /help, /sources, /new, /privacy, /forget, /stats, the admins' /ingest, /remove,
/reload, /refresh and uploaded documents, and the answer to a command or message it does not know.

``/ask`` is a question (``qabot.bot.questions``). What each command says is decided Telegram-free in
``qabot.bot.jobs``, ``qabot.bot.admin`` and ``qabot.bot.privacy``; this module reads the update and sends the
reply.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Update

from qabot.bot import address, admin, conversations
from qabot.bot.admin import ALREADY_REFRESHING
from qabot.bot.jobs import BotJobs
from qabot.bot.sending import lang_of, send, typing_in
from qabot.render import telegram as th
from qabot.render import translations as tr

if TYPE_CHECKING:
    from qabot.bot.app import Context

log = logging.getLogger(__name__)

INFO_COMMANDS = ("start", "help", "sources")
ADMIN_COMMANDS = ("ingest", "remove", "reload", "refresh")


async def cmd_info(update: Update, context: Context) -> None:
    """``/start``, ``/help`` and ``/sources``: the HTML ``BotJobs.info`` renders."""
    message = update.effective_message
    command = address.command_name(message.to_dict())
    await send(message, await context.state.jobs.info(command, context.bot.username, lang_of(update)))


async def cmd_new(update: Update, context: Context) -> None:
    """``/new``: forget this chat's or topic's conversation, so the next question starts afresh."""
    message = update.effective_message
    thread = conversations.thread_of(message.to_dict(), context.bot.id)
    await context.state.jobs.conversations.start_over(thread)
    await send(message, tr.text("new_conversation", lang_of(update)))


async def cmd_privacy(update: Update, context: Context) -> None:
    """``/privacy``, ``/forget`` and ``/stats`` (whose admin part only admins see): ``qabot.bot.privacy``."""
    message = update.effective_message
    user_id = update.effective_user.id if update.effective_user else None
    is_admin = context.state.guard.is_admin(user_id)
    command = address.command_name(message.to_dict())
    args = list(context.args or [])
    reply = await context.state.jobs.privacy.reply(command, user_id, admin=is_admin, args=args, lang=lang_of(update))
    await send(message, reply)


async def on_unknown_command(update: Update, context: Context) -> None:
    """A command no handler took, in a private chat: say so, and point to /help."""
    message = update.effective_message
    await send(message, th.unknown_command_html(address.command_name(message.to_dict()), lang_of(update)))


async def on_not_text(update: Update, context: Context) -> None:
    """A private message that is no text (a sticker, a photo): the bot reads text only."""
    await send(update.effective_message, tr.text("not_text", lang_of(update)))


async def _admin_jobs(update: Update, context: Context) -> BotJobs | None:
    """The jobs if the sender is an admin; otherwise say so and return None."""
    user_id = update.effective_user.id if update.effective_user else None
    if context.state.guard.is_admin(user_id):
        return context.state.jobs
    log.info("Refused admin command from user %s", user_id)
    await send(update.effective_message, tr.text("admin_only", lang_of(update)))
    return None


async def cmd_admin(update: Update, context: Context) -> None:
    """``/ingest URL``, ``/remove REF``, ``/reload``, ``/refresh``: admins only."""
    jobs = await _admin_jobs(update, context)
    if jobs is None:
        return
    message = update.effective_message
    command = address.command_name(message.to_dict())
    if command == "refresh" and jobs.feeds.refreshing:
        reply = ALREADY_REFRESHING  # said at once, not after the running refresh
    else:
        async with typing_in(message):
            reply = await admin.reply(jobs, command, list(context.args or []))
    await send(message, th.esc(reply))


async def on_document(update: Update, context: Context) -> None:
    """An admin's uploaded document, ingested (up to ``QABOT_FETCH_MAX_BYTES``)."""
    jobs = await _admin_jobs(update, context)
    if jobs is None:
        return
    message = update.effective_message
    document = message.document
    limit = context.state.settings.fetch_max_bytes
    if jobs.ingestor is None:
        reply = "Ingest is not set up on this bot."
    elif document.file_size and document.file_size > limit:
        reply = f"That file is too big (over {limit:,} bytes)."
    else:
        async with typing_in(message):
            data = bytes(await (await document.get_file()).download_as_bytearray())
            reply = await admin.ingest_upload(jobs, document.file_name or "document", data)
    await send(message, th.esc(reply))


__all__ = [
    "ADMIN_COMMANDS",
    "INFO_COMMANDS",
    "cmd_admin",
    "cmd_info",
    "cmd_new",
    "cmd_privacy",
    "on_document",
    "on_not_text",
    "on_unknown_command",
]
