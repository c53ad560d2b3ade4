"""The story side of ``MilvusWriter``: which articles resemble a new one and which story each belongs to, this
writer's own changes included (``qabot.stories.grouping`` asks; the rows change at commit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qabot.store.milvus import schema

if TYPE_CHECKING:
    from qabot.store.milvus.reads import MilvusStore


class StoryWrites:
    """Mixed into ``MilvusWriter``, whose article rows as changed so far it reads and changes."""

    store: MilvusStore
    _client: Any
    _names: dict[str, str]
    _rows: dict[str, dict[str, Any] | None]
    _texts: dict[str, str]
    _touched_stories: set[str]

    if TYPE_CHECKING:  # MilvusWriter's

        def _row(self, article_id: str) -> dict[str, Any] | None: ...

        def _change(self, article_id: str, row: dict[str, Any] | None) -> None: ...

    def similar_articles(self, terms: Sequence[str], k: int = 10) -> list[tuple[str, str, str]]:
        """(id, text, story) of articles whose chunks best match ``terms``, this writer's own included."""
        if not terms or not self.store.bm25:  # without BM25 no copy is looked for: each article its own story
            return []
        hits = schema.search_chunks(self._client, self._names["chunks"], [" ".join(terms)], "sparse", 4 * k)
        ids = {h["entity"]["article_id"] for h in hits} - {""}
        committed = self.store._where("articles", "id", sorted(ids - set(self._rows)), ["id", "version", "story"])
        rows = {r["id"]: r for r in committed} | {a: r for a, r in self._rows.items() if a in ids and r is not None}
        # The k best chunks of the articles as this writer leaves them (rows of other versions skipped), as the local
        # store's k best chunks of its transaction; then their articles, each once.
        best = [
            h["entity"]["article_id"]
            for h in hits
            if h["entity"]["article_id"] in rows
            and rows[h["entity"]["article_id"]]["version"] == h["entity"]["version"]
        ][:k]
        return [(a, self._text_of(a), rows[a]["story"] or a) for a in dict.fromkeys(best)]

    def _text_of(self, article_id: str) -> str:
        if article_id not in self._texts:
            found = self.store.articles([article_id])
            self._texts[article_id] = found[article_id].text if article_id in found else ""
        return self._texts[article_id]

    def _story_rows(self, stories: set[str]) -> dict[str, dict[str, Any]]:
        committed = self.store._where("articles", "story", sorted(stories), ["id"])
        ids = {r["id"] for r in committed} | {
            a for a, r in self._rows.items() if r is not None and r["story"] in stories
        }
        rows = {a: self._row(a) for a in ids}
        return {a: r for a, r in rows.items() if r is not None and (r["story"] or a) in stories}

    def merge_stories(self, stories: set[str], into: str) -> None:
        """Give every article of ``stories`` the story id ``into``."""
        if not stories:
            return
        for aid, row in self._story_rows(stories).items():
            self._change(aid, {**row, "story": into, "dummy": schema.DUMMY})
        if self._touched_stories & stories:
            self._touched_stories.add(into)

    def touched_stories(self) -> set[str]:
        """Stories that lost or replaced an article in this writer."""
        return set(self._touched_stories)

    def story_articles(self, story: str) -> list[tuple[str, str]]:
        """(id, text) of the articles of ``story``, this writer's own included, by id."""
        return [(a, self._text_of(a)) for a in sorted(self._story_rows({story}))]

    def set_story(self, article_ids: Sequence[str], story: str) -> None:
        """Give the articles ``article_ids`` the story id ``story``."""
        for aid in article_ids:
            row = self._row(aid)
            if row is not None:
                self._change(aid, {**row, "story": story, "dummy": schema.DUMMY})


__all__ = ["StoryWrites"]
