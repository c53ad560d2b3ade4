"""RSS 2.0 and Atom feeds: the feed list stored beside the index, and a refresh that ingests new entries.

Feeds are fetched with :func:`qabot.sources.fetch.fetch` (same address guard, caps and conditional requests) and
the bytes handed to feedparser, which therefore never opens a URL itself. Each entry's link is fetched as a page;
when that fails, the feed's own text for the entry becomes the article instead.
"""

from __future__ import annotations

import calendar
import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from qabot.config import Settings
from qabot.errors import FetchError, IndexCorrupt, LoadError, QabotError
from qabot.models import Article, IngestReport, Skip
from qabot.sources import fetch as web
from qabot.sources.html import title_from_text, url_id
from qabot.text import clean_label, clean_stored, counted

log = logging.getLogger(__name__)

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
FEEDS_FILE = "feeds.json"
FEEDS_LOCK = ".feeds.lock"  # beside feeds.json: every read-modify-write of the list holds it
# A first refresh of a huge feed would fetch every entry's page; the newest hundred are plenty for news.
MAX_ENTRIES_PER_FEED = 100
# Servers often label feeds loosely; these are let through to the parser, which has the last word.
_LOOSE_FEED_TYPES = frozenset({"", "text/plain", "application/octet-stream", "application/json"})

Ingest = Callable[[list[Article], list[Skip]], IngestReport]
Prune = Callable[[int], list[str]]


@dataclass(frozen=True)
class FeedInfo:
    """One subscribed feed and what the last refresh learnt about it.

    ``seen`` maps each current entry (by link or guid) to a fingerprint of its feed item, so an unchanged entry's
    page is not fetched again every time the feed itself changes.
    """

    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_refresh: str | None = None  # ISO 8601 UTC
    last_error: str | None = None
    seen: dict[str, str] = field(default_factory=dict)


class FeedList:
    """The feeds stored in ``index_dir/feeds.json``; every change is written at once, atomically.

    Each call re-reads the file, so a list held by the bot sees feeds another FeedList added. Every change is a
    read-modify-write under an exclusive ``flock`` on ``.feeds.lock``, so writers in any thread or process (the
    bot's refresh, the deploy timer's ``qabot feeds refresh``, ``qabot feeds add``) never lose each other's edits.
    """

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / FEEDS_FILE

    def list(self) -> list[FeedInfo]:
        """The feeds in the order they were added."""
        return self._load()

    def get(self, url: str) -> FeedInfo | None:
        """The feed with this URL, or None."""
        key = _normalise(url)
        return next((f for f in self._load() if f.url == key), None)

    def add(self, url: str) -> bool:
        """Subscribe to ``url`` (http or https only); False when it is already in the list."""
        key = _normalise(url)
        with self._locked():
            feeds = self._load()
            if any(f.url == key for f in feeds):
                return False
            self.save([*feeds, FeedInfo(url=key)])
        return True

    def remove(self, url: str) -> bool:
        """Unsubscribe; False when the URL was not in the list. Its articles stay in the index."""
        key = _normalise(url)
        with self._locked():
            feeds = self._load()
            kept = [f for f in feeds if f.url != key]
            if len(kept) == len(feeds):
                return False
            self.save(kept)
        return True

    def update(self, info: FeedInfo) -> None:
        """Store a refresh's result for ``info.url``, unless the feed was removed meanwhile."""
        with self._locked():
            feeds = self._load()
            if any(f.url == info.url for f in feeds):
                self.save([info if f.url == info.url else f for f in feeds])

    def save(self, feeds: Sequence[FeedInfo]) -> None:
        """Replace the whole list: written to a temporary file, then renamed over ``feeds.json``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "feeds": [asdict(f) for f in feeds]}
        fd, tmp = tempfile.mkstemp(prefix=".feeds-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # flock locks belong to an open file, so each holder opens its own: threads exclude each other too.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.parent / FEEDS_LOCK, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # held for milliseconds: one read and one rename
            yield

    def _load(self) -> list[FeedInfo]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [_info_from_json(item) for item in data["feeds"]]
        except (ValueError, KeyError, TypeError) as err:
            raise IndexCorrupt(f"{self.path} is damaged ({err}); delete it and add the feeds again") from err


@dataclass(frozen=True)
class FeedStatus:
    """What one refresh did with one feed; ``status`` is "ok", "not modified" or "failed"."""

    url: str
    status: str
    title: str | None = None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str | None = None
    skips: tuple[Skip, ...] = ()

    def summary(self) -> str:
        """One line, e.g. ``https://example.com/feed: ok, added 2, updated 0, unchanged 8, skipped 0``."""
        if self.status == "failed":
            return f"{self.url}: failed, {self.error}"
        if self.status == "not modified":
            return f"{self.url}: not modified"
        return (
            f"{self.url}: ok, added {self.added}, updated {self.updated}, "
            f"unchanged {self.unchanged}, skipped {self.skipped}"
        )


