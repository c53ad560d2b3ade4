"""The one secret masker: what the log filter, the CLI's error line, ``qabot doctor`` and a bad setting's message
all pass their text through before anyone sees it.

``Redactor.from_settings(settings)`` knows every ``SecretStr`` setting (the bot token, the webhook secret, the LLM
key, and any added later), the bot token's key alone (the part after ``<id>:``), the password in
``QABOT_STATE_URL`` (``redis://:<password>@host``; the host and port stay readable), and the shape of a Bot API URL
(``/bot<id>:<key>/``), so even a token it was never told of is masked where a URL carries it. Error texts of HTTP
clients quote the request URL, and PTB's ``InvalidToken`` quotes the token itself: that is why every front-end masks
what it shows, not just the bot's log.

Telegram-free and below every front-end (stdlib and ``qabot.config`` only), so the CLI and doctor need no bot import.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from qabot.config import BOT_TOKEN_PATTERN, Settings

REDACTED = "[REDACTED]"
# Shorter values are not masked: replacing a secret "abc" would garble every word that contains it, and a value
# that short protects nothing anyway (a real bot token's key has 35 characters).
MIN_SECRET = 6
# A token in a Bot API URL (…/bot<id>:<key>/getMe, …/file/bot<id>:<key>/…), known or not.
_TOKEN_IN_URL = re.compile(rf"(/bot){BOT_TOKEN_PATTERN}")
# A rejected setting's value, as pydantic quotes it: id lists are checked one comma-separated part at a time.
_PARTS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Redactor:
    """Replaces each of ``secrets`` (longest first, so a token goes before its key part) and Bot API URL tokens."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, *values: str | None) -> Redactor:
        """A redactor for those of ``values`` that have at least :data:`MIN_SECRET` characters."""
        found = {v for v in values if v and len(v) >= MIN_SECRET}
        return cls(tuple(sorted(found, key=len, reverse=True)))

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        """Every secret ``settings`` holds: each ``SecretStr`` field, and the bot token's key part on its own."""
        # Stripped, as the bot sends the token: a copy with stray spaces around it contains the stripped one anyway.
        values = [
            value.get_secret_value().strip()
            for name in type(settings).model_fields
            if isinstance(value := getattr(settings, name), SecretStr)
        ]
        token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
        key = token.split(":", 1)[1] if ":" in token else ""  # "<id>:<key>": the key alone is the secret part
        return cls.of(*values, key, _password(settings.state_url))

    @classmethod
    def from_given(cls, values: Iterable[object]) -> Redactor:
        """For values a user gave that were refused (a token pasted into the wrong setting): each string, and each of
        its comma- or space-separated parts, since a list is refused one part at a time."""
        texts = [v for v in values if isinstance(v, str)]
        return cls.of(*texts, *(part for text in texts for part in _PARTS.split(text)))

    def __call__(self, text: str) -> str:
        """``text`` with every secret and every Bot API URL's token replaced by ``[REDACTED]``."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_IN_URL.sub(rf"\1{REDACTED}", text)

    def __or__(self, other: Redactor) -> Redactor:
        """A redactor for the secrets of both (a process that built bots from several settings masks them all)."""
        return Redactor.of(*self.secrets, *other.secrets)


def _password(url: str) -> str | None:
    """The password in a URL setting (``redis://:pw@host``): the rest of the URL is no secret, and logs name it."""
    try:
        return urlsplit(url.strip()).password
    except ValueError:  # not a URL at all: nothing to take apart
        return None


# ---------------------------------------------------------------- logging: no secret reaches a log line


class RedactingFilter(logging.Filter):
    """A handler filter that masks messages, their arguments, tracebacks and stack traces with a :class:`Redactor`."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redactor(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


def install_log_redaction(redactor: Redactor) -> None:
    """Mask ``redactor``'s secrets on every handler of the root logger; keep httpx (which logs URLs) quiet.

    Call it after logging is configured (``qabot.bot.app.build_application`` does). A handler that already has a
    filter from an earlier call keeps it, with both sets of secrets. httpx and httpcore go to WARNING only when
    nobody set their level: an operator who turns them up on purpose still gets masked lines.
    """
    for name in ("httpx", "httpcore"):
        chatty = logging.getLogger(name)
        if chatty.level == logging.NOTSET:
            chatty.setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        present = next((f for f in handler.filters if isinstance(f, RedactingFilter)), None)
        if present is None:
            handler.addFilter(RedactingFilter(redactor))
        else:
            present.redactor = present.redactor | redactor


__all__ = ["MIN_SECRET", "REDACTED", "RedactingFilter", "Redactor", "install_log_redaction"]
