"""Hostile input through the bot: odd questions get an answer or a short "ask me in words", never an error; article
text that looks like markup or links arrives as plain, escaped text, and the only links are the source links.
"""

from __future__ import annotations

import html
import logging
import re

import pytest

from qabot.config import Settings
from qabot.models import Article
from qabot.render import telegram as th
from qabot.render.common import DECLINE_TEXT
from tests.fakes.telegram_api import Call, FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import quotes_in, running_bot, visible

ANN = user(777, "Ann")
F35_ANSWER = "Washington removed Turkey from the F-35 programme in 2019"
F35 = "Why was Turkey removed from the F-35 programme?"
ASK_IN_WORDS = "please ask a question in words"
EMPTY = html.unescape(re.sub(r"<[^>]+>", "", th.EMPTY_QUESTION))  # what the user sees of it


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("   \n\t ", EMPTY, id="only-whitespace"),
        pytest.param("🤔🤔🤔 🙏", ASK_IN_WORDS, id="only-emoji"),
        pytest.param("?!… —", ASK_IN_WORDS, id="only-punctuation"),
        pytest.param("\u200b\u200d\u2060", ASK_IN_WORDS, id="only-invisible-characters"),
        pytest.param("\x00\x01Why was\x07 Turkey removed\x1b from the F-35 programme?\x7f", F35_ANSWER, id="controls"),
        pytest.param(f"\x1b[31m{F35}\x1b[0m", None, id="terminal-escapes"),
        pytest.param(f"<b>{F35}</b> &amp; &lt;", F35_ANSWER, id="html"),
        pytest.param("<script>alert('x')</script><img src=x onerror=alert(1)>", None, id="html-only"),
        pytest.param(f"**{F35}** _now_ `code` [link](http://evil.example)", F35_ANSWER, id="markdown"),
        pytest.param(f"\u202e{F35}\u202c", F35_ANSWER, id="bidi-override"),
        pytest.param("لماذا أزيلت تركيا من برنامج إف-35؟", None, id="right-to-left-arabic"),
        pytest.param("מדוע הוצאה טורקיה מתוכנית ה-F-35?", None, id="right-to-left-hebrew"),
        pytest.param((F35 + " ") * 210, F35_ANSWER, id="ten-thousand-characters"),
        pytest.param("x" * 10_000, None, id="ten-thousand-letters"),
    ],
)
async def test_odd_questions_get_an_answer_or_a_short_nudge_never_an_error(
    fake: FakeBotApi,
    bot_settings: Settings,
    answerer: object,
    caplog: pytest.LogCaptureFixture,
    text: str,
    expected: str | None,
) -> None:
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.send_text(private_chat(ANN), ANN, text)
        await fake.wait_for_call("sendMessage")
        await bot.settle()

    [reply] = fake.sent()  # exactly one message, and the fake accepted its HTML
    shown = visible(reply)
    assert shown != th.SOMETHING_WRONG
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    if expected is None:  # no fixed answer: any real answer or the plain "not in the articles" line
        assert shown == DECLINE_TEXT or quotes_in(reply)
    elif expected in (EMPTY, ASK_IN_WORDS):
        assert shown == expected
    else:
        assert expected in shown
    assert "<script>" not in reply.params["text"]
    assert "evil.example" not in reply.params["text"]  # the question is never echoed back as a link


@pytest.mark.parametrize("text", ["@QA_Test_Bot", "@qa_test_bot ,  ", "  @QA_TEST_BOT — "])
async def test_a_bare_mention_in_a_group_gets_a_nudge(
    fake: FakeBotApi, bot_settings: Settings, answerer: object, text: str
) -> None:
    group = group_chat(-1001, forum=True)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        question = fake.send_text(group, ANN, text, thread_id=4)
        await fake.wait_for_call("sendMessage")
        await bot.settle()

    [reply] = fake.sent()
    assert visible(reply) == EMPTY
    assert reply.params["message_thread_id"] == 4
    assert reply.params["reply_parameters"]["message_id"] == question["message_id"]


# ---------------------------------------------------------------- articles that look like markup or links

