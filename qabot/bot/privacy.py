"""What the bot keeps about people, for how long, and how they delete it: ``/privacy``, ``/forget`` and ``/stats``.

Kept: each question with its chat id, the asker's user id and the quotes shown (``feedback.sqlite``, so 👍/👎 and
*More sources* work), each 👍/👎 with the voter's user id, and each conversation's follow-up context
(``conversations.sqlite``). Nothing is kept longer than ``QABOT_RETENTION_DAYS``: the stores delete older rows on
every write, and :class:`Privacy` prunes both at start and hourly, so an idle bot forgets on time too. With
``QABOT_STATE_URL`` the same records live in Redis (``qabot.bot.state``), each key expiring on time by itself.
``/forget`` deletes one person's questions and votes and their private chat's context at once. ``/stats`` shows
everyone what the index holds; the admins also see questions, declines and votes of the last days, which only
this module reads. Telegram-free, like ``qabot.bot.jobs``; ``qabot.bot.commands`` takes the commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from qabot.bot.conversations import Conversations
from qabot.bot.feedback import Activity
from qabot.bot.state import StateStore, StateUnavailable
from qabot.config import Settings
from qabot.models import IndexStats
from qabot.render import telegram as th
from qabot.render import translations as tr
from qabot.text import counted

log = logging.getLogger(__name__)

COMMANDS = ("privacy", "forget", "stats")
PRUNE_EVERY = 3600.0  # seconds between retention runs of an idle bot; every write prunes as well
STATS_DAYS = 7  # what an admin's bare /stats counts
DAY = 86400.0


class Privacy:
    """Retention, ``/forget`` and the replies to ``/privacy``, ``/forget`` and ``/stats`` of one running bot.

    ``index_stats``: what the index holds (the bot reads it on its answer thread); ``clock``: seconds since the
    epoch, so tests can age the rows.
    """

    def __init__(
        self,
        settings: Settings,
        state: StateStore,
        conversations: Conversations,
        *,
        index_stats: Callable[[], Awaitable[IndexStats]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.days = settings.retention_days
        self.state = state
        self.conversations = conversations
        self.index_stats = index_stats
        self.clock = clock
        self.runs = 0  # completed retention runs
        self._schedule: asyncio.Task[None] | None = None
        self._ran: asyncio.Condition | None = None

    # ---------------------------------------------------------------- retention

    async def enforce(self) -> None:
        """Delete every stored row past the retention (and conversation context past its TTL)."""
        ttl = self.conversations.ttl_minutes
        answers, contexts = await self.state.prune(now=self.clock(), context_ttl_minutes=ttl)
        self.runs += 1
        if answers or contexts:
            log.info("Retention: deleted %d stored answers and %d conversation contexts", answers, contexts)

    async def start(self, every: float = PRUNE_EVERY) -> None:
        """Prune now, before the first update is handled, then every ``every`` seconds while the bot runs."""
        await self._enforce_logged()
        if self._schedule is None:
            self._schedule = asyncio.get_running_loop().create_task(self._every(every), name="qabot-retention")

    async def stop(self) -> None:
        """Stop the hourly pruning."""
        if self._schedule is not None:
            self._schedule.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._schedule
            self._schedule = None

    async def _every(self, seconds: float) -> None:
        ran = self._condition()
        while True:
            await asyncio.sleep(seconds)
            await self._enforce_logged()
            async with ran:
                ran.notify_all()

    async def wait_for_runs(self, count: int, within: float = 60.0) -> None:
        """Wait until ``count`` retention runs have completed (for status checks and tests)."""
        ran = self._condition()
        async with ran:
            await asyncio.wait_for(ran.wait_for(lambda: self.runs >= count), within)

    def _condition(self) -> asyncio.Condition:
        if self._ran is None:
            self._ran = asyncio.Condition()
        return self._ran

    async def _enforce_logged(self) -> None:
        try:
            await self.enforce()
        except StateUnavailable as err:  # a damaged file must not stop the bot; the next run may work
            log.warning("Retention run failed (%s); stored rows are pruned again on the next write or run", err)

    # ---------------------------------------------------------------- the commands

    async def reply(
        self, command: str, user_id: int | None, *, admin: bool, args: Sequence[str] = (), lang: str | None = None
    ) -> str:
        """The HTML reply to ``/privacy``, ``/forget`` or ``/stats`` from ``user_id`` (``admin``: one of the bot's),
        in the language of ``lang`` (the sender's Telegram ``language_code``) but for the admins' part."""
        if command == "privacy":
            return self.policy_html(lang)
        if command == "forget":
            return th.esc(await self.forget(user_id, lang))
        public = th.stats_html(await self.index_stats(), lang)
        return f"{public}\n\n{await self.activity_html(args)}" if admin else public

    def policy_html(self, lang: str | None = None) -> str:
        """What is kept, for how long, and how to delete it."""
        ttl = self.conversations.ttl_minutes
        context = tr.text("privacy_context", lang, ttl=f"{ttl:g}") if ttl > 0 else tr.text("privacy_no_context", lang)
        return tr.text("privacy_policy", lang, context=context, days=tr.plural("after_days", lang, self.days))

    async def forget(self, user_id: int | None, lang: str | None = None) -> str:
        """Delete one person's records; the one line that says what went."""
        if user_id is None:
            return tr.text("forget_who", lang)
        gone = await self.state.forget_user(user_id)
        log.info("Forgot user %s: %d questions, %d votes", user_id, gone.questions, gone.votes)
        if not (gone.questions or gone.votes or gone.contexts):
            return tr.text("forget_nothing", lang)
        key = "forget_done_conversation" if gone.contexts else "forget_done"
        questions, votes = tr.plural("questions", lang, gone.questions), tr.plural("votes", lang, gone.votes)
        return tr.text(key, lang, questions=questions, votes=votes)

    async def activity_html(self, args: Sequence[str]) -> str:
        """The admins' part of ``/stats``: questions, declines and votes of the last days (``/stats 30``)."""
        try:
            days = int(args[0]) if args else STATS_DAYS
        except ValueError:
            return th.esc(f"Usage: /stats [days], e.g. /stats {STATS_DAYS}")
        days = max(1, min(days, self.days))  # nothing older is kept
        seen = await self.state.activity(self.clock() - days * DAY)
        return activity_html(seen, days, kept=self.days)


def activity_html(seen: Activity, days: int, *, kept: int) -> str:
    """ "Last 7 days: 12 questions from 4 people, 3 declined; 👍 5, 👎 1"."""
    asked = counted(seen.questions, "question")
    people = "1 person" if seen.people == 1 else f"{seen.people} people"
    return (
        f"<b>Last {counted(days, 'day')}</b> (admins only; records are kept {counted(kept, 'day')}):\n"
        f"{asked} from {people}, {seen.declined} declined\n"
        f"👍 {seen.up}, 👎 {seen.down}"
    )


__all__ = ["COMMANDS", "PRUNE_EVERY", "STATS_DAYS", "Privacy", "activity_html"]
