"""The one place pymilvus is imported and a ``MilvusClient`` made; Milvus's errors arrive as qabot's.

Milvus Lite (a file URI) runs as a child process that holds the file: one process at a time may open it, so a second
one is told so in one line (``IndexLocked``). Its server prints its engine's log lines on the stdout and stderr it
inherits, which would garble the CLI's one-line errors: it is started with both pointed at /dev/null. pymilvus logs
each failed call itself before raising it; those raised errors are translated here, so its own log is kept to
critical messages.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from qabot.config import Settings
from qabot.errors import ConfigError, IndexIOError, IndexLocked, QabotError
from qabot.store.layout import MILVUS_LITE

if TYPE_CHECKING:
    from pymilvus import MilvusClient

T = TypeVar("T")
_spawning = threading.Lock()  # the stdout/stderr swap while a Lite server starts is process-wide
# pymilvus keeps one connection per URI for the whole process, shared by every client of it: closing one client
# closes it for all. So the stores using each connection are counted, and the last one to close it closes it (and
# stops a Lite server, which frees the file for another process).
_users: dict[str, int] = {}
_users_lock = threading.Lock()


def milvus_uri(settings: Settings) -> str:
    """Where the index's Milvus is: QABOT_MILVUS_URI, or a Milvus Lite file in the index folder."""
    return settings.milvus_uri.strip() or str(Path(settings.index_dir) / MILVUS_LITE)


def is_lite(uri: str) -> bool:
    """A file path (Milvus Lite) rather than a server's http(s)/tcp address."""
    return "://" not in uri


def pymilvus() -> Any:
    """The pymilvus module, imported quietly (Milvus Lite imports pkg_resources, which warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import pymilvus as module
        except ImportError:
            raise ConfigError(
                "QABOT_STORE=milvus needs pymilvus and Milvus Lite: pip install 'qabot[milvus]'"
            ) from None

        # pymilvus imports Milvus Lite itself at the first file URI, outside this block: import it here instead.
        with contextlib.suppress(ImportError):
            import milvus_lite  # noqa: F401
    for name in ("pymilvus", "pymilvus.milvus_client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return module


def connect(settings: Settings) -> MilvusClient:
    """A client of the settings' Milvus, to be given back with ``release`` (clients of one URI share a connection)."""
    module = pymilvus()
    uri = milvus_uri(settings)
    token = settings.milvus_token.get_secret_value() if settings.milvus_token else ""
    if is_lite(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        with _quiet_children() if is_lite(uri) else contextlib.nullcontext(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymilvus imports milvus_lite here, which imports pkg_resources
            client = module.MilvusClient(uri=uri, token=token)
    except module.exceptions.MilvusException as err:
        if is_lite(uri) and "Open local milvus failed" in str(err):
            raise IndexLocked(
                f"another process has the Milvus Lite file {uri} open (Lite serves one process at a time): stop it, "
                "or run a Milvus server (QABOT_MILVUS_URI=http://host:19530) for several processes"
            ) from None
        raise IndexIOError(f"cannot reach Milvus at {uri}: {_reason(err)}") from None
    with _users_lock:
        _users[client._using] = _users.get(client._using, 0) + 1
    return client


def release(client: MilvusClient, uri: str) -> None:
    """Give a client back; the last user of its connection closes it (and stops a Lite file's server)."""
    with _users_lock:
        left = _users.get(client._using, 1) - 1
        if left > 0:
            _users[client._using] = left
            return
        _users.pop(client._using, None)
        client.close()
        if is_lite(uri):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(uri)


@contextlib.contextmanager
def _quiet_children() -> Iterator[None]:
    # The Lite server is a child process started inside MilvusClient(): it inherits fds 1 and 2 at that moment.
    with _spawning:
        saved = [os.dup(1), os.dup(2)]
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            os.dup2(null, 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (*saved, null):
                os.close(fd)


def _reason(err: BaseException) -> str:
    message = getattr(err, "message", "") or str(err)
    return " ".join(str(message).split())[:300]


def translated(call: Callable[..., T]) -> Callable[..., T]:
    """``call`` with Milvus's errors raised as ``IndexIOError`` (one line, the index left as it was)."""

    @functools.wraps(call)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except QabotError:
            raise
        except Exception as err:
            store = getattr(args[0], "store", args[0]) if args else None
            if "not loaded" in str(err) and not isinstance(store, type) and hasattr(store, "reload"):
                # A restarted server serves a collection only once it is loaded again, which its own recovery does
                # in its own time: load the index's collections now (it waits until they are) and try once more.
                try:
                    store.reload()
                    return call(*args, **kwargs)
                except QabotError:
                    raise
                except Exception as again:
                    err = again
            if type(err).__module__.startswith(("pymilvus", "grpc")):
                raise IndexIOError(
                    f"Milvus refused a request ({_reason(err)}); the last committed index is intact"
                ) from err
            raise err

    return run


__all__ = ["connect", "is_lite", "milvus_uri", "pymilvus", "release", "translated"]
