"""The Telegram front-end: turns updates into ``qabot.bot.jobs`` calls and their results into replies.

With ``inline`` (inline mode) and ``members`` (joining groups), the only modules that import ``telegram``.
``build_application`` returns a python-telegram-bot ``Application``;
``run_bot`` runs it by polling or webhook for ``qabot serve``. In groups the bot speaks only when addressed (an
@mention, a reply to one of its messages, ``/ask`` or ``/ask@itsname``), replies in the question's forum topic,
and never answers edits, channel posts or other bots' commands. The rules (allowlists, cooldowns) live in
``qabot.bot.guard``, the log redaction in ``qabot.redact``. Handlers reach the bot's parts through one typed
``BotState`` (``context.state``). Sends ride out flood control and a Bot API outage of about two minutes; a
chat that refuses the bot (blocked, removed) is one info line; any other failure is logged with context and the
user gets one neutral line.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
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

from qabot.answer.chitchat import is_courtesy, is_question
from qabot.bot import address, conversations, inline, members, privacy
from qabot.bot.guard import Guard, bot_token, polling_options, webhook_options
from qabot.bot.inline import InlineAnswers
from qabot.bot.jobs import ALREADY_REFRESHING, AnswererLike, BotJobs, IngestorLike, Tally
from qabot.bot.paging import SourcesPage
from qabot.bot.turns import MAX_WAITING, Turns
from qabot.config import Settings, bot_api_urls
from qabot.errors import BadQuestion, ConfigError
from qabot.redact import Redactor, install_log_redaction
from qabot.render import telegram as th
from qabot.render import translations as tr

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 4  # enough to keep /help and buttons responsive while an answer is computed
FLOOD_RETRIES = 3  # 429s waited out per request by AIORateLimiter before _with_retries takes over
# A send that fails on the network is retried after 1, 2, 4 … 30 s: about two minutes in all, so a short Bot API
# outage delays answers instead of losing them.
NETWORK_RETRIES = 8
NETWORK_BACKOFF = 1.0
NETWORK_BACKOFF_MAX = 30.0
TYPING_EVERY = 4.0  # Telegram shows "typing…" for at most 5 s
INFO_COMMANDS = ("start", "help", "sources")
ADMIN_COMMANDS = ("ingest", "remove", "reload", "refresh")

T = TypeVar("T")


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

    async def stop(self) -> None:
        """Tell a running feed refresh to stop first: PTB waits here for running handlers, an admin's /refresh too."""
        self.state.jobs.stopping()
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
    state = BotState(
        settings, BotJobs(settings, answerer, ingestor, refresh_interval=refresh_interval, clock=clock),
        Guard(settings),
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
    jobs_of(app).start()


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
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, _on_migrate, block=True), group=-2)
    # Before the gate: inline queries and joins check access themselves (a refusal is answered, a group left).
    app.add_handlers([*inline.handlers(), *members.handlers()], group=-2)
    app.add_handler(TypeHandler(Update, _gate), group=-1)
    app.add_handler(CommandHandler("ask", _cmd_ask, filters=new))
    app.add_handler(CommandHandler(INFO_COMMANDS, _cmd_info, filters=new))
    app.add_handler(CommandHandler(ADMIN_COMMANDS, _cmd_admin, filters=new))
    app.add_handler(CommandHandler("new", _cmd_new, filters=new))
    app.add_handler(CommandHandler(privacy.COMMANDS, _cmd_privacy, filters=new))
    text = new & filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, _on_private_text))
    app.add_handler(MessageHandler(text & filters.ChatType.GROUPS & _AddressedToBot(), _on_group_text))
    app.add_handler(MessageHandler(new & filters.ChatType.PRIVATE & filters.Document.ALL, _on_document))
    app.add_handler(CallbackQueryHandler(_on_feedback, pattern=r"^fb:[+-]:"))
    app.add_handler(CallbackQueryHandler(_on_more, pattern=r"^more:"))
    app.add_handler(CallbackQueryHandler(_on_unknown_button))  # anything else: answered, so it stops spinning
    # Last in the group: only what no handler above took. Status updates (pins, joins) are not messages to answer.
    private = new & filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL
    app.add_handler(MessageHandler(private & filters.COMMAND, _on_unknown_command))
    app.add_handler(MessageHandler(private & ~filters.TEXT, _on_not_text))
    app.add_error_handler(_on_error)


