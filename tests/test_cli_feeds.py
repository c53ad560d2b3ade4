"""``qabot feeds add/list/refresh/remove`` as a user types them, against a real HTTP server on 127.0.0.1.

The commands run in-process through ``qabot.cli.main``; the index folder comes from QABOT_INDEX_DIR or ``--index``.
Only ``refresh`` loads the embedding model (once, for the whole file).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.web_server import FakeWebServer
from tests.helpers import RunMain
from tests.telegram.pages import BRIDGE_PAGE, BRIDGE_TITLE, rss

PAGE = "/news/bridge.html"
FEED = "/feed.xml"
MISSING_FEED = "/gone.xml"

Run = RunMain


@pytest.fixture
def web() -> Iterator[FakeWebServer]:
    with FakeWebServer() as server:
        server.route(PAGE, BRIDGE_PAGE)
        server.route(FEED, rss(server.url(""), (BRIDGE_TITLE, server.url(PAGE))), content_type="application/rss+xml")
        yield server


@pytest.fixture
def qabot(run_main: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    """``qabot ARGS…`` → (exit status, stdout, stderr), with the index under tmp_path and loopback fetches allowed."""
    monkeypatch.setenv("QABOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QABOT_ALLOW_PRIVATE_URLS", "true")
    return run_main


def test_feeds_add_list_refresh_and_remove(qabot: Run, web: FakeWebServer, tmp_path: Path) -> None:
    feed, gone = web.url(FEED), web.url(MISSING_FEED)

    assert qabot("feeds", "list") == (0, "no feeds yet: qabot feeds add URL\n", "")
    assert qabot("feeds", "add", feed) == (0, f"added {feed}\n", "")
    assert qabot("--index", str(tmp_path / "index"), "feeds", "add", gone) == (0, f"added {gone}\n", "")
    assert qabot("feeds", "list") == (0, f"{feed}  (never refreshed)\n{gone}  (never refreshed)\n", "")
    assert web.requests == []  # adding and listing fetch nothing

    status, out, err = qabot("feeds", "refresh")
    # One feed failed: the run says so in its exit status, after every feed's result and the totals.
    assert (status, err) == (1, "Error: 1 of 2 feeds could not be refreshed (above)\n")
    assert out.splitlines() == [
        f"{feed}: ok, added 1, updated 0, unchanged 0, skipped 0",
        f"{gone}: failed, HTTP 404 from {gone}",
        "2 feeds: 1 refreshed, 1 failed; added 1, updated 0",
    ]
    status, out, _ = qabot("feeds", "list")
    first, second = out.splitlines()
    assert re.fullmatch(rf"{re.escape(feed)}  \(refreshed \d{{4}}-\d\d-\d\dT[\d:]+\+00:00\)", first)
    assert second == f"{gone}  (error: HTTP 404 from {gone})"
    status, out, _ = qabot("stats", "--json")
    assert json.loads(out)["articles"] == 1

    status, out, _ = qabot("feeds", "refresh")  # again: the entry is known, its page is not fetched twice
    assert out.splitlines()[0] == f"{feed}: ok, added 0, updated 0, unchanged 1, skipped 0"
    assert web.hits(PAGE) == 1
    assert web.hits(FEED) == 2

    assert qabot("feeds", "remove", gone) == (0, f"removed {gone}\n", "")
    status, out, err = qabot("feeds", "refresh")
    assert (status, err) == (0, "")  # nothing failed: success again
    assert out.splitlines()[-1] == "1 feed: 1 refreshed, 0 failed; added 0, updated 0"
    status, out, _ = qabot("feeds", "list")
    assert [line.split("  ")[0] for line in out.splitlines()] == [feed]
    assert qabot("feeds", "remove", gone) == (1, "", f"Error: no feed {gone!r}; `qabot feeds list` shows them\n")


def test_feeds_add_refuses_what_it_could_never_fetch(qabot: Run) -> None:
    status, out, err = qabot("feeds", "add", "file:///etc/passwd")
    assert (status, out) == (1, "")
    assert err == "Error: only http and https URLs can be fetched: file:///etc/passwd\n"
    assert qabot("feeds", "list") == (0, "no feeds yet: qabot feeds add URL\n", "")


def test_feeds_refresh_keeps_the_private_address_guard_unless_allowed(
    qabot: Run, web: FakeWebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = web.url(FEED)
    qabot("feeds", "add", feed)
    monkeypatch.delenv("QABOT_ALLOW_PRIVATE_URLS")

    status, out, err = qabot("feeds", "refresh")

    assert (status, err) == (1, "Error: the one feed could not be refreshed (above)\n")
    assert out.splitlines() == [
        f"{feed}: failed, refusing to fetch a private or local address: 127.0.0.1",
        "1 feed: 0 refreshed, 1 failed; added 0, updated 0",
    ]
    assert web.requests == []


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:8080/feed.xml", "127.0.0.1"),
        ("http://localhost/feed.xml", "localhost"),
        ("https://10.1.2.3/rss", "10.1.2.3"),
        ("http://192.168.0.10/atom.xml", "192.168.0.10"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://[::1]:8000/feed", "::1"),
    ],
    ids=["loopback", "localhost", "10.x", "192.168.x", "link-local", "ipv6-loopback"],
)
def test_feeds_add_refuses_a_private_address_with_the_reason_refresh_would_give(
    qabot: Run, monkeypatch: pytest.MonkeyPatch, url: str, host: str
) -> None:
    monkeypatch.delenv("QABOT_ALLOW_PRIVATE_URLS")

    assert qabot("feeds", "add", url) == (1, "", f"Error: refusing to fetch a private or local address: {host}\n")
    assert qabot("feeds", "list") == (0, "no feeds yet: qabot feeds add URL\n", "")
    monkeypatch.setenv("QABOT_ALLOW_PRIVATE_URLS", "true")  # the setting refresh honours lets it be added
    assert qabot("feeds", "add", url) == (0, f"added {url}\n", "")
