"""Issue 6, hostile and broken input: loaders, ingest and the Answerer never fail on it, and `qabot ask` prints
an answer or one line.

tests/test_properties.py already holds random bytes in every format, JSON records of any shape, deep HTML, blank
text for the chunker and huge unpunctuated text for the chunker; this adds what it leaves out: files mixing
UTF-8 and Windows-1252, blank and invisible-only documents in every format, huge single lines through the loaders,
deeply nested JSON, hostile documents through a real ingest, hostile questions, and escape sequences.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import BadQuestion
from qabot.ingest import Ingestor
from qabot.models import Answer, Article, Quote, Skip
from qabot.render.text import render_sources, render_terminal
from qabot.sources.files import load_paths, load_text_document
from tests.helpers import CliRun, RunMain

FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # what must never reach a terminal


def assert_verbatim(answerer: Answerer, answer: Answer) -> None:
    quotes = [*answer.quotes, *answer.more]
    articles = answerer.store.articles(q.article_id for q in quotes)
    for q in quotes:
        assert q.text == articles[q.article_id].text[q.start : q.end]


def ask_or_refuse(answerer: Answerer, question: str) -> Answer | None:
    """The answer, or None when ask() refused with BadQuestion's short message: nothing else may come out."""
    try:
        answer = answerer.ask(question)
    except BadQuestion as err:
        refusal = str(err)
    else:
        assert isinstance(answer, Answer)
        assert answer.question.isprintable()
        assert len(answer.question) <= 1000
        assert answer.answer
        assert_verbatim(answerer, answer)
        return answer
    assert refusal == "please ask a question in words"
    return None


# ====================================================================== loaders
# Windows-1252 words that cannot pass for UTF-8: no byte of a UTF-8 lead range is followed by a continuation byte.
LEGACY_WORDS = [
    "café", "naïve", "résumé", "“quoted”", "– dash", "€5", "Ångström", "façade", "Zoë", "déjà vu", "Señor", "½",
    "©2024", "Müller", "straße", "£3", "‘single’", "…",
]  # fmt: skip
utf8_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp"), exclude_characters='"\\'),
    min_size=1,
    max_size=60,
)
legacy_text = st.lists(st.sampled_from(LEGACY_WORDS), min_size=1, max_size=12).map(" ".join)


@FEW
@given(
    parts=st.lists(st.tuples(utf8_text, legacy_text), min_size=1, max_size=4),
    suffix=st.sampled_from([".txt", ".md", ".json"]),
)
def test_a_file_half_utf8_half_windows_1252_reads_right_in_both_halves(
    tmp_path: Path, parts: list[tuple[str, str]], suffix: str
) -> None:
    body = b"\n".join(f"Alpha {u} Omega".encode() + b"\n" + legacy.encode("cp1252") for u, legacy in parts)
    if suffix == ".json":
        data = b'{"title": "Mixed encodings", "text": "' + body.replace(b"\n", b"\\n") + b'"}'
    else:
        data = (b"# " if suffix == ".md" else b"") + b"Mixed encodings\n\n" + body
    f = tmp_path / f"mixed{suffix}"
    f.write_bytes(data)

    [article] = load_paths([f])

    assert isinstance(article, Article), article
    assert article.title == "Mixed encodings"
    for u, legacy in parts:
        assert f"Alpha {u} Omega" in article.text
        assert legacy in article.text


BLANK = " \t\n\r\x0b\x0c\u00a0\u2028\u3000\u200b\u200c\u200d\u2060\ufeff\u00ad"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    blank=st.text(alphabet=BLANK, max_size=40),
    form=st.sampled_from(["txt", "md", "md-titled", "json", "jsonl", "html"]),
)
def test_blank_and_invisible_documents_are_skipped_in_every_format(tmp_path: Path, blank: str, form: str) -> None:
    name, data = {
        "txt": ("blank.txt", blank),
        "md": ("blank.md", blank),
        "md-titled": ("blank.md", f"# A title and nothing else\n{blank}"),
        "json": ("blank.json", json.dumps({"title": "Nothing here", "text": blank})),
        "jsonl": ("blank.jsonl", json.dumps({"title": "Nothing here", "text": blank})),
        "html": ("blank.html", f"<html><head><title>Nothing</title></head><body><p>{blank}</p></body></html>"),
    }[form]
    f = tmp_path / name
    f.write_text(data, encoding="utf-8")
    items = list(load_paths([f])) + load_text_document(name, data.encode("utf-8"))
    assert items
    for item in items:
        assert isinstance(item, Skip), item
        assert item.reason
        assert "\n" not in item.reason


