"""Inline mode (``@bot question`` in any chat) and the bot joining groups, end to end through the fake Bot API.

What a user would see: the list of results Telegram shows under the typing field (title and description), the
message picking one posts (parsed as Telegram would), and which groups the bot greets or leaves.
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import pytest

from qabot.models import Answer, Quote
from qabot.render import telegram as th
from qabot.render.common import DECLINE_TEXT
from qabot.render.inline import DESCRIPTION_CHARS, answer_items
from tests.fakes.telegram_api import FakeBotApi, check_html, group_chat, private_chat, user, utf16_len
from tests.telegram.harness import inline_results, quotes_in, quotes_of, running_bot, visible
from tests.telegram.pages import normalised
from tests.telegram.test_bot_e2e import F35_ANSWER, F35_QUESTION, F35_URL, SettingsFactory

ANN = user(777, "Ann")
BOB = user(778, "Bob")
ADMIN = user(42, "Ada")
F35_TITLE = "Turkey hopes to rejoin the F-35 programme it was expelled from in 2019"


class CountingAnswerer:
    """The real answerer, noting each question that reaches the model."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.asked: list[str] = []

    def ask(self, question: str, **options: Any) -> Answer:
        self.asked.append(question)
        return self.real.ask(question, **options)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


# ---------------------------------------------------------------- inline mode


