"""Questions: a private message, a group message addressed to the bot, or ``/ask``, answered in its chat and topic.

Each sender's questions are answered one at a time in the order sent (``qabot.bot.turns``), each once the sender's
cooldown is over (``qabot.bot.guard``); the answer goes out with its 👍/👎 and "More sources" buttons, which
``qabot.bot.buttons`` handles. "thanks!" is no question: a friendly line in a private chat, silence in a group.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from qabot.answer.chitchat import is_courtesy, is_question
from qabot.bot import address, conversations
from qabot.bot.sending import lang_of, send, send_parts, typing_in
from qabot.bot.updates import me, report_failure
from qabot.errors import BadQuestion
from qabot.render import telegram as th
from qabot.render import translations as tr

if TYPE_CHECKING:
    from qabot.bot.app import Context


async def cmd_ask(update: Update, context: Context) -> None:
    """``/ask QUESTION`` (or ``/ask@botname``), in any chat."""
    await _answer_question(update, context, address.command_question(update.effective_message.to_dict()))


async def on_private_text(update: Update, context: Context) -> None:
    """A text message in a private chat: a question, unless it is only "thanks!"."""
    text = update.effective_message.text or ""
    if is_courtesy(text):  # "thanks!": a friendly line, not a decline
        await send(update.effective_message, tr.text("not_a_question", lang_of(update)))
        return
    await _answer_question(update, context, text)


async def on_group_text(update: Update, context: Context) -> None:
    """A group message that mentions the bot or replies to it: the question is the rest of the text."""
    message = update.effective_message
    question = address.group_question(message.to_dict(), *me(message))
    if question.strip() and not is_question(question):
        return  # "thanks!" to an answer: the whole group would see a decline
    await _answer_question(update, context, question)


async def _answer_question(update: Update, context: Context, question: str) -> None:
    message = update.effective_message
    question = question.strip()
    if not question:
        await send(message, tr.text("empty_question", lang_of(update)))
        return
    sender = message.sender_chat.id if message.sender_chat else (message.from_user.id if message.from_user else 0)
    turns, claims, item = context.state.turns, context.state.jobs.claims, (update, question)
    if turns.offer(sender, item):  # else it waits its turn, or is skipped and counted
        claims.defer(update.update_id)  # handled once answered, not when this handler returns
        context.application.create_task(_take_turns(sender, update, question, context), update=update)
    elif turns.waits(sender, item):
        claims.defer(update.update_id)


async def _take_turns(sender: int, update: Update, question: str, context: Context) -> None:
    """Answer a sender's questions in the order sent, each once their cooldown is over; then say how many of a
    burst were skipped. Runs as its own task, so waiting out a cooldown holds none of PTB's update slots."""
    item: tuple[Update, str] | None = (update, question)
    while item is not None:
        update, question = item
        await asyncio.sleep(await context.state.guard.cooldown_left(sender, time.time()))
        try:
            await _answer_now(update.effective_message, context, question, sender)
        except Exception as err:  # one question's failure must not cost the ones behind it
            await report_failure(update, err)
        finally:
            await context.state.jobs.claims.finish(update.update_id)
        item, skipped = context.state.turns.next(sender)
    if skipped:
        try:
            await send(update.effective_message, th.esc(th.skipped_note(skipped, lang_of(update))), do_quote=False)
        except Exception as err:
            await report_failure(update, err)


async def _answer_now(message: Message, context: Context, question: str, sender: int) -> None:
    group = message.chat.type != Chat.PRIVATE
    allowed, warning = await context.state.guard.check(
        sender, message.chat_id, group=group, now=time.time(), lang=lang_of(message)
    )
    if not allowed:
        if warning:
            await send(message, warning)
        return
    jobs = context.state.jobs
    thread = conversations.thread_of(message.to_dict(), context.bot.id)
    asker = message.from_user.id if message.from_user else None  # stored with the answer, so /forget finds it
    async with typing_in(message):
        try:
            reply = await jobs.answer(question, message.chat_id, thread, user_id=asker, lang=lang_of(message))
        except BadQuestion as err:
            await send(message, th.esc(str(err)))
            return
    sent = await send_parts(message, reply.parts, _answer_keyboard(reply.answer_id, more=reply.more))
    await jobs.conversations.remember(thread, reply.context, [m.message_id for m in sent])


def _answer_keyboard(answer_id: str | None, *, more: bool) -> InlineKeyboardMarkup | None:
    if answer_id is None:
        return None  # the feedback store is unusable: buttons would lead nowhere
    row = [
        InlineKeyboardButton(th.vote_label(True, 0), callback_data=f"fb:+:{answer_id}"),
        InlineKeyboardButton(th.vote_label(False, 0), callback_data=f"fb:-:{answer_id}"),
    ]
    if more:
        row.append(InlineKeyboardButton(th.MORE_SOURCES, callback_data=f"more:{answer_id}"))
    return InlineKeyboardMarkup([row])


__all__ = ["cmd_ask", "on_group_text", "on_private_text"]
