"""The ``qabot`` command line: the argument parser (every command takes ``--index`` and ``--debug``, before or after
its name), logging, signals and ``main``. The commands themselves are in ``qabot.cli.commands``.

Every ``QabotError`` becomes one line ``Error: …`` on stderr and exit status 1; tracebacks are for ``--debug`` only.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from qabot.cli.commands import (
    cmd_ask,
    cmd_doctor,
    cmd_eval,
    cmd_feeds,
    cmd_ingest,
    cmd_list,
    cmd_migrate,
    cmd_remove,
    cmd_repair,
    cmd_repl,
    cmd_serve,
    cmd_stats,
)
from qabot.config import Settings
from qabot.errors import QabotError
from qabot.redact import Redactor
from qabot.text import clean_label


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if args.index:
        overrides["index_dir"] = Path(args.index)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        # Which setting and why, in one line, without the value given: it may be a token in the wrong variable.
        errors = err.errors(include_url=False)[:2]
        mask = Redactor.from_given(e.get("input") for e in errors)
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {mask(str(e['msg']))}" for e in errors]
        raise QabotError(f"invalid settings: {'; '.join(problems)}") from None


def _error(line: str) -> None:
    # Messages quote paths, URLs and page titles: an escape sequence in one is shown as nothing, never obeyed.
    print(clean_label(line), file=sys.stderr)


class _Notices(logging.Handler):
    """Log records a library meant for the person running the command (``extra={"notice": True}``: "Preparing the
    embedding model…", "big.txt is 20.0 MB…"), shown on stderr as the plain message.

    ``sys.stderr`` is looked up for each record, so a ``main()`` run embedded or under test writes to the stderr of
    its own moment.
    """

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(_is_notice)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)  # the bare message, unless serve stamps it
        except Exception:  # logging must never end the command
            self.handleError(record)


def _is_notice(record: logging.LogRecord) -> bool:
    return bool(getattr(record, "notice", False))


def _configure_logging(*, debug: bool) -> None:
    """Diagnostics on stderr as ``LEVEL logger: message`` (WARNING and up; DEBUG with --debug), notices plainly.

    Libraries only log (house style); this is where what shows is decided. As with ``logging.basicConfig``, a
    process that configured logging already keeps its own handlers and level; the notices are added to them once.
    """
    root = logging.getLogger()
    if not root.handlers:
        diagnostics = logging.StreamHandler(sys.stderr)
        diagnostics.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        diagnostics.addFilter(lambda record: not _is_notice(record))  # shown once, by _Notices
        root.addHandler(diagnostics)
        root.setLevel(logging.DEBUG if debug else logging.WARNING)
    if not any(isinstance(h, _Notices) for h in root.handlers):
        root.addHandler(_Notices())


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    # SIGTERM (systemctl stop, docker stop) unwinds like Ctrl-C: an ingest's transaction rolls back and the command
    # exits 130. Without a handler a qabot running as PID 1 in a container would ignore SIGTERM altogether.
    raise KeyboardInterrupt


def _reader_went_away() -> int:
    """``qabot … | head``: the reader closed the pipe. End quietly with 128 + SIGPIPE, as ``cat`` or ``grep`` do.

    Python's recommended pattern: point stdout at devnull so the interpreter's exit flush cannot fail again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (embedded, captured): nothing to redirect
        pass
    return 128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else 1


def _parser_with(common: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """A parser class whose every instance (each subcommand) also takes ``common``'s options."""

    class SubcommandParser(argparse.ArgumentParser):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("parents", [common])
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    return SubcommandParser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``qabot``."""
    p = argparse.ArgumentParser(
        prog="qabot", description="Ask questions of news articles; get the answering sentences quoted, with sources."
    )
    index_help = "index directory (default: QABOT_INDEX_DIR or ./index)"
    debug_help = "show tracebacks and debug logs"
    p.add_argument("--index", metavar="DIR", help=index_help)
    p.add_argument("--debug", action="store_true", help=debug_help)
    # The same options after the command (`qabot stats --index DIR`). SUPPRESS: when not given there, the
    # subcommand leaves alone what was given before it instead of resetting it to the default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", metavar="DIR", default=argparse.SUPPRESS, help=index_help)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    sub = p.add_subparsers(dest="cmd", parser_class=_parser_with(common))

    s = sub.add_parser("ingest", help="add files, folders (recursively) and URLs to the index")
    s.add_argument("paths", nargs="*", help=".txt .md .html .json .jsonl files, folders, or http(s) URLs")
    s.add_argument("--samples", action="store_true", help="also ingest the bundled sample articles")
    s.add_argument(
        "--sync", action="store_true",
        help="then remove the articles of files deleted from the named folders (never those of pages or feeds)",
    )  # fmt: skip
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("ask", help="answer one question (or JSON lines from stdin with --jsonl)")
    s.add_argument("question", nargs="*")
    shape = s.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the answer as JSON")
    shape.add_argument(
        "--jsonl",
        action="store_true",
        help=(
            'read {"id", "question"} lines from stdin (no QUESTION), write answers; lines sharing a "conversation" '
            "value are one conversation (follow-ups)"
        ),
    )
    s.add_argument("--no-synthesis", action="store_true", help="no LLM summary even when QABOT_LLM_URL is set")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("repl", help="ask questions interactively (the default command)")
    s.add_argument("--no-synthesis", action="store_true", help="no LLM summary even when QABOT_LLM_URL is set")
    s.set_defaults(func=cmd_repl)

    s = sub.add_parser("stats", help="articles, chunks, model, size and newest date of the index")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_stats)

    s = sub.add_parser("list", help="the index's articles, newest first: id, date, title, source")
    s.add_argument("--source", metavar="TEXT", help="only those whose site, URL or file contains TEXT")
    s.add_argument("--since", metavar="YYYY-MM-DD", help="only those published on or after this day")
    s.add_argument("--until", metavar="YYYY-MM-DD", help="only those published on or before this day")
    s.add_argument("--json", action="store_true", help="one JSON object per line")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("remove", help="delete an article by id or URL")
    s.add_argument("ref", metavar="ID|URL")
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("migrate", help="copy the local index (--index) into Milvus (QABOT_MILVUS_URI), no re-embedding")
    s.add_argument("--to", choices=("milvus",), required=True, help="the store to copy into")
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("eval", help="score answer quality on a question set, or every set of a suite")
    s.add_argument("--suite", help="a suite file listing sets (benchmarks/suite.json): one row per set and half")
    s.add_argument("--sets", help="with --suite: comma-separated set names (default: all)")
    s.add_argument(
        "--split", choices=("all", "tune", "check", "both"), default=None,
        help="which half of each set (default: both halves with --suite, all questions without)",
    )  # fmt: skip
    s.add_argument("--cache", help="keep each set's index here and reuse it (default: a temporary folder)")
    s.add_argument("--articles", help="articles file or folder (e.g. articles.jsonl)")
    s.add_argument("--questions", help="questions JSONL with gold answers")
    s.add_argument("--unanswerable", help="questions JSONL the articles cannot answer")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("feeds", help="RSS/Atom feeds kept with the index")
    fs = s.add_subparsers(dest="feeds_cmd", required=True, parser_class=_parser_with(common))
    for name in ("add", "remove"):
        f = fs.add_parser(name)
        f.add_argument("url")
    fs.add_parser("list")
    fs.add_parser("refresh")
    s.set_defaults(func=cmd_feeds)

    s = sub.add_parser("serve", help="run the Telegram bot (token from QABOT_TELEGRAM_TOKEN)")
    s.add_argument("--webhook", action="store_true", help="receive updates by webhook instead of polling")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("repair", help="check the index and rebuild its vector cache from what is intact")
    s.set_defaults(func=cmd_repair)

    s = sub.add_parser("doctor", help="check settings, model, index and bot token; exit 1 if any check fails")
    s.add_argument("--webhook", action="store_true", help="also check the webhook settings")
    s.add_argument("--quick", action="store_true", help="skip loading the model (for container health checks)")
    s.set_defaults(func=cmd_doctor)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qabot`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmd == "ask" and args.jsonl and args.question:
        parser.error("ask --jsonl reads its questions from stdin: give no QUESTION with it")
    _configure_logging(debug=args.debug)
    if args.cmd is None:
        args.func, args.no_synthesis = cmd_repl, False
    # serve: PTB's run_polling replaces this with its own graceful stop. Only the main thread may set handlers
    # (main() also runs from threads when embedded or tested).
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    mask = Redactor()  # until the settings are read; their own error hides the values given
    try:
        settings = _settings(args)
        mask = Redactor.from_settings(settings)  # exception texts may quote a token (HTTP clients, PTB)
        code = int(args.func(args, settings) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush where it cannot be caught
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except QabotError as err:
        if args.debug:
            raise
        _error(mask(f"Error: {err}"))
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # never a traceback for users: one line, and --debug for the details
        if args.debug:
            raise
        first = str(err).splitlines()[0] if str(err) else "no details"
        _error(mask(f"Error: unexpected {type(err).__name__}: {first} (run with --debug for the traceback)"))
        return 1
