"""The Telegram front-end: a thin conversation layer over the same ``Answerer`` the CLI uses.

The only module that imports ``telegram``. ``build_application`` returns a python-telegram-bot ``Application``;
``run_bot`` runs it by polling or webhook for ``qabot serve``. In groups the bot speaks only when addressed (an
@mention, a reply to one of its messages, ``/ask`` or ``/ask@itsname``), replies in the question's forum topic,
and never answers edits, channel posts or other bots' commands. Model and index work runs on a worker thread,
one call at a time (the tokenizer is not thread-safe and the box is small), so the event loop stays free for
other chats, buttons and "typing…". Flood control is waited out by ``AIORateLimiter``; network errors are retried
with back-off; anything else is logged with context and the user gets one neutral line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, ChatMigrated, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from qabot import telegram_html as th
from qabot.config import Settings
from qabot.errors import BadQuestion, ConfigError, LoadError
from qabot.feedback import FeedbackStore
from qabot.models import Answer, Article, IndexStats, IngestReport, Skip

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]  # edits and channel posts are never answered, so never fetched
CONCURRENT_UPDATES = 4  # enough to keep /help and buttons responsive while an answer is computed
FLOOD_RETRIES = 3  # 429s waited out per request by AIORateLimiter before giving up
NETWORK_RETRIES = 3
NETWORK_BACKOFF = 1.0  # seconds before the first retry; doubles each time
TYPING_EVERY = 4.0  # Telegram shows "typing…" for at most 5 s
RECENT_SOURCES = 10
_STATE = "qabot"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

T = TypeVar("T")


class AnswererLike(Protocol):
    """What the bot needs from ``qabot.answer.Answerer``."""

    def ask(self, question: str, *, id: str | None = None) -> Answer: ...
    def stats(self) -> IndexStats: ...
    def recent(self, n: int = 10) -> list[Article]: ...
    def reload(self) -> bool: ...


class IngestorLike(Protocol):
    """What the admin commands need from ``qabot.ingest.Ingestor``."""

    def ingest_articles(self, articles: Iterable[Article], skipped: Sequence[Skip] = ()) -> IngestReport: ...
    def remove(self, ref: str) -> bool: ...


# ---------------------------------------------------------------- logging: the token never reaches a log line


class RedactSecrets(logging.Filter):
    """Replaces registered secrets (the bot token is in every Bot API URL) in messages and tracebacks."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "[REDACTED]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


REDACTOR = RedactSecrets()


def install_log_redaction(*secrets: str | None) -> None:
    """Redact ``secrets`` on every handler of the root logger, and keep httpx (which logs URLs) at WARNING.

    Call it after logging is configured (``run_bot`` does, through ``build_application``).
    """
    for secret in secrets:
        if secret:
            REDACTOR.secrets.add(secret)
            if ":" in secret:  # a bot token "<id>:<key>": the key alone is the secret part
                REDACTOR.secrets.add(secret.split(":", 1)[1])
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if REDACTOR not in handler.filters:
            handler.addFilter(REDACTOR)


# ---------------------------------------------------------------- state kept per application


