"""Telegram HTML rendering without a network: every message must pass the fake's Telegram-like parser and fit."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qabot.models import Answer, Article, IndexStats, Quote
from qabot.render import telegram as th
from qabot.render.common import DECLINE_TEXT, group_quotes
from tests.fakes.telegram_api import check_html, utf16_len


def _quote(text: str, **fields: object) -> Quote:
    values: dict[str, object] = {
        "text": text,
        "article_id": "a1",
        "title": "Turkey hopes to rejoin the F-35 programme",
        "url": "https://news.example/f35",
        "published": "2025-03-27T10:00:00Z",
        "source": "Example News",
        "start": 0,
        "end": len(text),
        "score": 0.8,
    }
    values.update(fields)
    return Quote(**values)  # type: ignore[arg-type]


def _answer(*quotes: Quote) -> Answer:
    return Answer(question="q?", abstained=False, answer="plain text form", quotes=quotes)


def _shown(messages: list[str]) -> list[str]:
    """What Telegram would display for each message, after checking it parses and fits."""
    out = []
    for message in messages:
        text = check_html(message)
        assert utf16_len(text) <= th.MAX_MESSAGE
        out.append(text)
    return out


def test_abstained_answer_is_one_plain_line() -> None:
    declined = Answer(question="q?", abstained=True, answer="The articles don't answer this question.", quotes=())
    assert th.render_answer_html(declined) == [DECLINE_TEXT]
    assert "\n" not in DECLINE_TEXT
    german = Answer("Warum?", True, "Ich verstehe nur Fragen auf Englisch.", (), declined_because="language:de")
    assert th.render_answer_html(german) == ["Ich verstehe nur Fragen auf Englisch."]  # the answerer's own line


def test_answer_shows_each_quote_with_a_numbered_linked_source() -> None:
    first = _quote("First passage.")
    second = _quote("Second passage.", article_id="a2", source=None, also_reported_by=("Other Daily", "The Wire"))
    [message] = th.render_answer_html(_answer(first, second))
    link1 = html.escape(first.link or "", quote=True)
    link2 = html.escape(second.link or "", quote=True)
    assert link1.startswith("https://news.example/f35#:~:text=First")  # opens the page at the quoted sentence
    assert message == (
        "<blockquote>First passage.</blockquote>\n"
        f'<b>[1]</b> <a href="{link1}">Turkey hopes to rejoin the F-35 programme</a> · Example News · 2025-03-27\n\n'
        "<blockquote expandable>Second passage.</blockquote>\n"
        f'<b>[2]</b> <a href="{link2}">Turkey hopes to rejoin the F-35 programme</a> · news.example · 2025-03-27\n'
        "also reported by Other Daily, The Wire"
    )
    assert "plain text form" not in message  # Answer.answer repeats the quotes in plain text: not shown twice


def test_passages_from_one_article_share_its_source_line_and_the_note_comes_first() -> None:
    answer = Answer(
        question="q?",
        abstained=False,
        answer="",
        quotes=(_quote("One."), _quote("Two."), _quote("Three.", article_id="b")),
        note="As of 2025-03-27 <old> & maybe stale",
    )
    [shown] = _shown(th.render_answer_html(answer))
    assert shown.startswith("As of 2025-03-27 <old> & maybe stale\n\nOne.\n\nTwo.\n[1] ")
    assert re.findall(r"^\[(\d+)\] ", shown, re.M) == ["1", "2"]
    assert len(group_quotes(answer.quotes)) == 2


def test_every_piece_of_text_is_escaped() -> None:
    quote = _quote(
        "Profits rose 3 < 5 & <script>alert(1)</script> said nobody.",
        title="Q&A: <b>not bold</b>",
        source="A&B <News>",
        url='https://e.example/a?x=1&y="2"><script>',
        published="<soon>",
    )
    [message] = th.render_answer_html(_answer(quote))
    [shown] = _shown([message])
    assert shown == (
        "Profits rose 3 < 5 & <script>alert(1)</script> said nobody.\n[1] Q&A: <b>not bold</b> · A&B <News> · <soon>"
    )
    assert 'href="https://e.example/a?x=1&amp;y=&quot;2&quot;&gt;&lt;script&gt;#:~:text=' in message


def test_only_web_links_become_links() -> None:
    for url in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>", "https:///no-host"):
        [message] = th.render_answer_html(_answer(_quote("Text.", url=url)))
        assert "<a " not in message
        assert url in _shown([message])[0]
    [message] = th.render_answer_html(_answer(_quote("Text.", url=None)))
    assert "<a " not in message


def test_the_first_quote_shows_in_full_the_rest_collapse_and_numbering_can_continue() -> None:
    long, short = _quote("Long one. " * 30), _quote("Short one.", article_id="a2")
    shown_before = [_quote("Before.", article_id=f"b{i}") for i in range(3)]
    [message] = th.render_answer_html(_answer(long, short, _quote("Third.", article_id="a3")), before=shown_before)
    assert re.findall(r"<blockquote[^>]*>", message) == ["<blockquote>", *["<blockquote expandable>"] * 2]
    assert message.index("Long one.") < message.index("<blockquote expandable>")
    assert re.findall(r"<b>\[(\d+)\]</b>", message) == ["4", "5", "6"]
    [again] = th.render_quotes_html([short], before=[short, *shown_before])
    assert re.findall(r"<b>\[(\d+)\]</b>", again) == ["1"]  # an article already shown keeps its number


def test_many_quotes_are_split_between_whole_blocks() -> None:
    quotes = [_quote(f"Passage {i}. " + "word " * 150, article_id=f"a{i}") for i in range(12)]
    messages = th.render_answer_html(_answer(*quotes))
    shown = _shown(messages)
    assert len(messages) > 1
    assert all(m.count("<blockquote") == m.count("</blockquote>") for m in messages)
    numbers = [int(n) for text in shown for n in re.findall(r"^\[(\d+)\] ", text, re.M)]
    assert numbers == list(range(1, 13))
    # Each quote stays whole, in one message.
    assert sum(q.text.strip() in text for q in quotes for text in shown) == len(quotes)


def test_an_oversized_quote_is_cut_at_sentences_and_rewrapped() -> None:
    text = " ".join(f"Sentence number {i} says something long enough to matter here." for i in range(200))
    messages = th.render_answer_html(_answer(_quote(text)))
    shown = _shown(messages)
    assert len(messages) >= 3
    pieces = [p for m in messages for p in re.findall(r"<blockquote[^>]*>(.*?)</blockquote>", m, re.S)]
    assert all(p.endswith("matter here.") for p in pieces)  # cut after a full stop, never mid-sentence
    assert " ".join(pieces) == text
    assert shown[-1].endswith("Example News · 2025-03-27")


def test_budget_is_counted_in_utf16_units() -> None:
    emoji = "😀" * 3000  # 3000 characters, 6000 UTF-16 units
    messages = th.render_answer_html(_answer(_quote(emoji)))
    shown = _shown(messages)
    assert len(messages) == 2
    assert "".join(re.sub(r"\n\[1\] .*", "", s) for s in shown) == emoji


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.text(alphabet=st.sampled_from("ab <>&\"'.!? \n😀é"), min_size=1, max_size=3000).filter(str.strip),
        min_size=1,
        max_size=6,
    ),
    title=st.text(alphabet=st.sampled_from("T<>&\"' 😀"), max_size=40),
)
def test_any_quotes_render_to_messages_telegram_accepts(texts: list[str], title: str) -> None:
    messages = th.render_answer_html(_answer(*(_quote(t, title=title) for t in texts)))
    shown = _shown(messages)
    joined = "".join(shown)
    for t in texts:
        # Pieces may be cut at whitespace, but no visible character of a quote is lost.
        assert "".join(t.split()) in "".join(joined.split())


def test_command_texts_parse_and_say_what_the_bot_knows() -> None:
    stats = IndexStats(
        articles=11, chunks=29, model="m<&>", dimension=384, size_bytes=1, newest="2025-10-20", path="/x"
    )
    start = check_html(th.start_html(stats, "QA_Test_Bot"))
    assert "I know 11 articles, the newest from 2025-10-20." in start
    assert "@QA_Test_Bot" in start
    assert "/ask@QA_Test_Bot" in check_html(th.help_html("QA_Test_Bot"))
    assert "m<&>" in check_html(th.stats_html(stats))
    one = IndexStats(articles=1, chunks=1, model="m", dimension=1, size_bytes=1, newest=None, path="/x")
    assert "I know 1 article." in check_html(th.start_html(one, None))
    check_html(th.EMPTY_QUESTION)


def test_sources_list_is_escaped_and_fits_one_message() -> None:
    articles = [
        Article(
            id=str(i),
            title=f"Title <{i}> & co " + "x" * 80,
            text="t",
            url=f"https://e.example/{i}?a=1&b=2",
            published="2025-01-02",
            source="S&P",
        )
        for i in range(200)
    ]
    shown = check_html(th.sources_html(articles))
    assert shown.startswith("Most recent articles\n[1] Title <0> & co")
    assert utf16_len(shown) <= th.MAX_MESSAGE
    assert check_html(th.sources_html([])) == "I have no articles yet."
