"""Errors qabot raises on purpose, each with a one-line message that says what to do next.

    QabotError                  base: front-ends catch this and print/send its message
    ├── ConfigError             a setting is missing or invalid
    ├── LoadError               one input (file, URL, feed) could not become an article; ingest skips it
    │   └── FetchError          an HTTP fetch failed or was refused (size, type, private address)
    ├── IndexError_             the index on disk is missing, damaged, locked or built with another model
    │   ├── IndexMissing        no index at the path yet
    │   ├── IndexEmpty          an index that holds no article: every question would be declined
    │   ├── ModelMismatch       the manifest names another embedding model or dimension
    │   ├── NotAnIndex          the --index path is a file, or a folder that holds another tool's files
    │   ├── IndexCorrupt        files out of step or truncated; `qabot repair` rebuilds
    │   ├── IndexLocked         another process is writing (qabot's write lock, or SQLite busy past its wait)
    │   ├── IndexReadOnly       the index folder or database cannot be written: it still answers
    │   └── IndexIOError        the disk failed a read or write (full, an I/O error): nothing was committed
    └── BadQuestion             empty or unusable question text

Standard library only, so any module may import it.
"""

from __future__ import annotations


class QabotError(Exception):
    """Base of every error qabot raises deliberately; ``str(err)`` is a complete one-line message."""


class ConfigError(QabotError):
    """A setting is missing or invalid."""


class LoadError(QabotError):
    """An input could not be turned into an article; the caller skips it and goes on."""


class FetchError(LoadError):
    """An HTTP(S) fetch failed, timed out, or was refused by a safety rule."""


class IndexError_(QabotError):  # noqa: N801 - trailing underscore avoids shadowing the builtin IndexError
    """The index on disk cannot be used as it is."""


class IndexMissing(IndexError_):
    """There is no index at the configured path yet."""


class IndexEmpty(IndexError_):
    """The index holds no article: a front-end says so rather than decline every question as unanswered."""

    def __init__(self, path: object) -> None:
        super().__init__(
            f"the index at {path} is empty: add articles with `qabot ingest PATH` (or `qabot ingest --samples`)"
        )


class ModelMismatch(IndexError_):
    """The index was built with a different embedding model or vector size."""


class NotAnIndex(IndexError_):
    """The index path is a file, or a folder holding files that are not a qabot index; nothing is written there."""


class IndexCorrupt(IndexError_):
    """Index files are damaged or out of step with each other."""


class IndexLocked(IndexError_):
    """Another process is writing to the index."""


class IndexReadOnly(IndexError_):
    """The index cannot be written (a read-only folder or mount); reading it still works."""


class IndexIOError(IndexError_):
    """The disk under the index failed a read or write, e.g. when full; the last committed index is intact."""


class BadQuestion(QabotError):
    """The question is empty or has no words to search for."""


__all__ = [
    "BadQuestion",
    "ConfigError",
    "FetchError",
    "IndexCorrupt",
    "IndexEmpty",
    "IndexError_",
    "IndexIOError",
    "IndexLocked",
    "IndexMissing",
    "IndexReadOnly",
    "LoadError",
    "ModelMismatch",
    "NotAnIndex",
    "QabotError",
]