@dataclass
class _BotState:
    settings: Settings
    answerer: AnswererLike
    ingestor: IngestorLike | None
    feedback: FeedbackStore
    work: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    last_question: dict[int, float] = field(default_factory=dict)
    warned: dict[tuple[str, int], float] = field(default_factory=dict)
    group_answers: dict[int, deque[float]] = field(default_factory=dict)
    refused: set[int] = field(default_factory=set)
    migrated_allowed: set[int] = field(default_factory=set)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking model/index work on a thread, one call at a time."""
        async with self.work:
            return await asyncio.to_thread(fn, *args)

    def allowed(self, chat: Chat | None, user_id: int | None) -> bool:
        """Both allowlists empty: anyone. Otherwise a listed chat (anyone in it) or a listed user (anywhere)."""
        s = self.settings
        if not s.allowed_chats and not s.allowed_users:
            return True
        if user_id is not None and (user_id in s.allowed_users or user_id in s.admin_ids):
            return True
        return chat is not None and (chat.id in s.allowed_chats or chat.id in self.migrated_allowed)

    def note_migration(self, old: int, new: int) -> None:
        """A group became a supergroup: carry its allowance and budget over to the new id."""
        if old in self.settings.allowed_chats or old in self.migrated_allowed:
            self.migrated_allowed.add(new)
        if old in self.group_answers:
            self.group_answers[new] = self.group_answers.pop(old)

    def limit_reason(self, sender: int, chat: Chat, now: float) -> str | None:
        """None if this question may be answered now (and count it); else which limit it hit."""
        cooldown = self.settings.user_cooldown_seconds
        if len(self.last_question) > 10_000:  # forget senders whose cooldown is long over, so memory stays flat
            self.last_question = {k: t for k, t in self.last_question.items() if now - t < cooldown}
            self.warned = {k: t for k, t in self.warned.items() if now - t < max(cooldown, 60)}
        last = self.last_question.get(sender)
        if last is not None and now - last < cooldown:
            return "user"
        if chat.type != Chat.PRIVATE:
            window = self.group_answers.setdefault(chat.id, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.settings.group_budget_per_minute:
                return "group"
            window.append(now)
        self.last_question[sender] = now
        return None

    def should_warn(self, key: tuple[str, int], now: float, period: float) -> bool:
        """Say "slow down" once per period per sender or chat, not once per message."""
        last = self.warned.get(key)
        if last is not None and now - last < period:
            return False
        self.warned[key] = now
        return True


def _state(context: ContextTypes.DEFAULT_TYPE) -> _BotState:
    return context.application.bot_data[_STATE]


# ---------------------------------------------------------------- building and running


def bot_api_urls(root: str) -> tuple[str, str]:
    """PTB's ``base_url`` and ``base_file_url`` from a Bot API root (``…/bot`` or a self-hosted server's root)."""
    root = root.rstrip("/")
    if root.endswith("/bot"):
        root = root[: -len("/bot")]
    return f"{root}/bot", f"{root}/file/bot"


def _token(settings: Settings) -> str:
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if not token:
        raise ConfigError("No bot token: set QABOT_TELEGRAM_TOKEN to the token @BotFather gave you.")
    return token


def build_application(
    settings: Settings,
    answerer: AnswererLike,
    *,
    ingestor: IngestorLike | None = None,
    base_url: str | None = None,
    request: BaseRequest | None = None,
) -> Application:
    """A configured ``Application`` (not started): HTML answers, flood control, handlers and error handler."""
    token = _token(settings)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    install_log_redaction(token, secret)
    api_url, file_url = bot_api_urls(base_url or settings.telegram_base_url)
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        allow_sending_without_reply=True,
    )
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(api_url)
        .base_file_url(file_url)
        .defaults(defaults)
        .rate_limiter(AIORateLimiter(max_retries=FLOOD_RETRIES))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(on_startup)
    )
    if request is not None:
        builder = builder.request(request)
    app = builder.build()
    app.bot_data[_STATE] = _BotState(settings, answerer, ingestor, FeedbackStore.from_settings(settings))
    _add_handlers(app)
    return app


async def on_startup(app: Application) -> None:
    """Startup side effects, shared by ``run_bot`` (as ``post_init``) and tests (which start the app by hand)."""
    everywhere = [
        BotCommand("ask", "Ask a question about the news"),
        BotCommand("sources", "The most recent articles"),
        BotCommand("stats", "What the index holds"),
        BotCommand("help", "How to use this bot"),
    ]
    await app.bot.set_my_commands([BotCommand("start", "What this bot does"), *everywhere])
    await app.bot.set_my_commands(everywhere, scope=BotCommandScopeAllGroupChats())


def polling_options() -> dict[str, Any]:
    """Arguments for ``run_polling``/``updater.start_polling``: stale questions from downtime are dropped."""
    return {"allowed_updates": ALLOWED_UPDATES, "drop_pending_updates": True}


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Arguments for ``run_webhook``/``updater.start_webhook`` from settings; PTB refuses a wrong secret (403)."""
    if not settings.webhook_url:
        raise ConfigError("Webhook mode needs QABOT_WEBHOOK_URL, the public HTTPS URL Telegram should call.")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not _SECRET_RE.fullmatch(secret):
        raise ConfigError("Webhook mode needs QABOT_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -.")
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.strip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
        **polling_options(),
    }


def run_bot(settings: Settings, answerer: AnswererLike, ingestor: IngestorLike | None, *, webhook: bool) -> None:
    """Run the bot until interrupted: long polling by default, or a webhook server (``qabot serve --webhook``)."""
    options = webhook_options(settings) if webhook else polling_options()
    app = build_application(settings, answerer, ingestor=ingestor)
    if webhook:
        app.run_webhook(**options)
    else:
        app.run_polling(**options)


