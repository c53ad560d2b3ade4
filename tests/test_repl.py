"""The REPL driven by whole transcripts over injected streams, with the real Answerer over the samples."""

from __future__ import annotations

import io
from collections.abc import Callable

from qabot.answer import Answerer
from qabot.models import IndexStats
from qabot.repl import HELP, banner, run_repl

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
        f"[1] {q.title} · {q.source} · {q.published[:10]}",  # type: ignore[index]
        f"      {q.url}",
        f"[1] {newest.title}",  # :sources lists the newest articles first
        f"[{len(answer.quotes) + 1}] ",  # :more numbers on from the answer's quotes
        "Unknown command :frobnicate; :help lists the commands.",
        "Error: ",
        "The articles don't answer this question.",
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
    # :new forgets the story: the same follow-up alone is declined, as it is without a conversation.
    assert "New conversation" in turns[4]
    assert "The articles don't answer this question." in turns[5]
    assert ":new" in HELP


def test_context_expires(answerer: Answerer) -> None:
    lines = [VELL, WHEN]
    times = [0.0, 31 * 60.0]  # past the 30 minutes of QABOT_CONTEXT_TTL_MINUTES
    out = run_at(answerer, lines, times)
    assert out == conversation(answerer, lines, times)
    assert "The articles don't answer this question." in out.split("\n? ")[2]


def render_fresh(answerer: Answerer, question: str) -> str:
    from qabot.render.text import render_terminal

    return render_terminal(answerer.ask(question)) + "\n"


def test_sources_shows_each_article_id_for_remove(answerer: Answerer) -> None:
    newest = answerer.recent(2)
    _, out = transcript(answerer, ":sources")
    in_order(out, f"[1] {newest[0].title}", f"(id {newest[0].id})", f"[2] {newest[1].title}", f"(id {newest[1].id})")
