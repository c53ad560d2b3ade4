"""Run the real qabot Application against the fake Bot API, started by hand as a test must (no run_polling).

``running_bot`` does what ``run_bot`` does minus the blocking loop and signal handlers: initialize, the shared
startup function (``post_init`` does not run on a manual start), start, then polling or the webhook server; and
on the way out the shared stop function (``post_stop``).
``Harness.settle()`` is the sync point for "nothing was sent": every queued update has been fetched *and*
fully processed (PTB marks an update done only after its handlers, including the error handler, returned), and
every question waiting its turn answered.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application

from qabot.bot.app import build_application, jobs_of, on_startup, on_stop, state_of
from qabot.bot.guard import polling_options, webhook_options
from qabot.bot.jobs import AnswererLike, BotJobs, IngestorLike
from qabot.config import Settings
from tests.fakes.telegram_api import Call, FakeBotApi, check_html

_BLOCKQUOTE = re.compile(r"<blockquote(?: expandable)?>(.*?)</blockquote>", re.S)


@dataclass
class Harness:
    """A running bot and the fake it talks to."""

    fake: FakeBotApi
    app: Application

    @property
    def jobs(self) -> BotJobs:
        """The bot's worker threads and feed schedule (to wait for a refresh)."""
        return jobs_of(self.app)

    async def settle(self) -> None:
        """Wait until every update pushed so far has been fetched and completely handled, questions waiting their
        turn included."""
        if self.fake.last_update_id:
            await self.fake.wait_consumed(self.fake.last_update_id)
        await self.app.update_queue.join()
        await state_of(self.app).turns.idle()


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeBotApi,
    settings: Settings,
    answerer: AnswererLike,
    *,
    ingestor: IngestorLike | None = None,
    webhook: bool = False,
    **build: Any,
) -> AsyncIterator[Harness]:
    """The bot built by ``build_application`` from ``settings`` (whose base URL points at the fake), running.

    ``build`` goes to ``build_application`` (``request=``, ``refresh_interval=``).
    """
    app = build_application(settings, answerer, ingestor=ingestor, **build)
    async with app:
        await on_startup(app)
        await app.start()
        if webhook:
            await app.updater.start_webhook(**webhook_options(settings))
        else:
            await app.updater.start_polling(**polling_options())
        try:
            yield Harness(fake, app)
        finally:
            await app.updater.stop()
            await app.stop()
            await on_stop(app)  # what run_polling does as post_stop


def quotes_in(call: Call) -> list[str]:
    """The plain text of every blockquote in a sent message."""
    return quotes_of(call.params["text"])


def quotes_of(html_text: str) -> list[str]:
    """The plain text of every blockquote in Telegram HTML."""
    return [html.unescape(q) for q in _BLOCKQUOTE.findall(html_text)]


def buttons(call: Call) -> list[str]:
    """The callback data of the inline buttons under a sent message."""
    markup = call.params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def visible(call: Call) -> str:
    """The text as the user sees it (the fake's parse of the HTML)."""
    return call.result["text"]


def inline_results(call: Call) -> list[dict[str, Any]]:
    """The results of an ``answerInlineQuery`` as sent, each with ``html``, the message picking it posts, and
    ``visible``, that message as the chat would see it."""
    results = []
    for result in call.params["results"]:
        html_text = result["input_message_content"]["message_text"]
        results.append({**result, "html": html_text, "visible": check_html(html_text)})
    return results
