"""The one secret masker (``qabot.redact``): what it hides, what it leaves alone, and the log filter built on it.

The surfaces that use it are tested where a user sees them: the CLI's error line (tests/test_cli.py), ``qabot
doctor`` (tests/test_doctor.py), the bot's logs (tests/telegram/test_bot_e2e.py, test_bot_outage.py).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from qabot.config import Settings
from qabot.redact import Redactor, install_log_redaction

TOKEN = "7012345678:AAHk-redact-test-token-0123456789abc"
KEY = TOKEN.split(":", 1)[1]


def test_every_secret_setting_and_the_token_key_alone_are_masked() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=f" {TOKEN} ",  # a stray space from an .env line: the bot strips it, so does the masker
        webhook_secret="hook-secret-1234",
        llm_api_key="sk-llm-key-5678",
    )
    mask = Redactor.from_settings(settings)
    text = f"token {TOKEN}, key {KEY}, secret hook-secret-1234, key sk-llm-key-5678"
    assert mask(text) == "token [REDACTED], key [REDACTED], secret [REDACTED], key [REDACTED]"


def test_a_token_in_a_bot_api_url_is_masked_even_when_never_configured() -> None:
    mask = Redactor()
    assert mask("POST https://api.telegram.org/bot123:AbC_d-e/sendMessage") == (
        "POST https://api.telegram.org/bot[REDACTED]/sendMessage"
    )
    assert mask("GET http://10.0.0.5:8081/file/bot123:AbC/photos/1.jpg") == (
        "GET http://10.0.0.5:8081/file/bot[REDACTED]/photos/1.jpg"
    )
    assert mask("the robot 42:answered") == "the robot 42:answered"  # not a URL path: left alone


def test_a_very_short_secret_does_not_garble_the_text() -> None:
    mask = Redactor.from_settings(Settings(_env_file=None, webhook_secret="a"))  # type: ignore[call-arg]
    assert mask("a database at a path") == "a database at a path"


def test_refused_values_are_masked_part_by_part() -> None:
    # A token pasted into QABOT_ADMIN_IDS: pydantic quotes the part of the list it could not read.
    mask = Redactor.from_given([f"12, {TOKEN}", None, 7])
    assert mask(f"invalid literal for int() with base 10: '{TOKEN}'") == (
        "invalid literal for int() with base 10: '[REDACTED]'"
    )


@pytest.fixture
def root_stream() -> Iterator[io.StringIO]:
    """A handler on the root logger, as ``logging.basicConfig`` would add one; removed afterwards."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)


def test_the_log_filter_masks_the_secrets_of_every_bot_built_in_the_process(root_stream: io.StringIO) -> None:
    other = "555:AAother-bot-token-abcdef"
    install_log_redaction(Redactor.from_settings(Settings(_env_file=None, telegram_token=TOKEN)))  # type: ignore[call-arg]
    install_log_redaction(Redactor.from_settings(Settings(_env_file=None, telegram_token=other)))  # type: ignore[call-arg]
    log = logging.getLogger("test.redact")
    log.warning("first bot %s, second bot %s", TOKEN, other)
    try:
        raise ConnectionError(f"refused: key {KEY}")
    except ConnectionError:
        log.exception("send failed")
    text = root_stream.getvalue()
    assert "first bot [REDACTED], second bot [REDACTED]" in text
    assert "ConnectionError: refused: key [REDACTED]" in text
    assert KEY not in text
    assert "AAother-bot-token-abcdef" not in text
