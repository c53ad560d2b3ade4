"""Inline mode: ``@bot question`` typed in any chat lists one result per quoted article, and picking one posts that
article's quotes and source, the HTML a chat answer has (``qabot.render.inline``).

Telegram sends an inline query at each pause in typing and may send the same text again (a user deleting back,
several people asking alike). ``cache_time`` lets Telegram's servers keep an answer, and :class:`InlineAnswers`
keeps recent results in the process as long, so a repeated query never reaches the model twice; one asked again
while it is still being answered waits for that answer. Queries a user types while the model is busy replace each
other: only the newest reaches it (an answer to an older one would not be shown). Queries shorter than three
characters list the newest articles. Answers go through ``BotJobs`` like chat answers (off the event loop, one
model call at a time), without the LLM summary: it would cite every article, and an inline answer is wanted while
typing.

Inline queries come with no chat, so only the user allowlist (and the admins) lets one through; a refused user
gets an empty list with a button to the bot's private chat. With an allowlist every answer is ``is_personal``, so
Telegram never serves an allowed user's cached results to someone else. ``qabot.bot.app`` registers the handler
before its gate, which would drop a refused query unanswered and leave the user's client spinning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, InlineQueryHandler

from qabot.bot.jobs import RECENT_SOURCES, BotJobs
from qabot.errors import BadQuestion
from qabot.render.inline import InlineItem, answer_items, newest_items

if TYPE_CHECKING:
    from qabot.bot.app import Context

log = logging.getLogger(__name__)

CACHE_SECONDS = 60  # short: a feed refresh or an admin ingest shows in inline answers within a minute
CACHE_SIZE = 256  # queries kept in the process; each is a few kilobytes of HTML
SHORT_QUERY = 3  # characters; fewer list the newest articles
PRIVATE_BUTTON = "This bot is private"  # shown instead of results to a refused user; opens the private chat


@dataclass
class InlineAnswers:
    """Recent inline results by query (whitespace collapsed), kept ``ttl`` seconds, ``size`` of them at most."""

    ttl: float = CACHE_SECONDS
    size: int = CACHE_SIZE
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[str, tuple[float, asyncio.Future[list[InlineItem]]]] = field(default_factory=OrderedDict)
    _latest: dict[int, str] = field(default_factory=dict)  # user → the id of their newest query waiting for the model

    async def results(self, query: str, jobs: BotJobs, *, user: int, query_id: str) -> list[InlineItem] | None:
        """The results for ``query``: from the cache, from the same query still being answered, or computed.

        None when ``user`` typed on while the model was busy: their newer query replaces this one.
        """
        key = query_key(query)
        entry = self._fresh(key)
        if entry is None:
            if not await self._still_wanted(user, query_id, jobs):
                return None
            entry = self._fresh(key) or self._start(key, jobs)  # someone may have asked the same meanwhile
        try:
            return await asyncio.shield(entry[1])  # one waiter giving up must not cancel the others' answer
        except Exception:
            if self._entries.get(key) is entry:  # a failure is not kept: the next keystroke tries again
                del self._entries[key]
            raise

    def _fresh(self, key: str) -> tuple[float, asyncio.Future[list[InlineItem]]] | None:
        entry = self._entries.get(key)
        return entry if entry is not None and self.clock() - entry[0] < self.ttl else None

    def _start(self, key: str, jobs: BotJobs) -> tuple[float, asyncio.Future[list[InlineItem]]]:
        entry = (self.clock(), asyncio.ensure_future(_compute(key, jobs)))
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry

    async def _still_wanted(self, user: int, query_id: str, jobs: BotJobs) -> bool:
        """Wait for the answer thread's turn; False if the user sent a newer query meanwhile."""
        self._latest[user] = query_id
        try:
            await jobs.run(_nothing)  # queued behind the model's current work, as an answer would be
            return self._latest.get(user) == query_id
        finally:
            if self._latest.get(user) == query_id:
                del self._latest[user]  # only users with a query waiting are kept


def _nothing() -> None:
    return None


def query_key(query: str) -> str:
    """The query with whitespace collapsed; empty when it is too short to ask (the newest articles are listed)."""
    text = " ".join(query.split())
    return text if len(text) >= SHORT_QUERY else ""


async def _compute(key: str, jobs: BotJobs) -> list[InlineItem]:
    if key:
        try:
            return answer_items(await jobs.ask(key, synthesis=False))
        except BadQuestion:
            pass  # no words to ask ("???"): list the newest articles, as for an empty query
    return newest_items(await jobs.run(jobs.answerer.recent, RECENT_SOURCES))


def handlers() -> list[BaseHandler[Update, Context, None]]:
    """The inline-query handler; ``qabot.bot.app`` registers it before its gate (it checks access itself)."""
    return [InlineQueryHandler(_on_inline_query)]


async def _on_inline_query(update: Update, context: Context) -> None:
    query = update.inline_query
    if query is None:
        return
    state = context.state
    personal = bool(state.settings.allowed_chats or state.settings.allowed_users)
    try:
        if not state.guard.allowed(None, query.from_user.id):
            log.info("Refused inline query from user %s: not in the allowlists", query.from_user.id)
            button = InlineQueryResultsButton(PRIVATE_BUTTON, start_parameter="private")
            await query.answer([], cache_time=CACHE_SECONDS, is_personal=True, button=button)
            return
        items = await state.inline.results(query.query, state.jobs, user=query.from_user.id, query_id=query.id)
        if items is None:
            return  # replaced by the same user's newer query; Telegram shows only the newest answer anyway
        await query.answer([_result(i) for i in items], cache_time=CACHE_SECONDS, is_personal=personal)
    except BadRequest as err:
        if "too old" not in str(err).lower():
            raise
        # The user typed on, or the answer took longer than Telegram waits: nobody is looking at this list.
        log.info("Inline query from user %s expired before it was answered", query.from_user.id)


def _result(item: InlineItem) -> InlineQueryResultArticle:
    content = InputTextMessageContent(item.html, parse_mode=ParseMode.HTML)
    return InlineQueryResultArticle(item.id, item.title, content, description=item.description)


__all__ = ["CACHE_SECONDS", "InlineAnswers", "handlers", "query_key"]
