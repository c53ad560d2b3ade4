"""What the pipeline sees of an index, whichever store holds it: the ``Store`` and ``StoreWriter`` protocols and
the rows that cross them.

Two stores satisfy them: the local folder (``qabot.store.index.IndexStore``, SQLite + FTS5 + a FAISS cache) and
Milvus (``qabot.store.milvus.MilvusStore``). ``qabot.store.factory.open_store`` picks one from the settings; above
the store nothing knows which it got. Light on purpose: no faiss, numpy or pymilvus is imported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qabot.models import Article, IndexStats

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as stored: which article, where in its text, and which sentences it spans."""

    id: int
    article_id: str
    ordinal: int
    start: int
    end: int
    first_sentence: int
    last_sentence: int


@dataclass(frozen=True)
class SentenceRow:
    """One sentence span of an article, with its vector."""

    article_id: str
    ordinal: int
    start: int
    end: int
    vector: NDArray[np.float32]


@dataclass(frozen=True)
class NewChunk:
    """A chunk to write: offsets, sentence range, and the hash of the vector already saved for it."""

    ordinal: int
    start: int
    end: int
    first_sentence: int
    last_sentence: int
    vhash: str
    lexical_text: str


class Store(Protocol):
    """An index opened for reading (and for writing through ``writer()``). Thread-safe for readers."""

    # ------------------------------------------------------------------ search
    def search_vectors(self, query: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        """Chunk ids and cosine similarities of the ``k`` nearest chunks."""
        ...

    def search_lexical(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Chunk ids and BM25 scores (higher is better; scale is the store's own) for a query of OR-ed terms."""
        ...

    def chunk_vectors(self, ids: Iterable[int]) -> dict[int, NDArray[np.float32]]:
        """The stored vectors of these chunks (those of the generation being served; others are absent)."""
        ...

    def analyze(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text as the lexical index sees it: lower-cased, stemmed terms in order."""
        ...

    def document_frequencies(self, terms: Sequence[str]) -> tuple[dict[str, int], int]:
        """How many chunks hold each (analysed) term (terms in none left out), and the number of chunks."""
        ...

    def terms_present(self, texts: Sequence[str], terms: Sequence[str]) -> list[set[str]]:
        """For each text, which of ``terms`` (already analysed) it holds."""
        ...

    # ------------------------------------------------------------------ rows
    def count_chunks(self) -> int:
        """Number of chunks in the index."""
        ...

    def chunks(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        """Chunk rows by id; ids no longer (or not yet) served are absent."""
        ...

    def sentences(self, article_id: str, first: int, last: int) -> list[SentenceRow]:
        """Sentences ``first..last`` (inclusive) of an article, with their vectors, in order."""
        ...

    def sentences_of(self, spans: Sequence[tuple[str, int, int]]) -> list[SentenceRow]:
        """The sentences of several (article id, first, last) spans, span after span: ``sentences`` of each, in as
        few reads as the store can."""
        ...

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """Articles by id (with their full text)."""
        ...

    def stories(self, ids: Iterable[str]) -> dict[str, str]:
        """Article id → story id (copies of one story share it)."""
        ...

    def story_members(self, story_ids: Iterable[str]) -> dict[str, list[Article]]:
        """Story id → its articles (without text), earliest published first, then by id."""
        ...

    def article_ids(self) -> list[str]:
        """Every article id, sorted."""
        ...

    def find_article(self, ref: str) -> str | None:
        """The id of the article whose id or URL is ``ref``."""
        ...

    def find_by_url(self, url: str) -> str | None:
        """The id of the article at ``url`` however trivially the two spellings differ."""
        ...

    def file_origins(self, under: Path | None = None) -> dict[str, str]:
        """Article id → the file it was read from (under the folder ``under``)."""
        ...

    def article_origin(self, article_id: str) -> str | None:
        """The file an article was read from; None for pages, feeds and uploads."""
        ...

    def catalog(self, *, source: str = "", since: str = "", until: str = "") -> list[Article]:
        """Every article without its text, newest first, filtered by source and date."""
        ...

    def article_hash(self, article_id: str) -> str | None:
        """The content hash stored for an article, or None if it is not in the index."""
        ...

    def recent(self, n: int = 10) -> list[Article]:
        """The ``n`` newest articles by publication date."""
        ...

    def stats(self) -> IndexStats:
        """Counts, model, size and newest date."""
        ...

    def stored_hashes(self, hashes: Iterable[str]) -> set[str]:
        """Which of these text hashes have a stored vector."""
        ...

    def vectors_for(self, hashes: Iterable[str]) -> dict[str, NDArray[np.float32]]:
        """Vectors already stored for these text hashes (so the same text is never embedded twice)."""
        ...

    # ------------------------------------------------------------------ generations
    @property
    def generation(self) -> int:
        """Bumped by every committed change."""
        ...

    @property
    def loaded_generation(self) -> int:
        """The generation being served (-1 before the first search)."""
        ...

    def refresh(self) -> int:
        """Serve the newest committed generation (loading what it needs); the generation now served."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Run this thread's reads against one committed generation."""
        ...

    def writer(self, wait_seconds: float = 30.0) -> AbstractContextManager[StoreWriter]:
        """Hold the write lock for one ingest; the changes become visible at ``StoreWriter.commit()``."""
        ...

    def close(self) -> None:
        """Release what the store holds: the calling thread's connection of a folder (reopened on the next read), a
        Milvus store's client for good (the last one frees a Lite file for other processes)."""
        ...


class StoreWriter(Protocol):
    """The changes of one ingest, visible to readers all at once at ``commit()``."""

    @property
    def store(self) -> Store:
        """The store written to (its reads show the last committed generation)."""
        ...

    def save_vectors(self, vectors: dict[str, NDArray[np.float32]]) -> None:
        """Store vectors by text hash now (before the article changes), so a re-run after a kill reuses them."""
        ...

    def put_article(
        self,
        article: Article,
        sentences: Sequence[tuple[int, int, str]],
        chunks: Sequence[NewChunk],
        story: str | None = None,
    ) -> None:
        """Insert (or replace) an article with its sentences ``(start, end, vhash)`` and chunks."""
        ...

    def remove_article(self, article_id: str) -> bool:
        """Delete an article with every row of it; True if it existed."""
        ...

    def remove_published_before(self, day: str) -> list[str]:
        """Delete every article published before ``day`` (undated ones stay); their ids."""
        ...

    def set_origin(self, article_id: str, origin: str | None) -> None:
        """Record the file an unchanged article is read from now."""
        ...

    def drop_orphans(self) -> int:
        """Delete rows left without their article; how many."""
        ...

    def similar_articles(self, terms: Sequence[str], k: int = 10) -> list[tuple[str, str, str]]:
        """(id, text, story) of articles whose chunks best match ``terms``, this transaction's own included."""
        ...

    def merge_stories(self, stories: set[str], into: str) -> None:
        """Give every article of ``stories`` the story id ``into``."""
        ...

    def touched_stories(self) -> set[str]:
        """Stories that lost or replaced an article in this transaction."""
        ...

    def story_articles(self, story: str) -> list[tuple[str, str]]:
        """(id, text) of the articles of ``story``, this transaction's own included, by id."""
        ...

    def set_story(self, article_ids: Sequence[str], story: str) -> None:
        """Give the articles ``article_ids`` the story id ``story``."""
        ...

    def commit(self) -> int:
        """Make every change visible at once; the new generation."""
        ...

    def rollback(self) -> None:
        """Discard what was not committed (saved vectors stay, for a re-run)."""
        ...


__all__ = ["ChunkRow", "NewChunk", "SentenceRow", "Store", "StoreWriter"]
