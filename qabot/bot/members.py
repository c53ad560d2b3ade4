"""The bot joining groups (``my_chat_member`` updates): one note on how to address it, or leaving at once.

Added to a group it may serve, the bot posts one short note (mention it, reply to it, ``/ask``; ``/help``), since
in a group it stays quiet until addressed and nobody would know how. Added to a group it may not serve, it leaves
without a word: a private bot should not sit in strangers' groups. A group may be served when ``Guard.allowed``
lets the chat through with the person who added the bot: any group without allowlists, a listed chat, or a group a
listed user or admin added it to (they may ask anywhere). Promotions, removals and private chats post nothing, nor
does the join Telegram reports when a group becomes a supergroup, once the migration message has arrived (it comes
first: the group's ``migrate_to_chat_id``).
``qabot.bot.app`` registers the handler before its gate, which would stop the update in a group that is not
allowed before it could be left.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Chat, ChatMember, ChatMemberUpdated, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, ChatMemberHandler

from qabot.render import telegram as th

if TYPE_CHECKING:
    from qabot.bot.app import Context

log = logging.getLogger(__name__)

_IN = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}


def handlers() -> list[BaseHandler[Update, Context, None]]:
    """The ``my_chat_member`` handler; ``qabot.bot.app`` registers it before its gate (it checks access itself)."""
    return [ChatMemberHandler(_on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)]


def joined(change: ChatMemberUpdated) -> bool:
    """Whether this change put the bot into a group or supergroup it was not in before."""
    group = change.chat.type in (Chat.GROUP, Chat.SUPERGROUP)
    return group and not _is_in(change.old_chat_member) and _is_in(change.new_chat_member)


def _is_in(member: ChatMember) -> bool:
    restricted_member = member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))
    return member.status in _IN or restricted_member


async def _on_my_chat_member(update: Update, context: Context) -> None:
    change = update.my_chat_member
    if change is None or not joined(change):
        return
    chat_id = change.chat.id
    if chat_id in context.state.guard.moved_in:
        return  # Telegram re-adds the bot to the supergroup a group became; the group was greeted (or left) already
    adder = change.from_user.id if change.from_user else None
    if not context.state.guard.allowed(chat_id, adder):
        log.info("Added to group %s by user %s, outside the allowlists: leaving it", chat_id, adder)
        await context.bot.leave_chat(chat_id)
        return
    log.info("Added to group %s by user %s", chat_id, adder)
    try:
        lang = change.from_user.language_code if change.from_user else None  # whoever added the bot
        await context.bot.send_message(chat_id, th.joined_group_html(context.bot.username, lang))
    except TelegramError as err:  # e.g. a group where members may not post: the bot still answers when addressed
        log.warning("Could not post the how-to note in group %s: %s", chat_id, err)


__all__ = ["handlers", "joined"]
