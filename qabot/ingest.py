"""Loaders → chunking → embedding → store, with a report of what changed.

An ingest run is one transaction on the index: other readers see all of it or none of it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from qabot.chunking import chunk_article
from qabot.config import Settings
from qabot.dates import days_before
from qabot.embed import Embedder
from qabot.errors import IndexMissing
from qabot.models import Article, IngestReport, Skip, Span
from qabot.sources.inputs import Sources, load_sources
from qabot.store import NewChunk, Store, StoreWriter, open_store, vector_hash
from qabot.store.layout import check_folder
from qabot.stories.grouping import assign_story, regroup

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# Texts per embedding call: large enough for encode() to sort by length and cut padding, small enough that a
# killed run loses little (vectors are saved after each call).
_EMBED_CALL = 512


@dataclass(frozen=True)
class _Prepared:
    article: Article
    sentences: list[tuple[int, int, str]]  # start, end, vector hash
    chunks: list[NewChunk]


def chunk_embedding_text(article: Article, text: str) -> str:
    """What a chunk is embedded as: its article's title gives the model the story's context."""
    return f"{article.title}\n{text}" if article.title else text


class Ingestor:
    """Adds, replaces and removes articles in one index."""

    def __init__(self, settings: Settings, embedder: Embedder, *, lock_wait: float = 30.0) -> None:
        self.settings = settings
        self.embedder = embedder
        # Seconds to wait for another writer to finish before giving up with IndexLocked.
        self.lock_wait = lock_wait

    @classmethod
    def from_settings(
        cls, settings: Settings, embedder: Embedder | None = None, *, lock_wait: float = 30.0
    ) -> Ingestor:
        """An ingestor for the settings' index, sharing ``embedder`` when one is loaded already."""
        check_folder(settings.index_dir)  # a path that can never be an index is refused before the model loads
        return cls(settings, embedder or Embedder.from_settings(settings), lock_wait=lock_wait)

    def open_store(self, create: bool = True) -> Store:
        """The index, created for this model on first use."""
        return open_store(self.settings, dimension=self.embedder.dimension if create else None, create=create)

    # ------------------------------------------------------------------ public verbs
    def ingest_sources(
        self,
        sources: Sources,
        progress: Progress | None = None,
        *,
        sync: bool = False,
        hold: AbstractContextManager[object] | None = None,
    ) -> IngestReport:
        """Read files and folders, fetch pages and parse uploads, then ingest every article found in one run.

        An input that cannot be read or fetched is skipped with its reason. ``sync``: also remove the articles read
        from files under the named folders whose files are gone (never those of pages, feeds or uploads; a named
        folder that does not exist removes nothing). ``hold`` (the bot's model lock) is held from the first embedding
        to the commit, not while pages are fetched nor while another process's write lock is waited for.
        """
        loaded = load_sources(sources, self.settings)
        return self.ingest_articles(
            loaded.articles, loaded.skipped, progress, sync_under=sources.folders() if sync else None, hold=hold
        )

    def ingest_paths(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Load files and folders and ingest every article found; broken inputs are skipped with a reason."""
        return self.ingest_sources(Sources(paths=tuple(paths)), progress)

    def ingest_articles(
        self,
        articles: Iterable[Article],
        skipped: Sequence[Skip] = (),
        progress: Progress | None = None,
        *,
        rebuild: bool = False,
        sync_under: Sequence[Path] | None = None,
        hold: AbstractContextManager[object] | None = None,
    ) -> IngestReport:
        """Add new articles, replace changed ones (same id or URL), leave identical ones alone.

        One run keeps one article per id and per URL, the last record; each earlier one is reported as a Skip. An
        article read from a file takes the place of the one whose file is gone and whose text it has (a renamed or
        moved file), rather than adding a second copy.

        ``rebuild`` stores identical ones again too, from their text (``qabot repair`` uses it when rows were lost).
        ``sync_under``: folders whose gone files' articles are removed (``report.removed``); None: no sync.
        ``hold`` is taken once the index's write lock is held (see ``_writing``) and kept until the commit.
        """
        report = IngestReport(skipped=list(skipped))
        articles = list(articles)
        try:
            store = self.open_store(create=bool(articles))
        except IndexMissing:  # nothing read: no empty index is left behind to answer "empty" instead of "none yet"
            report.removed = [] if sync_under is not None else None
            return report
        try:
            with self._writing(store, hold) as writer:
                todo, moved = self._classify(store, articles, report, rebuild)
                prepared = [(self._prepare(a), previous) for a, previous in todo]
                self._embed_missing(store, writer, [p for p, _ in prepared], progress)
                for article in moved:  # the same article, read from another file now
                    writer.set_origin(article.id, article.origin)
                for item, previous in prepared:
                    if previous is not None and previous != item.article.id:
                        writer.remove_article(previous)
                    story = assign_story(writer, item.article)
                    writer.put_article(item.article, item.sentences, item.chunks, story=story)
                if sync_under is not None:
                    kept = set(report.titles) | {p for _, p in todo if p is not None}
                    report.removed = _remove_gone(store, writer, sync_under, kept)
                regroup(writer)
                writer.commit()
        finally:
            store.close()
        return report

    def remove(self, ref: str, *, hold: AbstractContextManager[object] | None = None) -> bool:
        """Delete the article whose id or URL is ``ref`` (a trailing "/" or fragment aside); False if there is none.

        ``hold``: as for ``ingest_articles``."""
        store = self.open_store(create=False)
        try:
            with self._writing(store, hold) as writer:
                article_id = store.find_article(ref) or store.find_by_url(ref)
                if article_id is None:
                    return False
                writer.remove_article(article_id)
                regroup(writer)
                writer.commit()
                return True
        finally:
            store.close()

    def prune_older_than(self, days: int, *, hold: AbstractContextManager[object] | None = None) -> list[str]:
        """Remove articles published more than ``days`` days ago; returns their ids. ``hold``: as for
        ``ingest_articles``."""
        cutoff = days_before(datetime.now(UTC).date(), days).isoformat()  # a huge setting: nothing is that old
        try:
            store = self.open_store(create=False)
        except IndexMissing:  # feeds that gave nothing yet: no index, nothing old
            return []
        try:
            with self._writing(store, hold) as writer:
                old = writer.remove_published_before(cutoff)
                regroup(writer)
                writer.commit()
                return old
        finally:
            store.close()

    @contextlib.contextmanager
    def _writing(self, store: Store, hold: AbstractContextManager[object] | None) -> Iterator[StoreWriter]:
        """The index's write lock first, then ``hold`` (the bot's model lock). The other way round, a bot would
        stall every question for as long as another process's ingest keeps it waiting (up to ``lock_wait``); and
        one lock order everywhere is what keeps an admin ingest and a feed refresh from deadlocking."""
        with store.writer(self.lock_wait) as writer, hold if hold is not None else contextlib.nullcontext():
            yield writer

    # ------------------------------------------------------------------ steps
    def _previous_id(self, store: Store, article: Article) -> str | None:
        if store.article_hash(article.id) is not None:
            return article.id
        return store.find_article(article.url) if article.url else None

    def _classify(
        self,
        store: Store,
        articles: Iterable[Article],
        report: IngestReport,
        rebuild: bool = False,
    ) -> tuple[list[tuple[Article, str | None]], list[Article]]:
        """The articles to write, each with the id of the one it replaces (None: new); and the unchanged ones that
        are read from another file than before."""
        todo = []
        moved = []
        gone = _GoneFiles(store)
        for article in _last_of_each(articles, report):
            report.titles[article.id] = article.title
            previous = self._previous_id(store, article)
            if previous is None and article.origin:
                previous = gone.claim(article)
            if previous is None:
                report.added.append(article.id)
                todo.append((article, previous))
            elif not rebuild and store.article_hash(previous) == article.content_hash and previous == article.id:
                report.unchanged.append(article.id)
                if store.article_origin(previous) != article.origin:
                    moved.append(article)
            else:
                report.updated.append(article.id)
                todo.append((article, previous))
        return todo, moved

    def _prepare(self, article: Article) -> _Prepared:
        model = self.settings.model
        title_tokens = self.embedder.count_tokens(article.title) if article.title else 0
        # Leave room for the title and the model's two special tokens inside its sequence limit.
        budget = max(16, min(self.settings.chunk_tokens, self.embedder.max_tokens - title_tokens - 3))
        spans, chunks = chunk_article(
            article, max_tokens=budget, overlap=self.settings.chunk_overlap, count_tokens=self.embedder.count_tokens
        )
        index_of: dict[Span, int] = {span: i for i, span in enumerate(spans)}
        sentences = [(s.start, s.end, vector_hash(model, article.text[s.start : s.end])) for s in spans]
        new_chunks = []
        for chunk in chunks:
            ordinals = [index_of[s] for s in chunk.sentences]
            embed_text = chunk_embedding_text(article, chunk.text)
            new_chunks.append(
                NewChunk(
                    ordinal=chunk.ordinal,
                    start=chunk.start,
                    end=chunk.end,
                    first_sentence=min(ordinals),
                    last_sentence=max(ordinals),
                    vhash=vector_hash(model, embed_text),
                    lexical_text=embed_text,
                )
            )
        return _Prepared(article, sentences, new_chunks)

    def _embed_missing(
        self, store: Store, writer: StoreWriter, prepared: list[_Prepared], progress: Progress | None
    ) -> None:
        texts: dict[str, str] = {}
        for item in prepared:
            text = item.article.text
            for start, end, h in item.sentences:
                texts.setdefault(h, text[start:end])
            for c in item.chunks:
                texts.setdefault(c.vhash, c.lexical_text)
        have = store.stored_hashes(texts)
        missing = [(h, t) for h, t in texts.items() if h not in have]
        total = len(missing)
        if progress:
            progress(0, total)
        for i in range(0, total, _EMBED_CALL):
            part = missing[i : i + _EMBED_CALL]
            # Reported per model batch too: a bar that waits for a whole call of 512 texts looks stuck at 0%.
            within = (lambda done, before=i: progress(before + done, total)) if progress else None
            vecs = self.embedder.embed_texts([t for _, t in part], progress=within)
            writer.save_vectors({h: v for (h, _), v in zip(part, vecs, strict=True)})
            if progress:
                progress(min(i + _EMBED_CALL, total), total)
        log.info("embedded %d texts, reused %d", total, len(texts) - total)


def _last_of_each(articles: Iterable[Article], report: IngestReport) -> list[Article]:
    """One article per id and per URL: the last record wins, as a later version of the same article; every earlier
    one is reported as a Skip rather than dropped (or left to replace another) silently."""
    records = list(articles)
    last_by_id = {a.id: i for i, a in enumerate(records)}
    last_by_url = {a.url: i for i, a in enumerate(records) if a.url}
    latest: dict[str, Article] = {}
    for i, article in enumerate(records):
        if last_by_id[article.id] != i:
            report.skipped.append(Skip(article.id, "the same id comes again later in this run; the last copy wins"))
        elif article.url and last_by_url[article.url] != i:
            later = records[last_by_url[article.url]].id
            report.skipped.append(Skip(article.id, f"same URL as {later}, later in this run; the last one wins"))
        else:
            latest[article.id] = article
    return list(latest.values())


class _GoneFiles:
    """Articles whose files are gone, by text: a file article of the same text is that file renamed or moved."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_text: dict[str, str] | None = None

    def claim(self, article: Article) -> str | None:
        """The id of the gone file's article with ``article``'s text (each is claimed once), or None."""
        if self._by_text is None:  # read on the first new file article only: it stats every file the index knows
            gone = [i for i, origin in self.store.file_origins().items() if not os.path.exists(origin)]
            self._by_text = {}
            for article_id, old in sorted(self.store.articles(gone).items()):
                self._by_text.setdefault(old.text, article_id)
        return self._by_text.pop(article.text, None)


def _remove_gone(store: Store, writer: StoreWriter, folders: Sequence[Path], kept: set[str]) -> list[str]:
    """Remove the articles read from files under ``folders`` whose files no longer exist; their ids.

    ``kept``: ids this run read or replaced (the store's reads do not see the writer's uncommitted changes).
    """
    removed = []
    for folder in folders:
        for article_id, origin in sorted(store.file_origins(under=folder).items()):
            if article_id not in kept and article_id not in removed and not os.path.exists(origin):
                writer.remove_article(article_id)
                removed.append(article_id)
    return removed


__all__ = ["Ingestor", "chunk_embedding_text"]
