"""The Telegram front-end: the ``Application``, its typed ``BotState``, and running it for ``qabot serve``.

``build_application`` returns a python-telegram-bot ``Application`` with every handler in place; ``run_bot`` runs
it by polling or webhook. The handlers live beside it, each module named for what it takes: ``updates`` (a group's
migration, the allowlist gate, the error handler), ``commands``, ``questions``, ``buttons``, ``inline`` (inline
mode) and ``members`` (joining groups); every reply goes out through ``sending``. With this module they are the
only ones that import ``telegram``: the rules (``address``, ``guard``, ``jobs`` …) and the renderers test without
it. In groups the bot speaks only when addressed (an @mention, a reply to one of its messages, ``/ask`` or
``/ask@itsname``), replies in the question's forum topic, and never answers edits, channel posts or other bots'
commands. Handlers reach the bot's parts through one typed ``BotState`` (``context.state``); the log redaction is
``qabot.redact``'s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from qabot.bot import buttons, commands, inline, members, privacy, questions, updates
from qabot.bot.guard import Guard, bot_token, polling_options, webhook_options
from qabot.bot.inline import InlineAnswers
from qabot.bot.jobs import AnswererLike, BotJobs, IngestorLike
from qabot.bot.turns import MAX_WAITING, Turns
from qabot.config import Settings, bot_api_urls
from qabot.errors import ConfigError
from qabot.redact import Redactor, install_log_redaction
from qabot.render import translations as tr

CONCURRENT_UPDATES = 4  # enough to keep /help and buttons responsive while an answer is computed
FLOOD_RETRIES = 3  # 429s waited out per request by AIORateLimiter before qabot.bot.sending's retries take over


# ---------------------------------------------------------------- the typed state every handler reaches


@dataclass(frozen=True)
class BotState:
    """What the handlers need of one running bot: its settings, its blocking work (answerer, ingestor, feedback
    store and the model lock live in ``jobs``), its access rules and each sender's queue of questions."""

    settings: Settings
    jobs: BotJobs
    guard: Guard
    turns: Turns[tuple[Update, str]]  # each sender's questions, one at a time
    inline: InlineAnswers = field(default_factory=InlineAnswers)  # recent inline-mode results


class BotApplication(Application):  # type: ignore[type-arg]
    """PTB's ``Application`` carrying a :class:`BotState`.

    PTB builds ``bot_data`` itself, without arguments, so a state whose parts are all required cannot be it; the
    builder hands the state to this subclass instead (``ApplicationBuilder.application_class``).
    """

    def __init__(self, *, state: BotState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state

    async def process_update(self, update: object) -> None:
        """Handle an update only if this replica takes it (``qabot.bot.state.claims``): a Telegram retry of one
        another replica answered, or answers, is dropped; then mark it handled, unless a question waits its turn."""
        claims = self.state.jobs.claims
        if isinstance(update, Update) and not await claims.take(update.update_id):
            return
        try:
            await super().process_update(update)
        finally:
            if isinstance(update, Update):
                await claims.handled(update.update_id)

    async def stop(self) -> None:
        """Tell a running feed refresh to stop first: PTB waits here for running handlers, an admin's /refresh too."""
        self.state.jobs.feeds.stopping()
        await super().stop()


class Context(CallbackContext[ExtBot[None], dict, dict, dict]):  # type: ignore[type-arg]
    """The ``context`` of every handler here: ``context.state`` instead of string keys into a dict."""

    @property
    def state(self) -> BotState:
        """The state of the application this update arrived at."""
        return state_of(self.application)


def state_of(app: Application) -> BotState:  # type: ignore[type-arg]
    """The state of an application built by ``build_application``."""
    if not isinstance(app, BotApplication):
        raise TypeError(f"{type(app).__name__} was not built by qabot.bot.app.build_application")
    return app.state


def jobs_of(app: Application) -> BotJobs:  # type: ignore[type-arg]
    """The worker threads and feed schedule of an application built by ``build_application``."""
    return state_of(app).jobs


# ---------------------------------------------------------------- building and running


def build_application(
    settings: Settings,
    answerer: AnswererLike,
    *,
    ingestor: IngestorLike | None = None,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    refresh_interval: float | None = None,
    clock: Callable[[], float] = time.time,
) -> BotApplication:
    """A configured ``Application`` (not started): HTML answers, flood control, handlers and error handler.

    Feeds are refreshed every ``settings.feed_refresh_minutes`` while it runs (when an ``ingestor`` is given);
    ``refresh_interval`` overrides that period in seconds (tests use a fraction of a second); ``clock`` (seconds
    since the epoch) dates conversation context, so tests can let it expire.
    """
    token = bot_token(settings)
    install_log_redaction(Redactor.from_settings(settings))
    api_url, file_url = bot_api_urls(base_url or settings.telegram_base_url)
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        allow_sending_without_reply=True,
    )
    jobs = BotJobs(settings, answerer, ingestor, refresh_interval=refresh_interval, clock=clock)
    state = BotState(
        settings,
        jobs,
        Guard(settings, jobs.state),
        Turns(MAX_WAITING if settings.user_cooldown_seconds > 0 else None),  # a cooldown of 0: no limit at all
    )
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication, kwargs={"state": state})
        .context_types(ContextTypes(context=Context))
        .token(token)
        .base_url(api_url)
        .base_file_url(file_url)
        .defaults(defaults)
        .rate_limiter(AIORateLimiter(max_retries=FLOOD_RETRIES))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(on_startup)
        .post_stop(on_stop)
    )
    app = (builder.request(request) if request is not None else builder).build()
    _add_handlers(app)
    return app