def _add_handlers(app: Application) -> None:
    new = filters.UpdateType.MESSAGE  # never edits or channel posts
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, _on_migrate, block=True), group=-2)
    app.add_handler(TypeHandler(Update, _gate), group=-1)
    for name, callback in (
        ("start", _cmd_start),
        ("help", _cmd_help),
        ("ask", _cmd_ask),
        ("sources", _cmd_sources),
        ("stats", _cmd_stats),
        ("ingest", _cmd_ingest),
        ("remove", _cmd_remove),
        ("reload", _cmd_reload),
    ):
        app.add_handler(CommandHandler(name, callback, filters=new))
    text = new & filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, _on_private_text))
    app.add_handler(MessageHandler(text & filters.ChatType.GROUPS & _AddressedToBot(), _on_group_text))
    app.add_handler(MessageHandler(new & filters.ChatType.PRIVATE & filters.Document.ALL, _on_document))
    app.add_handler(CallbackQueryHandler(_on_feedback, pattern=r"^fb:[+-]:"))
    app.add_handler(CallbackQueryHandler(_on_more, pattern=r"^more:"))
    app.add_error_handler(_on_error)


# ---------------------------------------------------------------- is the bot addressed?


def _is_topic_root_reply(message: Message) -> bool:
    # In forum topics every message "replies" to the topic's creation message; that is not addressing the bot.
    reply = message.reply_to_message
    return reply is not None and (
        reply.forum_topic_created is not None
        or (bool(message.is_topic_message) and reply.message_id == message.message_thread_id)
    )


def _replies_to_bot(message: Message) -> bool:
    reply = message.reply_to_message
    return (
        reply is not None
        and reply.from_user is not None
        and reply.from_user.id == message.get_bot().id
        and not _is_topic_root_reply(message)
    )


def _bot_mentions(message: Message) -> list[MessageEntity]:
    """The entities in ``message`` that mention this bot (by @username, any case, or as a text mention)."""
    bot = message.get_bot()
    own = f"@{bot.username}".lower() if bot.username else None
    found = []
    for entity, text in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        by_name = entity.type == MessageEntity.MENTION and own is not None and text.lower() == own
        by_id = entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot.id
        if by_name or by_id:
            found.append(entity)
    return found


class _AddressedToBot(filters.MessageFilter):
    """A group message that mentions the bot or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        return _replies_to_bot(message) or bool(_bot_mentions(message))


def _is_own_command(message: Message) -> bool:
    entities = message.entities or ()
    if not message.text or not entities or entities[0].type != MessageEntity.BOT_COMMAND or entities[0].offset:
        return False
    command = message.text[: entities[0].length]
    _, _, target = command.partition("@")
    return not target or target.lower() == (message.get_bot().username or "").lower()


def _addressed(update: Update) -> bool:
    if update.callback_query is not None:
        return True
    message = update.message  # new messages only; edits and channel posts never are
    if message is None or message.chat is None:
        return False
    if message.chat.type == Chat.PRIVATE:
        return True
    return _is_own_command(message) or _replies_to_bot(message) or bool(_bot_mentions(message))


def _strip_mentions(message: Message) -> str:
    """The message text without the mentions of this bot (cut by UTF-16 offsets, as Telegram counts them)."""
    text = message.text or ""
    units = text.encode("utf-16-le")
    for entity in sorted(_bot_mentions(message), key=lambda e: e.offset, reverse=True):
        units = units[: entity.offset * 2] + units[(entity.offset + entity.length) * 2 :]
    return units.decode("utf-16-le").strip(" \t\n,:;—-")


# ---------------------------------------------------------------- handlers


async def _on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    old = message.migrate_from_chat_id or message.chat_id
    new = message.migrate_to_chat_id or message.chat_id
    _state(context).note_migration(old, new)
    context.application.migrate_chat_data(message=message)
    log.info("Chat %s migrated to supergroup %s", old, new)


async def _gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Outside the allowlists: say once, politely, that the bot is private; then ignore that chat."""
    state = _state(context)
    user = update.effective_user
    chat = update.effective_chat
    if state.allowed(chat, user.id if user else None):
        return
    key = chat.id if chat is not None else (user.id if user else 0)
    if _addressed(update) and key not in state.refused:
        state.refused.add(key)
        log.info("Refused chat %s (user %s): not in the allowlists", key, user.id if user else None)
        if update.callback_query is not None:
            await update.callback_query.answer(th.PRIVATE_BOT)
        elif update.effective_message is not None:
            await _send(update.effective_message, th.esc(th.PRIVATE_BOT))
    raise ApplicationHandlerStop


async def _cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    stats = await _state(context).run(_state(context).answerer.stats)
    await _send(update.effective_message, th.start_html(stats, context.bot.username))


async def _cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _send(update.effective_message, th.help_html(context.bot.username))


