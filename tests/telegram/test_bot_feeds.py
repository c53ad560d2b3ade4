"""The running bot keeps its index fresh: feeds refreshed on a schedule in the background, admin ``/refresh``, and
ingests made by another writer picked up without a restart.

A real Application talks to the fake Bot API; the feeds and pages come from a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from qabot.bot.admin import ALREADY_REFRESHING
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.render.common import DECLINE_TEXT
from qabot.sources.feeds import FeedList
from tests.fakes.telegram_api import FakeBotApi, private_chat, user
from tests.fakes.web_server import FakeWebServer
from tests.telegram.conftest import WritableIndex
from tests.telegram.harness import quotes_in, running_bot, visible
from tests.telegram.pages import (
    BRIDGE_ANSWER,
    BRIDGE_PAGE,
    BRIDGE_PARAGRAPHS,
    BRIDGE_QUESTION,
    BRIDGE_TITLE,
    bridge_article,
    normalised,
    rss,
)

ANN = user(777, "Ann")
ADMIN = user(42, "Ada")
PAGE = "/news/bridge.html"
FEED = "/feed.xml"
ONCE = 3600.0  # a refresh period no test outlives: only the refresh at startup runs

MakeIndex = Callable[..., WritableIndex]


def _serve_feed(web: FakeWebServer, *, gate: threading.Event | None = None) -> None:
    """The feed with the bridge entry; with ``gate``, its page is held until the test sets it (a slow site)."""
    web.route(PAGE, BRIDGE_PAGE, gate=gate)
    web.route(FEED, rss(web.url(""), (BRIDGE_TITLE, web.url(PAGE))), content_type="application/rss+xml")


def _from_bridge_page(quotes: list[str]) -> bool:
    page_text = normalised(" ".join(BRIDGE_PARAGRAPHS))
    return bool(quotes) and all(normalised(q) in page_text for q in quotes)


async def test_scheduled_refresh_ingests_a_new_feed_entry_and_the_bot_answers_from_it(
    fake: FakeBotApi, writable_index: MakeIndex
) -> None:
    index = writable_index(allow_private_urls=True)
    with FakeWebServer() as web:
        _serve_feed(web)
        FeedList(index.settings.index_dir).add(web.url(FEED))
        async with running_bot(
            fake, index.settings, index.answerer, ingestor=index.ingestor, refresh_interval=0.05
        ) as bot:
            await bot.jobs.feeds.wait_for(lambda feeds: feeds.refreshes >= 2)  # the period really repeats
            fake.send_text(private_chat(ANN), ANN, BRIDGE_QUESTION)
            answer = await fake.wait_for_call("sendMessage")
            await bot.settle()

    assert BRIDGE_ANSWER in visible(answer)
    assert _from_bridge_page(quotes_in(answer))
    assert f'href="{web.url(PAGE)}#:~:text=' in answer.params["text"]
    assert web.hits(PAGE) == 1  # later refreshes saw the same entry and did not fetch its page again


async def test_a_question_during_a_slow_refresh_is_answered_at_once_from_the_last_complete_index(
    fake: FakeBotApi, writable_index: MakeIndex
) -> None:
    index = writable_index(allow_private_urls=True)
    sent_when_refresh_ended: list[int] = []
    page_held = threading.Event()
    with FakeWebServer() as web:
        _serve_feed(web, gate=page_held)
        FeedList(index.settings.index_dir).add(web.url(FEED))
        async with running_bot(
            fake, index.settings, index.answerer, ingestor=index.ingestor, refresh_interval=ONCE
        ) as bot:
            await bot.jobs.feeds.wait_for(lambda feeds: feeds.refreshing)

            async def note_refresh_end() -> None:
                await bot.jobs.feeds.wait_for(lambda feeds: feeds.refreshes >= 1)
                sent_when_refresh_ended.append(len(fake.sent(ANN["id"])))

            watcher = asyncio.create_task(note_refresh_end())
            fake.send_text(private_chat(ANN), ANN, BRIDGE_QUESTION)
            during = await fake.wait_for_call("sendMessage")
            page_held.set()  # only now may the refresh finish: the answer above cannot have waited for it
            await watcher
            fake.send_text(private_chat(ANN), ANN, BRIDGE_QUESTION)
            after = await fake.wait_for_call("sendMessage", 2)
            await bot.settle()

    # Event order, not timing: the refresh was held until the answer was out, and had not ended before it.
    assert sent_when_refresh_ended == [1]
    assert web.hits(PAGE) == 1
    assert visible(during) == DECLINE_TEXT  # the index before the refresh knows only the tram
    assert BRIDGE_ANSWER in visible(after)  # and the next question sees the refreshed one


async def test_refresh_command_reports_and_never_overlaps_a_running_refresh(
    fake: FakeBotApi, writable_index: MakeIndex
) -> None:
    index = writable_index(allow_private_urls=True, admin_ids=[ADMIN["id"]])
    page_held = threading.Event()
    with FakeWebServer() as web:
        _serve_feed(web, gate=page_held)
        FeedList(index.settings.index_dir).add(web.url(FEED))
        async with running_bot(
            fake, index.settings, index.answerer, ingestor=index.ingestor, refresh_interval=ONCE
        ) as bot:
            await bot.jobs.feeds.wait_for(lambda feeds: feeds.refreshing)
            fake.send_text(private_chat(ADMIN), ADMIN, "/refresh")
            busy = await fake.wait_for_call("sendMessage", chat_id=ADMIN["id"])
            page_held.set()
            await bot.jobs.feeds.wait_for(lambda feeds: feeds.refreshes >= 1)
            fake.send_text(private_chat(ADMIN), ADMIN, "/refresh")
            report = await fake.wait_for_call("sendMessage", 2, chat_id=ADMIN["id"])
            await bot.settle()

    assert visible(busy) == ALREADY_REFRESHING
    assert visible(report) == f"{web.url(FEED)}: ok, added 0, updated 0, unchanged 1, skipped 0"
    assert web.hits(FEED) == 2  # the startup refresh and the second /refresh; the busy one fetched nothing
    assert web.hits(PAGE) == 1


async def test_an_ingest_by_another_writer_is_answered_from_without_a_restart(
    fake: FakeBotApi, writable_index: MakeIndex, embedder: Embedder
) -> None:
    index = writable_index()
    other_writer = Ingestor.from_settings(index.settings, embedder=embedder)  # not the bot's: it knows nothing of it
    async with running_bot(fake, index.settings, index.answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, BRIDGE_QUESTION)
        before = await fake.wait_for_call("sendMessage")
        await bot.settle()
        report = await asyncio.to_thread(other_writer.ingest_articles, [bridge_article()])
        fake.send_text(private_chat(ANN), ANN, BRIDGE_QUESTION)
        after = await fake.wait_for_call("sendMessage", 2)
        await bot.settle()

    assert report.added == ["bridge"]
    assert visible(before) == DECLINE_TEXT
    assert BRIDGE_ANSWER in visible(after)
    assert _from_bridge_page(quotes_in(after))
