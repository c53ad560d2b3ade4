"""Is a Telegram message meant for the bot, and what does it ask? Decided on the Bot API's message JSON.

Telegram-free: the handlers pass ``message.to_dict()``, the same shape the Bot API sends, so these rules are
tested without a bot. In a private chat every message is for the bot. In a group only these are: a command for this
bot (``/ask`` or ``/ask@thisbot``, not ``/ask@otherbot``), an @mention of it in any case or a text mention of its
user, and a reply to one of its messages — but not the implicit reply every message in a forum topic makes to the
topic's first message. Entity offsets and lengths are UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Msg = Mapping[str, Any]

_MENTION_PUNCTUATION = " \t\n,:;—-"  # left around a question once "@bot" is cut out: "@bot, why …" → "why …"


def entity_text(text: str, entity: Msg) -> str:
    """The part of ``text`` an entity covers (its offset and length are in UTF-16 units)."""
    units = text.encode("utf-16-le")
    start = int(entity.get("offset", 0)) * 2
    return units[start : start + int(entity.get("length", 0)) * 2].decode("utf-16-le", errors="replace")


def is_topic_root_reply(msg: Msg) -> bool:
    """True when the "reply" is only the forum topic's implicit one, which does not address anybody."""
    reply = msg.get("reply_to_message")
    return reply is not None and (
        bool(reply.get("forum_topic_created"))
        or (bool(msg.get("is_topic_message")) and reply.get("message_id") == msg.get("message_thread_id"))
    )


def replies_to_bot(msg: Msg, bot_id: int) -> bool:
    """A real reply to one of the bot's own messages."""
    reply = msg.get("reply_to_message")
    return reply is not None and (reply.get("from") or {}).get("id") == bot_id and not is_topic_root_reply(msg)


def bot_mentions(msg: Msg, bot_id: int, username: str | None) -> list[Msg]:
    """The entities that mention this bot: ``@username`` in any case, or a text mention of its user."""
    text = msg.get("text") or ""
    own = f"@{username}".lower() if username else None
    found = []
    for entity in msg.get("entities") or ():
        kind = entity.get("type")
        by_name = kind == "mention" and own is not None and entity_text(text, entity).lower() == own
        by_id = kind == "text_mention" and (entity.get("user") or {}).get("id") == bot_id
        if by_name or by_id:
            found.append(entity)
    return found


def is_own_command(msg: Msg, username: str | None) -> bool:
    """A message starting with a command for this bot: ``/cmd`` or ``/cmd@thisbot``."""
    text = msg.get("text") or ""
    entities = msg.get("entities") or ()
    if not text or not entities or entities[0].get("type") != "bot_command" or entities[0].get("offset"):
        return False
    _, _, target = entity_text(text, entities[0]).partition("@")
    return not target or target.lower() == (username or "").lower()


def addressed(msg: Msg, bot_id: int, username: str | None) -> bool:
    """Whether a new message is meant for the bot (every private message is)."""
    if (msg.get("chat") or {}).get("type") == "private":
        return True
    return is_own_command(msg, username) or mentions_or_replies(msg, bot_id, username)


def mentions_or_replies(msg: Msg, bot_id: int, username: str | None) -> bool:
    """A group message that mentions the bot or replies to one of its messages."""
    return replies_to_bot(msg, bot_id) or bool(bot_mentions(msg, bot_id, username))


def group_question(msg: Msg, bot_id: int, username: str | None) -> str:
    """The question in a group message: its text without the bot's mentions.

    "@bot" alone, in reply to someone else's message, asks that message.
    """
    text = msg.get("text") or ""
    units = text.encode("utf-16-le")
    for entity in sorted(bot_mentions(msg, bot_id, username), key=lambda e: int(e["offset"]), reverse=True):
        start, length = int(entity["offset"]) * 2, int(entity["length"]) * 2
        units = units[:start] + units[start + length :]
    question = units.decode("utf-16-le", errors="replace").strip(_MENTION_PUNCTUATION)
    reply = msg.get("reply_to_message")
    if not question and reply is not None and reply.get("text") and not replies_to_bot(msg, bot_id):
        question = str(reply["text"])
    return question


def command_question(msg: Msg) -> str:
    """The question after ``/ask`` (it may start on a new line); a bare ``/ask`` in reply asks the replied message."""
    parts = (msg.get("text") or "").split(maxsplit=1)
    question = parts[1].strip() if len(parts) > 1 else ""
    reply = msg.get("reply_to_message")
    if not question and reply is not None and reply.get("text") and not is_topic_root_reply(msg):
        question = str(reply["text"])
    return question


def command_name(msg: Msg) -> str:
    """``/Ask@bot …`` → ``ask``."""
    parts = (msg.get("text") or "").split(maxsplit=1)
    return parts[0].lstrip("/").partition("@")[0].lower() if parts else ""


__all__ = [
    "addressed",
    "bot_mentions",
    "command_name",
    "command_question",
    "entity_text",
    "group_question",
    "is_own_command",
    "is_topic_root_reply",
    "mentions_or_replies",
    "replies_to_bot",
]