async def on_startup(app: Application) -> None:
    """Load the model, register the command menus (English for everyone, and one per translated language) and start
    the feed schedule: ``post_init`` of ``run_bot`` (it runs before polling or the webhook starts, so no question
    waits for the model); tests call it by hand."""
    await jobs_of(app).warm_up()
    for lang in (None, *tr.LANGUAGES):
        everywhere = [BotCommand(name, description) for name, description in tr.menu(lang)]
        start = BotCommand("start", tr.text("cmd_start", lang))
        await app.bot.set_my_commands([start, *everywhere], language_code=lang)
        await app.bot.set_my_commands(everywhere, scope=BotCommandScopeAllGroupChats(), language_code=lang)
    await jobs_of(app).start()


async def on_stop(app: Application) -> None:
    """Stop the feed schedule and the worker threads: ``post_stop`` of ``run_bot``; tests call it by hand."""
    await jobs_of(app).stop()


def run_bot(settings: Settings, answerer: AnswererLike, ingestor: IngestorLike | None, *, webhook: bool) -> None:
    """Run the bot until interrupted: long polling by default, or a webhook server (``qabot serve --webhook``)."""
    options = webhook_options(settings) if webhook else polling_options()
    app = build_application(settings, answerer, ingestor=ingestor)
    asyncio.run(_reach_bot_api(app))
    if webhook:
        app.run_webhook(**options)
    else:
        app.run_polling(**options)


async def _reach_bot_api(app: Application) -> None:
    """Ask the Bot API who we are once before starting, so a refused token or an unreachable server ends the
    process with one line; inside ``run_polling`` PTB logs such failures with a traceback (and the token)."""
    try:
        async with app.bot:  # initialize() calls getMe; the exit closes the connections run_polling reopens
            pass
    except InvalidToken:
        raise ConfigError(
            "the Bot API refused QABOT_TELEGRAM_TOKEN: get the current token from @BotFather (/mybots → API Token)"
        ) from None
    except NetworkError as err:
        raise ConfigError(f"cannot reach the Bot API ({err}): check QABOT_TELEGRAM_BASE_URL and the network") from None


def _add_handlers(app: Application) -> None:
    new = filters.UpdateType.MESSAGE  # never edits or channel posts
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, updates.on_migrate, block=True), group=-2)
    # Before the gate: inline queries and joins check access themselves (a refusal is answered, a group left).
    app.add_handlers([*inline.handlers(), *members.handlers()], group=-2)
    app.add_handler(TypeHandler(Update, updates.gate), group=-1)
    app.add_handler(CommandHandler("ask", questions.cmd_ask, filters=new))
    app.add_handler(CommandHandler(commands.INFO_COMMANDS, commands.cmd_info, filters=new))
    app.add_handler(CommandHandler(commands.ADMIN_COMMANDS, commands.cmd_admin, filters=new))
    app.add_handler(CommandHandler("new", commands.cmd_new, filters=new))
    app.add_handler(CommandHandler(privacy.COMMANDS, commands.cmd_privacy, filters=new))
    text = new & filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, questions.on_private_text))
    app.add_handler(MessageHandler(text & filters.ChatType.GROUPS & updates.AddressedToBot(), questions.on_group_text))
    app.add_handler(MessageHandler(new & filters.ChatType.PRIVATE & filters.Document.ALL, commands.on_document))
    app.add_handler(CallbackQueryHandler(buttons.on_feedback, pattern=r"^fb:[+-]:"))
    app.add_handler(CallbackQueryHandler(buttons.on_more, pattern=r"^more:"))
    app.add_handler(CallbackQueryHandler(buttons.on_unknown_button))  # anything else: answered, so it stops spinning
    # Last in the group: only what no handler above took. Status updates (pins, joins) are not messages to answer.
    private = new & filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL
    app.add_handler(MessageHandler(private & filters.COMMAND, commands.on_unknown_command))
    app.add_handler(MessageHandler(private & ~filters.TEXT, commands.on_not_text))
    app.add_error_handler(updates.on_error)


__all__ = [
    "BotApplication",
    "BotState",
    "Context",
    "build_application",
    "jobs_of",
    "on_startup",
    "on_stop",
    "run_bot",
    "state_of",
]
