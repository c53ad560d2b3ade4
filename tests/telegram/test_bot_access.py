"""Who may do what: admin commands refused to everyone else, private bots silent to strangers, and ``/ingest``
never reaching local files or private addresses — checked by what the chat shows and what the web server saw.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from qabot.render import telegram as th
from qabot.sources.feeds import FeedList
from tests.fakes.telegram_api import FakeBotApi, group_chat, private_chat, user
from tests.fakes.web_server import FakeWebServer
from tests.telegram.conftest import WritableIndex
from tests.telegram.harness import running_bot, visible
from tests.telegram.pages import BRIDGE_PAGE, BRIDGE_TITLE, TRAM, rss

ANN = user(777, "Ann")
BOB = user(778, "Bob")
ADMIN = user(42, "Ada")
GROUP = group_chat(-1001)
PAGE = "/news/bridge.html"
FEED = "/feed.xml"

MakeIndex = Callable[..., WritableIndex]


def _command(text: str, where: str, bot_name: str) -> str:
    """``/cmd args`` as typed in a private chat, or as ``/cmd@bot args`` in a group."""
    if where == "private":
        return text
    name, _, args = text.partition(" ")
    return f"{name}@{bot_name} {args}".strip()


@pytest.mark.parametrize("where", ["private", "group"])
@pytest.mark.parametrize("action", ["/ingest {page}", "/remove tram", "/reload", "/refresh", "document"])
async def test_admin_commands_are_refused_to_everyone_else(
    fake: FakeBotApi, writable_index: MakeIndex, where: str, action: str
) -> None:
    # Private URLs allowed and a feed subscribed: were the admin check missing, each command would do something.
    index = writable_index(admin_ids=[ADMIN["id"]], allow_private_urls=True, feed_refresh_minutes=0)
    chat = private_chat(ANN) if where == "private" else GROUP
    with FakeWebServer() as web:
        web.route(PAGE, BRIDGE_PAGE)
        web.route(FEED, rss(web.url(""), (BRIDGE_TITLE, web.url(PAGE))), content_type="application/rss+xml")
        FeedList(index.settings.index_dir).add(web.url(FEED))
        async with running_bot(fake, index.settings, index.answerer, ingestor=index.ingestor) as bot:
            if action == "document":
                fake.send_document(chat, ANN, b"# Leak\n\nSecret plans for the harbour.", "leak.md", "text/markdown")
            else:
                fake.send_text(chat, ANN, _command(action.format(page=web.url(PAGE)), where, fake.username))
            await bot.settle()
            stats = index.answerer.stats()

    replies = [visible(c) for c in fake.sent()]
    if action == "document" and where == "group":
        assert replies == []  # a file posted in a group does not address the bot at all
    else:
        assert replies == [th.ADMIN_ONLY]
    assert fake.calls_of("getFile") == []
    assert web.requests == []
    assert stats.articles == 1
    assert index.answerer.recent(5)[0].id == TRAM.id


async def test_a_private_bot_tells_strangers_once_and_does_nothing_for_them(
    fake: FakeBotApi, writable_index: MakeIndex
) -> None:
    allowed = group_chat(-1006)
    stranger_group = group_chat(-1007)
    index = writable_index(allowed_chats=[allowed["id"]], admin_ids=[ADMIN["id"]], allow_private_urls=True)
    with FakeWebServer() as web:
        web.route(PAGE, BRIDGE_PAGE)
        async with running_bot(fake, index.settings, index.answerer, ingestor=index.ingestor) as bot:
            for text in ("What does a tram ticket cost?", f"/ingest {web.url(PAGE)}", "/remove tram", "/refresh"):
                fake.send_text(private_chat(BOB), BOB, text)
                fake.send_text(stranger_group, BOB, _command(text, "group", fake.username))
            fake.send_document(private_chat(BOB), BOB, b"# Spam\n\nBuy now.", "spam.md", "text/markdown")
            fake.send_text(allowed, ANN, f"@{fake.username} What does a tram ticket cost?")
            await fake.wait_for_call("sendMessage", chat_id=allowed["id"])
            await bot.settle()
            stats = index.answerer.stats()

    by_chat = {chat: [visible(c) for c in fake.sent(chat)] for chat in (BOB["id"], stranger_group["id"])}
    assert by_chat == {BOB["id"]: [th.PRIVATE_BOT], stranger_group["id"]: [th.PRIVATE_BOT]}
    assert "Tickets cost two crowns." in visible(fake.sent(allowed["id"])[0])
    assert len(fake.sent()) == 3
    assert web.requests == []
    assert fake.calls_of("getFile") == []
    assert stats.articles == 1


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("file:///etc/passwd", "only http and https URLs can be fetched: file:///etc/passwd"),
        ("{root}/news/bridge.html", "refusing to fetch a private or local address: 127.0.0.1"),
        ("{localhost}/news/bridge.html", "refusing to fetch a private or local address: localhost"),
        ("http://[::1]:{port}/news/bridge.html", "refusing to fetch a private or local address: ::1"),
        ("ftp://127.0.0.1/notes.txt", "only http and https URLs can be fetched"),
    ],
)
async def test_admin_ingest_of_local_files_and_private_addresses_is_refused_and_nothing_is_fetched(
    fake: FakeBotApi, writable_index: MakeIndex, target: str, why: str
) -> None:
    index = writable_index(admin_ids=[ADMIN["id"]])  # allow_private_urls stays False, as in production
    with FakeWebServer() as web:
        web.route(PAGE, BRIDGE_PAGE)
        url = target.format(root=web.url(""), localhost=web.url("", host="localhost"), port=web.port)
        async with running_bot(fake, index.settings, index.answerer, ingestor=index.ingestor) as bot:
            fake.send_text(private_chat(ADMIN), ADMIN, f"/ingest {url}")
            reply = await fake.wait_for_call("sendMessage")
            await bot.settle()
            stats = index.answerer.stats()

    assert visible(reply).startswith("Not ingested: ")
    assert why in visible(reply)
    assert web.requests == []
    assert stats.articles == 1