@dataclass
class FeedRefreshReport:
    """Every feed's status after one refresh, plus the ids removed by the retention rule."""

    feeds: list[FeedStatus] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    prune_error: str | None = None
    stopped: bool = False  # asked to stop: the feeds not listed were left for the next refresh

    @property
    def failed(self) -> list[FeedStatus]:
        """The feeds that could not be refreshed."""
        return [f for f in self.feeds if f.status == "failed"]

    def summary(self) -> str:
        """One line per feed, then a line about pruning if it ran."""
        lines = [f.summary() for f in self.feeds] or ["no feeds to refresh"]
        if self.pruned:
            lines.append(f"pruned {counted(len(self.pruned), 'old article')}")
        if self.prune_error:
            lines.append(f"pruning failed: {self.prune_error}")
        if self.stopped:
            lines.append("stopped early (shutting down); the other feeds are refreshed next time")
        return "\n".join(lines)

    def totals(self) -> str:
        """One line over all feeds, e.g. ``3 feeds: 2 refreshed, 1 failed; added 4, updated 1``."""
        count = len(self.feeds)
        ok = count - len(self.failed)
        added, updated = sum(f.added for f in self.feeds), sum(f.updated for f in self.feeds)
        return f"{counted(count, 'feed')}: {ok} refreshed, {len(self.failed)} failed; added {added}, updated {updated}"


class _Stopped(Exception):
    """The refresh was asked to stop; nothing of the feed in hand was ingested or recorded."""


def refresh_feeds(
    settings: Settings,
    ingest: Ingest,
    *,
    feeds: FeedList | None = None,
    prune: Prune | None = None,
    stop: threading.Event | None = None,
) -> FeedRefreshReport:
    """Refresh every feed in the list and ``ingest`` its new or changed entries, one call per feed.

    A feed's failure (HTTP error, timeout, not a feed, malformed, or any unexpected exception while reading or
    ingesting it, logged with its traceback) is recorded in the report and in the feed's ``last_error``; the other
    feeds go on. When ``settings.max_article_age_days`` > 0, ``prune`` is called with it
    at the end. Blocking: run it in a worker thread from async code. Once ``stop`` is set the refresh ends at the
    next feed or entry (``report.stopped``): each feed's ingest is one transaction, so the index holds whole feeds.
    """
    feed_list = feeds if feeds is not None else FeedList(settings.index_dir)
    report = FeedRefreshReport()
    for info in feed_list.list():
        try:
            status, new_info = _refresh_one(info, settings, ingest, stop)
        except _Stopped:
            log.info("feed refresh stopped before %s was ingested", info.url)
            report.stopped = True
            return report
        except Exception as err:  # a crash on one feed's content (a parser, a URL library) fails that feed only
            log.exception("feed %s: unexpected %s", info.url, type(err).__name__)
            status, new_info = _failed(info, f"unexpected {type(err).__name__}: {_first_line(err)}")
        if status.status == "failed":
            log.warning("feed %s failed: %s", info.url, status.error)
        report.feeds.append(status)
        feed_list.update(new_info)
    if prune is not None and settings.max_article_age_days > 0 and not (stop is not None and stop.is_set()):
        try:
            report.pruned = prune(settings.max_article_age_days)
        except QabotError as err:
            report.prune_error = str(err)
    return report


