"""The ``qabot`` subcommands, each ``cmd_NAME(args, settings) -> exit status``, and what they share (progress on
stderr, the bundled samples, the answerer with its model).

Imports of the pipeline happen inside each command so ``qabot --help`` answers at once; ``qabot.cli.app`` parses the
arguments, sets up logging and turns every ``QabotError`` into one ``Error: …`` line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from qabot.config import Settings
from qabot.errors import IndexEmpty, QabotError
from qabot.text import clean_label

if TYPE_CHECKING:
    from qabot.answer import Answerer
    from qabot.embed import Embedder
    from qabot.models import IngestReport

SERVE_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class IsoTimeFormatter(logging.Formatter):
    """Log times in ISO 8601, UTC, to the millisecond (``2026-12-03T09:14:07.123Z``): a bot's log is read days
    later, next to Telegram's and the server's times, so it names the zone and sorts as text."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def samples_dir() -> Path:
    """The folder of bundled sample articles inside the installed package."""
    return Path(str(resources.files("qabot") / "samples"))



# Below this many texts to embed a run is over in seconds: no progress lines in a log for it.
_LONG_RUN_TEXTS = 500


def _progress(desc: str, unit: str = "text") -> Callable[[int, int], None] | None:
    """A progress bar on stderr when a person is watching; when stderr is a log or a pipe, one plain line per tenth
    of a long run (a bar's redraws would fill a log, and silence for minutes reads as a hang)."""
    if not sys.stderr.isatty():
        return _progress_lines(desc, unit)
    from tqdm import tqdm

    bar: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False))
        bar[0].total = total
        bar[0].n = done
        bar[0].refresh()
        if done >= total:
            bar[0].close()

    return update


def _read_stdin_as_utf8() -> None:
    """Read piped stdin as UTF-8, keeping bytes that are not (``surrogateescape``) so the line can be refused.

    The locale's strict decoder would end the whole run at the first bad byte; a lenient one would change the
    question. ``qabot.text.undecodable`` tells such a line.
    """
    reconfigure = getattr(sys.stdin, "reconfigure", None)  # an embedding program's own text stream has none
    if reconfigure is not None:
        reconfigure(encoding="utf-8-sig", errors="surrogateescape")  # -sig: a BOM is no question


def _progress_lines(desc: str, unit: str = "text") -> Callable[[int, int], None]:
    tenths_shown = [0]

    def update(done: int, total: int) -> None:
        tenths = done * 10 // total if total >= _LONG_RUN_TEXTS else 0
        if tenths > tenths_shown[0]:
            tenths_shown[0] = tenths
            print(f"{desc}: {done} of {total} {unit}s ({tenths * 10}%)", file=sys.stderr, flush=True)

    return update


