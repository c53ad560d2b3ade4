"""Feeds over real HTTP on 127.0.0.1: the stored list, RSS and Atom refreshes, conditional requests, failures."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qabot.config import Settings
from qabot.embed import Embedder
from qabot.errors import FetchError, IndexCorrupt
from qabot.models import Article, IngestReport, Skip
from qabot.sources.feeds import FeedList, refresh_feeds
from tests.fakes.web_server import FakeWebServer

ETAG = '"feed-v1"'
MODIFIED = "Tue, 05 Mar 2024 09:00:00 GMT"


def page(title: str, *paragraphs: str, date: str = "2024-03-05") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:title" content="{title}"><meta property="og:site_name" content="Coastal Daily">
<meta property="article:published_time" content="{date}T08:00:00+00:00"></head><body>
<nav><a href="/">Home</a> <a href="/sport">Sport menu</a></nav>
<article><h1>{title}</h1>{body}</article>
<footer>Copyright Coastal Daily. Privacy policy.</footer></body></html>"""


BRIDGE = page(
    "Harbour bridge reopens after repairs",
    "The harbour bridge reopened to traffic on Tuesday morning after eight months of repairs that cost the city "
    "council 14 million euros, the transport department said.",
    "Engineers replaced the corroded steel cables on the northern span and resurfaced the whole deck, work that "
    "had been planned for three years but was brought forward after an inspection found cracks.",
    "Commuters had faced detours of up to forty minutes while the bridge was closed, and ferry operators added "
    "extra crossings during the morning and evening rush hours.",
)
LIBRARY = page(
    "City library extends opening hours",
    "The central library will stay open until ten in the evening on weekdays from April, the culture committee "
    "decided on Monday after a trial period drew twice the expected number of visitors.",
    "Students had asked for longer hours during the exam season, when the reading rooms are often full by noon, "
    "and the committee said the extra staff would be paid from the existing budget.",
    "The library will also open on Sunday afternoons during the summer holidays for the first time in its history.",
)


def rss(base: str, *items: dict[str, str], title: str = "Coastal Daily") -> str:
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{v}</{k.split()[0]}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>{title}</title><link>{base}/</link><description>News</description>
{"".join(parts)}
</channel></rss>"""


class FakeIndex:
    """The test's own ingest sink: keeps articles by id and reports like the Ingestor does (by content hash)."""

    def __init__(self) -> None:
        self.articles: dict[str, Article] = {}
        self.calls: list[tuple[list[Article], list[Skip]]] = []

    def __call__(self, articles: list[Article], skipped: list[Skip]) -> IngestReport:
        self.calls.append((list(articles), list(skipped)))
        report = IngestReport(skipped=list(skipped))
        for article in articles:
            old = self.articles.get(article.id)
            if old is None:
                report.added.append(article.id)
            elif old.content_hash == article.content_hash:
                report.unchanged.append(article.id)
            else:
                report.updated.append(article.id)
            self.articles[article.id] = article
        return report


def url_id(url: str) -> str:
    return "u-" + hashlib.sha1(url.encode()).hexdigest()[:12]


@pytest.fixture
def server() -> Iterator[FakeWebServer]:
    with FakeWebServer() as s:
        yield s


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"index_dir": tmp_path, "allow_private_urls": True, "fetch_timeout_seconds": 5.0}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def index() -> FakeIndex:
    return FakeIndex()


def subscribe(settings: Settings, *urls: str) -> FeedList:
    feeds = FeedList(settings.index_dir)
    for url in urls:
        assert feeds.add(url)
    return feeds


def news_feed(server: FakeWebServer) -> str:
    """An RSS feed of two articles, served with validators; returns the feed URL."""
    server.route("/news/bridge", BRIDGE)
    server.route("/news/library", LIBRARY)
    body = rss(
        server.url(""),
        {"title": "Bridge reopens", "link": server.url("/news/bridge"), "pubDate": "Tue, 05 Mar 2024 08:00:00 GMT"},
        {"title": "Library hours", "link": server.url("/news/library"), "pubDate": "Mon, 04 Mar 2024 16:30:00 GMT"},
    )
    server.route("/feed.xml", body, content_type="application/rss+xml", etag=ETAG, last_modified=MODIFIED)
    return server.url("/feed.xml")