PHISHING = Article(
    id="phishing",
    title='Bank warns of [login](http://evil.example) pages <a href="http://evil">here</a> *now*',
    text=(
        "Harbourtown Savings Bank warned its customers on Tuesday about fake login pages such as "
        '[bank](http://evil.example) and <a href="http://evil">secure login</a> that steal passwords. '
        "The fake address http://gооgle.com uses Cyrillic letters that look exactly like Latin ones, the bank said. "
        "Messages that say *urgent* or __verify now__, or that contain `code`, tg://user?id=1 or @HarbourBankHelp, "
        "are scams, the bank added, and customers should report them at the branch."
    ),
    url="https://news.example/bank-phishing?a=1&b=2",
    published="2025-06-03",
    source="Harbour <News> & Co",
)
PRINT_ONLY = Article(
    id="print-only",
    title="Bank security chief: we never ask for passwords",
    text=(
        "Harbourtown Savings Bank will never ask customers for a password by phone, its security chief said in an "
        "interview, warning about lookalike web addresses such as http://paypa1.example and https://xn--80ak6aa92e.com "
        "that imitate the bank's own login page."
    ),
    url=None,
    published="2025-06-04",
    source="Harbour Gazette print edition",
)
ARCHIVED = Article(
    id="archived",
    title="Bank phishing wave of 2019",
    text=(
        "In 2019 a wave of fake login pages hit Harbourtown Savings Bank customers, who lost passwords to a site "
        "at <b>bank-login</b>.example that copied the bank's colours."
    ),
    url="ftp://archive.example/bank-2019.txt",
    published="2019-05-01",
    source="Archive",
)
ARTICLES = (PHISHING, PRINT_ONLY, ARCHIVED)
_SOURCE_LINE = re.compile(r"^\[\d+\] (.*)$", re.M)


@pytest.fixture(scope="module")
def phishing_answerer(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> object:
    """A real Answerer over articles whose text and titles look like Markdown, HTML, links and mentions."""
    from qabot.answer import Answerer
    from qabot.ingest import Ingestor

    settings = Settings(_env_file=None, index_dir=tmp_path_factory.mktemp("phishing"), max_articles=3)
    Ingestor.from_settings(settings, embedder=embedder).ingest_articles(ARTICLES)
    return Answerer.from_settings(settings, embedder=embedder)


def _cited(reply: Call) -> list[Article]:
    lines = _SOURCE_LINE.findall(visible(reply))
    cited = [a for line in lines for a in ARTICLES if line.startswith(a.title)]
    assert len(cited) == len(lines)
    return cited


async def test_article_markup_and_lookalike_links_are_shown_as_text_with_no_extra_links(
    fake: FakeBotApi, bot_settings: Settings, phishing_answerer: object
) -> None:
    questions = [
        "What did Harbourtown Savings Bank warn its customers about?",
        "Which fake address uses Cyrillic letters?",
        "Does Harbourtown Savings Bank ask for passwords by phone?",
        "What happened to Harbourtown Savings Bank customers in 2019?",
    ]
    async with running_bot(fake, bot_settings(), phishing_answerer) as bot:
        for n, question in enumerate(questions, start=1):
            fake.send_text(private_chat(ANN), ANN, question)
            await fake.wait_for_call("sendMessage", n)
        await bot.settle()

    replies = fake.sent()
    assert len(replies) == len(questions)
    cited = [a.id for reply in replies for a in _cited(reply)]
    assert set(cited) == {a.id for a in ARTICLES}  # every kind of source was shown at least once
    for reply in replies:
        markup = reply.params["text"]
        web_sources = [a for a in _cited(reply) if a.url and a.url.startswith(("http://", "https://"))]
        hrefs = re.findall(r'<a href="([^"]*)"', markup)
        assert markup.count("<a ") == len(hrefs) == len(web_sources)
        assert all(html.unescape(h).startswith(PHISHING.url + "#:~:text=") for h in hrefs)
        for quote in quotes_in(reply):  # verbatim: the fake parsed the HTML back to exactly the article's text
            assert any(quote in a.text for a in ARTICLES)
    shown = "\n".join(visible(r) for r in replies)
    for literal in (
        "[bank](http://evil.example)",
        '<a href="http://evil">secure login</a>',
        "http://gооgle.com",
        "<b>bank-login</b>.example",
        "*urgent* or __verify now__",
        PHISHING.title,
        "Harbour <News> & Co",
        "Bank phishing wave of 2019 · Archive · 2019-05-01\nftp://archive.example/bank-2019.txt",  # not a link
    ):
        assert literal in shown
