"""Fixtures for the Telegram tests: the fake Bot API (per test), bot settings pointing at it, and a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from tests.fakes.telegram_api import FakeBotApi
from tests.telegram.pages import TRAM
from tests.telegram.redis_server import redis_server


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """A fake Bot API server on 127.0.0.1 with a free port."""
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
def bot_settings(fake: FakeBotApi, tmp_path: Path, make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings for a bot talking to the fake (through QABOT_TELEGRAM_BASE_URL), feedback under ``tmp_path``."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "index_dir": tmp_path / "bot",
            "telegram_token": fake.token,
            "telegram_base_url": fake.base_url,
            "user_cooldown_seconds": 0,
            "group_budget_per_minute": 100,
        }
        values.update(overrides)
        return make_settings(**values)

    return build


@dataclass
class WritableIndex:
    """Bot settings whose index is writable (one article to start), with its real Ingestor and Answerer."""

    settings: Settings
    ingestor: Ingestor
    answerer: Answerer


@pytest.fixture
def writable_index(bot_settings: Callable[..., Settings], embedder: Embedder) -> Callable[..., WritableIndex]:
    """Build a WritableIndex from bot settings (overrides as keywords); the index starts with ``pages.TRAM``."""

    def make(**overrides: object) -> WritableIndex:
        settings = bot_settings(**overrides)
        ingestor = Ingestor.from_settings(settings, embedder=embedder)
        ingestor.ingest_articles([TRAM])
        return WritableIndex(settings, ingestor, Answerer.from_settings(settings, embedder=embedder))

    return make


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real Redis on a free loopback port for this test (skipped, saying why, where redis-server cannot run)."""
    with redis_server(tmp_path / "redis") as url:
        yield url