# ------------------------------------------------------------------------------------------------- refresh
def test_rss_entries_become_articles_from_their_pages(
    server: FakeWebServer, settings: Settings, index: FakeIndex
) -> None:
    feed_url = news_feed(server)
    subscribe(settings, feed_url)

    report = refresh_feeds(settings, index)

    assert report.summary() == f"{feed_url}: ok, added 2, updated 0, unchanged 0, skipped 0"
    bridge = index.articles[url_id(server.url("/news/bridge"))]
    assert bridge.title == "Harbour bridge reopens after repairs"
    assert "reopened to traffic on Tuesday morning" in bridge.text
    assert "Sport menu" not in bridge.text
    assert "Privacy policy" not in bridge.text
    assert bridge.url == server.url("/news/bridge")
    assert (bridge.published or "").startswith("2024-03-05")
    assert len(index.calls) == 1  # one ingest call per feed


def test_atom_entries_become_articles(server: FakeWebServer, settings: Settings, index: FakeIndex) -> None:
    server.route("/news/library", LIBRARY)
    atom = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Coastal Daily (Atom)</title><id>urn:coastal</id>
<updated>2024-03-06T10:00:00Z</updated>
<entry><title>Library hours</title><id>urn:coastal:library</id>
<link rel="alternate" type="text/html" href="{server.url("/news/library")}"/>
<updated>2024-03-06T10:00:00Z</updated><summary>The library stays open later.</summary></entry>
</feed>"""
    server.route("/atom.xml", atom, content_type="application/atom+xml")
    subscribe(settings, server.url("/atom.xml"))

    report = refresh_feeds(settings, index)

    assert [(f.status, f.added) for f in report.feeds] == [("ok", 1)]
    article = index.articles[url_id(server.url("/news/library"))]
    assert "stay open until ten in the evening" in article.text
    assert FeedList(settings.index_dir).list()[0].title == "Coastal Daily (Atom)"


def test_a_second_refresh_is_a_conditional_request_that_adds_nothing(
    server: FakeWebServer, settings: Settings, index: FakeIndex
) -> None:
    feed_url = news_feed(server)
    subscribe(settings, feed_url)

    refresh_feeds(settings, index)
    second = refresh_feeds(settings, index)

    assert second.summary() == f"{feed_url}: not modified"
    first_request, second_request = server.requests_for("/feed.xml")
    assert "if-none-match" not in first_request.headers
    assert second_request.headers["if-none-match"] == ETAG
    assert second_request.headers["if-modified-since"] == MODIFIED
    assert second_request.status == 304
    assert server.hits("/news/bridge") == server.hits("/news/library") == 1  # no entry page fetched again
    assert len(index.calls) == 1
    stored = FeedList(settings.index_dir).list()[0]
    assert (stored.etag, stored.last_modified, stored.last_error) == (ETAG, MODIFIED, None)


def test_a_changed_entry_replaces_its_article(server: FakeWebServer, settings: Settings, index: FakeIndex) -> None:
    feed_url = news_feed(server)
    subscribe(settings, feed_url)
    refresh_feeds(settings, index)

    # The bridge story is corrected: new page text, and the feed announces it with a new date and ETag.
    corrected = BRIDGE.replace("14 million euros", "16 million euros")
    server.route("/news/bridge", corrected)
    body = rss(
        server.url(""),
        {"title": "Bridge reopens", "link": server.url("/news/bridge"), "pubDate": "Wed, 06 Mar 2024 07:00:00 GMT"},
        {"title": "Library hours", "link": server.url("/news/library"), "pubDate": "Mon, 04 Mar 2024 16:30:00 GMT"},
    )
    server.route("/feed.xml", body, content_type="application/rss+xml", etag='"feed-v2"')
    report = refresh_feeds(settings, index)

    assert report.summary() == f"{feed_url}: ok, added 0, updated 1, unchanged 1, skipped 0"
    bridge = index.articles[url_id(server.url("/news/bridge"))]
    assert "16 million euros" in bridge.text
    assert "14 million euros" not in bridge.text
    assert server.hits("/news/library") == 1  # the unchanged entry's page is not fetched again
    assert server.hits("/news/bridge") == 2


@pytest.mark.parametrize(
    ("route", "error"),
    [
        (
            {"body": '<rss version="2.0"><channel><title>Broken</channel></rss', "content_type": "application/rss+xml"},
            "malformed feed at .*mismatched tag",
        ),
        ({"body": "gone", "status": 404, "content_type": "text/plain"}, "HTTP 404 from"),
        ({"body": BRIDGE, "content_type": "text/html"}, r"not a feed \(content type text/html\)"),
        ({"body": b"\x89PNG...", "content_type": "image/png"}, r"not a feed \(content type image/png\)"),
        ({"body": "<rss/>", "content_type": "application/rss+xml", "delay": 5.0}, r"timed out after 0\.5s"),
    ],
    ids=["malformed", "404", "web-page", "image", "timeout"],
)
def test_a_failing_feed_is_reported_and_the_others_still_ingest(
    server: FakeWebServer, tmp_path: Path, index: FakeIndex, route: dict[str, object], error: str
) -> None:
    settings = make_settings(tmp_path, fetch_timeout_seconds=0.5)
    server.route("/bad.xml", **route)  # type: ignore[arg-type]
    good_url = news_feed(server)
    bad_url = server.url("/bad.xml")
    subscribe(settings, bad_url, good_url)

    report = refresh_feeds(settings, index)

    bad, good = report.feeds
    assert (bad.url, bad.status) == (bad_url, "failed")
    assert bad.error is not None
    assert re.search(error, bad.error)
    assert (good.status, good.added) == ("ok", 2)
    assert report.summary().splitlines()[0] == f"{bad_url}: failed, {bad.error}"
    stored = {f.url: f for f in FeedList(settings.index_dir).list()}
    assert stored[bad_url].last_error == bad.error
    assert stored[good_url].last_error is None


def test_a_feed_whose_content_crashes_a_library_fails_alone_and_the_others_still_ingest(
    server: FakeWebServer, settings: Settings, index: FakeIndex, caplog: pytest.LogCaptureFixture
) -> None:
    # A real input that escapes every expected error type: feedparser's loose parser encodes a character reference
    # to a lone surrogate ("&#55296;") and raises UnicodeEncodeError from inside feedparser.parse.
    item = {"title": "Odd &#55296; title", "description": "Text of the odd entry."}
    server.route("/odd.xml", rss(server.url(""), item), content_type="application/rss+xml")
    odd_url, good_url = server.url("/odd.xml"), news_feed(server)
    subscribe(settings, odd_url, good_url)

    report = refresh_feeds(settings, index)

    odd, good = report.feeds
    assert (odd.url, odd.status) == (odd_url, "failed")
    assert str(odd.error).startswith("unexpected UnicodeEncodeError: ")
    assert (good.status, good.added) == ("ok", 2)
    assert FeedList(settings.index_dir).get(odd_url).last_error == odd.error  # type: ignore[union-attr]
    [logged] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert odd_url in logged.getMessage()
    assert logged.exc_info is not None


def test_an_entry_link_that_is_not_valid_idna_falls_back_to_the_feed_text(
    server: FakeWebServer, settings: Settings, index: FakeIndex
) -> None:
    item = {"title": "Odd link", "link": "http://xn--a.com/story", "description": "Text of the odd entry."}
    server.route("/odd.xml", rss(server.url(""), item), content_type="application/rss+xml")
    subscribe(settings, server.url("/odd.xml"))

    report = refresh_feeds(settings, index)

    assert [(f.status, f.added) for f in report.feeds] == [("ok", 1)]
    [article] = index.articles.values()
    assert article.text == "Text of the odd entry."


def test_a_slightly_broken_feed_with_readable_entries_is_still_ingested(
    server: FakeWebServer, settings: Settings, index: FakeIndex
) -> None:
    server.route("/news/bridge", BRIDGE)
    item = {"title": "Bridge&nbsp;reopens", "link": server.url("/news/bridge")}  # an HTML entity XML does not know
    server.route("/feed.xml", rss(server.url(""), item), content_type="application/rss+xml")
    subscribe(settings, server.url("/feed.xml"))

    report = refresh_feeds(settings, index)

    assert [(f.status, f.added) for f in report.feeds] == [("ok", 1)]


def test_a_failed_entry_page_falls_back_to_the_feed_text(
    server: FakeWebServer, settings: Settings, index: FakeIndex
) -> None:
    link = server.url("/news/paywalled")  # no route: the page answers 404
    item = {
        "title": "Council approves new budget",
        "link": link,
        "guid": "budget-2024",
        "pubDate": "Thu, 07 Mar 2024 18:15:00 +0100",
        "description": "<![CDATA[<p>The council approved the 2024 budget on Thursday.</p>"
        "<p>Spending on schools rises by 4% &amp; roads by 2%.</p>]]>",
    }
    server.route("/feed.xml", rss(server.url(""), item), content_type="application/rss+xml")
    subscribe(settings, server.url("/feed.xml"))

    report = refresh_feeds(settings, index)

    assert [(f.status, f.added) for f in report.feeds] == [("ok", 1)]
    article = index.articles[url_id(link)]
    assert article.title == "Council approves new budget"
    assert (
        article.text
        == "The council approved the 2024 budget on Thursday.\n\nSpending on schools rises by 4% & roads by 2%."
    )
    assert article.url == link
    assert article.published == "2024-03-07T17:15:00+00:00"
    assert article.source == "Coastal Daily"
    assert server.hits("/news/paywalled") == 1


def test_an_entry_that_fell_back_gets_its_page_once_the_page_works(
    server: FakeWebServer, settings: Settings, index: FakeIndex
) -> None:
    link = server.url("/news/bridge")
    item = {"title": "Bridge reopens", "link": link, "description": "The bridge reopened on Tuesday."}
    server.route("/feed.xml", rss(server.url(""), item), content_type="application/rss+xml", etag='"a"')
    subscribe(settings, server.url("/feed.xml"))
    refresh_feeds(settings, index)
    assert index.articles[url_id(link)].text == "The bridge reopened on Tuesday."

    server.route("/news/bridge", BRIDGE)
    other = {"title": "Library hours", "link": server.url("/news/library"), "description": "Open later."}
    server.route("/feed.xml", rss(server.url(""), item, other), content_type="application/rss+xml", etag='"b"')
    report = refresh_feeds(settings, index)

    assert (report.feeds[0].added, report.feeds[0].updated) == (1, 1)
    assert "corroded steel cables" in index.articles[url_id(link)].text


def test_an_entry_without_link_is_kept_under_a_feed_id(
    server: FakeWebServer, settings: Settings, index: FakeIndex
) -> None:
    # isPermaLink="false": otherwise RSS 2.0 says the guid is the entry's link.
    item = {
        "title": "Storm warning",
        'guid isPermaLink="false"': "storm-1",
        "description": "Gales are expected along the coast tonight.",
    }
    server.route("/feed.xml", rss(server.url(""), item), content_type="application/rss+xml")
    feed_url = server.url("/feed.xml")
    subscribe(settings, feed_url)

    refresh_feeds(settings, index)

    expected = "feed-" + hashlib.sha1((feed_url + "storm-1").encode()).hexdigest()[:12]
    assert list(index.articles) == [expected]
    assert index.articles[expected].url is None
    assert index.articles[expected].text == "Gales are expected along the coast tonight."


def test_an_entry_with_neither_page_nor_text_is_skipped(
    server: FakeWebServer, settings: Settings, index: FakeIndex
) -> None:
    link = server.url("/news/missing")
    server.route("/feed.xml", rss(server.url(""), {"title": "Gone", "link": link}), content_type="application/rss+xml")
    subscribe(settings, server.url("/feed.xml"))

    report = refresh_feeds(settings, index)

    assert (report.feeds[0].status, report.feeds[0].skipped) == ("ok", 1)
    (skip,) = report.feeds[0].skips
    assert skip.where == link
    assert skip.reason == f"HTTP 404 from {link}, and the feed has no text for it"
    assert index.articles == {}


def test_a_feed_body_naming_a_local_file_is_not_read_from_disk(
    server: FakeWebServer, settings: Settings, index: FakeIndex, tmp_path: Path
) -> None:
    local = tmp_path / "secret-feed.xml"
    local.write_text(rss("http://intranet", {"title": "Internal memo", "description": "Do not publish."}))
    server.route("/feed.xml", str(local), content_type="application/rss+xml")
    subscribe(settings, server.url("/feed.xml"))

    report = refresh_feeds(settings, index)

    assert report.feeds[0].status == "failed"
    assert index.articles == {}


def test_prune_runs_with_the_retention_setting(server: FakeWebServer, tmp_path: Path, index: FakeIndex) -> None:
    calls: list[int] = []

    def prune(days: int) -> list[str]:
        calls.append(days)
        return ["u-old1", "u-old2"]

    subscribe(make_settings(tmp_path), news_feed(server))
    kept = refresh_feeds(make_settings(tmp_path), index, prune=prune)
    pruned = refresh_feeds(make_settings(tmp_path, max_article_age_days=30), index, prune=prune)

    assert calls == [30]
    assert kept.pruned == []
    assert pruned.pruned == ["u-old1", "u-old2"]
    assert pruned.summary().splitlines()[-1] == "pruned 2 old articles"


# ----------------------------------------------------------------------------------------------- feed list
def test_the_feed_list_is_stored_with_the_index(tmp_path: Path) -> None:
    feeds = FeedList(tmp_path)
    assert feeds.add("https://example.com/feed.xml")
    assert not feeds.add("https://example.com/feed.xml")  # a duplicate is a no-op
    assert feeds.add("https://example.org/atom")

    reopened = FeedList(tmp_path)
    assert [f.url for f in reopened.list()] == ["https://example.com/feed.xml", "https://example.org/atom"]
    assert reopened.remove("https://example.com/feed.xml")
    assert not reopened.remove("https://example.com/feed.xml")
    assert [f.url for f in FeedList(tmp_path).list()] == ["https://example.org/atom"]
    assert json.loads((tmp_path / "feeds.json").read_text())["feeds"][0]["url"] == "https://example.org/atom"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".feeds.lock", "feeds.json"]  # no temporary files left


_ADD_MANY = """
import sys
from qabot.sources.feeds import FeedList
feeds = FeedList(sys.argv[1])
for i in range(int(sys.argv[3])):
    assert feeds.add(f"https://{sys.argv[2]}.example/feed{i}.xml")