# ---------------------------------------------------------------- is the bot addressed? (rules in qabot.bot.address)


def _me(message: Message) -> tuple[int, str | None]:
    bot = message.get_bot()
    return bot.id, bot.username


class _AddressedToBot(filters.MessageFilter):
    """A group message that mentions the bot or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        return address.mentions_or_replies(message.to_dict(), *_me(message))


def _addressed(update: Update) -> bool:
    if update.callback_query is not None:
        return True
    message = update.message  # new messages only; edits and channel posts never are
    return message is not None and message.chat is not None and address.addressed(message.to_dict(), *_me(message))


# ---------------------------------------------------------------- handlers


def _lang(source: Update | Message) -> str | None:
    """The language the replies to an update or message are in: that of the user who wrote or pressed (Telegram's
    ``language_code``, from the user's app settings); ``qabot.render.translations`` falls back to English."""
    user = source.effective_user if isinstance(source, Update) else source.from_user
    return user.language_code if user else None


async def _on_migrate(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    old = message.migrate_from_chat_id or message.chat_id
    new = message.migrate_to_chat_id or message.chat_id
    context.state.guard.note_migration(old, new)
    context.application.migrate_chat_data(message=message)
    log.info("Chat %s migrated to supergroup %s", old, new)


async def _gate(update: Update, context: Context) -> None:
    """Outside the allowlists: say once, politely, that the bot is private; then ignore that chat.

    A button press is answered every time (a short notice only the presser sees): unanswered, it keeps spinning.
    """
    guard = context.state.guard
    user_id = update.effective_user.id if update.effective_user else None
    chat_id = update.effective_chat.id if update.effective_chat else None
    if guard.allowed(chat_id, user_id):
        return
    key = chat_id if chat_id is not None else (user_id or 0)
    first = _addressed(update) and guard.first_refusal(key)
    if first:
        log.info("Refused chat %s (user %s): not in the allowlists", key, user_id)
    if update.callback_query is not None:
        await update.callback_query.answer(tr.text("private_bot", _lang(update)))
    elif first and update.effective_message is not None:
        await _send(update.effective_message, tr.text("private_bot", _lang(update)))
    raise ApplicationHandlerStop


async def _cmd_info(update: Update, context: Context) -> None:
    message = update.effective_message
    command = address.command_name(message.to_dict())
    await _send(message, await context.state.jobs.info(command, context.bot.username, _lang(update)))


async def _cmd_ask(update: Update, context: Context) -> None:
    await _answer_question(update, context, address.command_question(update.effective_message.to_dict()))


async def _on_private_text(update: Update, context: Context) -> None:
    text = update.effective_message.text or ""
    if is_courtesy(text):  # "thanks!": a friendly line, not a decline
        await _send(update.effective_message, tr.text("not_a_question", _lang(update)))
        return
    await _answer_question(update, context, text)


async def _on_group_text(update: Update, context: Context) -> None:
    message = update.effective_message
    question = address.group_question(message.to_dict(), *_me(message))
    if question.strip() and not is_question(question):
        return  # "thanks!" to an answer: the whole group would see a decline
    await _answer_question(update, context, question)


async def _cmd_new(update: Update, context: Context) -> None:
    message = update.effective_message
    thread = conversations.thread_of(message.to_dict(), context.bot.id)
    await context.state.jobs.conversations.start_over(thread)
    await _send(message, tr.text("new_conversation", _lang(update)))


async def _cmd_privacy(update: Update, context: Context) -> None:
    """``/privacy``, ``/forget`` and ``/stats`` (whose admin part only admins see): ``qabot.bot.privacy``."""
    message = update.effective_message
    user_id = update.effective_user.id if update.effective_user else None
    admin = context.state.guard.is_admin(user_id)
    command = address.command_name(message.to_dict())
    args = list(context.args or [])
    reply = await context.state.jobs.privacy.reply(command, user_id, admin=admin, args=args, lang=_lang(update))
    await _send(message, reply)


async def _on_unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    await _send(message, th.unknown_command_html(address.command_name(message.to_dict()), _lang(update)))


async def _on_not_text(update: Update, context: Context) -> None:
    await _send(update.effective_message, tr.text("not_text", _lang(update)))


async def _answer_question(update: Update, context: Context, question: str) -> None:
    message = update.effective_message
    question = question.strip()
    if not question:
        await _send(message, tr.text("empty_question", _lang(update)))
        return
    sender = message.sender_chat.id if message.sender_chat else (message.from_user.id if message.from_user else 0)
    if context.state.turns.offer(sender, (update, question)):  # else it waits its turn, or is skipped and counted
        context.application.create_task(_take_turns(sender, update, question, context), update=update)


async def _take_turns(sender: int, update: Update, question: str, context: Context) -> None:
    """Answer a sender's questions in the order sent, each once their cooldown is over; then say how many of a
    burst were skipped. Runs as its own task, so waiting out a cooldown holds none of PTB's update slots."""
    item: tuple[Update, str] | None = (update, question)
    while item is not None:
        update, question = item
        await asyncio.sleep(context.state.guard.cooldown_left(sender, time.monotonic()))
        try:
            await _answer_now(update.effective_message, context, question, sender)
        except Exception as err:  # one question's failure must not cost the ones behind it
            await _report_failure(update, err)
        item, skipped = context.state.turns.next(sender)
    if skipped:
        try:
            await _send(update.effective_message, th.esc(th.skipped_note(skipped, _lang(update))), do_quote=False)
        except Exception as err:
            await _report_failure(update, err)


async def _answer_now(message: Message, context: Context, question: str, sender: int) -> None:
    group = message.chat.type != Chat.PRIVATE
    allowed, warning = context.state.guard.check(
        sender, message.chat_id, group=group, now=time.monotonic(), lang=_lang(message)
    )
    if not allowed:
        if warning:
            await _send(message, warning)
        return
    jobs = context.state.jobs
    thread = conversations.thread_of(message.to_dict(), context.bot.id)
    asker = message.from_user.id if message.from_user else None  # stored with the answer, so /forget finds it
    async with _typing(message):
        try:
            reply = await jobs.answer(question, message.chat_id, thread, user_id=asker, lang=_lang(message))
        except BadQuestion as err:
            await _send(message, th.esc(str(err)))
            return
    sent = await _send_parts(message, reply.parts, _answer_keyboard(reply.answer_id, more=reply.more))
    await jobs.conversations.remember(thread, reply.context, [m.message_id for m in sent])


def _answer_keyboard(answer_id: str | None, *, more: bool) -> InlineKeyboardMarkup | None:
    if answer_id is None:
        return None  # the feedback store is unusable: buttons would lead nowhere
    row = [
        InlineKeyboardButton(th.vote_label(True, 0), callback_data=f"fb:+:{answer_id}"),
        InlineKeyboardButton(th.vote_label(False, 0), callback_data=f"fb:-:{answer_id}"),
    ]
    if more:
        row.append(InlineKeyboardButton(th.MORE_SOURCES, callback_data=f"more:{answer_id}"))
    return InlineKeyboardMarkup([row])


async def _on_feedback(update: Update, context: Context) -> None:
    """Store the vote, say which one counted, and show the new counts on the buttons (everyone sees them)."""
    query = update.callback_query
    _, sign, answer_id = (query.data or "").split(":", 2)
    vote = 1 if sign == "+" else -1
    tally = await context.state.jobs.vote(answer_id, query.from_user.id, vote)
    if tally is None or not tally.known:
        await query.answer(tr.text("feedback_down" if tally is None else "too_old_to_rate", _lang(update)))
        return
    await query.answer(th.vote_notice(vote, tally.before, _lang(update)))
    if tally.before != vote and isinstance(query.message, Message):
        await _edit_keyboard(query.message, [[_counted(b, tally) for b in row] for row in _rows(query.message)])


def _counted(button: InlineKeyboardButton, tally: Tally) -> InlineKeyboardButton:
    data = str(button.callback_data or "")
    if data.startswith(("fb:+:", "fb:-:")):
        up = data.startswith("fb:+:")
        return InlineKeyboardButton(th.vote_label(up, tally.up if up else tally.down), callback_data=data)
    return button


async def _on_more(update: Update, context: Context) -> None:
    """``more:<id>`` under an answer opens its further sources in one new message, once; ``more:<id>:<page>``
    under that message turns its page in place. The page number in the button is the message's own cursor."""
    query = update.callback_query
    _, answer_id, *page_number = (query.data or "").split(":")
    jobs = context.state.jobs
    message = query.message
    if not isinstance(message, Message) or not all(n.isdigit() for n in page_number):
        await query.answer(tr.text("old_button", _lang(update)))
        return
    opening = not page_number
    if opening and (opened := await jobs.open_sources(answer_id)) is not True:
        await query.answer(tr.text("sources_below" if opened is False else "no_more", _lang(update)))
        return
    page = await jobs.sources_page(answer_id, int(page_number[0]) if page_number else 1)
    if page is None:
        await query.answer(tr.text("no_more", _lang(update)))
        return
    await query.answer()
    keyboard = _page_keyboard(answer_id, page)
    if opening:
        await _send(message, page.html, reply_markup=keyboard, do_quote=True)
        # The answer's own "More sources" goes: its further sources are now in the message under it.
        await _edit_keyboard(
            message, [[b for b in row if not str(b.callback_data).startswith("more:")] for row in _rows(message)]
        )
    else:
        await _edit_text(message, page.html, keyboard)


def _page_keyboard(answer_id: str, page: SourcesPage) -> InlineKeyboardMarkup | None:
    row = []
    if page.page > 1:
        row.append(InlineKeyboardButton("◀ Back", callback_data=f"more:{answer_id}:{page.page - 1}"))
    if page.page < page.pages:
        row.append(InlineKeyboardButton("More ▶", callback_data=f"more:{answer_id}:{page.page + 1}"))
    return InlineKeyboardMarkup([row]) if row else None


def _rows(message: Message) -> list[list[InlineKeyboardButton]]:
    return [list(row) for row in message.reply_markup.inline_keyboard] if message.reply_markup else []


async def _edit_keyboard(message: Message, rows: list[list[InlineKeyboardButton]]) -> None:
    """Change the buttons under a message; "not modified" (a press at the same moment did it) is no error."""
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(InlineKeyboardMarkup([row for row in rows if row]))


async def _edit_text(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Replace a message's text and buttons, as plain text if Telegram refuses the HTML."""
    try:
        await message.edit_text(text, reply_markup=keyboard)
    except BadRequest as err:
        if "not modified" in err.message.lower():
            return  # two presses of the same button: the page is already there
        if not _refused_html(err):
            raise
        log.warning("Chat %s refused the HTML (%s); edited as plain text", message.chat_id, err.message)
        await message.edit_text(th.plain_text(text), reply_markup=keyboard, parse_mode=None)


async def _on_unknown_button(update: Update, context: Context) -> None:
    await update.callback_query.answer(tr.text("old_button", _lang(update)))


# ---------------------------------------------------------------- admin


async def _admin_jobs(update: Update, context: Context) -> BotJobs | None:
    """The jobs if the sender is an admin; otherwise say so and return None."""
    user_id = update.effective_user.id if update.effective_user else None
    if context.state.guard.is_admin(user_id):
        return context.state.jobs
    log.info("Refused admin command from user %s", user_id)
    await _send(update.effective_message, tr.text("admin_only", _lang(update)))
    return None


async def _cmd_admin(update: Update, context: Context) -> None:
    """``/ingest URL``, ``/remove REF``, ``/reload``, ``/refresh``: admins only."""
    jobs = await _admin_jobs(update, context)
    if jobs is None:
        return
    message = update.effective_message
    command = address.command_name(message.to_dict())
    if command == "refresh" and jobs.refreshing:
        reply = ALREADY_REFRESHING  # said at once, not after the running refresh
    else:
        async with _typing(message):
            reply = await jobs.admin(command, list(context.args or []))
    await _send(message, th.esc(reply))


async def _on_document(update: Update, context: Context) -> None:
    jobs = await _admin_jobs(update, context)
    if jobs is None:
        return
    message = update.effective_message
    document = message.document
    limit = context.state.settings.fetch_max_bytes
    if jobs.ingestor is None:
        reply = "Ingest is not set up on this bot."
    elif document.file_size and document.file_size > limit:
        reply = f"That file is too big (over {limit:,} bytes)."
    else:
        async with _typing(message):
            data = bytes(await (await document.get_file()).download_as_bytearray())
            reply = await jobs.ingest_upload(document.file_name or "document", data)
    await _send(message, th.esc(reply))


# ---------------------------------------------------------------- sending


@contextlib.asynccontextmanager
async def _typing(message: Message) -> AsyncIterator[None]:
    """Show "typing…" in the question's chat and topic until the block ends."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await message.reply_chat_action(ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _send_parts(
    message: Message, parts: list[str], keyboard: InlineKeyboardMarkup | None, *, quote_first: bool | None = None
) -> list[Message]:
    """Send a split answer in order; the first part replies to the question, the buttons go under the last."""
    sent = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        markup = keyboard if last else None
        sent.append(await _send(message, part, reply_markup=markup, do_quote=quote_first if i == 0 else False))
    return sent


async def _send(message: Message, text: str, **kwargs: Any) -> Message:
    """Reply in the message's chat and topic; retry network errors with back-off, follow a group's migration.

    ``reply_text`` keeps the forum topic (never ``send_message`` by hand, which loses it). HTML that Telegram
    refuses to parse goes again as plain text: the same words without formatting, rather than no answer.
    """
    try:
        return await _send_as_is(message, text, **kwargs)
    except BadRequest as err:
        if not _refused_html(err):
            raise
        log.warning("Chat %s refused the HTML (%s); sent as plain text", message.chat_id, err.message)
        return await _send_as_is(message, th.plain_text(text), parse_mode=None, **kwargs)


def _refused_html(err: BadRequest) -> bool:
    return "can't parse entities" in err.message.lower()


async def _send_as_is(message: Message, text: str, **kwargs: Any) -> Message:
    return await _with_retries(
        lambda: message.reply_text(text, **kwargs),
        on_migrated=lambda chat_id: message.get_bot().send_message(
            chat_id, text, reply_markup=kwargs.get("reply_markup")
        ),
        where=f"chat {message.chat_id}",
    )


async def _with_retries(
    call: Callable[[], Awaitable[T]], *, on_migrated: Callable[[int], Awaitable[T]], where: str
) -> T:
    """``call()`` until it works: flood waits as Telegram asks, network errors with back-off, 400s never.

    A request that timed out may have been carried out; Telegram has no idempotency key for messages, so a retry
    can then show the answer twice. That is preferred to losing it.
    """
    delay = NETWORK_BACKOFF
    for attempt in range(NETWORK_RETRIES + 1):
        try:
            return await call()
        except ChatMigrated as err:
            log.info("%s moved to %s; sending there", where, err.new_chat_id)
            return await on_migrated(err.new_chat_id)
        except BadRequest:
            raise  # a 400 will fail the same way again
        except (NetworkError, RetryAfter) as err:
            if attempt == NETWORK_RETRIES:
                raise
            wait = _seconds(err.retry_after) + 0.1 if isinstance(err, RetryAfter) else delay
            log.warning("Sending to %s failed (%s); retry %d in %.1f s", where, err, attempt + 1, wait)
            await asyncio.sleep(wait)
            if not isinstance(err, RetryAfter):
                delay = min(delay * 2, NETWORK_BACKOFF_MAX)
    raise AssertionError("unreachable")


def _seconds(value: float | dt.timedelta) -> float:
    # RetryAfter.retry_after is a timedelta with PTB_TIMEDELTA=1 (recommended), seconds otherwise.
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def _on_error(update: object, context: Context) -> None:
    """PTB's error handler: see :func:`_report_failure`."""
    if isinstance(update, Update):
        await _report_failure(update, context.error)
    else:
        log.error("Telegram error outside an update: %s", type(context.error).__name__, exc_info=context.error)


async def _report_failure(update: Update, err: BaseException | None) -> None:
    """Log the error with what it was about, then tell the user one neutral line (never a traceback).

    ``Forbidden`` is no failure: the user blocked the bot or it was removed from the group, so there is no one to
    tell, and one info line says so.
    """
    chat = update.effective_chat.id if update.effective_chat else None
    user = update.effective_user.id if update.effective_user else None
    if isinstance(err, Forbidden):
        log.info("Chat %s (user %s) takes no messages from the bot: %s", chat, user, err.message)
        return
    log.error("Update %s (chat %s, user %s) failed: %s", update.update_id, chat, user, type(err).__name__, exc_info=err)
    with contextlib.suppress(TelegramError):
        if update.callback_query is not None:
            await update.callback_query.answer(tr.text("something_wrong", _lang(update)))
        elif update.message is not None and _addressed(update):
            await _send(update.message, tr.text("something_wrong", _lang(update)))


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
