"""A running bot's feed refreshes: on their own thread, every ``QABOT_FEED_REFRESH_MINUTES``, never two at once.

Telegram-free, like ``qabot.bot.jobs``, which owns the model lock this takes only while a feed's entries are
embedded and written: the refresh spends most of its time waiting for web servers, and questions keep being
answered meanwhile, from the last complete index (each feed is one transaction). An admin's ``/refresh`` runs the
same refresh at once (``qabot.bot.admin``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from qabot.config import Settings
from qabot.models import Article, IngestReport, Skip
from qabot.sources.feeds import FeedList, FeedRefreshReport, refresh_feeds

if TYPE_CHECKING:
    from qabot.bot.jobs import AnswererLike, IngestorLike

log = logging.getLogger(__name__)

T = TypeVar("T")

STOP_GRACE = 2.0  # seconds stop() gives a feed refresh to reach its next feed or entry


def refresh_period(settings: Settings, override: float | None = None) -> float:
    """Seconds between scheduled feed refreshes (0 = off): ``override`` when given, else the setting in minutes."""
    return max(0.0, override if override is not None else settings.feed_refresh_minutes * 60.0)


def refresh_changed(report: FeedRefreshReport) -> bool:
    """Whether a refresh added, updated or pruned anything, so readers must reload."""
    return bool(report.pruned) or any(f.added or f.updated for f in report.feeds)


class FeedSchedule:
    """The feed-refresh thread and the schedule of one running bot (none without an ingestor)."""

    def __init__(
        self,
        settings: Settings,
        answerer: AnswererLike,
        ingestor: IngestorLike | None,
        model: threading.Lock,
        *,
        refresh_interval: float | None = None,
    ) -> None:
        self.settings = settings
        self.answerer = answerer
        self.ingestor = ingestor
        self.period = refresh_period(settings, refresh_interval) if ingestor is not None else 0.0
        self.refreshing = False
        self.refreshes = 0  # completed refreshes, scheduled or asked for
        self.last_refresh: FeedRefreshReport | None = None
        self._model = model  # the answer thread's: held only while a feed's entries are embedded and written
        self._stopping = threading.Event()
        self._feed_thread: asyncio.Future[FeedRefreshReport] | None = None
        self._changed: asyncio.Condition | None = None
        self._schedule: asyncio.Task[None] | None = None

    async def refresh(self) -> FeedRefreshReport | None:
        """Refresh every feed now on the feed thread; None when a refresh is already running (they never overlap)."""
        if self.ingestor is None or self.refreshing:
            return None
        self.refreshing = True  # set and cleared on the event loop, so the check above cannot race
        await self._notify()
        try:
            self._feed_thread = _in_daemon_thread(self._refresh_blocking, name="qabot-feeds")
            report = await asyncio.shield(self._feed_thread)  # cancelling the schedule leaves the thread to stop()
        finally:
            self.refreshing = False
            await self._notify()
        self.refreshes += 1
        self.last_refresh = report
        await self._notify()
        return report

    def _refresh_blocking(self) -> FeedRefreshReport:
        ingestor = self.ingestor
        assert ingestor is not None

        def ingest(articles: list[Article], skipped: list[Skip]) -> IngestReport:
            # Pages were fetched without the model lock; only embedding and writing take it, once the index is ours.
            return ingestor.ingest_articles(articles, skipped, hold=self._model)

        def prune(days: int) -> list[str]:
            return ingestor.prune_older_than(days, hold=self._model)

        feeds = FeedList(self.settings.index_dir)
        report = refresh_feeds(self.settings, ingest, feeds=feeds, prune=prune, stop=self._stopping)
        if refresh_changed(report):
            self.answerer.reload()
        if report.feeds:
            log.info("Feed refresh: %s", report.summary().replace("\n", "; "))
        return report

    async def _every(self, seconds: float) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # a broken feed list or index must not end the schedule; the next run may work
                log.exception("Scheduled feed refresh failed")
            await asyncio.sleep(seconds)

    def start(self) -> None:
        """Start refreshing every ``period`` (the first at once) unless refreshing is off or there is no ingestor."""
        if self.period > 0 and self._schedule is None:
            self._schedule = asyncio.get_running_loop().create_task(self._every(self.period), name="qabot-feeds")

    def stopping(self) -> None:
        """Ask a running feed refresh to end at its next feed or entry (``BotApplication.stop`` calls this first,
        so an admin's /refresh does not hold up PTB's wait for running handlers)."""
        self._stopping.set()

    async def stop(self) -> None:
        """Stop the schedule. A refresh gets ``STOP_GRACE`` to reach its next feed or entry; one still inside a fetch
        or an ingest is left behind (a daemon thread the process exit ends), and as each feed is one transaction the
        index keeps every feed it finished and none of the one in hand."""
        self.stopping()
        if self._schedule is not None:
            self._schedule.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._schedule
            self._schedule = None
        if self._feed_thread is not None and not self._feed_thread.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._feed_thread), STOP_GRACE)
            except TimeoutError:
                log.warning("Stopping without the feed refresh still under way; it ends with the process")
                self._feed_thread = None  # a second stop() need not wait for it again
            except Exception:  # its failure is the refresh's own business, logged where it is awaited
                pass

    async def wait_for(self, condition: Callable[[FeedSchedule], bool], within: float = 60.0) -> None:
        """Wait until ``condition(self)`` holds, e.g. ``lambda feeds: feeds.refreshes >= 1`` (status checks, tests)."""
        changed = self._condition()
        async with changed:
            await asyncio.wait_for(changed.wait_for(lambda: condition(self)), within)

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        changed = self._condition()
        async with changed:
            changed.notify_all()


def _in_daemon_thread(fn: Callable[[], T], *, name: str) -> asyncio.Future[T]:
    """``fn()`` on a new daemon thread, as a future of this loop. Not an executor: the interpreter joins those at
    exit, so a refresh stuck in a fetch would hold up the process's end for its whole timeout."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        result, error = None, None
        try:
            result = fn()
        except BaseException as err:  # handed to the awaiting coroutine, which logs it
            error = err
        with contextlib.suppress(RuntimeError):  # the loop is closed: the bot stopped without waiting for this
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name=name, daemon=True).start()
    return done


__all__ = ["STOP_GRACE", "FeedSchedule", "refresh_changed", "refresh_period"]
