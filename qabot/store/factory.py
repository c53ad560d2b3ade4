"""Which store holds the index: ``open_store`` reads ``QABOT_STORE`` and opens the local folder or Milvus.

Nothing heavy is imported until a store is opened: the local one loads faiss, the Milvus one pymilvus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qabot.config import Settings
from qabot.errors import ConfigError

if TYPE_CHECKING:
    from qabot.store.api import Store


def open_store(settings: Settings, *, dimension: int | None = None, create: bool = False) -> Store:
    """The settings' index for their model: the folder ``QABOT_INDEX_DIR`` (``local``) or Milvus at
    ``QABOT_MILVUS_URI`` (``milvus``). ``create`` makes it (``dimension`` needed); another model's is refused."""
    if settings.store == "milvus":
        from qabot.store.milvus import MilvusStore

        return MilvusStore.open(settings, dimension=dimension, create=create)
    from qabot.store.index import IndexStore

    return IndexStore.open(settings.index_dir, model=settings.model, dimension=dimension, create=create)


def require_local(settings: Settings, command: str) -> None:
    """Refuse, in one line, a command that only makes sense for an index folder when the index is on Milvus."""
    if settings.store != "local":
        raise ConfigError(
            f"`qabot {command}` works on a local index folder, and QABOT_STORE={settings.store}: Milvus keeps its "
            "own copies and indexes (unset QABOT_STORE to use it on a folder)"
        )


def where(settings: Settings) -> str:
    """The index's place as a person reads it: the folder, or the Milvus URI and collection prefix."""
    if settings.store == "milvus":
        from qabot.store.milvus.connection import milvus_uri

        return f"Milvus {milvus_uri(settings)} (collections {settings.milvus_prefix}_*)"
    return str(settings.index_dir)


__all__ = ["open_store", "require_local", "where"]