def _print_report(report: IngestReport) -> None:
    for skip in report.skipped:
        print(clean_label(f"skipped {skip.where}: {skip.reason}"), file=sys.stderr)
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
    """Ingest files, folders and URLs; with ``--sync``, drop the articles of files deleted from those folders."""
    from qabot.ingest import Ingestor
    from qabot.sources.inputs import Sources

    targets = list(args.paths)
    if args.samples:
        targets.append(str(samples_dir()))
    if not targets:
        raise QabotError("nothing to ingest: name files, folders or URLs (or --samples)")
    report = Ingestor.from_settings(settings).ingest_sources(
        Sources.of(targets), _progress("embedding"), sync=args.sync
    )
    _print_report(report)
    if report.skipped and not (report.added or report.updated or report.unchanged or report.removed):
        # Scripts and CI must see that nothing was ingested; the summary above still says what happened to each.
        n = len(report.skipped)
        which = "the one input was" if n == 1 else f"all {n} inputs were"
        raise QabotError(f"nothing ingested: {which} skipped (reasons above)")
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the local index folder into the store ``--to`` names (Milvus at QABOT_MILVUS_URI), vectors and all."""
    from qabot.store import open_store
    from qabot.store.factory import where
    from qabot.store.index import IndexStore
    from qabot.store.migrate import migrate

    target_settings = settings.model_copy(update={"store": args.to})
    source = IndexStore.open(settings.index_dir, model=settings.model)  # refuses a missing or another model's index
    target = open_store(target_settings, dimension=source.manifest.dimension, create=True)
    print(f"Copying {settings.index_dir} to {where(target_settings)}", file=sys.stderr)
    report = migrate(source, target, _progress("migrating", "article"))
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question, or one per JSON line on stdin with ``--jsonl``."""
    import time

    from qabot.answer.followup import Context, next_context
    from qabot.render.text import render_terminal
    from qabot.text import undecodable

    if undecodable(" ".join(args.question)):  # checked before the model loads: nothing to answer
        raise QabotError("the question is not valid UTF-8: is the terminal set to another encoding?")
    answerer = _answerer(settings)
    if not answerer.stats().articles:  # every question would be declined, which reads as "the articles don't say"
        raise IndexEmpty(settings.index_dir)
    if args.jsonl:
        # Lines with the same "conversation" value are one conversation: each is asked with the context the line
        # before it left, so a line can follow up the previous one ("and when did that happen?").
        contexts: dict[str, Context | None] = {}
        _read_stdin_as_utf8()
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            # The id comes back as the JSON value it was (7 stays 7, an object stays an object), on answers and on
            # error objects alike, so callers can match each line to their question.
            qid: object = None
            try:
                if undecodable(line):  # refused whole: its id cannot be trusted either
                    raise ValueError(f"line {n} is not valid UTF-8")
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

    if not sys.stdin.isatty():
        _read_stdin_as_utf8()  # piped questions: a line that is not UTF-8 is refused by number, not guessed at
    answerer = _answerer(settings, samples_if_missing=True)
    return run_repl(answerer, history=Path.home() / ".qabot_history", synthesis=not args.no_synthesis)


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print what the index holds (no model load needed)."""
    from qabot.render.text import render_stats
    from qabot.store import open_store

    store = open_store(settings)
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


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the index's articles, newest first: id, date, title and source; filtered by source and date."""
    from qabot.render.text import render_catalog
    from qabot.store import open_store

    since, until = _day(args.since, "--since"), _day(args.until, "--until")
    store = open_store(settings)
    articles = store.catalog(source=args.source or "", since=since, until=until)
    if args.json:
        for a in articles:
            record = {
                "id": a.id, "title": a.title, "published": a.published, "source": a.source, "url": a.url,
                "file": a.origin,
            }  # fmt: skip
            print(json.dumps(record, ensure_ascii=False))
    else:
        print(render_catalog(articles))
    return 0


def _day(value: str | None, option: str) -> str:
    """A YYYY-MM-DD option's value ("" when not given), or one line saying what was expected."""
    from datetime import date

    if not value:
        return ""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise QabotError(f"{option} takes a date as YYYY-MM-DD, not {value!r}") from None


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Score answer quality: every set of a suite (``--suite``), or one set of articles and questions."""
    from qabot.evaluate.suite import EvalRequest, rows_table, run_eval

    request = EvalRequest(
        suite=Path(args.suite) if args.suite else None,
        articles=Path(args.articles) if args.articles else None,
        questions=Path(args.questions) if args.questions else None,
        unanswerable=Path(args.unanswerable) if args.unanswerable else None,
        sets=tuple(n for n in (args.sets or "").split(",") if n),
        split=args.split,
        cache=Path(args.cache) if args.cache else None,
    )
    progress = (lambda name: print(f"scoring {name}…", file=sys.stderr)) if sys.stderr.isatty() else None
    rows = run_eval(settings, request, progress=progress)
    single = None if request.suite else rows[0].report  # one set: the report itself, as before
    if args.json:
        print(json.dumps(single.as_dict() if single else [r.as_dict() for r in rows], indent=2))
    else:
        print(single.table() if single else rows_table(rows))
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
        # faiss's loader tells at INFO which CPU builds it tried, each failure an exception text over several lines
        # without a time: noise in the bot's log, now that faiss loads after this (the store is opened lazily).
        loader = logging.getLogger("faiss.loader")
        if loader.level == logging.NOTSET:
            loader.setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:  # one-shot commands print bare lines; a bot's log needs times
        handler.setFormatter(IsoTimeFormatter(SERVE_LOG_FORMAT))  # notices too: the log is read later, in order
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
        from qabot.sources.fetch import check_not_private

        check_not_private(args.url, settings.allow_private_urls)  # what every refresh would refuse: refused now
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
            print(clean_label(f.url), f"({clean_label(state)})", sep="  ")  # an error can quote what a server sent
    else:
        from qabot.ingest import Ingestor

        ingestor = Ingestor.from_settings(settings)

        def ingest(articles, skipped):  # type: ignore[no-untyped-def]
            return ingestor.ingest_articles(articles, skipped)

        report = refresh_feeds(settings, ingest, feeds=feeds, prune=ingestor.prune_older_than)
        print(report.summary())
        if report.feeds:
            print(report.totals())
        if report.failed:  # cron and CI must see it; every feed's result is printed above
            which = "the one feed" if len(report.feeds) == 1 else f"{len(report.failed)} of {len(report.feeds)} feeds"
            raise QabotError(f"{which} could not be refreshed (above)")
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