@pytest.mark.parametrize(
    "invisible",
    ["\u2066\u2069", "\u2067 \u2068\u2069", "\u061c\n", "\u200e\u202e\u202c"],
    ids=["isolates", "rtl-and-first-strong-isolates", "arabic-letter-mark", "marks-and-override"],
)
@pytest.mark.parametrize("name", ["blank.txt", "blank.md", "blank.json"])
def test_a_document_of_bidi_isolates_and_marks_alone_is_empty(invisible: str, name: str) -> None:
    data = json.dumps({"title": "Nothing here", "text": invisible}) if name.endswith(".json") else invisible
    [item] = load_text_document(name, data.encode("utf-8"))
    assert isinstance(item, Skip), item
    assert item.reason in {"empty file", "record has no text"}


HUGE = "word " * 1_000_000  # 5 MB on one line


@pytest.mark.parametrize(
    ("name", "data", "length"),
    [
        ("huge.txt", HUGE, len(HUGE.strip())),
        ("huge.md", f"# Title\n\n{HUGE}", len(HUGE.strip())),
        ("huge.json", json.dumps({"title": "Huge", "text": HUGE}), len(HUGE.strip())),
        ("huge.jsonl", json.dumps({"title": "Huge", "text": HUGE}), len(HUGE.strip())),
        ("heading.md", "# " + " \t" * 500_000 + "x\n\nThe body of an article with a very wide heading.", 48),
        ("huge.html", f"<html><body><p>{HUGE[:1_000_000]}</p></body></html>", None),
    ],
)
def test_a_huge_single_line_loads_or_is_skipped(tmp_path: Path, name: str, data: str, length: int | None) -> None:
    f = tmp_path / name
    f.write_text(data, encoding="utf-8")
    [item] = load_paths([f])
    if length is None:  # trafilatura may give up on a 5 MB paragraph: then a reason, not an error
        assert isinstance(item, Article) or "\n" not in item.reason
    else:
        assert isinstance(item, Article), item
        assert len(item.text) == length


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep.jsonl", '{"text": "a line before"}\n' + "[" * 100_000 + "]" * 100_000),
        ("deep-object.json", '{"text": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001),
        ("deep-text.json", '{"title": "x", "text": ' + "[" * 50_000 + '"deep"' + "]" * 50_000 + "}"),
    ],
)
def test_deeply_nested_json_is_skipped_with_a_reason(tmp_path: Path, name: str, data: str) -> None:
    f = tmp_path / name
    f.write_text(data, encoding="utf-8")
    items = list(load_paths([f]))
    skips = [i for i in items if isinstance(i, Skip)]
    assert skips
    assert all("\n" not in s.reason for s in skips)
    assert [i.text for i in items if isinstance(i, Article)] in ([], ["a line before"])


# ====================================================================== hostile documents through a real ingest
PIECES = [
    "The harbour tram line opened on Monday.",
    "قالت الحكومة إن المشروع سيكتمل في عام 2026.",
    "הממשלה אמרה שהפרויקט יושלם בשנת 2026.",
    "東京の新しい駅は月曜日に開業した。",
    "👩‍👩‍👧‍👦🇹🇷✈️🙂",
    "e\u0301\u0301\u0301 combining",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J",
    "<script>alert(1)</script> <b>bold</b> &amp; &#27;",
    "**bold** _it_ `code` [link](https://a.example) # not a heading",
    "\u202eoverride\u202c \u200bzero\u200dwidth",
    "x" * 3000,
    "Mr. U.S. e.g. 2.5% ... … ?! )",
    "\t\t  \n\n",
    "'; DROP TABLE articles; --",
    'NEAR(a b) AND "quoted" OR * NOT ^col:',
]
hostile_text = st.lists(st.sampled_from(PIECES) | st.text(max_size=30), min_size=1, max_size=25).map(" ".join)


