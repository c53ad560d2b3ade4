"""The bot's blocking work, kept off the event loop: answers, admin ingests and feed refreshes.

Telegram-free; the handlers (``qabot.bot.commands``, ``questions``, ``buttons``, ``inline``) call it. The model and
its tokenizer do one thing at a time (the tokenizer is not thread-safe and the box is small), so every model call
holds one lock. Answers queue on a single answer thread. Feed refreshes run on a thread of their own
(``qabot.bot.schedule``) and take the model lock only while they embed and write, as admin ingests do, so questions
keep being answered meanwhile, from the last complete index (the store commits each ingest as one transaction).
Before each answer the answerer checks the index generation (one SQLite read), so an ingest by another process is
picked up without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from qabot.answer.followup import Context, next_context
from qabot.bot.conversations import Conversations, Thread
from qabot.bot.feedback import Tally
from qabot.bot.paging import SourcesPage, sources_page, unseen
from qabot.bot.privacy import Privacy
from qabot.bot.schedule import FeedSchedule
from qabot.bot.state import StateUnavailable
from qabot.bot.state.backends import open_state
from qabot.bot.state.claims import UpdateClaims
from qabot.config import Settings
from qabot.models import Answer, Article, IndexStats, IngestReport, Skip
from qabot.render import telegram as th
from qabot.sources.inputs import Sources

log = logging.getLogger(__name__)

T = TypeVar("T")
# The model lock as the ingestor takes it: after the index's write lock, never while waiting for it.
Hold = contextlib.AbstractContextManager[object]

RECENT_SOURCES = 10
SYNTHESIS_GRACE = 0.5  # seconds past QABOT_LLM_TIMEOUT_SECONDS before an answer goes without its summary anyway


class AnswererLike(Protocol):
    """What the bot needs from ``qabot.answer.Answerer``."""

    def ask(
        self,
        question: str,
        *,
        id: str | None = None,
        synthesis: bool = True,
        context: Context | None = None,
        now: float | None = None,
    ) -> Answer: ...
    def synthesize(self, answer: Answer) -> Answer: ...
    def stats(self) -> IndexStats: ...
    def recent(self, n: int = 10) -> list[Article]: ...
    def reload(self) -> bool: ...
    def warm_up(self) -> None: ...


class IngestorLike(Protocol):
    """What the admin commands and feed refreshes need from ``qabot.ingest.Ingestor``."""

    def ingest_articles(
        self, articles: Iterable[Article], skipped: Sequence[Skip] = (), *, hold: Hold | None = None
    ) -> IngestReport: ...
    def ingest_sources(self, sources: Sources, *, hold: Hold | None = None) -> IngestReport: ...
    def remove(self, ref: str, *, hold: Hold | None = None) -> bool: ...
    def prune_older_than(self, days: int, *, hold: Hold | None = None) -> list[str]: ...


@dataclass(frozen=True)
class Reply:
    """A rendered answer: its Telegram HTML messages and the id its buttons carry (``more``: offer more sources;
    no id, and so no buttons, while the feedback store is unusable).

    ``context``: what the next question in the same thread carries (``Conversations.remember`` stores it).
    """

    parts: list[str]
    answer_id: str | None
    more: bool
    context: Context | None = None


class BotJobs:
    """The answer thread, the feed schedule and the stores of one running bot."""

    def __init__(
        self,
        settings: Settings,
        answerer: AnswererLike,
        ingestor: IngestorLike | None = None,
        *,
        refresh_interval: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.answerer = answerer
        self.ingestor = ingestor
        self.state = open_state(settings, clock=clock)
        self.claims = UpdateClaims(self.state)
        self.feedback_down = False  # the store failed last time: warned once, not again until it works
        self.conversations = Conversations(settings, self.state, clock=clock)
        self.privacy = Privacy(
            settings, self.state, self.conversations, index_stats=lambda: self.run(answerer.stats), clock=clock
        )
        self._model = threading.Lock()
        self._answers = ThreadPoolExecutor(1, thread_name_prefix="qabot-answer")
        self.feeds = FeedSchedule(settings, answerer, ingestor, self._model, refresh_interval=refresh_interval)

    # ---------------------------------------------------------------- the answer thread

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking model/index work on the answer thread, holding the model lock."""

        def locked() -> T:
            with self._model:
                return fn(*args)

        return await asyncio.get_running_loop().run_in_executor(self._answers, locked)

    async def warm_up(self) -> None:
        """Load the model and the index on the answer thread now, before the bot takes its first update."""
        await self.run(self.answerer.warm_up)
        log.info("Model and index loaded")

    async def ask(
        self, question: str, context: Context | None = None, now: float | None = None, *, synthesis: bool = True
    ) -> Answer:
        """Answer from the newest complete index: a newer generation written by anyone is loaded first.

        ``context``: the thread's previous turn, so a follow-up is read about its story. ``synthesis=False``: never
        wait for the LLM summary (inline mode answers per keystroke and shows one article per result).
        """

        def reload_and_ask() -> Answer:
            if self.answerer.reload():  # one SQLite read when nothing changed
                log.info("Loaded a newer index before answering")
            return self.answerer.ask(question, synthesis=False, context=context, now=now)

        answer = await self.run(reload_and_ask)
        return await self.synthesize(answer) if synthesis else answer

    async def synthesize(self, answer: Answer) -> Answer:
        """The answer with the LLM summary if it comes within ``QABOT_LLM_TIMEOUT_SECONDS``, else as it is.

        Off the answer thread: the LLM call waits on the network, not the model, so other chats' questions go on
        meanwhile. The answer is sent once, summary and all, rather than sent and then edited (docs/deploy.md says
        why), so the wait is bounded twice: the client gives up at the timeout (and logs it), and this gives up a
        moment later whatever the client is doing.
        """
        if not (self.settings.llm_url and self.settings.bot_synthesis) or answer.abstained:
            return answer
        limit = self.settings.llm_timeout_seconds + SYNTHESIS_GRACE
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.answerer.synthesize, answer), limit)
        except TimeoutError:
            log.debug("Sent without the LLM summary after %g s", limit)  # the client logs its own give-up
            return answer

    async def answer(
        self,
        question: str,
        chat_id: int,
        thread: Thread | None = None,
        *,
        user_id: int | None = None,
        lang: str | None = None,
    ) -> Reply:
        """Ask in ``thread``'s conversation, remember the answer (and who asked, for ``/forget``) for its buttons,
        and render it (its own lines in the language of ``lang``, the asker's Telegram ``language_code``).

        Raises BadQuestion for a question without words. The reply carries the context for the thread's next turn.
        """
        now = self.conversations.clock()
        context = await self.conversations.context(thread, now)
        answer = await self.ask(question, context, now)
        answer_id = await self._feedback(self.state.record_answer(answer, chat_id, user_id))
        more = bool(unseen(answer.quotes, answer.more)) and not answer.abstained
        return Reply(th.render_answer_html(answer, lang=lang), answer_id, more, next_context(context, answer, now=now))

    async def open_sources(self, answer_id: str) -> bool | None:
        """Whether this press opens an answer's "more sources" (True once; False after); None: unknown answer."""
        return await self._feedback(self.state.open_more(answer_id))

    async def sources_page(self, answer_id: str, page: int) -> SourcesPage | None:
        """Page ``page`` (from 1) of an earlier answer's further sources; None when there is none."""
        stored = await self._feedback(self.state.answer(answer_id))
        if stored is None:
            return None
        return sources_page(stored.quotes, stored.more, page, self.settings.max_articles)

    async def vote(self, answer_id: str, user_id: int, vote: int) -> Tally | None:
        """Store a 👍 (1) or 👎 (-1) and count the answer's votes; None when the store is unusable."""
        return await self._feedback(self.state.vote(answer_id, user_id, vote))

    async def _feedback(self, call: Awaitable[T]) -> T | None:
        """The state's answer to ``call``, or None when it is unusable: the answer matters more than its buttons,
        so a broken store is one warning (and one line when it works again), never a failed answer."""
        try:
            result = await call
        except StateUnavailable as err:
            if not self.feedback_down:
                log.warning("Feedback store %s is unusable (%s); answers go without buttons", self.state.where, err)
            self.feedback_down = True
            return None
        if self.feedback_down:
            log.info("Feedback store %s works again", self.state.where)
            self.feedback_down = False
        return result

    async def info(self, command: str, bot_username: str | None, lang: str | None = None) -> str:
        """The HTML reply to ``/start``, ``/help`` or ``/sources`` (``/stats`` is ``privacy.reply``'s), in the
        language of ``lang`` (the sender's Telegram ``language_code``) where there is a translation."""
        if command == "help":
            return th.help_html(bot_username, lang)
        if command == "sources":
            return th.sources_html(await self.run(self.answerer.recent, RECENT_SOURCES), lang=lang)
        stats = await self.run(self.answerer.stats)
        return th.start_html(stats, bot_username, lang)

    async def ingest(self, sources: Sources) -> IngestReport:
        """Admin ingest, then reload so the next question sees it. Pages are fetched, and another process's write
        lock waited for, off the answer thread and without the model lock (questions go on meanwhile); embedding
        and writing hold it. Raises IndexLocked when the other writer does not finish in time."""
        assert self.ingestor is not None
        report = await asyncio.to_thread(self.ingestor.ingest_sources, sources, hold=self._model)
        await self.run(self.answerer.reload)
        log.info("Admin ingest: %s", report.summary())
        return report

    async def remove(self, ref: str) -> bool:
        """Remove an article by id or URL; True if there was one."""
        assert self.ingestor is not None
        removed = await asyncio.to_thread(self.ingestor.remove, ref, hold=self._model)
        if removed:
            await self.run(self.answerer.reload)
        return removed

    # ---------------------------------------------------------------- starting and stopping

    async def start(self) -> None:
        """Prune what is past the retention, then start the schedules: retention hourly, the renewal of the leases
        on updates being handled, and feed refreshes (the first at once) unless refreshing is off or there is no
        ingestor."""
        await self.privacy.start()
        self.claims.start()
        self.feeds.start()

    async def stop(self) -> None:
        """Stop the schedules, then the answer thread once its work is done: within seconds, well inside systemd's
        30 s (a feed refresh still under way is left behind: ``FeedSchedule.stop``)."""
        self.feeds.stopping()
        await self.privacy.stop()
        await self.claims.stop()
        await self.feeds.stop()
        await asyncio.to_thread(self._answers.shutdown, wait=True)
        await self.state.close()


__all__ = ["AnswererLike", "BotJobs", "IngestorLike", "Reply"]