"""


def test_two_processes_adding_feeds_at_once_lose_no_edit(tmp_path: Path) -> None:
    """The deploy timer's ``qabot feeds refresh`` and the bot both rewrite feeds.json: neither may undo the other."""
    n = 150
    writers = [
        subprocess.Popen([sys.executable, "-c", _ADD_MANY, str(tmp_path), name, str(n)], cwd=Path.cwd())
        for name in ("bot", "timer")
    ]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]

    urls = {f.url for f in FeedList(tmp_path).list()}
    assert len(urls) == 2 * n
    assert {f"https://timer.example/feed{n - 1}.xml", "https://bot.example/feed0.xml"} <= urls


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed", "javascript:alert(1)"])
def test_only_http_feeds_can_be_added(tmp_path: Path, url: str) -> None:
    with pytest.raises(FetchError, match="only http and https URLs can be fetched"):
        FeedList(tmp_path).add(url)
    assert FeedList(tmp_path).list() == []


def test_a_damaged_feed_list_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "feeds.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="delete it and add the feeds again"):
        FeedList(tmp_path).list()


def test_no_feeds_is_a_quiet_refresh(settings: Settings, index: FakeIndex) -> None:
    report = refresh_feeds(settings, index)
    assert report.feeds == []
    assert report.summary() == "no feeds to refresh"
    assert index.calls == []


