"""The REPL driven by whole transcripts over injected streams, with the real Answerer over the samples."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.models import IndexStats
from qabot.render.common import DECLINE_TEXT, NO_TOPIC_TEXT
from qabot.repl import HELP, banner, run_repl
from tests.helpers import TRAM

F35 = "why was Turkey removed from the F-35 program?"


def transcript(answerer: Answerer, *lines: str, eof: bool = True) -> tuple[int, str]:
    """Run the REPL over ``lines`` (then end of input) and return its exit status and everything it printed."""
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    code = run_repl(answerer, stdin=stdin, stdout=stdout)
    return code, stdout.getvalue()


def in_order(text: str, *parts: str) -> None:
    """Each part occurs in ``text``, after the previous one."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} missing (after position {at}) in:\n{text}"
        at = found + len(part)


def test_whole_session(answerer: Answerer) -> None:
    stats = answerer.stats()
    newest = answerer.recent(1)[0]
    answer = answerer.ask(F35)

    code, out = transcript(
        answerer,
        ":more",
        ":help",
        "",
        F35,
        ":sources",
        ":more",
        ":frobnicate now",
        "   ",
        "???",
        "Who painted the Mona Lisa?",
    )

    assert code == 0
    first_line = out.splitlines()[0]
    assert f"{stats.articles} articles" in first_line  # the samples: more than one
    assert f"newest {newest.published[:10]}" in first_line  # type: ignore[index]
    q = answer.quotes[0]
    in_order(
        out,
        "Ask a question first.",
        HELP,
        f"│ “{q.text[:30]}",  # the quote, set off from the text
        f"[1] {q.title} ·",  # the source line, broken between its parts to fit the terminal
        f"      {q.source} · {q.published[:10]}",  # type: ignore[index]
        f"      {q.url}",
        f"[1] {newest.title}",  # :sources lists the newest articles first
        f"[{len(answer.quotes) + 1}] ",  # :more numbers on from the answer's quotes
        "Unknown command :frobnicate; :help lists the commands.",
        "Error: ",
        DECLINE_TEXT,
    )
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, "the bad question printed one line and the loop went on"
    assert "Traceback" not in out


def test_more_after_the_answer_shows_further_passages(answerer: Answerer) -> None:
    answer = answerer.ask(F35)
    _, out = transcript(answerer, F35, ":more")
    more_part = out.split(answer.quotes[-1].text[-20:], 1)[1]
    for extra in answer.more:
        assert " ".join(extra.text.split())[:25] in " ".join(more_part.replace("│", " ").split())


def test_more_keeps_the_numbers_of_articles_already_shown(answerer: Answerer) -> None:
    answer = answerer.ask(F35)
    _, out = transcript(answerer, F35, ":more")
    shown, more = out.split("\n? :more\n")
    source = re.compile(r"^  \[(\d+)\] (.*)$", re.M)
    numbers = {line: int(n) for n, line in source.findall(shown)}
    assert len(numbers) == len({q.article_id for q in answer.quotes})  # one number per article
    cited = [(int(n), line) for n, line in source.findall(more)]
    assert cited, "more passages came with their sources"
    assert all(n == numbers[line] for n, line in cited if line in numbers)  # an article cited keeps its number
    new = list(dict.fromkeys(n for n, line in cited if line not in numbers))
    assert new == list(range(len(numbers) + 1, len(numbers) + 1 + len(new)))  # new articles are numbered on


def test_piped_input_is_echoed_without_escape_sequences(answerer: Answerer) -> None:
    clipboard = "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: would set the terminal's clipboard
    _, out = transcript(answerer, f"{clipboard}\x1b[2J{F35}\x1b]0;owned\x1b\\", f":x{clipboard}")
    assert f"? {F35}\n" in out
    assert "? :x\n" in out
    for left in ("\x1b", "\x07", "52;c;", "cm0g", "[2J", "0;owned"):
        assert left not in out