@settings(max_examples=12, deadline=None)
@given(text=hostile_text, suffix=st.sampled_from([".txt", ".md", ".json"]))
def test_hostile_documents_ingest_and_are_quoted_verbatim(embedder: Embedder, text: str, suffix: str) -> None:
    data = json.dumps({"title": "Hostile", "text": text}) if suffix == ".json" else f"Hostile\n{text}"
    items = load_text_document(f"hostile{suffix}", data.encode("utf-8", "surrogatepass"))
    articles = [a for a in items if isinstance(a, Article)]
    for article in articles:
        assert not CONTROL.search(article.text + article.title), "control characters are dropped at load"
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(_env_file=None, index_dir=Path(tmp))
        report = Ingestor.from_settings(s, embedder=embedder).ingest_articles(articles)
        assert len(report.added) == len({a.id for a in articles})
        if not articles:
            return
        answerer = Answerer.from_settings(s, embedder=embedder)
        try:
            for article in articles:
                ask_or_refuse(answerer, " ".join(article.text.split()[:8]))
        finally:
            answerer.store.close()


def test_escape_sequences_in_a_document_never_reach_the_terminal(tmp_path: Path, embedder: Embedder) -> None:
    (tmp_path / "esc.md").write_text(
        "# Harbour \x1b[31mtram\x1b[0m opens\n\n"
        "The harbour tram line cost \x1b[2J40 million crowns\x1b]0;owned\x07 and opened on Monday. "
        # (a few escapes in a page of text: more than one character in 50 would make it a binary file)
        + "Trams run every ten minutes between the ferry terminal and the old fish market. "
        * 4,
        encoding="utf-8",
    )
    (tmp_path / "esc.json").write_text(
        json.dumps({"title": "Ferry \x1b[5mnews", "text": "The island ferry sails \x9b2J twice a day from March."})
    )
    articles = [a for a in load_paths([tmp_path]) if isinstance(a, Article)]
    assert len(articles) == 2
    s = Settings(_env_file=None, index_dir=tmp_path / "index")
    Ingestor.from_settings(s, embedder=embedder).ingest_articles(articles)
    answerer = Answerer.from_settings(s, embedder=embedder)
    try:
        for question, needle in (
            ("What did the harbour tram line cost?", "40 million crowns"),
            ("How often does the island ferry sail?", "twice a day"),
        ):
            answer = answerer.ask(question)
            shown = render_terminal(answer)
            assert needle in shown
            assert not CONTROL.search(shown)
            for left in ("[2J", "0;owned", "[5m"):  # the rest of a sequence goes with its ESC, at load
                assert left not in shown
            assert_verbatim(answerer, answer)
    finally:
        answerer.store.close()


# ====================================================================== hostile questions
F35 = "why was Turkey removed from the F-35 program?"
SAME, ANY, REFUSED = "answered like the plain question", "answer or refusal", "refused"
# Words the index has never seen ("31m", "script", "DROP") make the Answerer decline rather than guess: a fair
# answer too, so these may decline, but must not quote anything else.
SAME_OR_DECLINED = "answered like the plain question, or declined"
QUESTIONS = {
    "ANSI colours": (f"\x1b[31m{F35}\x1b[0m", SAME_OR_DECLINED),
    "bare escape and bell": (f"\x1b{F35}\x07", SAME),
    "NUL inside": (F35.replace("Turkey", "Turkey\x00"), SAME),
    "HTML": (f"<b>{F35}</b>", SAME),
    "HTML script": (f"<script>alert('x')</script>{F35}", SAME_OR_DECLINED),
    "Markdown": ("**Why** was _Turkey_ removed from the `F-35` program? [see](https://x.example)", SAME),
    "line breaks": ("why was Turkey\nremoved from\tthe F-35\r\nprogram?", SAME),
    "bidi override": (f"\u202e{F35}\u202c", SAME),
    "emoji around": (f"🇹🇷✈️ {F35} 🤔", SAME),
    "lone surrogates": (f"\udcff{F35}\udcfe", SAME),
    "SQL": (f"'; DROP TABLE articles; -- {F35}", SAME_OR_DECLINED),
    "FTS syntax": ('F-35 AND "Turkey" OR NEAR(a b) NOT * ^col: "', ANY),
    "Arabic": ("لماذا تم استبعاد تركيا من برنامج طائرات F-35؟", ANY),
    "Hebrew": ("מדוע הוצאה טורקיה מתוכנית ה-F-35?", ANY),
    "10,000 characters of Arabic": (("لماذا تركيا " * 1000)[:10_000], ANY),
    "10,000 characters of one word": ("a" * 10_000, ANY),
    "escape codes only": ("\x1b[31m\x1b[0m", REFUSED),
    "10,000 emoji": ("🙂" * 10_000, REFUSED),
    "zero-width only": ("\u200b\u200c\u200d\u2060\ufeff", REFUSED),
    "combining marks only": ("\u0301\u0308\u0327", REFUSED),
    "control characters only": ("\x07\x08\x1b\x7f\x9b", REFUSED),
    "empty": ("", REFUSED),
    "whitespace": (" \t\n\u3000 ", REFUSED),
}


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_hostile_question_gets_an_answer_or_a_short_refusal(answerer: Answerer, name: str) -> None:
    question, expect = QUESTIONS[name]
    result = ask_or_refuse(answerer, question)
    if expect == REFUSED:
        assert result is None
    elif expect in (SAME, SAME_OR_DECLINED):
        assert isinstance(result, Answer)
        if expect == SAME:
            assert not result.abstained
        assert result.abstained or result.quotes[0].article_id == "sample-turkey-f35"


