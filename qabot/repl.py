"""The interactive loop: ask questions, read quotes. Works over injected streams, so tests drive it by transcript."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from qabot.answer.followup import Context, next_context
from qabot.errors import IndexEmpty, QabotError
from qabot.models import Answer, IndexStats
from qabot.render.text import render_more, render_sources, render_stats, render_terminal, terminal_width, wrap
from qabot.text import clean_line, counted, undecodable

log = logging.getLogger(__name__)

HELP = """Type a question and press Enter. Commands:
  :sources   the newest articles in the index, with their ids
  :more      more passages for the last question
  :new       start a new conversation (the next question is not read as a follow-up)
  :stats     what the index holds
  :help      this text
  :quit      leave (Ctrl-D works too; Ctrl-C cancels the line)"""


def banner(stats: IndexStats) -> str:
    """The first lines: what the bot knows and how fresh it is."""
    if not stats.articles:
        return f"qabot — {IndexEmpty(stats.path)}.\nThen ask a question; :help for commands, :quit to leave."
    newest = f"newest {stats.newest[:10]}" if stats.newest else "undated"
    return (
        f"qabot — {counted(stats.articles, 'article')}, {newest} ({stats.path}).\n"
        "Ask a question about them; :help for commands, :quit to leave."
    )


_HANGING = re.compile(r"^\s*:\S+\s+")  # "  :sources   " before a command's description


def fit(text: str, width: int | None = None) -> str:
    """The REPL's own lines (banner, help) wrapped to the terminal, a command's description under itself."""
    width = width or terminal_width()
    out: list[str] = []
    for line in text.splitlines():
        hang = _HANGING.match(line)
        first = hang.group(0) if hang else ""
        out += wrap(line[len(first) :], width, first=first, rest=" " * len(first)) if line.strip() else [""]
    return "\n".join(out)


def _enable_line_editing(history: Path) -> None:
    # readline only when a person types: it would write escape codes into piped output.
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    import atexit

    def save() -> None:
        try:
            readline.set_history_length(1000)
            readline.write_history_file(history)
        except OSError:
            pass

    atexit.register(save)


def run_repl(
    answerer: object,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    history: Path | None = None,
    read_line: Callable[[str], str] | None = None,
    synthesis: bool = True,
    clock: Callable[[], float] = time.time,
) -> int:
    """Loop until :quit or end of input. ``answerer`` needs ``ask``, ``stats`` and ``recent``.

    ``synthesis``: show the LLM summary above the quotes when the answerer has one (``--no-synthesis`` turns it off).
    The session is one conversation: each question is asked with the context the previous answers left (a follow-up
    such as "and when did that happen?" is read about the last story) until ``:new``; ``clock`` (seconds since the
    epoch) lets tests age that context past ``QABOT_CONTEXT_TTL_MINUTES``.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = read_line is None and stdin is sys.stdin and stdin.isatty()
    if interactive and history is not None:
        _enable_line_editing(history)

    lines_read = 0

    def prompt(text: str) -> str:
        nonlocal lines_read
        if read_line is not None:
            return read_line(text)
        if interactive:
            return input(text)
        line = stdin.readline()
        if not line:
            raise EOFError
        lines_read += 1
        # Echo piped input after the prompt so a transcript reads like the interactive session: cleaned, as piped
        # questions can come from anywhere, and wrapped as the terminal would wrap what a person types.
        head, mark = text.rsplit("\n", 1) if "\n" in text else ("", text)
        shown = wrap(line, terminal_width(), first=mark, rest=" " * len(mark))
        stdout.write(head + ("\n" if "\n" in text else "") + "\n".join(shown) + "\n")
        return line.rstrip("\n")

    def say(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    stats = answerer.stats()  # type: ignore[attr-defined]
    say(fit(banner(stats)))
    # An empty index would decline every question as if the articles did not say; it is looked at again before each
    # question until an ingest (from another terminal) has filled it.
    empty = not stats.articles
    last: Answer | None = None
    context: Context | None = None
    while True:
        try:
            line = prompt("\n? ").strip()
        except EOFError:
            say("")
            return 0
        except KeyboardInterrupt:
            say("")  # Ctrl-C drops the line being typed, not the session
            continue
        if not line:
            continue
        if undecodable(line):  # piped bytes that are not UTF-8 (the CLI keeps them so): refused, never guessed at
            say(f"Error: line {lines_read} is not valid UTF-8")
            continue
        try:
            if line in {":quit", ":q", ":exit"}:
                return 0
            if line == ":help":
                say(fit(HELP))
            elif line == ":sources":
                say(render_sources(answerer.recent(10)))  # type: ignore[attr-defined]
            elif line == ":stats":
                say(render_stats(answerer.stats()))  # type: ignore[attr-defined]
            elif line == ":new":
                context = None
                say("New conversation: the next question starts afresh.")
            elif line == ":more":
                say(render_more(last) if last else "Ask a question first.")
            elif line.startswith(":"):
                # The typed word is echoed: a pasted escape sequence in it is shown as nothing.
                say(f"Unknown command {clean_line(line.split()[0], fold=False)}; :help lists the commands.")
            else:
                if empty and not (stats := answerer.stats()).articles:  # type: ignore[attr-defined]
                    raise IndexEmpty(stats.path)
                empty = False
                now = clock()
                last = answerer.ask(line, synthesis=synthesis, context=context, now=now)  # type: ignore[attr-defined]
                context = next_context(context, last, now=now)
                say(render_terminal(last))
        except QabotError as err:
            say(f"Error: {clean_line(str(err), fold=False)}")  # messages can quote file names and page titles
        except KeyboardInterrupt:
            say("(cancelled)")
        except Exception as err:  # the loop goes on whatever one question does
            log.debug("repl error", exc_info=True)
            first = str(err).splitlines()[0] if str(err).strip() else "unexpected failure"
            say(f"Error: {type(err).__name__}: {clean_line(first, fold=False)}")


__all__ = ["HELP", "banner", "fit", "run_repl"]