async def _cmd_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    stats = await _state(context).run(_state(context).answerer.stats)
    await _send(update.effective_message, th.stats_html(stats))


async def _cmd_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    articles = await _state(context).run(_state(context).answerer.recent, RECENT_SOURCES)
    await _send(update.effective_message, th.sources_html(articles))


async def _cmd_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1)  # "/ask question", the question may start on a new line
    question = parts[1].strip() if len(parts) > 1 else ""
    reply = message.reply_to_message
    if not question and reply is not None and reply.text and not _is_topic_root_reply(message):
        question = reply.text  # "/ask" as a reply asks the replied-to message
    await _answer_question(update, context, question)


async def _on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer_question(update, context, update.effective_message.text or "")


async def _on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    question = _strip_mentions(message)
    reply = message.reply_to_message
    if not question and reply is not None and reply.text and not _replies_to_bot(message):
        question = reply.text  # "@bot" alone, in reply to someone: ask their message
    await _answer_question(update, context, question)


async def _answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    state = _state(context)
    message = update.effective_message
    question = question.strip()
    if not question:
        await _send(message, th.EMPTY_QUESTION)
        return
    if not await _within_limits(state, message):
        return
    async with _typing(message):
        try:
            answer = await state.run(state.answerer.ask, question)
        except BadQuestion as err:
            await _send(message, th.esc(str(err)))
            return
        answer_id = await asyncio.to_thread(state.feedback.record_answer, answer, message.chat_id)
    parts = th.render_answer_html(answer)
    keyboard = _answer_keyboard(answer_id, more=bool(answer.more) and not answer.abstained)
    await _send_parts(message, parts, keyboard)


async def _within_limits(state: _BotState, message: Message) -> bool:
    sender = message.sender_chat.id if message.sender_chat else (message.from_user.id if message.from_user else 0)
    now = time.monotonic()
    reason = state.limit_reason(sender, message.chat, now)
    if reason is None:
        return True
    if reason == "user":
        wait = state.settings.user_cooldown_seconds
        if state.should_warn(("user", sender), now, wait):
            await _send(message, f"Slow down a little, please: one question every {wait:g} seconds.")
    elif state.should_warn(("chat", message.chat_id), now, 60):
        await _send(message, "This group is asking faster than I may answer. Please try again in a minute.")
    return False


def _answer_keyboard(answer_id: str, *, more: bool) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton("👍", callback_data=f"fb:+:{answer_id}"),
        InlineKeyboardButton("👎", callback_data=f"fb:-:{answer_id}"),
    ]
    if more:
        row.append(InlineKeyboardButton("More sources", callback_data=f"more:{answer_id}"))
    return InlineKeyboardMarkup([row])


async def _on_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, sign, answer_id = (query.data or "").split(":", 2)
    stored = await asyncio.to_thread(
        _state(context).feedback.record_vote, answer_id, query.from_user.id, 1 if sign == "+" else -1
    )
    await query.answer("Thanks for the feedback!" if stored else "That answer is too old to rate.")


async def _on_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = _state(context)
    query = update.callback_query
    answer_id = (query.data or "").split(":", 1)[1]
    page = await asyncio.to_thread(state.feedback.next_more, answer_id, state.settings.max_articles)
    if page is None or not page.quotes or not isinstance(query.message, Message):
        await query.answer(th.NO_MORE)
        return
    await query.answer()
    parts = th.render_quotes_html(page.quotes, numbered_from=len(th.source_groups(page.before)) + 1)
    keyboard = _answer_keyboard(answer_id, more=True) if page.remaining else None
    await _send_parts(query.message, parts, keyboard, quote_first=True)


# ---------------------------------------------------------------- admin


def _is_admin(update: Update, state: _BotState) -> bool:
    user = update.effective_user
    return user is not None and user.id in state.settings.admin_ids


async def _admin_state(update: Update, context: ContextTypes.DEFAULT_TYPE) -> _BotState | None:
    """The state if the sender is an admin and ingest is set up; otherwise say why not and return None."""
    state = _state(context)
    if not _is_admin(update, state):
        log.info("Refused admin command from user %s", update.effective_user.id if update.effective_user else None)
        await _send(update.effective_message, th.ADMIN_ONLY)
        return None
    if state.ingestor is None:
        await _send(update.effective_message, "Ingest is not set up on this bot.")
        return None
    return state


