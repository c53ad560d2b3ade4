"""The admins' commands, without Telegram: ``/ingest URL``, ``/remove REF``, ``/reload``, ``/refresh`` and uploaded
documents, carried out through ``qabot.bot.jobs`` and answered in plain text.

``qabot.bot.commands`` checks that the sender is an admin first. An index another process keeps locked past the
ingestor's wait is :data:`INDEX_BUSY`, not an error.
"""

from __future__ import annotations

import logging

from qabot.bot.jobs import BotJobs
from qabot.errors import IndexLocked
from qabot.render import telegram as th
from qabot.sources.inputs import Sources, Upload

log = logging.getLogger(__name__)

ALREADY_REFRESHING = "A feed refresh is already running; new articles appear when it ends."
INDEX_BUSY = "The index is busy: another process is writing to it. Try again in a minute."
MAX_REPORT = 3500  # characters of a refresh report sent to an admin (a message holds 4096)


async def reply(jobs: BotJobs, command: str, args: list[str]) -> str:
    """Carry out ``/ingest URL``, ``/remove REF``, ``/reload`` or ``/refresh`` (the caller checked the sender).

    An index another process keeps locked past the ingestor's wait is :data:`INDEX_BUSY`, not an error."""
    try:
        return await _carry_out(jobs, command, args)
    except IndexLocked as err:
        log.warning("/%s: %s", command, err)
        return INDEX_BUSY


async def _carry_out(jobs: BotJobs, command: str, args: list[str]) -> str:
    if command == "reload":
        changed = await jobs.run(jobs.answerer.reload)
        stats = await jobs.run(jobs.answerer.stats)
        status = "Reloaded the index" if changed else "The index was already up to date"
        return f"{status}: {th.articles_phrase(stats.articles)}."
    if jobs.ingestor is None:
        return "Ingest is not set up on this bot."
    if command == "refresh":
        report = await jobs.feeds.refresh()
        return ALREADY_REFRESHING if report is None else report.summary()[:MAX_REPORT]
    if not args:
        return f"Usage: /{command} " + (
            "https://example.com/article" if command == "ingest" else "article-id-or-url"
        )
    if command == "remove":
        return "Removed." if await jobs.remove(args[0]) else "No article with that id or URL."
    return await _ingest_url(jobs, args[0])


async def _ingest_url(jobs: BotJobs, url: str) -> str:
    """Fetch one page and ingest it. The URL guard (http/https, no private address unless allowed) runs first."""
    report = await jobs.ingest(Sources(urls=(url,)))
    if not report.titles:
        return f"Not ingested: {report.skipped[0].reason if report.skipped else 'no article found'}"
    return f"{next(iter(report.titles.values()))}: {report.summary()}"


async def ingest_upload(jobs: BotJobs, name: str, data: bytes) -> str:
    """Ingest an uploaded document (``.txt``, ``.md``, ``.html``, ``.json``, ``.jsonl``); INDEX_BUSY as for
    :func:`reply`."""
    try:
        report = await jobs.ingest(Sources(uploads=(Upload(name, data),)))
    except IndexLocked as err:
        log.warning("upload %s: %s", name, err)
        return INDEX_BUSY
    return "\n".join([report.summary(), *(f"skipped {s.where}: {s.reason}" for s in report.skipped[:5])])


__all__ = ["ALREADY_REFRESHING", "INDEX_BUSY", "ingest_upload", "reply"]