def _refresh_one(
    info: FeedInfo, settings: Settings, ingest: Ingest, stop: threading.Event | None = None
) -> tuple[FeedStatus, FeedInfo]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        _check(stop)
        result = web.fetch(info.url, settings, etag=info.etag, last_modified=info.last_modified, accept=FEED_ACCEPT)
        if result.not_modified:
            return FeedStatus(info.url, "not modified", info.title), replace(info, last_refresh=now, last_error=None)
        parsed = _parse(result)
        title = clean_label(parsed.feed.get("title")) or info.title
        gathered = _gather(parsed, info, settings, result.final_url, title, stop)
        _check(stop)
        report = ingest(gathered.articles, gathered.skips) if gathered.articles or gathered.skips else IngestReport()
    except QabotError as err:
        return _failed(info, str(err))
    stored = set(report.added) | set(report.updated) | set(report.unchanged)
    seen = {key: fp for key, (fp, article_id) in gathered.fetched.items() if article_id in stored}
    status = FeedStatus(
        info.url,
        "ok",
        title,
        added=len(report.added),
        updated=len(report.updated),
        unchanged=len(report.unchanged) + gathered.already_seen,
        skipped=len(report.skipped),
        skips=tuple(report.skipped),
    )
    # The validators are stored only now that the entries are safely ingested, or a 304 would hide them for good.
    new_info = replace(
        info,
        title=title,
        etag=result.etag,
        last_modified=result.last_modified,
        last_refresh=now,
        last_error=None,
        seen={**gathered.still_seen, **seen},
    )
    return status, new_info


def _failed(info: FeedInfo, message: str) -> tuple[FeedStatus, FeedInfo]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return FeedStatus(info.url, "failed", info.title, error=message), replace(
        info, last_refresh=now, last_error=message
    )


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else "no details"


def _parse(result: web.FetchResult) -> Any:
    # Imported here: feedparser is only needed while refreshing.
    import feedparser

    media_type = result.media_type
    if media_type in web.HTML_TYPES:
        raise LoadError(
            f"not a feed (content type {media_type}): {result.final_url} is a web page; add its RSS or Atom link"
        )
    looks_like_feed = any(word in media_type for word in ("xml", "rss", "atom"))
    if not looks_like_feed and media_type not in _LOOSE_FEED_TYPES:
        raise LoadError(f"not a feed (content type {media_type}): {result.final_url}")
    headers = {"content-type": result.content_type or "application/xml", "content-location": result.final_url}
    # A stream, not bytes: given bytes, feedparser first tries them as a local file name to open.
    parsed = feedparser.parse(io.BytesIO(result.content), response_headers=headers, sanitize_html=True)
    if not parsed.entries:
        if parsed.get("bozo"):
            reason = " ".join(str(parsed.get("bozo_exception", "")).split()) or "unreadable XML"
            raise LoadError(f"malformed feed at {result.final_url}: {reason}")
        if not parsed.get("version"):
            raise LoadError(f"not an RSS or Atom feed: {result.final_url}")
    return parsed


@dataclass
class _Gathered:
    articles: list[Article] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    fetched: dict[str, tuple[str, str]] = field(default_factory=dict)  # entry key -> (fingerprint, article id)
    still_seen: dict[str, str] = field(default_factory=dict)  # unchanged entries, not fetched again
    already_seen: int = 0


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise _Stopped


def _gather(
    parsed: Any,
    info: FeedInfo,
    settings: Settings,
    feed_url: str,
    feed_title: str | None,
    stop: threading.Event | None = None,
) -> _Gathered:
    out = _Gathered()
    entries = list(parsed.entries)
    if len(entries) > MAX_ENTRIES_PER_FEED:
        out.skips.append(
            Skip(feed_url, f"only the first {MAX_ENTRIES_PER_FEED} of {len(entries)} entries are read per refresh")
        )
    for entry in entries[:MAX_ENTRIES_PER_FEED]:
        key = _entry_key(entry)
        fingerprint = _fingerprint(entry)
        if key and info.seen.get(key) == fingerprint:
            out.still_seen[key] = fingerprint
            out.already_seen += 1
            continue
        _check(stop)  # each page can take a fetch timeout: a bot shutting down does not wait for the rest
        article, from_page, skip = _entry_article(entry, settings, feed_url, feed_title)
        if skip is not None:
            out.skips.append(skip)
        if article is None:
            continue
        out.articles.append(article)
        # Only a full page counts as seen: an entry that fell back to feed text gets its page retried later.
        if key and from_page:
            out.fetched[key] = (fingerprint, article.id)
    return out