async def _cmd_ingest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = await _admin_state(update, context)
    if state is None:
        return
    message = update.effective_message
    if not context.args:
        await _send(message, "Usage: <code>/ingest https://example.com/article</code>")
        return
    # Imported here: the fetcher pulls in trafilatura, which plain Q&A never needs.
    from qabot.web import fetch_article

    async with _typing(message):
        try:
            article = await asyncio.to_thread(fetch_article, context.args[0], state.settings)
        except LoadError as err:
            await _send(message, th.esc(str(err)))
            return
        report = await _ingest(state, [article], [])
    await _send(message, th.esc(f"{article.title}: {report.summary()}"))


async def _on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = await _admin_state(update, context)
    if state is None:
        return
    message = update.effective_message
    document = message.document
    if document.file_size and document.file_size > state.settings.fetch_max_bytes:
        await _send(message, th.esc(f"That file is too big (over {state.settings.fetch_max_bytes:,} bytes)."))
        return
    # Imported here, like qabot.web: loaders are only needed by admins.
    from qabot.loaders import load_text_document

    async with _typing(message):
        data = bytes(await (await document.get_file()).download_as_bytearray())
        items = await asyncio.to_thread(load_text_document, document.file_name or "document", data)
        articles = [item for item in items if isinstance(item, Article)]
        skipped = [item for item in items if isinstance(item, Skip)]
        report = await _ingest(state, articles, skipped)
    lines = [report.summary(), *(f"skipped {s.where}: {s.reason}" for s in report.skipped[:5])]
    await _send(message, th.esc("\n".join(lines)))


async def _ingest(state: _BotState, articles: list[Article], skipped: list[Skip]) -> IngestReport:
    assert state.ingestor is not None
    report = await state.run(state.ingestor.ingest_articles, articles, skipped)
    await state.run(state.answerer.reload)
    log.info("Admin ingest: %s", report.summary())
    return report


async def _cmd_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = await _admin_state(update, context)
    if state is None:
        return
    if not context.args:
        await _send(update.effective_message, "Usage: <code>/remove article-id-or-url</code>")
        return
    assert state.ingestor is not None
    removed = await state.run(state.ingestor.remove, context.args[0])
    if removed:
        await state.run(state.answerer.reload)
    await _send(update.effective_message, "Removed." if removed else "No article with that id or URL.")


async def _cmd_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = _state(context)
    if not _is_admin(update, state):
        await _send(update.effective_message, th.ADMIN_ONLY)
        return
    changed = await state.run(state.answerer.reload)
    stats = await state.run(state.answerer.stats)
    status = "Reloaded the index" if changed else "The index was already up to date"
    await _send(update.effective_message, th.esc(f"{status}: {th.articles_phrase(stats.articles)}."))


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
) -> None:
    """Send a split answer in order; the first part replies to the question, the buttons go under the last."""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await _send(message, part, reply_markup=keyboard if last else None, do_quote=quote_first if i == 0 else False)


async def _send(message: Message, text: str, **kwargs: Any) -> Message:
    """Reply in the message's chat and topic; retry network errors with back-off, follow a group's migration.

    ``reply_text`` keeps the forum topic (never ``send_message`` by hand, which loses it). 429s are waited out
    by the rate limiter before they get here.
    """
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
    delay = NETWORK_BACKOFF
    for attempt in range(NETWORK_RETRIES + 1):
        try:
            return await call()
        except ChatMigrated as err:
            log.info("%s moved to %s; sending there", where, err.new_chat_id)
            return await on_migrated(err.new_chat_id)
        except BadRequest:
            raise  # a 400 will fail the same way again
        except NetworkError as err:
            if attempt == NETWORK_RETRIES:
                raise
            log.warning("Sending to %s failed (%s); retry %d in %.1f s", where, err, attempt + 1, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with what it was about, then tell the user one neutral line (never a traceback)."""
    err = context.error
    if isinstance(update, Update):
        chat = update.effective_chat.id if update.effective_chat else None
        user = update.effective_user.id if update.effective_user else None
        log.error(
            "Update %s (chat %s, user %s) failed: %s", update.update_id, chat, user, type(err).__name__, exc_info=err
        )
        with contextlib.suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(th.SOMETHING_WRONG)
            elif update.message is not None and _addressed(update):
                await update.message.reply_text(th.esc(th.SOMETHING_WRONG))
    else:
        log.error("Telegram error outside an update: %s", type(err).__name__, exc_info=err)


__all__ = [
    "ALLOWED_UPDATES",
    "AnswererLike",
    "IngestorLike",
    "RedactSecrets",
    "bot_api_urls",
    "build_application",
    "install_log_redaction",
    "on_startup",
    "polling_options",
    "run_bot",
    "webhook_options",
]
