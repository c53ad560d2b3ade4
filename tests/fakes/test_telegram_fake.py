"""The fake Bot API itself: its HTML checker, wire decoding, getUpdates offsets and failure injection.

Driven over real HTTP (httpx, and PTB's own ``Bot``) so the e2e tests can trust what it accepts and refuses.
"""

from __future__ import annotations

import asyncio
import json
import os

os.environ.setdefault("PTB_TIMEDELTA", "1")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter

from tests.fakes.telegram_api import BLOCKED, UNPARSABLE, FakeBotApi, HtmlError, check_html, text_entities, utf16_len


@pytest.mark.parametrize(
    ("markup", "visible"),
    [
        ("plain text", "plain text"),
        ("a &lt;b&gt; &amp; &quot;c&quot; &#65;&#x42;", 'a <b> & "c" AB'),
        ('<b>bold</b> <i>it</i> <code>x</code> <pre><code class="language-py">y</code></pre>', "bold it x y"),
        ('<blockquote expandable>long quote</blockquote>\n<a href="https://e.com/?a=1&amp;b=2">T</a>', "long quote\nT"),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st"),
    ],
)
def test_html_checker_accepts_telegram_html_and_returns_the_visible_text(markup: str, visible: str) -> None:
    assert check_html(markup) == visible


