"""The optional LLM summary (issue #18): the claim check sentence by sentence, the client over real HTTP against a
fake OpenAI-compatible server, and `qabot ask --json` and the REPL end to end with the real model over the samples.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.claimcheck import check_reply, check_sentence, is_refusal, split_sentences
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import ConfigError
from qabot.models import Answer, Dropped, Quote, Synthesis
from qabot.render.common import DECLINE_TEXT, SUMMARY_LABEL
from qabot.render.telegram import render_answer_html
from qabot.render.text import render_terminal
from qabot.repl import run_repl
from qabot.synthesis import ChatClient, Synthesizer, endpoint
from tests.fakes.llm_server import (
    FakeLlm,
    Scripted,
    citing_missing_quote,
    faithful,
    with_changed_figure,
    with_invented_name,
)
from tests.helpers import clean_env, run_qabot

QUOTES = [
    "Washington removed Turkey from the F-35 programme in 2019 after Ankara took delivery of the Russian S-400 system.",
    "Turnout reached 87 per cent, the highest since September 2015, the electoral board said on Tuesday.",
    "The contract was worth $1.2bn, and 1,450 workers at the Brindlewick plant will build the packs.",
]
F35 = "Why was Turkey removed from the F-35 programme?"
API_KEY = "sk-test-0123456789abcdef"


def kept(reply: str) -> str:
    return check_reply(reply, QUOTES).text


def why(sentence: str, **limits: float) -> str | None:
    return check_sentence(sentence, QUOTES, **limits)[1]  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ the check, pure
def test_a_faithful_sentence_is_kept_with_its_citations() -> None:
    reply = "Turkey was removed from the F-35 programme in 2019 after taking delivery of the Russian S-400 [1]."
    synthesis = check_reply(reply, QUOTES)
    assert synthesis == Synthesis(reply, (1,), ())


def test_an_invented_number_is_dropped_and_says_which() -> None:
    assert why("Turkey was removed from the F-35 programme in 2018 [1].") == "2018 is not in [1]"
    assert why("Turnout reached 85 per cent [2].") == "85 per cent is not in [2]"


def test_87_percent_changed_to_85_percent_is_dropped_but_the_same_figure_spelt_otherwise_is_kept() -> None:
    assert why("Turnout reached 85% [2].") == "85% is not in [2]"
    assert why("Turnout reached 87% [2].") is None  # the quote says "87 per cent"
    assert why("Turnout reached 87 percent, the highest since September 2015 [2].") is None


def test_thousands_separators_scales_and_currency_words_are_normalised() -> None:
    assert why("The contract was worth 1.2 billion dollars, with 1450 workers building the packs [3].") is None
    assert why("The contract was worth $1.2 million [3].") == "1.2 million is not in [3]"
    assert why("About 1,540 workers will build the packs [3].") == "1540 is not in [3]"


def test_months_match_by_name_or_abbreviation_and_a_changed_month_is_dropped() -> None:
    assert why("Turnout reached 87% [2], the highest since Sept. 2015.") is None
    assert why("Turnout reached 87%, the highest since October 2015 [2].") == "October is not in [2]"


def test_a_citation_of_a_fourth_quote_when_there_are_three_is_dropped() -> None:
    assert why("Turkey was removed from the F-35 programme [4].") == "cites [4] but there are 3 quotes"


def test_a_name_from_no_quote_is_dropped_even_when_the_rest_is_faithful() -> None:
    assert why("Turkey was removed from the F-35 programme, Lindsey Graham said [1].") == "Lindsey is not in [1]"
    assert why("Erdogan said Turkey was removed from the F-35 programme [1].") == "Erdogan is not in [1]"


def test_a_fact_from_another_quote_than_the_one_cited_is_dropped() -> None:
    assert why("Turnout reached 87 per cent [1].") == "87 per cent is not in [1]"
    assert why("Turnout reached 87 per cent [1][2].") is None


def test_a_claim_the_quotes_do_not_make_is_dropped_for_its_words() -> None:
    added = why("Turkey was removed from the F-35 programme in 2019, prompting calls for an independent inquiry [1].")
    assert added == "“prompting calls independent inquiry” is not in [1]"
    assert why("Turkey was stripped of the F-35 programme in 2019 [1].") is None  # one word paraphrased
    mostly_new = "Turkey was expelled from the F-35 programme, chiefly because Ankara bought Russian weapons [1]."
    assert why(mostly_new) is None
    assert why(mostly_new, min_support=0.8) == "only 50% of its words are in [1]"  # half passes at 0.5


def test_a_sentence_without_markers_is_dropped() -> None:
    assert why("Turkey was removed from the F-35 programme in 2019.") == "cites no quote"


def test_sentences_are_split_with_their_markers_wherever_the_model_puts_them() -> None:
    reply = "Turkey was removed in 2019. [1] Turnout reached 87% [2]. Mr. Quince disagrees [1, 3]. U.S. Steel too [3]"
    assert split_sentences(reply) == [
        "Turkey was removed in 2019. [1]",
        "Turnout reached 87% [2].",
        "Mr. Quince disagrees [1][3].",
        "U.S. Steel too [3]",
    ]


def test_a_reasoning_model_s_thinking_and_a_leading_label_are_not_part_of_the_summary() -> None:
    reply = "<think>The user asks about Turkey. Quote 1 says 2018? No.</think>\nSummary: Turkey left in 2019 [1]."
    assert split_sentences(reply) == ["Turkey left in 2019 [1]."]
    assert not is_refusal("<think>maybe the quotes do not answer</think> Turkey was removed in 2019 [1].")


def test_a_reply_with_one_good_and_one_bad_sentence_keeps_the_good_one_only() -> None:
    synthesis = check_reply("Turkey was removed from the F-35 programme in 2019 [1]. Turnout was 91% [2].", QUOTES)
    assert synthesis.text == "Turkey was removed from the F-35 programme in 2019 [1]."
    assert synthesis.citations == (1,)
    assert synthesis.dropped == (Dropped("Turnout was 91% [2].", "91% is not in [2]"),)


def test_at_most_two_sentences_are_kept() -> None:
    one = "Turkey was removed from the F-35 programme [1]."
    synthesis = check_reply(f"{one} {one} {one}", QUOTES)
    assert synthesis.text == f"{one} {one}"
    assert [d.why for d in synthesis.dropped] == ["more than the 2 sentences asked for"]


def test_refusals_are_recognised_but_a_cited_negative_is_not_one() -> None:
    assert is_refusal("NOT ANSWERED")
    assert is_refusal("The quotes do not say why Turkey was removed.")
    assert is_refusal("There is not enough information in the quotes.")
    assert not is_refusal("The ministry did not say how much the programme cost [1].")


def test_citations_are_renumbered_to_the_sources_a_front_end_shows() -> None:
    synthesis = Synthesis("A [1][2]. B [3]. C [7].", (1, 2, 3))
    assert synthesis.cited_as([1, 1, 2]) == "A [1]. B [2]. C [7]."  # a number it can't map is left as it is


def test_front_ends_number_citations_as_the_sources_they_show_and_escape_the_model_text() -> None:
    base = _answer()
    a, b, c = base.quotes
    quotes = (a, replace(b, article_id=a.article_id), c)  # quotes 1 and 2 come from one article: source 1
    summary = Synthesis("Turkey <b>left</b> [1][2]. Turnout rose [3].", (1, 2, 3))
    answer = replace(base, quotes=quotes, synthesis=summary)

    terminal = render_terminal(answer)
    (html,) = render_answer_html(answer)
    assert terminal.startswith(f"{SUMMARY_LABEL}\nTurkey <b>left</b> [1]. Turnout rose [2].\n\n  │ “")
    assert html.startswith(f"<i>{SUMMARY_LABEL}</i>\nTurkey &lt;b&gt;left&lt;/b&gt; [1]. Turnout rose [2].\n\n")
    assert SUMMARY_LABEL not in render_terminal(replace(answer, synthesis=Synthesis("", (), ())))


def test_the_endpoint_is_found_from_a_root_a_v1_or_the_full_url() -> None:
    assert endpoint("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1/chat/completions"
    assert endpoint("http://127.0.0.1:11434/v1/") == "http://127.0.0.1:11434/v1/chat/completions"
    assert endpoint("https://llm.example/v1/chat/completions") == "https://llm.example/v1/chat/completions"
    with pytest.raises(ConfigError, match="QABOT_LLM_URL"):
        endpoint("127.0.0.1:8080")


# ------------------------------------------------------------------------------------------ over HTTP
@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    with FakeLlm() as server:
        yield server


def _answer(question: str = F35, n: int = 3) -> Answer:
    quotes = tuple(
        Quote(text, f"a{i}", f"Title {i}", f"https://news.invalid/{i}", "2025-03-27", "Herald", 0, len(text), 0.8)
        for i, text in enumerate(QUOTES[:n])
    )
    return Answer(question, False, "the quotes", quotes, {"total": 1.0})


def _synthesizer(llm: FakeLlm, *, timeout: float = 5.0, decline: bool = False) -> Synthesizer:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm_url=llm.url,
        llm_model="tiny-model",
        llm_api_key=API_KEY,
        llm_timeout_seconds=timeout,
        llm_decline_on_refusal=decline,
    )
    synthesizer = Synthesizer.from_settings(settings)
    assert synthesizer is not None
    return synthesizer


def test_without_the_setting_there_is_no_synthesizer() -> None:
    assert Synthesizer.from_settings(Settings(_env_file=None)) is None  # type: ignore[call-arg]


def test_the_llm_sees_only_the_question_and_the_numbered_quotes(llm: FakeLlm) -> None:
    llm.script(Scripted(faithful))
    answer = _synthesizer(llm).add_to(_answer(), decline_text=DECLINE_TEXT)

    (request,) = llm.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.body["model"] == "tiny-model"
    assert request.user_message == f"Question: {F35}\n\nQuotes:\n" + "\n".join(
        f"[{i}] {q}" for i, q in enumerate(QUOTES, 1)
    )
    assert "Title 0" not in json.dumps(request.body)
    assert "news.invalid" not in json.dumps(request.body)
    assert answer.synthesis is not None
    assert answer.synthesis.text == faithful(QUOTES)
    assert answer.quotes == _answer().quotes
    assert answer.timings_ms["synthesis"] > 0


@pytest.mark.parametrize(
    ("reply", "dropped_because"),
    [
        (Scripted(with_changed_figure), "36 is not in [1]"),
        (Scripted("Turnout reached 85% [2]."), "85% is not in [2]"),
        (Scripted(citing_missing_quote), "cites [4] but there are 3 quotes"),
        (Scripted(with_invented_name), "Bartholomew is not in [1]"),
    ],
    ids=["invented-number", "87-to-85", "fourth-of-three", "unknown-name"],
)
def test_a_wrong_sentence_from_the_server_is_dropped_and_no_summary_shown(
    llm: FakeLlm, reply: Scripted, dropped_because: str
) -> None:
    llm.script(reply)
    answer = _synthesizer(llm).add_to(_answer(), decline_text=DECLINE_TEXT)
    assert answer.synthesis is not None
    assert answer.synthesis.text == ""
    assert [d.why for d in answer.synthesis.dropped] == [dropped_because]
    assert answer.quotes == _answer().quotes
    assert render_terminal(answer) == render_terminal(_answer())  # nothing shown


@pytest.mark.parametrize(
    ("reply", "logged"),
    [
        (Scripted(""), "empty reply"),
        (Scripted("late [1].", delay=3.0), "no reply within 0.5 s"),
        (Scripted(status=500, body=b'{"error": "out of memory"}'), "HTTP 500"),
        (Scripted(body=b"<html>this is not json"), "malformed JSON reply"),
        (Scripted(body=b'{"choices": []}'), "malformed JSON reply"),
        (Scripted(body=b'{"choices": [{"message": {"content": 42}}]}'), "malformed JSON reply"),
    ],
    ids=["empty", "slow", "500", "garbage", "no-choices", "not-text"],
)
def test_a_failing_server_gives_the_plain_answer_and_one_log_line(
    llm: FakeLlm, reply: Scripted, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    llm.script(reply)
    caplog.set_level(logging.INFO, logger="qabot")
    started = time.monotonic()
    answer = _synthesizer(llm, timeout=0.5).add_to(_answer(), decline_text=DECLINE_TEXT)

    assert time.monotonic() - started < 2.5
    assert answer == _answer()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("qabot")]
    assert lines == [f"LLM summary skipped: {logged}"]
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


def test_a_refused_connection_gives_the_plain_answer_and_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with FakeLlm() as gone:
        synthesizer = _synthesizer(gone)
    caplog.set_level(logging.INFO, logger="qabot")
    assert synthesizer.add_to(_answer(), decline_text=DECLINE_TEXT) == _answer()
    (line,) = [r.getMessage() for r in caplog.records if r.name.startswith("qabot")]
    assert line.startswith("LLM summary skipped: ConnectError")
    assert API_KEY not in caplog.text


def test_a_declined_answer_never_reaches_the_llm(llm: FakeLlm) -> None:
    declined = Answer(F35, True, DECLINE_TEXT, (), {})
    assert _synthesizer(llm).add_to(declined, decline_text=DECLINE_TEXT) is declined
    assert llm.requests == []


def test_a_refusal_drops_the_summary_and_declines_only_when_the_setting_says_so(llm: FakeLlm) -> None:
    llm.script("NOT ANSWERED", "The quotes do not answer this question.")
    kept_quotes = _synthesizer(llm).add_to(_answer(), decline_text=DECLINE_TEXT)
    declined = _synthesizer(llm, decline=True).add_to(_answer(), decline_text=DECLINE_TEXT)

    assert kept_quotes.synthesis is None
    assert kept_quotes.quotes == _answer().quotes
    assert not kept_quotes.abstained
    assert declined.abstained
    assert declined.quotes == ()
    assert declined.answer == DECLINE_TEXT


def test_the_client_never_waits_past_its_deadline_for_a_reply_that_trickles(llm: FakeLlm) -> None:
    client = ChatClient(llm.url, timeout=0.5)
    llm.script(Scripted("slow [1].", delay=2.0))
    started = time.monotonic()
    with pytest.raises(Exception, match=r"no reply within 0\.5 s"):
        client.complete([{"role": "user", "content": "hi"}])
    assert time.monotonic() - started < 1.5


# ------------------------------------------------------------------------------------------ end to end
def _llm_answerer(sample_index: Path, embedder: Embedder, llm: FakeLlm, **settings: object) -> Answerer:
    s = Settings(_env_file=None, index_dir=sample_index, llm_url=llm.url, **settings)  # type: ignore[arg-type]
    return Answerer.from_settings(s, embedder=embedder)


def test_repl_shows_the_summary_above_the_unchanged_quotes(
    sample_index: Path, embedder: Embedder, answerer: Answerer, llm: FakeLlm
) -> None:
    plain = answerer.ask(F35)
    llm.script(Scripted(faithful), Scripted(with_changed_figure))
    stdout = io.StringIO()
    stdin = io.StringIO(f"{F35}\n{F35}\nWhat is the capital of Peru?\n")
    run_repl(_llm_answerer(sample_index, embedder, llm), stdin=stdin, stdout=stdout)
    out = stdout.getvalue()

    first, second, third = out.split("\n? ")[1:]
    summary = textwrap.fill(faithful([plain.quotes[0].text]), width=88)
    assert f"{SUMMARY_LABEL}\n{summary}\n" in first
    assert first.index(SUMMARY_LABEL) < first.index("│ “")
    quotes = render_terminal(replace(plain, note=None))
    assert quotes in first  # the quotes exactly as without the LLM, below the summary
    assert SUMMARY_LABEL not in second
    assert render_terminal(plain) in second
    assert third.strip().endswith(DECLINE_TEXT)
    assert len(llm.requests) == 2  # the declined question never reached the LLM


def test_repl_without_synthesis_never_asks(sample_index: Path, embedder: Embedder, llm: FakeLlm) -> None:
    stdout = io.StringIO()
    run_repl(_llm_answerer(sample_index, embedder, llm), stdin=io.StringIO(F35 + "\n"), stdout=stdout, synthesis=False)
    assert SUMMARY_LABEL not in stdout.getvalue()
    assert llm.requests == []


def _qabot(index: Path, *args: str, llm: FakeLlm, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``qabot --index INDEX ARGS`` against the fake LLM, run in the index's folder (no .env there)."""
    env = clean_env(QABOT_LLM_URL=llm.url, QABOT_LLM_API_KEY=API_KEY, NO_PROXY="127.0.0.1,localhost")
    env["no_proxy"] = env["NO_PROXY"]
    return run_qabot("--index", str(index), *args, cwd=index, stdin=stdin, env=env)


