"""The article reads of ``MilvusStore``: articles with their text, stories, look-ups by id, URL and file, the
catalog and the counts. Mixed into ``reads.MilvusStore``, whose row queries they use."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qabot.models import Article, IndexStats
from qabot.store.milvus.connection import is_lite
from qabot.store.milvus.schema import ARTICLE_FIELDS, quote
from qabot.text import url_key

if TYPE_CHECKING:
    from qabot.config import Settings

_LIST = [f for f in ARTICLE_FIELDS if f != "text"]


def article_of(row: dict[str, Any], text: str = "") -> Article:
    """An Article from an article row (empty strings stand for None)."""
    get = lambda f: row.get(f) or None  # noqa: E731
    return Article(
        row["id"], row["title"], text, get("url"), get("published"), get("source"), get("author"), get("origin")
    )


class ArticleReads:
    """Articles, stories and the catalog, read from the ``_articles`` collection (and ``_meta`` text parts)."""

    settings: Settings
    uri: str
    manifest: dict[str, Any]
    _local: threading.local  # inside a snapshot: .live (article → version) and .articles (article → Article)

    if TYPE_CHECKING:  # MilvusStore's

        def state(self) -> dict[str, Any]: ...

        def _where(
            self, kind: str, field: str, values: Sequence[object], fields: list[str]
        ) -> list[dict[str, Any]]: ...

        def _scan(self, kind: str, expr: str, fields: list[str]) -> list[dict[str, Any]]: ...

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """Articles by id, with their full text; inside a snapshot, of the version it serves (see ``snapshot``)."""
        wanted = list(dict.fromkeys(ids))
        kept: dict[str, Article | None] | None = getattr(self._local, "articles", None)
        pinned: dict[str, int] | None = getattr(self._local, "live", None)
        if kept is None or pinned is None:
            return {
                r["id"]: article_of(r, self._text(r)) for r in self._where("articles", "id", wanted, ARTICLE_FIELDS)
            }
        for r in self._where("articles", "id", [a for a in wanted if a not in kept], ARTICLE_FIELDS):
            version = pinned.setdefault(r["id"], int(r["version"]))
            kept[r["id"]] = article_of(r, self._text(r)) if version == r["version"] else None
        return {a: article for a in wanted if (article := kept.get(a)) is not None}

    def _text(self, row: dict[str, Any]) -> str:
        if int(row["parts"]) <= 1:
            return str(row["text"])
        keys = [f"text:{row['id']}:{row['version']}:{i}" for i in range(1, int(row["parts"]))]
        more = {r["key"]: r["value"] for r in self._where("meta", "key", keys, ["key", "value"])}
        return str(row["text"]) + "".join(more.get(k, "") for k in keys)

    def stories(self, ids: Iterable[str]) -> dict[str, str]:
        """Article id → story id."""
        return {
            r["id"]: r["story"] or r["id"]
            for r in self._where("articles", "id", list(dict.fromkeys(ids)), ["id", "story"])
        }

    def story_members(self, story_ids: Iterable[str]) -> dict[str, list[Article]]:
        """Story id → its articles (without text), earliest published first, then by id."""
        rows = self._where("articles", "story", list(dict.fromkeys(story_ids)), _LIST)
        out: dict[str, list[Article]] = {}
        for r in sorted(rows, key=lambda r: (not r["published"], r["published"], r["id"])):
            out.setdefault(r["story"], []).append(article_of(r))
        return out

    def article_ids(self) -> list[str]:
        """Every article id, sorted."""
        return sorted(r["id"] for r in self._scan("articles", 'id != ""', ["id"]))

    def find_article(self, ref: str) -> str | None:
        """The id of the article whose id or URL is ``ref``."""
        rows = self._scan("articles", f"id == {quote(ref)} or url == {quote(ref)}", ["id"])
        return min((r["id"] for r in rows), default=None)

    def find_by_url(self, url: str) -> str | None:
        """The id of the article at ``url`` however trivially the two spellings differ (``qabot.text.url_key``)."""
        wanted = url_key(url)
        if wanted is None:
            return None
        prefix = wanted.split("?", 1)[0]  # "%" or "_" in it only widen the match; url_key decides
        rows = self._scan("articles", f"url like {quote(prefix + '%')}", ["id", "url"])
        return next((r["id"] for r in sorted(rows, key=lambda r: r["id"]) if url_key(r["url"]) == wanted), None)

    def file_origins(self, under: Path | None = None) -> dict[str, str]:
        """Article id → the file it was read from (under the folder ``under``)."""
        prefix = "" if under is None else str(under).rstrip(os.sep) + os.sep
        rows = self._scan("articles", f'origin like {quote(prefix + "%")} and origin != ""', ["id", "origin"])
        return {r["id"]: r["origin"] for r in rows if r["origin"].startswith(prefix)}

    def article_origin(self, article_id: str) -> str | None:
        """The file an article was read from; None for pages, feeds and uploads."""
        rows = self._where("articles", "id", [article_id], ["origin"])
        return (rows[0]["origin"] or None) if rows else None

    def catalog(self, *, source: str = "", since: str = "", until: str = "") -> list[Article]:
        """Every article without its text, newest first (undated last, then the most recently added)."""
        needle = source.casefold()
        rows = [
            r
            for r in self._newest_first()
            if (not since or (r["published"] and r["published"][:10] >= since))
            and (not until or (r["published"] and r["published"][:10] <= until))
            and needle in " ".join(filter(None, (r["source"], r["url"], r["origin"]))).casefold()
        ]
        return [article_of(r) for r in rows]

    def _newest_first(self) -> list[dict[str, Any]]:
        rows = self._scan("articles", 'id != ""', _LIST)
        rows.sort(key=lambda r: -r["added"])
        rows.sort(key=lambda r: r["published"], reverse=True)
        rows.sort(key=lambda r: not r["published"])
        return rows

    def article_hash(self, article_id: str) -> str | None:
        """The content hash stored for an article, or None if it is not in the index."""
        rows = self._where("articles", "id", [article_id], ["hash"])
        return rows[0]["hash"] if rows else None

    def recent(self, n: int = 10) -> list[Article]:
        """The ``n`` newest articles by publication date, with their text."""
        ids = [r["id"] for r in self._newest_first()[:n]]
        found = self.articles(ids)
        return [found[i] for i in ids if i in found]

    def stats(self) -> IndexStats:
        """Counts, model, size (of a Lite file; 0 for a server) and newest date."""
        state = self.state()
        newest = max((r["published"] for r in self._scan("articles", 'published != ""', ["published"])), default=None)
        size = os.path.getsize(self.uri) if is_lite(self.uri) and os.path.exists(self.uri) else 0
        return IndexStats(
            articles=int(state["articles"]),
            chunks=int(state["chunks"]),
            model=self.manifest["model"],
            dimension=int(self.manifest["dimension"]),
            size_bytes=size,
            newest=newest,
            path=f"{self.uri} ({self.settings.milvus_prefix}_*)",
        )


__all__ = ["ArticleReads", "article_of"]
