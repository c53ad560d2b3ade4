"""What one ingest reads — files and folders, web pages, uploaded documents — as Articles and Skips, in one place.

The CLI and the bot name their inputs as ``Sources`` and hand them to ``Ingestor.ingest_sources``; nothing here
raises for bad input: a file that cannot be read or a page that cannot be fetched is a Skip with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qabot.config import Settings
from qabot.errors import LoadError
from qabot.models import Article, Skip

WEB_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class Upload:
    """A document received in memory (sent to the bot): ``name``'s extension picks the format and seeds its ids."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Sources:
    """The inputs of one ingest: files and folders (recursively), web pages, and uploaded documents."""

    paths: tuple[Path, ...] = ()
    urls: tuple[str, ...] = ()
    uploads: tuple[Upload, ...] = ()

    @classmethod
    def of(cls, targets: Iterable[str | Path]) -> Sources:
        """Command-line targets: an ``http(s)://`` one is a web page, anything else a file or folder."""
        named = [str(t) for t in targets]
        urls = tuple(t for t in named if t.startswith(WEB_SCHEMES))
        return cls(paths=tuple(Path(t) for t in named if not t.startswith(WEB_SCHEMES)), urls=urls)

    def folders(self) -> list[Path]:
        """The named paths that are folders now, resolved (what ``ingest --sync`` looks under)."""
        return [p.resolve() for p in self.paths if p.is_dir()]


@dataclass(frozen=True)
class Loaded:
    """Every article read, and every input that gave none (with why), in the order the inputs were named."""

    articles: tuple[Article, ...]
    skipped: tuple[Skip, ...]


def load_sources(sources: Sources, settings: Settings) -> Loaded:
    """Read the files, then fetch the pages (through the URL guard), then parse the uploads."""
    items: list[Article | Skip] = []
    if sources.paths:
        from qabot.sources.files import load_paths

        items.extend(load_paths(sources.paths))
    if sources.urls:
        from qabot.sources.fetch import fetch_article  # pulls in httpx and trafilatura: only when a page is named

        for url in sources.urls:
            try:
                items.append(fetch_article(url, settings))
            except LoadError as err:
                items.append(Skip(url, str(err)))
    if sources.uploads:
        from qabot.sources.files import load_text_document

        for upload in sources.uploads:
            items.extend(load_text_document(upload.name, upload.data))
    return Loaded(tuple(i for i in items if isinstance(i, Article)), tuple(i for i in items if isinstance(i, Skip)))


__all__ = ["WEB_SCHEMES", "Loaded", "Sources", "Upload", "load_sources"]