@pytest.mark.parametrize("columns", [50, 40])
def test_answers_wrap_to_the_terminal_keeping_the_gutter(
    answerer: Answerer, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    _, out = transcript(answerer, ":help", F35, ":more", ":sources", "What is the capital of Peru?")
    lines = out.splitlines()
    assert any(line.strip().startswith("https://") for line in lines), "the links are there"
    # Only a word that cannot be broken (a link, the index's path), alone on its line, may run past the edge.
    too_wide = [line for line in lines if len(line) > columns and " " in line.strip()]
    assert too_wide == []
    quote_lines = 0
    in_quote = False
    for line in lines:
        in_quote = in_quote or line.startswith("  │ “")
        if in_quote:
            assert line.startswith("  │ "), f"a quote line lost its gutter: {line!r}"
            quote_lines += 1
            in_quote = not line.endswith("”")
    assert quote_lines > 6  # the quotes did wrap, and every line of each kept the gutter


def test_a_narrow_or_huge_terminal_is_clamped(answerer: Answerer, monkeypatch: pytest.MonkeyPatch) -> None:
    from qabot.render.text import MAX_WIDTH, MIN_WIDTH, terminal_width

    for columns, width in (("10", MIN_WIDTH), ("500", MAX_WIDTH), ("72", 72)):
        monkeypatch.setenv("COLUMNS", columns)
        assert terminal_width() == width
    monkeypatch.setenv("COLUMNS", "500")
    _, out = transcript(answerer, F35)
    assert max(len(line) for line in out.splitlines() if "https://" not in line) <= MAX_WIDTH


def test_stats_command(answerer: Answerer) -> None:
    _, out = transcript(answerer, ":stats")
    stats = answerer.stats()
    assert f"articles: {stats.articles}" in out
    assert f"chunks:   {stats.chunks}" in out
    assert stats.model in out


def test_quit_stops_reading(answerer: Answerer) -> None:
    code, out = transcript(answerer, ":quit", F35)
    assert code == 0
    assert "│" not in out, "nothing after :quit is answered"


def test_end_of_input_exits_cleanly(answerer: Answerer) -> None:
    code, out = transcript(answerer)
    assert code == 0
    assert len(out.strip().splitlines()) == 2  # just the banner


def fake_terminal(*events: str | type[BaseException]) -> Callable[[str], str]:
    """A ``read_line`` that returns or raises each event in turn, like a person at a terminal."""
    pending = list(events)
    prompts: list[str] = []

    def read_line(prompt: str) -> str:
        prompts.append(prompt)
        event = pending.pop(0)
        if isinstance(event, str):
            return event
        raise event

    read_line.prompts = prompts  # type: ignore[attr-defined]
    return read_line


def test_ctrl_c_drops_the_line_not_the_session(answerer: Answerer) -> None:
    read_line = fake_terminal(KeyboardInterrupt, ":help", ":quit")
    stdout = io.StringIO()
    code = run_repl(answerer, stdout=stdout, read_line=read_line)
    assert code == 0
    assert HELP in stdout.getvalue(), "the session went on after Ctrl-C"
    assert len(read_line.prompts) == 3  # type: ignore[attr-defined]


def test_ctrl_d_at_a_terminal_exits(answerer: Answerer) -> None:
    stdout = io.StringIO()
    assert run_repl(answerer, stdout=stdout, read_line=fake_terminal(EOFError)) == 0


def test_an_empty_index_says_so_instead_of_declining_every_question(
    index_of: Callable[..., Settings], embedder: Embedder
) -> None:
    settings = index_of([TRAM])
    Ingestor.from_settings(settings, embedder=embedder).remove(TRAM.id)  # an index that held articles, now none
    empty = Answerer.from_settings(settings, embedder=embedder)
    code, out = transcript(empty, "How much did the tram line cost?", ":stats")

    assert code == 0
    empty_line = (
        f"the index at {settings.index_dir} is empty: add articles with `qabot ingest PATH` (or `qabot ingest "
        "--samples`)"
    )
    banner_lines = out.split("\n\n? ")[0]  # wrapped to the terminal
    assert " ".join(banner_lines.split()).startswith(f"qabot — {empty_line}. Then ask a question;")
    assert "Error: " + empty_line in " ".join(out.split())
    assert DECLINE_TEXT not in out
    assert re.search(r"^articles: 0$", out, re.MULTILINE)  # the commands still work


def test_a_question_after_an_ingest_into_the_empty_index_is_answered(
    index_of: Callable[..., Settings], embedder: Embedder
) -> None:
    settings = index_of([TRAM])
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    ingestor.remove(TRAM.id)
    empty = Answerer.from_settings(settings, embedder=embedder)
    asked = iter(["How much did the tram line cost?", "How much did the tram line cost?"])

    def read_line(prompt: str) -> str:
        line = next(asked, None)
        if line is None:
            raise EOFError
        if stdout.getvalue().count("is empty") == 2:  # the banner and the first question: now articles arrive
            ingestor.ingest_articles([TRAM])
        return line

    stdout = io.StringIO()
    assert run_repl(empty, stdout=stdout, read_line=read_line) == 0
    assert stdout.getvalue().count("is empty") == 2
    assert "40 million crowns" in stdout.getvalue()


def test_a_banner_of_undated_articles_says_so_plainly() -> None:
    stats = IndexStats(articles=2, chunks=2, model="m", dimension=384, size_bytes=0, newest=None, path="index")
    assert banner(stats).splitlines()[0] == "qabot — 2 articles, undated (index)."


def test_banner_counts_one_article_in_the_singular() -> None:
    stats = IndexStats(
        articles=1, chunks=1, model="m", dimension=384, size_bytes=0, newest="2025-03-03T10:00:00", path="index"
    )
    assert banner(stats).splitlines()[0] == "qabot — 1 article, newest 2025-03-03 (index)."


# ---------------------------------------------------------------------------- conversations (issue #14)
VELL = "what was the hottest temperature recorded in Vellmoor?"
WHEN = "and when did that happen?"


def conversation(answerer: Answerer, lines: list[str], times: list[float]) -> str:
    """What the REPL prints for ``lines``, built from the answers the pipeline gives them with the same context."""
    from qabot.answer.followup import next_context
    from qabot.render.text import render_terminal

    out = [banner(answerer.stats()) + "\n"]
    context = None
    clock = iter(times)
    for line in lines:
        out.append(f"\n? {line}\n")
        if line == ":new":
            context = None
            out.append("New conversation: the next question starts afresh.\n")
            continue
        now = next(clock)
        answer = answerer.ask(line, context=context, now=now)
        context = next_context(context, answer, now=now)
        out.append(render_terminal(answer) + "\n")
    return "".join(out) + "\n"  # end of input: an empty line


def run_at(answerer: Answerer, lines: list[str], times: list[float]) -> str:
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    clock = iter(times)
    assert run_repl(answerer, stdin=stdin, stdout=stdout, clock=lambda: next(clock)) == 0
    return stdout.getvalue()


def test_follow_up_new_and_a_standalone_question(answerer: Answerer) -> None:
    lines = [VELL, WHEN, F35, ":new", WHEN]
    times = [0.0, 60.0, 120.0, 180.0]
    out = run_at(answerer, lines, times)
    assert out == conversation(answerer, lines, times)
    turns = out.split("\n? ")
    # The reported bug: the follow-up is answered with the sentence that says when.
    assert "│ “The weather station at Dunmere recorded 41.3 °C on Thursday afternoon." in turns[2]
    # A new story after a conversation reads as if asked fresh.
    assert turns[3].split("\n", 1)[1] == render_fresh(answerer, F35)
    # :new forgets the story: the same follow-up alone is asked which story it means, as without a conversation.
    assert "New conversation" in turns[4]
    assert NO_TOPIC_TEXT in turns[5]
    assert ":new" in HELP


def test_context_expires(answerer: Answerer) -> None:
    lines = [VELL, WHEN]
    times = [0.0, 31 * 60.0]  # past the 30 minutes of QABOT_CONTEXT_TTL_MINUTES
    out = run_at(answerer, lines, times)
    assert out == conversation(answerer, lines, times)
    assert NO_TOPIC_TEXT in out.split("\n? ")[2]


def render_fresh(answerer: Answerer, question: str) -> str:
    from qabot.render.text import render_terminal

    return render_terminal(answerer.ask(question)) + "\n"


def test_sources_shows_each_article_id_for_remove(answerer: Answerer) -> None:
    newest = answerer.recent(2)
    _, out = transcript(answerer, ":sources")
    in_order(out, f"[1] {newest[0].title}", f"(id {newest[0].id})", f"[2] {newest[1].title}", f"(id {newest[1].id})")
