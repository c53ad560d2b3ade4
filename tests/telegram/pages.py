"""Web pages and feeds for the bot tests, served by ``tests.fakes.web_server.FakeWebServer``."""

from __future__ import annotations

import html

from qabot.models import Article


def article_page(title: str, *paragraphs: str, site: str = "Riverside Post", date: str = "2025-05-02") -> str:
    """A news page the way sites publish them: metadata in the head, the story in ``<article>``, chrome around it."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | {site}</title>
<meta property="og:title" content="{html.escape(title)}"><meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{date}T08:00:00+00:00"></head><body>
<nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article><h1>{html.escape(title)}</h1>
{body}
</article><footer>Copyright {site}.</footer></body></html>"""


def rss(site_url: str, *entries: tuple[str, str], title: str = "Riverside Post") -> str:
    """An RSS 2.0 feed whose entries are ``(title, link)`` pairs."""
    items = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link><guid>{html.escape(link)}</guid></item>"
        for t, link in entries
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{title}</title><link>{site_url}/</link><description>News</description>
{items}</channel></rss>"""


BRIDGE_TITLE = "Glass footbridge over the Marrow opens"
BRIDGE_PARAGRAPHS = (
    "The glass footbridge over the river Marrow opened to walkers on Friday morning after two years of building "
    "work. The bridge links the old market square with the new railway station on the southern bank.",
    "City engineers said the deck is made of laminated glass panels that can carry four hundred people at once. "
    "A ribbon was cut by the oldest resident of the market square, who is one hundred and two years old.",
    "Cyclists must still use the road bridge further upstream, the council said, because the glass deck is too "
    "slippery for bicycle tyres when it rains. Lighting under the deck will be switched on at dusk every evening.",
)
BRIDGE_PAGE = article_page(BRIDGE_TITLE, *BRIDGE_PARAGRAPHS)
BRIDGE_QUESTION = "When did the glass footbridge over the river Marrow open?"
BRIDGE_ANSWER = "The glass footbridge over the river Marrow opened to walkers on Friday morning"

TRAM = Article(
    id="tram",
    title="Harbour tram runs every ten minutes",
    text="The harbour tram now runs every ten minutes. Tickets cost two crowns.",
    url="https://example.com/tram",
    published="2025-04-01",
    source="Port Times",
)


def bridge_article(url: str = "https://riverside.example/news/bridge") -> Article:
    """The footbridge story as an already-extracted article (for ingesting without a web server)."""
    return Article(
        id="bridge",
        title=BRIDGE_TITLE,
        text="\n\n".join(BRIDGE_PARAGRAPHS),
        url=url,
        published="2025-05-02",
        source="Riverside Post",
    )


def normalised(text: str) -> str:
    """Whitespace collapsed, to compare a quote with the page it came from."""
    return " ".join(text.split())
