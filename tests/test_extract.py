"""Web page → Article with trafilatura: main text only, metadata, ids, and no crash on broken pages."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from qabot.errors import LoadError
from qabot.sources.html import extract_html, host_of, title_from_text, url_id

PAGE = """<!doctype html>
<html><head>
<title>Council approves new bridge | Riverside Gazette</title>
<meta property="og:site_name" content="Riverside Gazette">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-09-20T08:30:00+02:00">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport pages and league tables</a></li>
<li><a href="/weather">Weather forecast for the whole region</a></li></ul></nav>
<article>
<h1>Council approves new bridge</h1>
<p>The city council voted on Tuesday to approve a new pedestrian bridge across the river, ending a decade of debate.</p>
<p>Mayor Ana Ruiz said the bridge would cost 12.5 million euros and open in 2026. "It connects two halves of the
city," she said.</p>
<p>Opponents argued that the money should go to repairing existing roads, but the motion passed by seven votes
to two.</p>
</article>
<footer><p>Copyright 2024 Riverside Gazette. All rights reserved. Read our privacy policy.</p></footer>
</body></html>
"""


def test_main_text_and_metadata_without_nav_or_footer() -> None:
    article = extract_html(PAGE, url="https://www.gazette.example/news/bridge")
    assert article.title == "Council approves new bridge"
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("The city council voted on Tuesday")
    assert "12.5 million euros" in paragraphs[1]
    assert paragraphs[2].endswith("by seven votes\nto two.") or paragraphs[2].endswith("by seven votes to two.")
    for boilerplate in ("Sport pages", "Weather forecast", "Copyright", "privacy policy", "Home"):
        assert boilerplate not in article.text
    assert article.published == "2024-09-20"
    assert article.author == "Jane Doe"
    assert article.source == "Riverside Gazette"
    assert article.url == "https://www.gazette.example/news/bridge"
    assert article.id == "u-" + hashlib.sha1(b"https://www.gazette.example/news/bridge").hexdigest()[:12]


def test_bytes_input_and_explicit_id() -> None:
    article = extract_html(PAGE.encode("utf-8"), url="https://gazette.example/x", id="given-1")
    assert article.id == "given-1"
    assert "pedestrian bridge" in article.text


def test_site_name_falls_back_to_the_host_and_id_to_a_text_hash() -> None:
    html = (
        "<html><head><title>Bridge</title></head><body><article>"
        "<p>The council voted on Tuesday to approve the new bridge across the river.</p>"
        "<p>It will open in 2026, the mayor said at a press conference.</p></article></body></html>"
    )
    with_url = extract_html(html, url="https://www.river.example/a")
    assert with_url.source == "river.example"
    without_url = extract_html(html)
    assert without_url.url is None
    assert without_url.id.startswith("h-")
    assert extract_html(html).id == without_url.id  # stable


def test_canonical_link_is_used_when_no_url_is_given() -> None:
    html = (
        "<html><head><title>T</title><link rel='canonical' href='https://www.canon.example/story'></head>"
        "<body><article><p>Only one paragraph of news about the new bridge over the river.</p></article></body></html>"
    )
    article = extract_html(html)
    assert article.url == "https://www.canon.example/story"
    assert article.source == "canon.example"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body></body></html>",
        "<html><head><title>Only a title</title></head><body>   </body></html>",
        "<div>" * 5000 + "deep text" + "</div>" * 5000,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_pages_without_article_text_raise_load_error(html: str | bytes) -> None:
    with pytest.raises(LoadError):
        extract_html(html)


def test_helpers() -> None:
    assert url_id("https://a.example/x") == "u-" + hashlib.sha1(b"https://a.example/x").hexdigest()[:12]
    assert host_of("https://WWW.Example.org:8080/p?q=1") == "example.org"
    assert host_of("not a url") is None
    assert host_of("http://[broken") is None
    assert title_from_text("\n  First line\nSecond") == "First line"
    long_title = title_from_text("word " * 60)
    assert len(long_title) <= 101
    assert long_title.endswith("…")


def test_the_html_cleaner_url_ingest_imports_is_a_declared_dependency() -> None:
    """lxml.html.clean left lxml (5.2): with an older pip, URL ingest failed on ``import justext``."""
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8"))
    names = {re.split(r"[<>=~!\[; ]", d, maxsplit=1)[0].lower() for d in pyproject["project"]["dependencies"]}
    assert "lxml_html_clean" in names
    import justext  # trafilatura's boilerplate remover: the first importer of lxml.html.clean

    assert justext.get_stoplist("English")