@pytest.mark.parametrize(
    ("markup", "why"),
    [
        ("line<br>break", 'Unsupported start tag "br"'),
        ("<p>para</p>", 'Unsupported start tag "p"'),
        ("<script>alert(1)</script>", 'Unsupported start tag "script"'),
        ("a < b", 'Unsupported start tag ""'),
        ("Q&A", "Unescaped '&'"),
        ("x &nbsp; y", "Unescaped '&'"),
        ("a > b", "Unescaped '>'"),
        ("<b>open", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("</b>", "Unexpected end tag"),
        ("<a>no href</a>", 'Bad start tag "a"'),
        ("<blockquote><blockquote>x</blockquote></blockquote>", 'Bad start tag "blockquote"'),
        ('<span class="x">s</span>', 'Bad start tag "span"'),
    ],
)
def test_html_checker_refuses_what_telegram_refuses(markup: str, why: str) -> None:
    with pytest.raises(HtmlError, match=why):
        check_html(markup)


def test_entities_use_utf16_offsets_like_telegram() -> None:
    text = "😀 hi @QA_Test_Bot and @other_person"
    mention, other = text_entities(text)
    assert (mention["offset"], mention["length"]) == (utf16_len("😀 hi "), len("@QA_Test_Bot"))
    assert other["offset"] == utf16_len("😀 hi @QA_Test_Bot and ")
    command, *rest = text_entities("/ask@qa_test_bot why? @QA_Test_Bot")
    assert command == {"type": "bot_command", "offset": 0, "length": len("/ask@qa_test_bot")}
    assert [e["type"] for e in rest] == ["mention"]


async def _call(client: httpx.AsyncClient, fake: FakeBotApi, method: str, **params: object) -> httpx.Response:
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return await client.post(f"{fake.base_url}{fake.token}/{method}", data=form)


async def test_get_updates_honours_offset_and_long_poll() -> None:
    async with FakeBotApi() as fake, httpx.AsyncClient(trust_env=False) as client:
        assert (await _call(client, fake, "getUpdates", timeout=0)).json() == {"ok": True, "result": []}
        first = fake.send_text(
            {"id": 5, "type": "private", "first_name": "A"}, {"id": 5, "is_bot": False, "first_name": "A"}, "one"
        )
        second = fake.send_text(first["chat"], first["from"], "two")
        ids = [u["update_id"] for u in (await _call(client, fake, "getUpdates", offset=0)).json()["result"]]
        assert len(ids) == 2
        # Not confirmed yet: served again (a dropped long poll loses nothing).
        again = (await _call(client, fake, "getUpdates")).json()["result"]
        assert [u["message"]["text"] for u in again] == ["one", "two"]
        # Confirming the first drops it for good.
        rest = (await _call(client, fake, "getUpdates", offset=ids[0] + 1)).json()["result"]
        assert [u["message"]["message_id"] for u in rest] == [second["message_id"]]
        await fake.wait_consumed(ids[0])
        # A long poll with nothing pending returns as soon as an update arrives.
        poll = asyncio.create_task(_call(client, fake, "getUpdates", offset=ids[1] + 1, timeout=30))
        await fake.wait_for_call("getUpdates", 4, ok=None)
        assert not poll.done()
        fake.send_text(first["chat"], first["from"], "three")
        late = (await poll).json()["result"]
        assert [u["message"]["text"] for u in late] == ["three"]


async def test_form_values_are_decoded_like_ptb_encodes_them() -> None:
    async with FakeBotApi() as fake, httpx.AsyncClient(trust_env=False) as client:
        response = await _call(
            client,
            fake,
            "sendMessage",
            chat_id=-100,
            text="123",
            reply_parameters={"message_id": 5, "allow_sending_without_reply": True},
        )
        assert response.status_code == 200
        call = fake.calls_of("sendMessage")[0]
        assert call.params["chat_id"] == -100
        assert call.params["text"] == "123"
        assert call.params["reply_parameters"]["message_id"] == 5
        wrong_token = await client.post(f"{fake.base_url}9:nope/getMe")
        assert wrong_token.status_code == 401


async def test_ptb_bot_sees_telegram_like_errors() -> None:
    async with FakeBotApi() as fake:
        bot = Bot(fake.token, base_url=fake.base_url)
        async with bot:
            assert bot.username == fake.username
            sent = await bot.send_message(7, "a &amp; <b>b</b>", parse_mode="HTML")
            assert sent.text == "a & b"
            with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
                await bot.send_message(7, "a & <b>b</b>", parse_mode="HTML")
            with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                await bot.send_message(7, "x" * 4097)
            with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
                await bot.send_message(7, "<b> </b>", parse_mode="HTML")
            fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
            with pytest.raises(RetryAfter) as flood:
                await bot.send_message(7, "hi")
            assert flood.value.retry_after.total_seconds() == 3
            assert (await bot.send_message(7, "x" * 4096)).text == "x" * 4096
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("sendPigeon", api_kwargs={"chat_id": 7})


async def test_a_chat_can_refuse_everything_or_only_html() -> None:
    async with FakeBotApi() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
        fake.refuse_chat(7, *BLOCKED)
        fake.refuse_chat(8, *UNPARSABLE, html_only=True)
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_message(7, "hi")
        with pytest.raises(Forbidden):
            await bot.send_chat_action(7, "typing")
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(8, "<b>hi</b>", parse_mode="HTML")
        assert (await bot.send_message(8, "<b>hi</b>")).text == "<b>hi</b>"
        assert (await bot.send_message(9, "<b>hi</b>", parse_mode="HTML")).text == "hi"
        assert [c.status for c in fake.calls_of("sendMessage")] == [403, 400, 200, 200]


async def test_edits_change_the_message_and_refuse_no_change_like_telegram() -> None:
    async with FakeBotApi() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
        keyboard = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
        sent = await bot.send_message(7, "one", reply_markup=keyboard)
        await bot.edit_message_text("two", 7, sent.message_id, reply_markup=keyboard)
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("two", 7, sent.message_id, reply_markup=keyboard)
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_reply_markup(7, sent.message_id, reply_markup=keyboard)
        await bot.edit_message_reply_markup(7, sent.message_id, reply_markup={"inline_keyboard": []})
        assert fake.messages[(7, sent.message_id)]["text"] == "two"
        assert "reply_markup" not in fake.messages[(7, sent.message_id)]


async def test_sending_into_a_non_forum_thread_is_refused() -> None:
    async with FakeBotApi() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
        with pytest.raises(BadRequest, match=r"(?i)thread not found"):
            await bot.send_message(-100, "hi", message_thread_id=3)


async def test_an_error_in_the_fakes_own_code_fails_the_test_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler bug must not vanish into the connection task (or pass for a dropped client): 500, then a failure."""
    fake = FakeBotApi()

    async def broken(params: dict) -> dict:
        raise KeyError("a bug in the fake")

    monkeypatch.setattr(fake, "_get_me", broken)
    async with httpx.AsyncClient(trust_env=False) as client:
        await fake.start()
        reply = await client.post(f"{fake.base_url}{fake.token}/getMe")
        assert reply.status_code == 500
        assert len(fake.server_errors) == 1
        # A ValueError (which the connection loop used to take for a client hanging up) is caught the same way.
        monkeypatch.setattr(fake, "_get_me", lambda params: (_ for _ in ()).throw(ValueError("bad value")))
        assert (await client.post(f"{fake.base_url}{fake.token}/getMe")).status_code == 500
        assert len(fake.server_errors) == 2
    with pytest.raises(AssertionError, match="a bug in the fake"):
        await fake.__aexit__(None, None, None)