async def test_an_inline_question_lists_the_quoted_article_with_the_chat_answers_quote_and_link(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    counting = CountingAnswerer(answerer)
    async with running_bot(fake, bot_settings(), counting) as bot:
        first = fake.inline_query(ANN, F35_QUESTION, chat_type="supergroup")
        answered = await fake.wait_for_call("answerInlineQuery", inline_query_id=first)
        again = fake.inline_query(BOB, f"  {F35_QUESTION} ")  # the same question again, as keystrokes repeat it
        repeated = await fake.wait_for_call("answerInlineQuery", inline_query_id=again)
        await bot.settle()

    [result] = inline_results(answered)
    assert result["type"] == "article"
    assert result["title"] == F35_TITLE
    assert result["description"].startswith(F35_ANSWER)
    assert F35_ANSWER in result["visible"]
    assert f'href="{F35_URL}#:~:text=' in result["html"]  # the source line links to the quoted sentence
    assert f"[1] {F35_TITLE} · qabot samples · 2025-03-27" in result["visible"]
    assert result["input_message_content"]["parse_mode"] == "HTML"
    assert result["input_message_content"]["link_preview_options"]["is_disabled"] is True
    assert answered.params["cache_time"] > 0
    assert fake.sent() == []  # listing results posts nothing; the user picks one
    assert inline_results(repeated) == inline_results(answered)
    assert counting.asked == [F35_QUESTION]  # the repeat came from the cache, not the model


@pytest.mark.parametrize(
    ("question", "articles"),
    [("Tell me about Turkey and the United States", 3), ("Why did Turkey buy the S-400?", 1)],
)
async def test_each_quoted_article_is_one_result_carrying_its_quotes_from_the_chat_answer(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, question: str, articles: int
) -> None:
    async with running_bot(fake, bot_settings(), answerer) as bot:
        query = fake.inline_query(ANN, question)
        answered = await fake.wait_for_call("answerInlineQuery", inline_query_id=query)
        fake.send_text(private_chat(ANN), ANN, question)
        in_chat = await fake.wait_for_call("sendMessage")
        await bot.settle()

    results = inline_results(answered)
    assert [r["title"] for r in results] == _source_titles(visible(in_chat))
    assert len(results) == articles
    assert sorted(q for r in results for q in quotes_of(r["html"])) == sorted(quotes_in(in_chat))
    assert all(normalised(quotes_of(r["html"])[0]).startswith(r["description"].rstrip("…")) for r in results)
    assert all(re.search(r"^\[1\] ", r["visible"], flags=re.M) for r in results)  # each is its own answer


async def test_an_empty_or_short_inline_query_lists_the_newest_articles(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: Any
) -> None:
    counting = CountingAnswerer(answerer)
    async with running_bot(fake, bot_settings(), counting) as bot:
        empty = fake.inline_query(ANN, "")
        answered_empty = await fake.wait_for_call("answerInlineQuery", inline_query_id=empty)
        short = fake.inline_query(ANN, "tu")
        answered_short = await fake.wait_for_call("answerInlineQuery", inline_query_id=short)
        await bot.settle()

    newest = answerer.recent(10)
    for answered in (answered_empty, answered_short):
        results = inline_results(answered)
        assert [r["title"] for r in results] == [a.title for a in newest]
        assert all(f'href="{a.url}"' in r["html"] for r, a in zip(results, newest, strict=True))
        assert all(r["description"] == f"qabot samples · {a.published}" for r, a in zip(results, newest, strict=True))
        assert all(
            r["visible"] == f"{a.title} · qabot samples · {a.published}" for r, a in zip(results, newest, strict=True)
        )
    assert counting.asked == []  # nothing was asked of the model


async def test_an_inline_question_the_articles_do_not_answer_is_one_decline(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(), answerer) as bot:
        query = fake.inline_query(ANN, "What is the capital of Peru?")
        answered = await fake.wait_for_call("answerInlineQuery", inline_query_id=query)
        await bot.settle()

    [result] = inline_results(answered)
    assert result["title"] == DECLINE_TEXT
    assert result["visible"] == DECLINE_TEXT  # what the chat says to the same question
    assert result["description"] == "What is the capital of Peru?"


async def test_a_refused_user_gets_no_results_and_allowlisted_answers_are_personal(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    counting = CountingAnswerer(answerer)
    settings = bot_settings(allowed_users=[ANN["id"]], allowed_chats=[-1006])
    async with running_bot(fake, settings, counting) as bot:
        refused = fake.inline_query(BOB, F35_QUESTION)
        answered_bob = await fake.wait_for_call("answerInlineQuery", inline_query_id=refused)
        allowed = fake.inline_query(ANN, F35_QUESTION)
        answered_ann = await fake.wait_for_call("answerInlineQuery", inline_query_id=allowed)
        await bot.settle()

    assert answered_bob.params["results"] == []
    assert answered_bob.params["button"]["text"] == "This bot is private"
    assert answered_bob.params["is_personal"] is True
    assert F35_ANSWER in inline_results(answered_ann)[0]["visible"]
    # Telegram caches answers per query text: without is_personal it could show Ann's results to Bob.
    assert answered_ann.params["is_personal"] is True
    assert counting.asked == [F35_QUESTION]  # Bob's query never reached the model
    assert fake.sent() == []


async def test_polling_and_the_webhook_ask_telegram_for_inline_queries_and_joins(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object, unused_tcp_port: int
) -> None:
    async with running_bot(fake, bot_settings(), answerer):
        polled = await fake.wait_for_call("getUpdates")
    settings = bot_settings(
        webhook_url=f"http://127.0.0.1:{unused_tcp_port}/telegram/hook",
        webhook_port=unused_tcp_port,
        webhook_secret="s3cret-Token_1",
    )
    async with running_bot(fake, settings, answerer, webhook=True) as bot:
        [registered] = fake.calls_of("setWebhook")
        update = fake.inline_query_update(ANN, "")
        assert await fake.push_webhook(update) == 200
        answered = await fake.wait_for_call("answerInlineQuery", inline_query_id=update["inline_query"]["id"])
        await bot.settle()

    for call in (polled, registered):
        assert {"message", "callback_query", "inline_query", "my_chat_member"} <= set(call.params["allowed_updates"])
        assert "edited_message" not in call.params["allowed_updates"]
    assert inline_results(answered)


# ---------------------------------------------------------------- joining groups


async def test_added_to_a_group_it_may_serve_it_posts_one_note_on_how_to_ask(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1006)
    async with running_bot(fake, bot_settings(allowed_chats=[group["id"]]), answerer) as bot:
        fake.bot_member_update(group, ANN, "left", "member")
        note = await fake.wait_for_call("sendMessage")
        fake.bot_member_update(group, ANN, "member", "administrator")  # promoted: already there, nothing to say
        fake.bot_member_update(private_chat(ANN), ANN, "kicked", "member")  # unblocked in private: no group
        fake.bot_member_update(group, ANN, "administrator", "left")  # removed
        await bot.settle()

    assert [c.params["chat_id"] for c in fake.sent()] == [group["id"]]
    shown = visible(note)
    assert "@QA_Test_Bot" in shown
    assert "reply to one of my messages" in shown
    assert "/ask@QA_Test_Bot your question" in shown
    assert "/help" in shown
    assert "message_thread_id" not in note.params
    assert fake.calls_of("leaveChat") == []


async def test_added_to_a_group_it_may_not_serve_it_leaves_without_a_word(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    stranger_group, admins_group = group_chat(-1007), group_chat(-1008, supergroup=False)
    settings = bot_settings(allowed_chats=[-1006], admin_ids=[ADMIN["id"]])
    async with running_bot(fake, settings, answerer) as bot:
        fake.bot_member_update(stranger_group, BOB, "left", "member")
        left = await fake.wait_for_call("leaveChat")
        fake.bot_member_update(admins_group, ADMIN, "left", "member")  # an admin may use it anywhere
        note = await fake.wait_for_call("sendMessage")
        await bot.settle()

    assert left.params["chat_id"] == stranger_group["id"]
    assert [c.params["chat_id"] for c in fake.calls_of("leaveChat")] == [stranger_group["id"]]
    assert [c.params["chat_id"] for c in fake.sent()] == [admins_group["id"]]
    assert "/help" in visible(note)
    assert fake.calls_of("sendMessage", ok=False) == []  # nothing was even tried in the group it left


async def test_a_group_becoming_a_supergroup_is_neither_greeted_again_nor_left(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    old, new = group_chat(-5005, supergroup=False), group_chat(-1005005)
    async with running_bot(fake, bot_settings(allowed_chats=[old["id"]]), answerer) as bot:
        fake.bot_member_update(old, ANN, "left", "member")
        await fake.wait_for_call("sendMessage", chat_id=old["id"])
        # Turning on topics: the group says where it went, then Telegram reports the bot joining the supergroup.
        fake.push_update(
            {"message": {"message_id": 9, "date": 1767225600, "chat": old, "migrate_to_chat_id": new["id"]}}
        )
        fake.bot_member_update(new, ANN, "left", "member")
        fake.push_update(
            {"message": {"message_id": 1, "date": 1767225600, "chat": new, "migrate_from_chat_id": old["id"]}}
        )
        fake.send_text(new, ANN, f"@QA_Test_Bot {F35_QUESTION}")
        answer = await fake.wait_for_call("sendMessage", chat_id=new["id"])
        await bot.settle()

    assert fake.calls_of("leaveChat") == []
    assert [c.params["chat_id"] for c in fake.sent()] == [old["id"], new["id"]]  # the note once, then the answer
    assert F35_ANSWER in visible(answer)


def _source_titles(shown: str) -> list[str]:
    """The article titles of an answer's numbered source lines ("[2] Title · qabot samples · 2025-03-27")."""
    return re.findall(r"^\[\d+\] (.+?) · qabot samples · ", shown, flags=re.M)


# ---------------------------------------------------------------- results that must fit one message


def test_an_article_whose_quotes_fill_more_than_a_message_still_posts_one_message_with_its_source() -> None:
    def quote(text: str, article_id: str = "a1") -> Quote:
        url = "https://news.example/tram"
        return Quote(text, article_id, "Harbour tram", url, "2025-04-01", "Port Times", 0, len(text), 0.8)

    long_quotes = [quote("The harbour tram runs every ten minutes. " * 80), quote("Tickets cost two crowns. " * 100)]
    answer = Answer("q?", False, "plain text form", (*long_quotes, quote("A short one.", "a2")))

    items = answer_items(answer)

    assert [i.title for i in items] == ["Harbour tram", "Harbour tram"]  # one per article, not per quote
    for item in items:
        shown = check_html(item.html)
        assert utf16_len(shown) <= th.MAX_MESSAGE
        assert "[1] Harbour tram · Port Times · 2025-04-01" in shown
        assert len(item.description) <= DESCRIPTION_CHARS
        assert len(item.id.encode()) <= 64
    assert "The harbour tram runs every ten minutes." in check_html(items[0].html)  # cut to the first quote
    assert len({i.id for i in items}) == 2


async def test_keystrokes_typed_while_the_model_is_busy_replace_each_other(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: Any
) -> None:
    started, release = threading.Event(), threading.Event()
    asked: list[str] = []

    class SlowAnswerer:
        """The real answerer, but the first question takes as long as the test says."""

        def ask(self, question: str, **options: Any) -> Answer:
            asked.append(question)
            if question == "Why was Turkey":
                started.set()
                release.wait(30)
            return answerer.ask(question, **options)  # type: ignore[no-any-return]

        def __getattr__(self, name: str) -> object:
            return getattr(answerer, name)

    try:
        async with running_bot(fake, bot_settings(), SlowAnswerer()) as bot:
            first = fake.inline_query(ANN, "Why was Turkey")
            assert await asyncio.to_thread(started.wait, 30)
            typed = [fake.inline_query(ANN, text) for text in ("Why was Turkey rem", F35_QUESTION)]
            fake.send_text(private_chat(BOB), BOB, "/help")
            await fake.wait_for_call("sendMessage")  # handled after the keystrokes, which now wait for the model
            release.set()
            last = await fake.wait_for_call("answerInlineQuery", inline_query_id=typed[-1])
            await bot.settle()
    finally:
        release.set()

    assert asked == ["Why was Turkey", F35_QUESTION]  # the keystroke in between never reached the model
    assert [c.params["inline_query_id"] for c in fake.calls_of("answerInlineQuery")] == [first, typed[-1]]
    assert F35_ANSWER in inline_results(last)[0]["visible"]
