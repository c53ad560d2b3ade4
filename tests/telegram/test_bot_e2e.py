"""qabot's Telegram bot end to end: a real python-telegram-bot Application, real HTTP to a fake Bot API on
127.0.0.1, and the real Answerer with the bundled model over the bundled sample articles.

Assertions are about what people in the chat would see: which messages arrive where, their text as Telegram
would display it (the fake parses the HTML and refuses what Telegram refuses), and the buttons under them.
"""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qabot.bot.feedback import FeedbackStore
from qabot.config import Settings
from qabot.models import Answer, Article, IndexStats
from qabot.render import telegram as th
from qabot.render.common import DECLINE_TEXT
from tests.fakes.telegram_api import FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import buttons, quotes_in, running_bot, visible
from tests.telegram.pages import BRIDGE_QUESTION, TRAM

SAMPLES = Path(__file__).resolve().parents[2] / "qabot" / "samples"
F35_URL = "https://samples.qabot.invalid/2025/03/turkey-f35-removal"
F35_QUESTION = "Why was Turkey removed from the F-35 programme?"
F35_ANSWER = "Washington removed Turkey from the F-35 programme in 2019"
COACH_QUESTION = "Who is the new head coach of Fenwater Rovers?"

ANN = user(777, "Ann")
BOB = user(778, "Bob")
ADMIN = user(42, "Ada")

SettingsFactory = Callable[..., Settings]


def _sample_texts() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in SAMPLES.glob("*.md"))