def _entry_article(
    entry: Any, settings: Settings, feed_url: str, feed_title: str | None
) -> tuple[Article | None, bool, Skip | None]:
    """The entry as an article: its page when that works, else its feed text. Returns (article, from_page, skip)."""
    link = _entry_link(entry)
    title = clean_label(entry.get("title")) or None
    published = _entry_date(entry)
    author = clean_label(entry.get("author")) or None
    page_error = "the entry has no link"
    if link:
        try:
            page = web.fetch_article(link, settings)
        except LoadError as err:
            page_error = str(err)
        else:
            page = replace(
                page,
                title=page.title or title or page.url or link,
                published=page.published or published,
                author=page.author or author,
                source=page.source or feed_title,
            )
            return page, True, None
    text = clean_stored(_html_to_text(_entry_html(entry)))  # before it is stored and quoted
    where = link or f"{feed_url} entry {title or _entry_key(entry) or '?'}"
    if not text:
        return None, False, Skip(where, f"{page_error}, and the feed has no text for it")
    ref = _entry_key(entry) or text
    article_id = url_id(link) if link else "feed-" + _sha1(feed_url + ref)[:12]
    log.info("feed entry %s: using the feed's text (%s)", where, page_error)
    article = Article(
        id=article_id,
        title=title or title_from_text(text),
        text=text,
        url=link,
        published=published,
        source=feed_title,
        author=author,
    )
    return article, False, None


def _entry_link(entry: Any) -> str | None:
    link = _clean(entry.get("link"))
    if link:
        try:
            web.check_scheme(link)
        except FetchError:
            return None
    return link


def _entry_key(entry: Any) -> str:
    return _clean(entry.get("link")) or _clean(entry.get("id")) or _clean(entry.get("title")) or ""


def _fingerprint(entry: Any) -> str:
    parts = [entry.get("link"), entry.get("id"), entry.get("title"), entry.get("updated"), entry.get("published")]
    parts.append(_entry_html(entry))
    return _sha1("\x00".join(str(p or "") for p in parts))[:16]


def _entry_html(entry: Any) -> str:
    """The entry's fullest text: its content when given, else its summary (HTML or plain)."""
    for content in entry.get("content") or []:
        value = content.get("value")
        if value and value.strip():
            return str(value)
    return str(entry.get("summary") or "")


def _entry_date(entry: Any) -> str | None:
    # feedparser gives the parsed dates as UTC struct_time, whatever zone the feed wrote.
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC).isoformat()
            except (OverflowError, ValueError, OSError):
                continue
    return None


class _TextCollector(HTMLParser):
    """HTML fragment → plain text, with block elements as line breaks (feed snippets are small)."""

    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section"}
    )
    _SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html_to_text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).splitlines())
    return "\n\n".join(line for line in lines if line)


def _normalise(url: str) -> str:
    return str(web.check_scheme(url))


def _clean(value: object) -> str | None:
    """A link, id or key with its whitespace collapsed. Nothing else changes: these name entries in the feed list's
    ``seen`` map and make article ids, so cleaning them further would make known entries look new."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _info_from_json(item: dict[str, Any]) -> FeedInfo:
    return FeedInfo(
        url=str(item["url"]),
        title=item.get("title"),
        etag=item.get("etag"),
        last_modified=item.get("last_modified"),
        last_refresh=item.get("last_refresh"),
        last_error=item.get("last_error"),
        seen={str(k): str(v) for k, v in (item.get("seen") or {}).items()},
    )


__all__ = ["FEED_ACCEPT", "FeedInfo", "FeedList", "FeedRefreshReport", "FeedStatus", "refresh_feeds"]
