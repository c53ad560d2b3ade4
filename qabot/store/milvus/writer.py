"""Writing an index in Milvus: ``MilvusWriter``, whose changes readers see article by article at ``commit()``.

Milvus has no transactions, so a replaced article is versioned instead. ``put_article`` writes the new version's
chunk and sentence rows as it goes, every ``_ROWS`` rows (no reader serves them: their version is not yet the
article's); ``commit()`` then upserts each article row with its new live version (one row, atomic: readers switch
from all old rows to all new rows), deletes the old version's rows, updates the document frequencies and bumps the
generation. Before the first row of an article is written, a ``pending`` row names it; a kill leaves those rows
unreferenced, and the next writer
deletes every row of a pending article that is not of its live version. A kill inside ``commit()`` (``dirty`` in the
state) also has the next writer count the document frequencies and totals again from the live rows.

An ingest is atomic per article, not as a whole: a reader during a commit may see some articles new and others
still old, each of them whole.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qabot.errors import QabotError
from qabot.models import Article
from qabot.store.api import NewChunk
from qabot.store.lexical import term_counts
from qabot.store.locking import write_lock_file
from qabot.store.milvus import schema
from qabot.store.milvus.connection import is_lite, translated
from qabot.store.milvus.recovery import recover, sweep_article, sweep_articles
from qabot.store.milvus.stories import StoryWrites

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qabot.store.milvus.reads import MilvusStore  # only for types: MilvusStore.writer() imports this module

log = logging.getLogger(__name__)

_KEEP_VECTORS = 50_000  # vectors of this run kept in memory for put_article; beyond, read back from Milvus
_ROWS = 1000  # rows per upsert


@contextlib.contextmanager
def milvus_lock(store: MilvusStore, wait_seconds: float) -> Iterator[None]:
    """One writer at a time: a lock file beside a Milvus Lite file, or in the index folder for a server (one ingest
    worker per index is the deployment's rule: docs/scale-out.md)."""
    if is_lite(store.uri):
        path = Path(store.uri).with_name(f".{Path(store.uri).name}.write.lock")
    else:
        folder = Path(store.settings.index_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f".milvus-{store.settings.milvus_prefix}.write.lock"
    with write_lock_file(path, wait_seconds, f"{store.uri} ({store.settings.milvus_prefix}_*)"):
        yield


class MilvusWriter(StoryWrites):
    """Changes to one Milvus index: rows written as they come, articles switched over at ``commit()``."""

    def __init__(self, store: MilvusStore) -> None:
        self.store = store
        self._client = store.client
        self._names = store.names
        recover(store)  # what a killed writer left behind
        self._vectors: dict[str, NDArray[np.float32]] = {}
        self._rows: dict[str, dict[str, Any] | None] = {}  # article id → its row as commit writes it (None: removed)
        self._texts: dict[str, str] = {}  # full texts of the rows above
        self._pending: set[str] = set()
        self._added: dict[str, list[str]] = {}  # article id → lexical texts of the version this commit makes live
        self._touched_stories: set[str] = set()
        # Rows of put_article and their pending marks, written together every _ROWS rows (``_flush``): one upsert
        # per article and collection cost ~27 ms on Milvus Lite whatever its size, 60 chunks a second.
        self._marks: list[dict[str, Any]] = []
        self._buffer: dict[str, list[dict[str, Any]]] = {"sentences": [], "chunks": [], "meta": []}

    # ------------------------------------------------------------------ vectors
    @translated
    def save_vectors(self, vectors: dict[str, NDArray[np.float32]]) -> None:
        """Keep vectors by text hash in Milvus (as sentence rows of no article) until their rows are written."""
        rows = [
            {"pk": schema.key("vector", h), "article_id": "", "version": 0, "ordinal": 0, "char_start": 0,
             "char_end": 0, "vhash": h, "vector": np.asarray(v, dtype=np.float32).tolist()}
            for h, v in vectors.items()
        ]  # fmt: skip
        self._upsert("sentences", rows)
        if len(self._vectors) < _KEEP_VECTORS:
            self._vectors.update(vectors)

    def _vectors_of(self, hashes: set[str]) -> dict[str, list[float]]:
        found = {h: self._vectors[h] for h in hashes if h in self._vectors}
        found.update(self.store.vectors_for(hashes - set(found)))
        missing = hashes - set(found)
        if missing:
            raise QabotError(f"{len(missing)} vectors to write were never saved: ingest again")
        return {h: np.asarray(v, dtype=np.float32).tolist() for h, v in found.items()}

    # ------------------------------------------------------------------ articles
    def _row(self, article_id: str) -> dict[str, Any] | None:
        """The article's row as this writer sees it: its own change, else the committed one."""
        if article_id in self._rows:
            return self._rows[article_id]
        rows = self.store._where("articles", "id", [article_id], [*schema.ARTICLE_FIELDS])
        return rows[0] if rows else None

    def _change(self, article_id: str, row: dict[str, Any] | None) -> None:
        self._rows[article_id] = row

    def _mark_pending(self, article_id: str) -> None:
        if article_id not in self._pending:
            row = {"key": f"pending:{article_id}", "kind": "pending", "ref": article_id, "num": 0, "value": "",
                   "dummy": schema.DUMMY}  # fmt: skip
            self._marks.append(row)  # written by _flush, before any row of the article
            self._pending.add(article_id)

    @translated
    def _flush(self) -> None:
        """Write the pending marks, then the buffered rows: a row in Milvus always has its mark there before it."""
        if self._marks:
            self._upsert("meta", self._marks)
            self._marks = []
        for kind, rows in self._buffer.items():
            self._upsert(kind, rows)
            self._buffer[kind] = []

    def _buffered(self, kind: str, rows: list[dict[str, Any]]) -> None:
        self._buffer[kind].extend(rows)
        if sum(len(r) for r in self._buffer.values()) >= _ROWS:
            self._flush()

    def similar_articles(self, terms: Sequence[str], k: int = 10) -> list[tuple[str, str, str]]:
        """(id, text, story) of articles whose chunks best match ``terms``, this writer's own included."""
        self._flush()  # the chunks this writer buffered are searched too
        return super().similar_articles(terms, k)

    def remove_article(self, article_id: str) -> bool:
        """Delete an article with every row of it (at ``commit()``); True if it existed."""
        row = self._row(article_id)
        if row is None:
            return False
        self._touched_stories.add(row["story"] or article_id)
        self._mark_pending(article_id)
        self._change(article_id, None)
        return True

    def remove_published_before(self, day: str) -> list[str]:
        """Delete every article published before ``day`` (undated ones stay); their ids."""
        expr = f'published != "" and published < {schema.quote(day)}'
        committed = {r["id"]: r["published"] for r in self.store._scan("articles", expr, ["id", "published"])}
        committed.update({a: r["published"] for a, r in self._rows.items() if r is not None})
        old = sorted(a for a, p in committed.items() if p and p < day and self._row(a) is not None)
        for article_id in old:
            self.remove_article(article_id)
        return old

    @translated
    def put_article(
        self,
        article: Article,
        sentences: Sequence[tuple[int, int, str]],
        chunks: Sequence[NewChunk],
        story: str | None = None,
    ) -> None:
        """Write an article's new version's rows now; it replaces the old version at ``commit()``."""
        if len(article.id.encode("utf-8", "surrogatepass")) > schema.ID_BYTES:
            raise QabotError(f"article id {article.id[:60]!r}… is longer than Milvus keeps ({schema.ID_BYTES} bytes)")
        old = self._row(article.id)
        if old is not None:
            self._touched_stories.add(old["story"] or article.id)
        version = schema.version_of(article.content_hash, sentences, chunks)
        self._mark_pending(article.id)
        vectors = self._vectors_of({h for *_, h in sentences} | {c.vhash for c in chunks})
        aid = article.id
        self._buffered("sentences", [
            {"pk": schema.key("s", aid, version, i), "article_id": aid, "version": version, "ordinal": i,
             "char_start": s, "char_end": e, "vhash": h, "vector": vectors[h]}
            for i, (s, e, h) in enumerate(sentences)
        ])  # fmt: skip
        self._buffered("chunks", [
            {"pk": schema.key("c", aid, version, c.ordinal, c.vhash), "article_id": aid, "version": version,
             "ordinal": c.ordinal, "char_start": c.start, "char_end": c.end, "first_sentence": c.first_sentence,
             "last_sentence": c.last_sentence, "vhash": c.vhash, "vector": vectors[c.vhash], "text": c.lexical_text}
            for c in chunks
        ])  # fmt: skip
        parts = schema.text_parts(article.text)
        self._buffered("meta", [
            {"key": f"text:{aid}:{version}:{i}", "kind": "text", "ref": aid, "num": version, "value": part,
             "dummy": schema.DUMMY}
            for i, part in enumerate(parts) if i
        ])  # fmt: skip
        self._added[aid] = [c.lexical_text for c in chunks]
        self._texts[aid] = article.text
        log.debug("wrote the rows of %s, version %d", aid, version)
        self._change(aid, {
            "id": aid, "title": article.title, "text": parts[0], "url": article.url or "",
            "published": article.published or "", "source": article.source or "", "author": article.author or "",
            "hash": article.content_hash, "story": story or aid, "origin": article.origin or "", "added": time.time(),
            "version": version, "parts": len(parts), "dummy": schema.DUMMY,
        })  # fmt: skip

    def set_origin(self, article_id: str, origin: str | None) -> None:
        """Record the file an unchanged article is read from now."""
        row = self._row(article_id)
        if row is not None:
            self._change(article_id, {**row, "origin": origin or "", "dummy": schema.DUMMY})

    def drop_orphans(self) -> int:
        """Delete rows of versions no article serves; how many (``qabot repair`` is local-only: see ``recovery``)."""
        from qabot.store.milvus.recovery import sweep_all

        return sweep_all(self.store)

    # ------------------------------------------------------------------ commit
    @translated
    def commit(self) -> int:
        """Switch every changed article to its new version, drop the old rows, update the counts; the generation."""
        self._flush()
        state = self.store.state()
        if not self._rows:
            return int(state["generation"])
        meta = self._names["meta"]
        self._client.upsert(meta, [schema.meta_row("state", {**state, "dirty": True})])
        log.debug("switching %d articles to their new versions", len(self._rows))
        before = {
            r["id"]: r["version"] for r in self.store._where("articles", "id", list(self._rows), ["id", "version"])
        }
        changed = {a: None if r is None else r["version"] for a, r in self._rows.items()}
        # The document frequencies move by the chunks of each version that goes and of each that comes.
        removed_texts = self._texts_of_versions({a: v for a, v in before.items() if changed[a] != v})
        added = [t for a, v in changed.items() if v is not None and before.get(a) != v for t in self._added.get(a, [])]
        live = [r for r in self._rows.values() if r is not None]
        self._upsert("articles", live)  # the switch: one row per article, atomic, old rows to new
        gone = [a for a, v in changed.items() if v is None]
        for i in range(0, len(gone), 256):
            self._client.delete(self._names["articles"], filter=schema.one_of("id", gone[i : i + 256]))
        sweep_articles(self.store, changed)
        shift = self._apply_frequencies(added, removed_texts)
        articles = len([a for a in live if a["id"] not in before]) - len([a for a in gone if a in before])
        done = {
            "generation": int(state["generation"]) + 1,
            "chunks": int(state["chunks"]) + shift,
            "articles": int(state["articles"]) + articles,
            "dirty": False,
        }
        self._client.upsert(meta, [schema.meta_row("state", done)])
        self._finish()
        return done["generation"]

    def _texts_of_versions(self, versions: dict[str, int]) -> list[str]:
        """The lexical texts of the chunks of these article versions."""
        texts: list[str] = []
        for aid, version in versions.items():
            expr = f"article_id == {schema.quote(aid)} and version == {version}"
            texts.extend(r["text"] for r in self.store._scan("chunks", expr, ["text"]))
        return texts

    def _apply_frequencies(self, added: list[str], removed: list[str]) -> int:
        """Shift each term's document frequency by what this commit adds and removes; the change in chunks."""
        shift = term_counts(self.store.conn, added)
        shift.subtract(term_counts(self.store.conn, removed))
        changed = sorted(t for t, d in shift.items() if d)
        now = {
            r["key"][5:]: int(r["num"])
            for r in self.store._where("meta", "key", [f"term:{t}" for t in changed], ["key", "num"])
        }
        rows = [
            {
                "key": f"term:{t}",
                "kind": "term",
                "ref": "",
                "num": now.get(t, 0) + shift[t],
                "value": "",
                "dummy": schema.DUMMY,
            }
            for t in changed
        ]
        self._upsert("meta", [r for r in rows if r["num"] > 0])
        zero = [r["key"] for r in rows if r["num"] <= 0]
        for i in range(0, len(zero), 256):
            self._client.delete(self._names["meta"], filter=schema.one_of("key", zero[i : i + 256]))
        return len(added) - len(removed)

    def _finish(self) -> None:
        """Forget this writer's vectors kept in Milvus and its pending marks: everything is in place."""
        self._client.delete(self._names["sentences"], filter='article_id == ""')
        keys = [f"pending:{a}" for a in sorted(self._pending)]
        for i in range(0, len(keys), 256):
            self._client.delete(self._names["meta"], filter=schema.one_of("key", keys[i : i + 256]))
        self._rows.clear()
        self._pending.clear()
        self._added.clear()
        self._touched_stories.clear()

    def _upsert(self, kind: str, rows: list[dict[str, Any]]) -> None:
        for i in range(0, len(rows), _ROWS):
            self._client.upsert(self._names[kind], rows[i : i + _ROWS])

    def rollback(self) -> None:
        """Discard what was not committed: the rows of pending articles not of their live version go now (saved
        vectors stay, for a re-run)."""
        if self._pending:
            with contextlib.suppress(QabotError):
                for aid in sorted(self._pending):
                    sweep_article(self.store, aid, None, keep_live=True)
                keys = [f"pending:{a}" for a in sorted(self._pending)]
                self._client.delete(self._names["meta"], filter=schema.one_of("key", keys))
        self._rows.clear()
        self._pending.clear()
        self._marks = []
        self._buffer = {kind: [] for kind in self._buffer}  # never written: nothing of them to sweep


__all__ = ["MilvusWriter", "milvus_lock"]