async def test_private_question_gets_a_verbatim_quote_with_its_source_link(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        reply = await fake.wait_for_call("sendMessage", chat_id=ANN["id"])
        await bot.settle()

    assert F35_ANSWER in visible(reply)
    corpus = _sample_texts()
    assert quotes_in(reply)
    assert all(q in corpus for q in quotes_in(reply))
    assert f'href="{F35_URL}#:~:text=' in reply.params["text"]  # the link opens the page at the quote
    assert "qabot samples · 2025-03-27" in visible(reply)
    assert reply.params["parse_mode"] == "HTML"
    assert reply.params["link_preview_options"]["is_disabled"] is True
    assert [b[:5] for b in buttons(reply)] == ["fb:+:", "fb:-:", "more:"]
    assert all(len(b.encode()) <= 64 for b in buttons(reply))
    assert fake.calls_of("sendChatAction")[0].params == {"chat_id": ANN["id"], "action": "typing"}
    assert len(fake.sent()) == 1


async def test_question_the_articles_do_not_answer_is_declined_in_one_line(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, "What is the capital of Peru?")
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()

    assert visible(reply) == DECLINE_TEXT
    assert "\n" not in visible(reply)


async def test_startup_registers_commands_and_commands_answer(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    chat = private_chat(ANN)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        for text in ("/start", "/help", "/sources", "/stats", "/ask", "?!", f"/ask\n{COACH_QUESTION}"):
            fake.send_text(chat, ANN, text)
            await fake.wait_for_call("sendMessage", len(fake.sent()) + 1)
        await bot.settle()

    registered = [c.params for c in fake.calls_of("setMyCommands")]
    assert {c["command"] for c in registered[0]["commands"]} >= {"start", "ask", "help", "sources", "stats"}
    assert registered[1]["scope"] == {"type": "all_group_chats"}
    start, help_, sources, stats, empty_ask, no_words, multiline = (visible(c) for c in fake.sent())
    assert "I know 11 articles, the newest from 2025-10-20." in start
    assert "/ask@QA_Test_Bot" in help_
    assert "@QA_Test_Bot" in help_
    assert sources.startswith("Most recent articles\n[1] ")
    assert "11 articles" in stats
    assert empty_ask.startswith("Ask me a question about the news, e.g. /ask ")
    assert no_words == "please ask a question in words"
    assert "Marta Lindqvist" in multiline


async def test_group_chatter_edits_channel_posts_and_other_bots_get_no_answer(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1001, forum=True)
    bot_user = {"id": fake.bot_id, "is_bot": True, "first_name": "QA bot", "username": fake.username}
    # The forum topic the bot created: every message in it "replies" to this service message.
    topic_root = {
        "message_id": 7,
        "date": 1767225600,
        "chat": group,
        "from": bot_user,
        "message_thread_id": 7,
        "forum_topic_created": {"name": "F-35", "icon_color": 7322096},
    }
    async with running_bot(fake, bot_settings(), answerer) as bot:
        chatter = fake.send_text(group, ANN, F35_QUESTION)
        fake.send_text(group, ANN, f"/ask@OtherBot {F35_QUESTION}")
        fake.edit_text(chatter, f"@QA_Test_Bot {F35_QUESTION}")
        fake.channel_post({"id": -1002, "type": "channel", "title": "News"}, f"@QA_Test_Bot {F35_QUESTION}")
        fake.send_text(group, ANN, F35_QUESTION, thread_id=7, reply_to=topic_root)
        fake.send_text(group, BOB, "@someone_else what do you think?")
        await bot.settle()

    assert fake.sent() == []
    assert fake.calls_of("sendChatAction") == []


async def test_group_mention_reply_and_command_each_get_one_reply_in_the_topic(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1001, forum=True)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        mention = fake.send_text(group, ANN, f"@qa_test_bot {F35_QUESTION}", thread_id=7)
        first = await fake.wait_for_call("sendMessage", 1)
        await bot.settle()
        assert len(fake.sent()) == 1

        followup = fake.send_text(group, BOB, COACH_QUESTION, thread_id=7, reply_to=first.result)
        second = await fake.wait_for_call("sendMessage", 2)
        await bot.settle()
        assert len(fake.sent()) == 2

        command = fake.send_text(group, ANN, f"/ask@QA_Test_Bot {COACH_QUESTION}", thread_id=9)
        third = await fake.wait_for_call("sendMessage", 3)
        await bot.settle()
        assert len(fake.sent()) == 3

    for reply, question, thread in ((first, mention, 7), (second, followup, 7), (third, command, 9)):
        assert reply.params["chat_id"] == group["id"]
        assert reply.params["message_thread_id"] == thread
        assert reply.params["reply_parameters"]["message_id"] == question["message_id"]
    assert F35_ANSWER in visible(first)
    assert "Marta Lindqvist" in visible(second)
    assert "Marta Lindqvist" in visible(third)
    typing = fake.calls_of("sendChatAction")
    assert {c.params.get("message_thread_id") for c in typing} == {7, 9}


# ---------------------------------------------------------------- escaping and splitting, on a purpose-built index

TRICKY = Article(
    id="tricky",
    title="Q&A: <b>bold</b> & <script>alert(1)</script> claims",
    text=(
        "Orbridge held its council meeting on Monday. "
        "The mayor of Orbridge said 3 < 5 & 7 > 2, then pasted <script>alert('x')</script> into the city website. "
        "Nothing else happened at the meeting."
    ),
    url="https://example.com/q?a=1&b=<2>",
    published="2025-02-02",
    source="A&B <News>",
)


_FERRY_NAMES = ("Amber", "Birch", "Cedar", "Dove", "Elm", "Fern", "Gale", "Heron", "Iris", "Juniper", "Kestrel")
FERRIES = Article(
    id="ferries",
    title="Harbour ferries",
    # Long, distinct sentences that all answer the ferry question: quoted together they exceed one message.
    text=" ".join(
        f"On {name} Day the harbour ferry {name} carried {100 + 7 * i} passengers across the windy bay while its "
        f"crew of {3 + i} sailors "
        + " ".join(f"checked deck {name.lower()}-{j} and rope {j} twice" for j in range(12))
        + "."
        for i, name in enumerate(_FERRY_NAMES)
    ),
    url="https://example.com/ferries",
    published="2025-01-01",
    source="Harbour Gazette",
)


@pytest.fixture(scope="module")
def tricky_answerer(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> object:
    """A real Answerer over articles with HTML-looking text and very long sentences, tuned to quote at length
    (every ferry sentence above a 1 % share of the fitted scorer's softmax, not only its top two: the length is the
    point here, and the fitted ``second_min`` follows each refit)."""
    from qabot.answer import Answerer, Tuning
    from qabot.ingest import Ingestor

    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("tricky"), max_articles=10, chunk_tokens=256)
    articles = [TRICKY, FERRIES]
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles(articles)
    return Answerer.from_settings(
        settings, embedder=embedder, tuning=Tuning(char_budget=20_000, max_sentences=30, second_min=0.01)
    )


async def test_article_text_that_looks_like_html_arrives_escaped(
    fake: FakeBotApi, bot_settings: SettingsFactory, tricky_answerer: object
) -> None:
    async with running_bot(fake, bot_settings(), tricky_answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, "What did the mayor of Orbridge paste into the city website?")
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()

    shown = visible(reply)  # the fake refused the message if any of this had gone out unescaped
    assert "said 3 < 5 & 7 > 2, then pasted <script>alert('x')</script> into the city website." in shown
    assert "Q&A: <b>bold</b> & <script>alert(1)</script> claims · A&B <News> · 2025-02-02" in shown
    assert "3 &lt; 5 &amp; 7 &gt; 2, then pasted &lt;script&gt;" in reply.params["text"]
    assert 'href="https://example.com/q?a=1&amp;b=&lt;2&gt;#:~:text=' in reply.params["text"]


async def test_long_answer_arrives_split_into_messages_that_all_parse(
    fake: FakeBotApi, bot_settings: SettingsFactory, tricky_answerer: object
) -> None:
    async with running_bot(fake, bot_settings(), tricky_answerer) as bot:
        question = fake.send_text(
            group_chat(-1003, forum=True),
            ANN,
            "@QA_Test_Bot What did the harbour ferry carry across the windy bay?",
            thread_id=5,
        )
        await fake.wait_for_call("sendMessage")
        await bot.settle()

    parts = fake.sent()
    assert len(parts) >= 2
    assert all(len(visible(p).encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert all(p.params["message_thread_id"] == 5 for p in parts)
    assert parts[0].params["reply_parameters"]["message_id"] == question["message_id"]
    assert all("reply_parameters" not in p.params for p in parts[1:])
    assert [bool(buttons(p)) for p in parts] == [False] * (len(parts) - 1) + [True]
    quoted = [q for p in parts for q in quotes_in(p)]
    assert quoted
    assert all(q in FERRIES.text for q in quoted)


# ---------------------------------------------------------------- load, flood control, network trouble, errors


async def test_thirty_chats_asking_at_once_are_each_answered_once(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    people = [user(1000 + i, f"P{i}") for i in range(30)]
    async with running_bot(fake, bot_settings(), answerer) as bot:
        for i, person in enumerate(people):
            fake.send_text(private_chat(person), person, F35_QUESTION if i % 2 else COACH_QUESTION)
        await fake.wait_for_call("sendMessage", 30)
        await bot.settle()

    per_chat = Counter(c.params["chat_id"] for c in fake.sent())
    assert per_chat == Counter({p["id"]: 1 for p in people})
    for call in fake.sent():
        expected = F35_ANSWER if (call.params["chat_id"] - 1000) % 2 else "Marta Lindqvist"
        assert expected in visible(call)


async def test_flood_control_is_waited_out_and_the_answer_still_arrives(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()

    assert [c.status for c in fake.calls_of("sendMessage")] == [429, 200]
    assert F35_ANSWER in visible(reply)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_network_errors_are_retried(fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object) -> None:
    fake.fail_next("sendMessage", 502, "Bad Gateway")
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()

    assert [c.status for c in fake.calls_of("sendMessage")] == [502, 200]
    assert F35_ANSWER in visible(reply)


class _BrokenAnswerer:
    """An answerer whose index broke under it: every question raises."""

    def ask(self, question: str, **options: Any) -> Answer:
        raise RuntimeError("disk on fire at /srv/qabot/index/chunks.sqlite")

    def stats(self) -> IndexStats:
        raise RuntimeError("disk on fire")

    def recent(self, n: int = 10) -> list[Article]:
        return []

    def reload(self) -> bool:
        return False

    def warm_up(self) -> None:
        pass


async def test_an_unexpected_error_gives_one_neutral_line_and_a_log_with_context(
    fake: FakeBotApi, bot_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    group = group_chat(-1004)
    async with running_bot(fake, bot_settings(), _BrokenAnswerer()) as bot:
        question = fake.send_text(group, ANN, f"@QA_Test_Bot {F35_QUESTION}")
        await fake.wait_for_call("sendMessage")
        await bot.settle()

    [reply] = fake.sent()
    assert visible(reply) == th.SOMETHING_WRONG
    assert reply.params["reply_parameters"]["message_id"] == question["message_id"]
    [record] = [r for r in caplog.records if r.name == "qabot.bot.updates" and r.levelno == logging.ERROR]
    assert f"chat {group['id']}" in record.getMessage()
    assert f"user {ANN['id']}" in record.getMessage()
    assert record.exc_info
    assert "disk on fire" in str(record.exc_info[1])


async def test_the_event_loop_stays_free_while_a_slow_question_is_worked_on(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    release = threading.Event()

    class SlowAnswerer:
        """The real answerer, but one question takes as long as the test says."""

        def ask(self, question: str, **options: Any) -> Answer:
            if "Turkey" in question:
                release.wait(30)
            return answerer.ask(question, **options)  # type: ignore[attr-defined]

        def __getattr__(self, name: str) -> object:
            return getattr(answerer, name)

    try:
        async with running_bot(fake, bot_settings(), SlowAnswerer()) as bot:
            fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
            await fake.wait_for_call("sendChatAction", chat_id=ANN["id"])
            fake.send_text(private_chat(BOB), BOB, "/help")
            help_reply = await fake.wait_for_call("sendMessage")
            assert help_reply.params["chat_id"] == BOB["id"]  # answered while Ann's question is still being worked
            assert fake.sent(ANN["id"]) == []
            release.set()
            answer = await fake.wait_for_call("sendMessage", 2)
            await bot.settle()
    finally:
        release.set()
    assert answer.params["chat_id"] == ANN["id"]
    assert F35_ANSWER in visible(answer)


# ---------------------------------------------------------------- buttons


async def test_feedback_presses_are_stored_with_the_question_and_quotes(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    settings = bot_settings()
    async with running_bot(fake, settings, answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        answer = await fake.wait_for_call("sendMessage")
        up, down, _more = buttons(answer)
        for n, (who, data) in enumerate([(ANN, up), (BOB, up), (ANN, down)], start=1):  # Ann changes her mind
            fake.press_button(answer.result, who, data)
            await fake.wait_for_call("answerCallbackQuery", n)
        await bot.settle()

    answer_id = up.split(":")[2]
    store = FeedbackStore.from_settings(settings)
    assert store.votes(answer_id) == {ANN["id"]: -1, BOB["id"]: 1}
    stored = store.get_answer(answer_id)
    assert stored is not None
    assert stored.question == F35_QUESTION
    assert stored.chat_id == ANN["id"]
    assert [q.text for q in stored.quotes] == quotes_in(answer)
    assert [c.params.get("text") for c in fake.calls_of("answerCallbackQuery")] == [
        "Thanks! Your 👍 is counted.",
        "Thanks! Your 👍 is counted.",
        "Changed your vote to 👎.",
    ]


async def test_more_sources_button_shows_the_next_passages_in_the_same_topic(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1005, forum=True)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(group, ANN, f"/ask {F35_QUESTION}", thread_id=3)
        answer = await fake.wait_for_call("sendMessage")
        more = buttons(answer)[2]
        fake.press_button(answer.result, BOB, more)
        extra = await fake.wait_for_call("sendMessage", 2)
        await bot.settle()

    # An article already cited keeps its number; articles new to this answer are numbered on after the answer's.
    before = {line: int(n) for n, line in re.findall(r"^\[(\d+)\] (.*)$", visible(answer), re.M)}
    cited = [(int(n), line) for n, line in re.findall(r"^\[(\d+)\] (.*)$", visible(extra), re.M)]
    assert cited
    assert all(n == before[line] for n, line in cited if line in before)
    new = list(dict.fromkeys(n for n, line in cited if line not in before))
    assert new == list(range(max(before.values()) + 1, max(before.values()) + 1 + len(new)))
    assert extra.params["message_thread_id"] == 3
    assert extra.params["reply_parameters"]["message_id"] == answer.result["message_id"]
    corpus = _sample_texts()
    assert all(q in corpus for q in quotes_in(extra))
    assert set(quotes_in(extra)).isdisjoint(quotes_in(answer))


# ---------------------------------------------------------------- who may do what


ARTICLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Glass footbridge over the Marrow opens | Riverside Post</title>
<meta property="og:title" content="Glass footbridge over the Marrow opens">
<meta property="og:site_name" content="Riverside Post">
<meta property="article:published_time" content="2025-05-02T08:00:00+00:00">
</head><body><article>
<h1>Glass footbridge over the Marrow opens</h1>
<p>The glass footbridge over the river Marrow opened to walkers on Friday morning after two years of building work.
The bridge links the old market square with the new railway station on the southern bank.</p>
<p>City engineers said the deck is made of laminated glass panels that can carry four hundred people at once.
A ribbon was cut by the oldest resident of the market square, who is one hundred and two years old.</p>
<p>Cyclists must still use the road bridge further upstream, the council said, because the glass deck is too
slippery for bicycle tyres when it rains. Lighting under the deck will be switched on at dusk every evening.</p>
</article></body></html>"""



@pytest.fixture
def own_index(tmp_path: Path, embedder: object, make_settings: SettingsFactory) -> tuple[object, object]:
    """A writable index (one article to start) with its real Ingestor and Answerer."""
    from qabot.answer import Answerer
    from qabot.ingest import Ingestor

    # The ingestor fetches what admins /ingest: the fake web server is on loopback.
    settings = make_settings(index_dir=tmp_path / "own-index", allow_private_urls=True)
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    ingestor.ingest_articles([TRAM])
    return ingestor, Answerer.from_settings(settings, embedder=embedder)


async def test_ingest_is_refused_to_others_and_works_for_admins(
    fake: FakeBotApi, bot_settings: SettingsFactory, own_index: tuple[object, object]
) -> None:
    from tests.fakes.web_server import FakeWebServer

    ingestor, own_answerer = own_index
    settings = bot_settings(admin_ids=[ADMIN["id"]], allow_private_urls=True)
    with FakeWebServer() as web:
        web.route("/news/bridge.html", ARTICLE_PAGE)
        url = web.url("/news/bridge.html")
        async with running_bot(fake, settings, own_answerer, ingestor=ingestor) as bot:
            fake.send_text(private_chat(ANN), ANN, f"/ingest {url}")
            refusal = await fake.wait_for_call("sendMessage", chat_id=ANN["id"])
            await bot.settle()
            assert web.hits("/news/bridge.html") == 0

            fake.send_text(private_chat(ADMIN), ADMIN, f"/ingest {url}")
            report = await fake.wait_for_call("sendMessage", chat_id=ADMIN["id"])
            fake.send_text(private_chat(ANN), ANN, BRIDGE_QUESTION)
            answer = await fake.wait_for_call("sendMessage", 2, chat_id=ANN["id"])
            await bot.settle()

    assert visible(refusal) == th.ADMIN_ONLY
    assert "Glass footbridge over the Marrow opens: added 1" in visible(report)
    assert quotes_in(answer)
    page_text = " ".join(re.sub(r"<[^>]+>", " ", ARTICLE_PAGE.split("<article>")[1]).split())
    assert all(" ".join(q.split()) in page_text for q in quotes_in(answer))
    assert f'href="{url}#:~:text=' in answer.params["text"]


async def test_admin_can_ingest_a_document_and_others_cannot(
    fake: FakeBotApi, bot_settings: SettingsFactory, own_index: tuple[object, object]
) -> None:
    ingestor, own_answerer = own_index
    document = (SAMPLES / "turkey-f35.md").read_bytes()
    settings = bot_settings(admin_ids=[ADMIN["id"]])
    async with running_bot(fake, settings, own_answerer, ingestor=ingestor) as bot:
        fake.send_document(private_chat(ANN), ANN, document, "turkey-f35.md", "text/markdown")
        refusal = await fake.wait_for_call("sendMessage", chat_id=ANN["id"])
        fake.send_document(private_chat(ADMIN), ADMIN, document, "turkey-f35.md", "text/markdown")
        report = await fake.wait_for_call("sendMessage", chat_id=ADMIN["id"])
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)
        answer = await fake.wait_for_call("sendMessage", 2, chat_id=ANN["id"])
        await bot.settle()

    assert visible(refusal) == th.ADMIN_ONLY
    assert len(fake.calls_of("getFile")) == 1
    assert visible(report).startswith("added 1")
    assert F35_ANSWER in visible(answer)


async def test_admin_remove_and_reload(
    fake: FakeBotApi, bot_settings: SettingsFactory, own_index: tuple[object, object]
) -> None:
    ingestor, own_answerer = own_index
    tram_url = TRAM.url
    settings = bot_settings(admin_ids=[ADMIN["id"]])
    async with running_bot(fake, settings, own_answerer, ingestor=ingestor) as bot:
        for who, text in (
            (ANN, f"/remove {tram_url}"),
            (ANN, "/reload"),
            (ADMIN, "/reload"),
            (ADMIN, f"/remove {tram_url}"),
            (ADMIN, f"/remove {tram_url}"),
            (ANN, "/stats"),
        ):
            fake.send_text(private_chat(who), who, text)
            await fake.wait_for_call("sendMessage", len(fake.sent()) + 1)
        await bot.settle()

    replies = [visible(c) for c in fake.sent()]
    assert replies[:2] == [th.ADMIN_ONLY, th.ADMIN_ONLY]
    assert replies[2].endswith(": 1 article.")  # "Reloaded the index" or "already up to date"
    assert replies[3:5] == ["Removed.", "No article with that id or URL."]
    assert visible(fake.sent()[-1]).startswith("0 articles")


async def test_chats_outside_the_allowlist_are_told_once_that_the_bot_is_private(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    allowed = group_chat(-1006)
    stranger_group = group_chat(-1007)
    settings = bot_settings(allowed_chats=[allowed["id"]])
    async with running_bot(fake, settings, answerer) as bot:
        fake.send_text(private_chat(BOB), BOB, F35_QUESTION)
        fake.send_text(private_chat(BOB), BOB, COACH_QUESTION)
        fake.send_text(stranger_group, BOB, F35_QUESTION)  # not addressed: not even a refusal
        fake.send_text(stranger_group, BOB, f"@QA_Test_Bot {F35_QUESTION}")
        fake.send_text(stranger_group, ANN, f"/ask@QA_Test_Bot {F35_QUESTION}")
        fake.send_text(allowed, ANN, f"@QA_Test_Bot {F35_QUESTION}")
        await fake.wait_for_call("sendMessage", chat_id=allowed["id"])
        await bot.settle()

    by_chat = {chat: [visible(c) for c in fake.sent(chat)] for chat in (BOB["id"], stranger_group["id"])}
    assert by_chat == {BOB["id"]: [th.PRIVATE_BOT], stranger_group["id"]: [th.PRIVATE_BOT]}
    assert F35_ANSWER in visible(fake.sent(allowed["id"])[0])
    assert len(fake.sent()) == 3


async def test_a_group_over_its_budget_is_told_once(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    settings = bot_settings(group_budget_per_minute=2)
    group = group_chat(-1008)
    async with running_bot(fake, settings, answerer) as bot:
        for person in (ANN, BOB, user(779, "Cy"), user(780, "Di")):
            fake.send_text(group, person, f"@QA_Test_Bot {F35_QUESTION}")
            await bot.settle()

    in_group = [visible(c) for c in fake.sent(group["id"])]
    # Ann and Bob use up the group's budget; Cy hears why; Di is not told again within the minute.
    assert len(in_group) == 3
    assert F35_ANSWER in in_group[0]
    assert F35_ANSWER in in_group[1]
    assert "asking faster than I may answer" in in_group[2]


async def test_a_group_that_became_a_supergroup_keeps_working(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    old = group_chat(-5005, supergroup=False)
    new = group_chat(-1005005)
    settings = bot_settings(allowed_chats=[old["id"]])
    async with running_bot(fake, settings, answerer) as bot:
        # The upgrade happened while the question was being answered: sending to the old id is refused.
        fake.fail_next(
            "sendMessage",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=new["id"],
        )
        fake.send_text(old, ANN, f"@QA_Test_Bot {F35_QUESTION}")
        moved = await fake.wait_for_call("sendMessage", chat_id=new["id"])
        await bot.settle()
        fake.push_update(
            {"message": {"message_id": 1, "date": 1767225600, "chat": new, "from": ANN, "migrate_from_chat_id": -5005}}
        )
        fake.send_text(new, ANN, f"@QA_Test_Bot {COACH_QUESTION}")
        later = await fake.wait_for_call("sendMessage", 2, chat_id=new["id"])
        await bot.settle()

    assert F35_ANSWER in visible(moved)
    assert "Marta Lindqvist" in visible(later)
    assert th.PRIVATE_BOT not in [visible(c) for c in fake.sent()]


# ---------------------------------------------------------------- webhook, base URL and secrets


async def test_webhook_refuses_a_wrong_secret_and_answers_the_right_one(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, unused_tcp_port: int
) -> None:
    settings = bot_settings(
        webhook_url=f"http://127.0.0.1:{unused_tcp_port}/telegram/hook",
        webhook_port=unused_tcp_port,
        webhook_secret="s3cret-Token_1",
    )
    spoof = {"message": fake.message(private_chat(BOB), BOB, "/ask@QA_Test_Bot spoofed question about Turkey")}
    real = {"message": fake.message(private_chat(ANN), ANN, F35_QUESTION)}
    async with running_bot(fake, settings, answerer, webhook=True) as bot:
        [registered] = fake.calls_of("setWebhook")
        assert registered.params["secret_token"] == "s3cret-Token_1"
        assert await fake.push_webhook(spoof, secret="wrong-secret") == 403
        assert await fake.push_webhook(spoof, secret="") == 403
        assert await fake.push_webhook(real) == 200
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()

    assert fake.calls_of("getUpdates") == []
    assert [c.params["chat_id"] for c in fake.sent()] == [ANN["id"]]
    assert F35_ANSWER in visible(reply)


async def test_a_self_hosted_bot_api_root_works_as_base_url(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(telegram_base_url=fake.root_url + "/"), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, "/help")
        reply = await fake.wait_for_call("sendMessage")
        await bot.settle()
    assert "How to ask" in visible(reply)


async def test_the_token_never_reaches_the_logs(
    fake: FakeBotApi, bot_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    async with running_bot(fake, bot_settings(), _BrokenAnswerer()) as bot:
        fake.send_text(private_chat(ANN), ANN, F35_QUESTION)  # fails, is logged with a traceback, then 429s
        await fake.wait_for_call("sendMessage")
        await bot.settle()

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    secret_part = fake.token.split(":", 1)[1]
    assert secret_part not in logged
    assert "[REDACTED]" in logged  # PTB did log the API URL; it was redacted, not absent
    assert "disk on fire" in logged  # and the error itself is there for the operator