@settings(max_examples=40, deadline=None)
@given(question=st.text(max_size=300))
def test_any_question_gets_an_answer_or_a_short_refusal(answerer: Answerer, question: str) -> None:
    ask_or_refuse(answerer, question)


@pytest.fixture
def run_main(run_main: RunMain, sample_index: Path) -> RunMain:
    """`qabot --index SAMPLES ARGS` in this process, with ``stdin`` as its standard input."""

    def run(*args: str, stdin: str = "") -> CliRun:
        return run_main("--index", str(sample_index), *args, stdin=stdin)

    return run


@pytest.mark.parametrize("name", [n for n, (_, expect) in QUESTIONS.items() if expect == REFUSED])
def test_cli_refuses_a_question_without_words_in_one_line(run_main: RunMain, name: str) -> None:
    code, out, err = run_main("ask", QUESTIONS[name][0])
    assert code == 1
    assert out == ""
    assert err == "Error: please ask a question in words\n"


def test_cli_answers_hostile_questions_without_echoing_escapes(run_main: RunMain) -> None:
    code, out, err = run_main("ask", QUESTIONS["bare escape and bell"][0])
    assert code == 0, err
    assert "S-400" in out
    assert not CONTROL.search(out)


def test_cli_jsonl_answers_every_hostile_question_on_its_own_line(run_main: RunMain) -> None:
    names = list(QUESTIONS)
    lines = [json.dumps({"id": name, "question": QUESTIONS[name][0]}) for name in names]
    code, out, err = run_main("ask", "--jsonl", stdin="\n".join(lines) + "\n")
    assert code == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in results] == names
    for result in results:
        _, expect = QUESTIONS[result["id"]]
        if expect == REFUSED:
            assert result["error"] == "please ask a question in words"
        else:
            assert "error" not in result
            assert isinstance(result["abstained"], bool)
            if expect == SAME:
                assert not result["abstained"]
            if expect in (SAME, SAME_OR_DECLINED) and not result["abstained"]:
                assert result["quotes"][0]["article_id"] == "sample-turkey-f35"
    assert not CONTROL.search(out)


def test_escape_sequences_in_titles_links_and_notes_never_reach_the_terminal() -> None:
    """Feeds and web pages supply titles, outlets and links: every line the terminal prints is cleaned."""
    evil = "\x1b]0;owned\x07Harbour\x1b[2J"
    quote = Quote(
        text="The tram runs every ten minutes.", article_id="a", title=evil, url=f"https://x.example/{evil}",
        published="2025-04-01", source=evil, start=0, end=32, score=0.9, also_reported_by=(evil,),
    )  # fmt: skip
    answer = Answer("How often?", False, "", (quote,), note=f"Sources differ: {evil}.")
    article = Article(id="a", title=evil, text="The tram runs every ten minutes.", url=f"https://x.example/{evil}")
    for shown in (render_terminal(answer), render_sources([article])):
        assert "Harbour" in shown
        assert not CONTROL.search(shown), repr(shown)
