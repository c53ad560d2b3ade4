"""The one-writer lock of an index: a lock file held with ``flock`` (other processes and threads wait for it)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from qabot.errors import IndexLocked
from qabot.store.layout import LOCK

log = logging.getLogger(__name__)


def write_lock(index_dir: Path, wait_seconds: float = 30.0) -> contextlib.AbstractContextManager[None]:
    """Hold the lock that lets one process at a time write to ``index_dir``; IndexLocked after ``wait_seconds``."""
    return write_lock_file(index_dir / LOCK, wait_seconds, str(index_dir))


@contextlib.contextmanager
def write_lock_file(path: Path, wait_seconds: float, index: str) -> Iterator[None]:
    """Hold the lock file ``path`` of the index named ``index`` (one writer at a time, threads included)."""
    fh = open(path, "a+")  # noqa: SIM115 - held for the whole with-block
    try:
        deadline = time.monotonic() + wait_seconds
        waiting = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(f"another ingest is writing to {index}; try again when it has finished") from None
                if not waiting:  # an operator wondering why an ingest stands still sees why
                    log.info("Waiting up to %g s for another writer of %s to finish", wait_seconds, index)
                    waiting = True
                time.sleep(0.2)
        yield
    finally:
        fh.close()  # releases the flock


__all__ = ["write_lock", "write_lock_file"]
