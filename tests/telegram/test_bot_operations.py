"""The running bot under operations: another process writing the index, shutdown in the middle of a refresh, the
model loaded before the first question.

A real Application talks to the fake Bot API; pages and feeds come from a real HTTP server on 127.0.0.1, and
"another process" holds the index's real write lock (``qabot.store.write_lock``, an flock: a second open file in
this process is refused as another process would be).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator

import pytest

from qabot.answer import Answerer
from qabot.bot.admin import INDEX_BUSY
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.sources.feeds import FeedList
from qabot.store import write_lock
from tests.fakes.telegram_api import FakeBotApi, private_chat, user
from tests.fakes.web_server import FakeWebServer
from tests.telegram.conftest import WritableIndex
from tests.telegram.harness import running_bot, visible
from tests.telegram.pages import BRIDGE_PAGE, BRIDGE_TITLE, rss

ANN = user(777, "Ann")
ADMIN = user(42, "Ada")
PAGE = "/news/bridge.html"
FEED = "/feed.xml"
ONCE = 3600.0  # a refresh period no test outlives: only the refresh at startup runs
TRAM_QUESTION = "How often does the harbour tram run?"
TRAM_ANSWER = "every ten minutes"

MakeIndex = Callable[..., WritableIndex]


class _Seen(logging.Handler):
    """Sets ``event`` when a record whose message contains ``text`` is logged (a sync point, not a timing)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.INFO)
        self.text = text
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@pytest.fixture
def writer_waits() -> Iterator[threading.Event]:
    """Set once an ingest starts waiting for another writer's lock (``qabot.store.locking`` logs it)."""
    seen = _Seen("for another writer of")
    logger = logging.getLogger("qabot.store.locking")
    level = logger.level
    logger.addHandler(seen)
    logger.setLevel(logging.INFO)
    yield seen.event
    logger.removeHandler(seen)
    logger.setLevel(level)


async def test_questions_are_answered_while_an_admin_ingest_waits_for_another_writer(
    fake: FakeBotApi, writable_index: MakeIndex, embedder: Embedder, writer_waits: threading.Event
) -> None:
    index = writable_index(allow_private_urls=True, admin_ids=[ADMIN["id"]])
    # Waits far longer than any answer may take: had the ingest taken the model lock first, the question would wait.
    patient = Ingestor.from_settings(index.settings, embedder=embedder, lock_wait=600)
    with FakeWebServer() as web:
        web.route(PAGE, BRIDGE_PAGE)
        async with running_bot(fake, index.settings, index.answerer, ingestor=patient) as bot:
            with write_lock(index.settings.index_dir):  # another process's long ingest
                fake.send_text(private_chat(ADMIN), ADMIN, f"/ingest {web.url(PAGE)}")
                assert await asyncio.to_thread(writer_waits.wait, 60)  # the page is fetched; the lock is waited for
                fake.send_text(private_chat(ANN), ANN, TRAM_QUESTION)
                answer = await fake.wait_for_call("sendMessage", chat_id=ANN["id"])
                replies_while_locked = len(fake.sent(ADMIN["id"]))
            ingested = await fake.wait_for_call("sendMessage", chat_id=ADMIN["id"])
            await bot.settle()

    assert TRAM_ANSWER in visible(answer)
    assert replies_while_locked == 0  # the ingest was still waiting when the answer went out
    assert visible(ingested).startswith(f"{BRIDGE_TITLE}: added 1")


async def test_an_admin_command_that_meets_another_writer_says_the_index_is_busy(
    fake: FakeBotApi, writable_index: MakeIndex, embedder: Embedder
) -> None:
    index = writable_index(admin_ids=[ADMIN["id"]])
    hasty = Ingestor.from_settings(index.settings, embedder=embedder, lock_wait=0)
    async with running_bot(fake, index.settings, index.answerer, ingestor=hasty) as bot:
        with write_lock(index.settings.index_dir):
            fake.send_text(private_chat(ADMIN), ADMIN, "/remove tram")
            removed = await fake.wait_for_call("sendMessage", chat_id=ADMIN["id"])
            fake.send_document(
                private_chat(ADMIN), ADMIN, b"A new ferry line opens in June.", "ferry.txt", "text/plain"
            )
            uploaded = await fake.wait_for_call("sendMessage", 2, chat_id=ADMIN["id"])
        await bot.settle()

    assert visible(removed) == INDEX_BUSY
    assert visible(uploaded) == INDEX_BUSY
    assert index.answerer.store.article_ids() == ["tram"]  # nothing was changed, nothing half-written


async def test_the_model_is_loaded_before_the_bot_takes_its_first_update(
    fake: FakeBotApi, writable_index: MakeIndex
) -> None:
    index = writable_index()
    own = Embedder()  # not the session's, which is loaded already
    answerer = Answerer.from_settings(index.settings, embedder=own)
    assert not own.loaded
    async with running_bot(fake, index.settings, answerer) as bot:
        loaded_at_start = own.loaded  # no update has arrived yet
        fake.send_text(private_chat(ANN), ANN, TRAM_QUESTION)
        answer = await fake.wait_for_call("sendMessage")
        await bot.settle()

    assert loaded_at_start
    assert TRAM_ANSWER in visible(answer)


def _until(probe: Callable[[], bool], within: float = 60.0) -> bool:
    """Wait (in a worker thread) until ``probe()`` holds; False if it never did within ``within`` seconds."""
    pause = threading.Event()
    for _ in range(int(within / 0.01)):
        if probe():
            return True
        pause.wait(0.01)
    return probe()


async def test_stop_during_a_slow_feed_refresh_returns_at_once_and_leaves_the_index_whole(
    fake: FakeBotApi, writable_index: MakeIndex
) -> None:
    # A fetch that may take two minutes: stopping only after the refresh would be far past systemd's 30 s.
    index = writable_index(allow_private_urls=True, fetch_timeout_seconds=120)
    page_held = threading.Event()
    with FakeWebServer() as web:
        web.route(PAGE, BRIDGE_PAGE, gate=page_held)
        web.route(FEED, rss(web.url(""), (BRIDGE_TITLE, web.url(PAGE))), content_type="application/rss+xml")
        FeedList(index.settings.index_dir).add(web.url(FEED))
        async with running_bot(
            fake, index.settings, index.answerer, ingestor=index.ingestor, refresh_interval=ONCE
        ) as bot:
            assert await asyncio.to_thread(_until, lambda: web.hits(PAGE) == 1)  # the refresh waits for the page
            await asyncio.wait_for(bot.jobs.stop(), 60)  # what post_stop runs on SIGTERM
            held_when_stopped = not page_held.is_set()

    assert held_when_stopped
    assert bot.jobs.feeds.refreshes == 0
    assert index.answerer.store.article_ids() == ["tram"]  # no part of the feed in hand was written
    assert FeedList(index.settings.index_dir).get(web.url(FEED)).last_refresh is None  # type: ignore[union-attr]
