"""The ``qabot`` command: ingest, ask, repl, stats, remove, eval, feeds, serve, repair.

Imports of the pipeline happen inside each command so ``qabot --help`` answers at once. Every ``QabotError``
becomes one line ``Error: …`` on stderr and exit status 1; tracebacks are for ``--debug`` only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from qabot.config import Settings
from qabot.errors import QabotError

if TYPE_CHECKING:
    from qabot.answer import Answerer
    from qabot.embed import Embedder
    from qabot.models import IngestReport

log = logging.getLogger("qabot")


def samples_dir() -> Path:
    """The folder of bundled sample articles inside the installed package."""
    return Path(str(resources.files("qabot") / "samples"))


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if args.index:
        overrides["index_dir"] = Path(args.index)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        # Which setting and why, in one line, without the value given: it may be a token in the wrong variable.
        problems = []
        for e in err.errors(include_url=False)[:2]:
            msg = str(e["msg"])
            given = e.get("input")
            for part in re.split(r"[\s,;]+", given) if isinstance(given, str) else ():
                msg = msg.replace(part, "…") if len(part) >= 4 else msg
            problems.append(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {msg}")
        raise QabotError(f"invalid settings: {'; '.join(problems)}") from None


def _progress(desc: str) -> Callable[[int, int], None] | None:
    """A progress bar on stderr when a person is watching; nothing when output is piped."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc=desc, unit="text", file=sys.stderr, leave=False))
        bar[0].total = total
        bar[0].n = done
        bar[0].refresh()
        if done >= total:
            bar[0].close()

    return update


def _print_report(report: IngestReport) -> None:
    for skip in report.skipped:
        print(f"skipped {skip.where}: {skip.reason}", file=sys.stderr)
    print(report.summary())


def _embedder(settings: Settings) -> Embedder:
    from qabot.embed import Embedder

    return Embedder.from_settings(settings)


def _answerer(settings: Settings, *, samples_if_missing: bool = False) -> Answerer:
    from qabot.answer import Answerer
    from qabot.errors import IndexMissing

    embedder = _embedder(settings)
    try:
        return Answerer.from_settings(settings, embedder=embedder)
    except IndexMissing:
        if not samples_if_missing:
            raise
    print(
        f"No index at {settings.index_dir} yet: ingesting the bundled sample articles "
        f"(use `qabot ingest PATH` for your own).",
        file=sys.stderr,
    )
    from qabot.ingest import Ingestor

    report = Ingestor.from_settings(settings, embedder=embedder).ingest_paths([samples_dir()], _progress("embedding"))
    print(report.summary(), file=sys.stderr)
    return Answerer.from_settings(settings, embedder=embedder)


# ---------------------------------------------------------------------- commands
def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest files, folders and URLs."""
    from qabot.ingest import Ingestor
    from qabot.models import Article, Skip

    targets = list(args.paths)
    if args.samples:
        targets.append(str(samples_dir()))
    if not targets:
        raise QabotError("nothing to ingest: name files, folders or URLs (or --samples)")
    urls = [t for t in targets if t.startswith(("http://", "https://"))]
    paths = [Path(t) for t in targets if t not in urls]
    ingestor = Ingestor.from_settings(settings)
    articles: list[Article] = []
    skipped: list[Skip] = []
    if paths:
        from qabot.sources.files import load_paths

        for item in load_paths(paths):
            (articles if isinstance(item, Article) else skipped).append(item)  # type: ignore[arg-type]
    for url in urls:
        from qabot.sources.fetch import fetch_article

        try:
            articles.append(fetch_article(url, settings))
        except QabotError as err:
            skipped.append(Skip(url, str(err)))
    report = ingestor.ingest_articles(articles, skipped, progress=_progress("embedding"))
    _print_report(report)
    if report.skipped and not (report.added or report.updated or report.unchanged):
        # Scripts and CI must see that nothing was ingested; the summary above still says what happened to each.
        raise QabotError(f"nothing ingested: all {len(report.skipped)} inputs were skipped (reasons above)")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question, or one per JSON line on stdin with ``--jsonl``."""
    import time

    from qabot.answer.followup import Context, next_context
    from qabot.render.text import render_terminal

    answerer = _answerer(settings)
    if not answerer.stats().articles:  # every question would be declined, which reads as "the articles don't say"
        raise QabotError(
            f"the index at {settings.index_dir} is empty: add articles with `qabot ingest PATH` "
            "(or `qabot ingest --samples`)"
        )
    if args.jsonl:
        # Lines with the same "conversation" value are one conversation: each is asked with the context the line
        # before it left, so a line can follow up the previous one ("and when did that happen?").
        contexts: dict[str, Context | None] = {}
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            # The id comes back as the JSON value it was (7 stays 7, an object stays an object), on answers and on
            # error objects alike, so callers can match each line to their question.
            qid: object = None
            try:
                raw = json.loads(line.rstrip("\r\n"))  # a string cut short by the line end is unterminated
                qid = raw.get("id") if isinstance(raw, dict) else None
                if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
                    raise ValueError("expected an object with a string field 'question'")
                thread = json.dumps(raw["conversation"]) if raw.get("conversation") is not None else None
                now = time.time()
                context = contexts.get(thread) if thread is not None else None
                answer = answerer.ask(raw["question"], synthesis=not args.no_synthesis, context=context, now=now)
                if thread is not None:
                    contexts[thread] = next_context(context, answer, now=now)
                print(json.dumps({**answer.to_json(), "id": qid}, ensure_ascii=False), flush=True)
            except (ValueError, QabotError) as err:
                print(
                    json.dumps({"id": qid, "line": n, "error": str(err).splitlines()[0]}, ensure_ascii=False),
                    flush=True,
                )
        return 0
    if not args.question:
        raise QabotError('ask needs a question: qabot ask "why was Turkey removed from the F-35 program?"')
    answer = answerer.ask(" ".join(args.question), synthesis=not args.no_synthesis)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render_terminal(answer))
    return 0