def test_retention_prunes_old_articles_from_a_real_index(
    server: FakeWebServer, tmp_path: Path, embedder: Embedder
) -> None:
    """``Ingestor.prune_older_than`` itself, on a real index fed by a real refresh: no stub, no FakeIndex."""
    from datetime import UTC, datetime, timedelta

    from qabot.answer import Answerer
    from qabot.ingest import Ingestor

    today = datetime.now(UTC).date()
    old, fresh = (today - timedelta(days=400)).isoformat(), (today - timedelta(days=2)).isoformat()
    server.route("/news/bridge", BRIDGE.replace("2024-03-05", old))
    server.route("/news/library", LIBRARY.replace("2024-03-05", fresh))
    items = [{"title": t, "link": server.url(p), "guid": server.url(p)} for t, p in
             (("Bridge", "/news/bridge"), ("Library", "/news/library"))]  # fmt: skip
    server.route("/feed.xml", rss(server.url(""), *items), content_type="application/rss+xml")
    settings = make_settings(tmp_path / "index", max_article_age_days=30)
    FeedList(settings.index_dir).add(server.url("/feed.xml"))
    ingestor = Ingestor.from_settings(settings, embedder=embedder)

    first = refresh_feeds(settings, ingestor.ingest_articles, prune=ingestor.prune_older_than)
    again = refresh_feeds(settings, ingestor.ingest_articles, prune=ingestor.prune_older_than)

    bridge, library = url_id(server.url("/news/bridge")), url_id(server.url("/news/library"))
    assert first.feeds[0].added == 2
    assert first.pruned == [bridge]
    assert first.summary().splitlines()[-1] == "pruned 1 old article"
    assert again.pruned == []  # the pruned entry is still in the feed, but seen: not fetched and stored again
    assert again.feeds[0].added == 0
    assert server.hits("/news/bridge") == 1
    answerer = Answerer.from_settings(settings, embedder=embedder)
    assert answerer.store.article_ids() == [library]
    answer = answerer.ask("How much did the harbour bridge repairs cost?")
    assert all(q.article_id == library for q in (*answer.quotes, *answer.more))
    assert ingestor.prune_older_than(1) == [library]  # the cut is by publication date, to the day
    assert answerer.store.article_ids() == []