def test_ask_json_carries_the_checked_summary_and_the_same_quotes(
    sample_index: Path, answerer: Answerer, llm: FakeLlm
) -> None:
    plain = answerer.ask(F35).to_json()
    llm.script(Scripted(lambda quotes: f"{faithful(quotes)} Ankara paid 99 dollars for it [1]."))
    result = _qabot(sample_index, "ask", "--json", F35, llm=llm)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["quotes"] == plain["quotes"]
    assert data["answer"] == plain["answer"]
    assert data["synthesis"] == {
        "text": faithful([plain["quotes"][0]["text"]]),
        "citations": [1],
        "dropped": [{"text": "Ankara paid 99 dollars for it [1].", "why": "99 is not in [1]"}],
    }
    assert len(llm.requests) == 1
    assert API_KEY not in result.stderr


def test_ask_jsonl_with_no_synthesis_never_asks_and_a_decline_never_asks(sample_index: Path, llm: FakeLlm) -> None:
    questions = [{"id": "a", "question": F35}, {"id": "b", "question": "What is the capital of Peru?"}]
    lines = "\n".join(json.dumps(q) for q in questions)
    off = _qabot(sample_index, "ask", "--jsonl", "--no-synthesis", llm=llm, stdin=lines + "\n")
    assert off.returncode == 0, off.stderr
    assert [json.loads(line)["synthesis"] for line in off.stdout.splitlines()] == [None, None]
    assert llm.requests == []

    on = _qabot(sample_index, "ask", "--jsonl", llm=llm, stdin=lines + "\n")
    answers = [json.loads(line) for line in on.stdout.splitlines()]
    assert [a["abstained"] for a in answers] == [False, True]
    assert answers[0]["synthesis"]["text"] == faithful([answers[0]["quotes"][0]["text"]])  # the fake's default
    assert answers[1]["synthesis"] is None
    assert len(llm.requests) == 1  # the declined question was never sent