def cmd_repl(args: argparse.Namespace, settings: Settings) -> int:
    """The interactive loop; over the bundled samples when there is no index yet."""
    from qabot.repl import run_repl

    answerer = _answerer(settings, samples_if_missing=True)
    return run_repl(answerer, history=Path.home() / ".qabot_history", synthesis=not args.no_synthesis)


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print what the index holds (no model load needed)."""
    from qabot.render.text import render_stats
    from qabot.store import IndexStore

    store = IndexStore.open(settings.index_dir, model=settings.model)
    stats = store.stats()
    if args.json:
        print(json.dumps(stats.__dict__, indent=2))
    else:
        print(render_stats(stats))
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    """Delete one article by id or URL."""
    from qabot.ingest import Ingestor

    removed = Ingestor.from_settings(settings).remove(args.ref)
    if not removed:
        raise QabotError(f"no article with id or URL {args.ref!r} in {settings.index_dir}")
    print(f"removed {args.ref}")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Score answer quality: every set of a suite (``--suite``), or one set of articles and questions."""
    import tempfile

    from qabot.evalsuite import EvalSet, read_suite, rows_table, run_suite

    if args.suite:
        specs = read_suite(Path(args.suite))
    elif args.articles and args.questions:
        specs = [
            EvalSet(
                "eval",
                (Path(args.articles),),
                (Path(args.questions),),
                (Path(args.unanswerable),) if args.unanswerable else (),
            )
        ]
    else:
        raise QabotError("give --suite FILE, or --articles and --questions")
    splits: tuple[str | None, ...] = {"tune": ("tune",), "check": ("check",), "both": ("tune", "check")}.get(
        args.split or ("both" if args.suite else "all"), (None,)
    )
    names = [n for n in (args.sets or "").split(",") if n]
    with tempfile.TemporaryDirectory(prefix="qabot-eval-") as tmp:
        cache = Path(args.cache) if args.cache else Path(tmp)
        progress = (lambda name: print(f"scoring {name}…", file=sys.stderr)) if sys.stderr.isatty() else None
        rows = list(run_suite(settings, specs, cache, names=names, splits=splits, progress=progress))
    if not args.suite and rows and rows[0].report is None:
        raise QabotError(f"cannot evaluate: {rows[0].missing}")
    if args.json:
        if not args.suite and rows and rows[0].report is not None:
            print(json.dumps(rows[0].report.as_dict(), indent=2))  # one set: the report itself, as before
        else:
            print(json.dumps([r.as_dict() for r in rows], indent=2))
    elif not args.suite and rows and rows[0].report is not None:
        print(rows[0].report.table())
    else:
        print(rows_table(rows))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the Telegram bot (polling, or webhook with --webhook)."""
    from qabot.bot.app import run_bot
    from qabot.ingest import Ingestor

    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise QabotError("QABOT_TELEGRAM_TOKEN is not set: get a token from @BotFather and put it in .env")
    level = logging.getLevelName(settings.log_level.strip().upper())
    if not isinstance(level, int):
        raise QabotError(f"QABOT_LOG_LEVEL={settings.log_level!r} is not a level: use DEBUG, INFO, WARNING or ERROR")
    if not args.debug:  # a running bot is watched through its log: the setting decides, --debug overrides it
        logging.getLogger().setLevel(level)
    answerer = _answerer(settings, samples_if_missing=True)
    ingestor = Ingestor.from_settings(settings, embedder=answerer.embedder)
    run_bot(settings, answerer, ingestor, webhook=args.webhook)
    return 0


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    """Manage and refresh the RSS/Atom feeds kept with the index."""
    from qabot.sources.feeds import FeedList, refresh_feeds
    from qabot.store.layout import check_folder

    check_folder(settings.index_dir)  # feeds.json lives in the index folder: refuse a file or another tool's folder
    feeds = FeedList(settings.index_dir)
    if args.feeds_cmd == "add":
        print(f"added {args.url}" if feeds.add(args.url) else f"already following {args.url}")
    elif args.feeds_cmd == "remove":
        if not feeds.remove(args.url):
            raise QabotError(f"no feed {args.url!r}; `qabot feeds list` shows them")
        print(f"removed {args.url}")
    elif args.feeds_cmd == "list":
        items = feeds.list()
        if not items:
            print("no feeds yet: qabot feeds add URL")
        for f in items:
            state = (
                f"error: {f.last_error}"
                if f.last_error
                else (f"refreshed {f.last_refresh}" if f.last_refresh else "never refreshed")
            )
            print(f"{f.url}  ({state})")
    else:
        from qabot.ingest import Ingestor

        ingestor = Ingestor.from_settings(settings)

        def ingest(articles, skipped):  # type: ignore[no-untyped-def]
            return ingestor.ingest_articles(articles, skipped)

        report = refresh_feeds(settings, ingest, feeds=feeds, prune=ingestor.prune_older_than)
        print(report.summary())
    return 0


def cmd_repair(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the vector cache and check the index from what is intact; nothing is fetched again."""
    from qabot.repair import repair_index

    print(repair_index(settings))
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Check settings, model, index, storage and the bot token; exit 1 if any check fails (not configured is not
    failed)."""
    from qabot.doctor import format_checks, run_checks

    checks = run_checks(settings, webhook=args.webhook, load_model=not args.quick)
    print(format_checks(checks))
    return 0 if all(c.ok for c in checks) else 1


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    # SIGTERM (systemctl stop, docker stop) unwinds like Ctrl-C: an ingest's transaction rolls back and the command
    # exits 130. Without a handler a qabot running as PID 1 in a container would ignore SIGTERM altogether.
    raise KeyboardInterrupt


def _redact(text: str) -> str:
    """Remove secrets from text shown to the user: exceptions from HTTP libraries may quote the bot token.

    The environment covers tokens given there; a token from ``.env`` is known to the bot's log redactor, which
    ``serve`` registers it with before connecting (PTB's InvalidToken message quotes the whole token).
    """
    for key in ("QABOT_TELEGRAM_TOKEN", "QABOT_WEBHOOK_SECRET", "QABOT_LLM_API_KEY"):
        secret = os.environ.get(key, "")
        if len(secret) >= 6:
            text = text.replace(secret, "[REDACTED]")
    guard = sys.modules.get("qabot.bot.guard")  # loaded only by serve: no Telegram import for other commands
    return guard.REDACTOR.redact(text) if guard is not None else text


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

    s = sub.add_parser("remove", help="delete an article by id or URL")
    s.add_argument("ref", metavar="ID|URL")
    s.set_defaults(func=cmd_remove)

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
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.cmd is None:
        args.func, args.no_synthesis = cmd_repl, False
    # serve: PTB's run_polling replaces this with its own graceful stop. Only the main thread may set handlers
    # (main() also runs from threads when embedded or tested).
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        settings = _settings(args)
        code = int(args.func(args, settings) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush where it cannot be caught
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except QabotError as err:
        if args.debug:
            raise
        print(_redact(f"Error: {err}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # never a traceback for users: one line, and --debug for the details
        if args.debug:
            raise
        first = str(err).splitlines()[0] if str(err) else "no details"
        print(
            _redact(f"Error: unexpected {type(err).__name__}: {first} (run with --debug for the traceback)"),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
