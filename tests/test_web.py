"""Fetching pages over real HTTP on 127.0.0.1: extraction, redirects, failures, caps and the address guard."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from qabot.config import Settings
from qabot.errors import FetchError
from qabot.sources.fetch import USER_AGENT, check_url_allowed, fetch, fetch_article, is_public_address
from tests.fakes.web_server import FakeWebServer

ARTICLE_HTML = """<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Harbour bridge reopens after repairs | Coastal Daily</title>
<meta property="og:title" content="Harbour bridge reopens after repairs">
<meta property="og:site_name" content="Coastal Daily">
<meta property="article:published_time" content="2024-03-05T08:30:00+00:00">
<meta name="author" content="Maria Jensen">
</head><body>
<header><nav><ul>
  <li><a href="/">Home</a></li><li><a href="/politics">Politics menu</a></li><li><a href="/sport">Sport menu</a></li>
  <li><a href="/subscribe">Subscribe today and save</a></li>
</ul></nav></header>
<main><article>
<h1>Harbour bridge reopens after repairs</h1>
<p class="byline">By Maria Jensen, 5 March 2024</p>
<p>The harbour bridge reopened to traffic on Tuesday morning after eight months of repairs that cost the city
council 14 million euros, the transport department said.</p>
<p>Engineers replaced the corroded steel cables on the northern span and resurfaced the whole deck. The work had
been planned for three years but was brought forward after an inspection found cracks in two anchor blocks.</p>
<p>Commuters had faced detours of up to forty minutes while the bridge was closed. Ferry operators added extra
crossings during the morning and evening rush hours to carry the extra passengers.</p>
<p>The mayor thanked residents for their patience and said cyclists would get a separate lane from next month,
once the new railings on the eastern side are finished.</p>
</article></main>
<footer><p>Copyright 2024 Coastal Daily. Privacy policy. Cookie settings. Contact the newsroom.</p></footer>
</body></html>
"""

EMPTY_HTML = """<!doctype html><html><head><title>Photo gallery</title>
<script>var tracking = {page: "gallery"};</script></head>
<body><div class="gallery"><img src="/1.jpg" alt=""><img src="/2.jpg" alt=""></div></body></html>"""

# Folder listings as Apache, nginx and Python's http.server generate them (extraction would keep the file names).
APACHE_LISTING = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of /reports/2024</title>
 </head>
 <body>
<h1>Index of /reports/2024</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th>
   <th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th></tr>
   <tr><th colspan="4"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/reports/">Parent Directory</a>
</td><td>&nbsp;</td><td align="right">  - </td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="budget.html">budget.html</a></td>
<td align="right">2024-03-05 08:30  </td><td align="right"> 14K</td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="bridge.html">bridge.html</a></td>
<td align="right">2024-03-06 09:12  </td><td align="right"> 22K</td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="minutes.html">minutes.html</a></td>
<td align="right">2024-03-19 17:45  </td><td align="right"> 31K</td></tr>
   <tr><th colspan="4"><hr></th></tr>
</table>
<address>Apache/2.4.58 (Ubuntu) Server at news.example.invalid Port 80</address>
</body></html>
"""
NGINX_LISTING = """<html>
<head><title>Index of /archive/</title></head>
<body>
<h1>Index of /archive/</h1><hr><pre><a href="../">../</a>
<a href="2023/">2023/</a>                                              04-Jan-2024 10:12                   -
<a href="2024/">2024/</a>                                              30-Sep-2024 18:40                   -
<a href="bridge-reopens.html">bridge-reopens.html</a>                          05-Mar-2024 08:30               14213
<a href="cycle-lane.html">cycle-lane.html</a>                              06-Mar-2024 09:12               22110
</pre><hr></body>
</html>
"""
PYTHON_LISTING = """<!DOCTYPE HTML>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Directory listing for /reports/</title>
</head>
<body>
<h1>Directory listing for /reports/</h1>
<hr>
<ul>
<li><a href="archive/">archive/</a></li>
<li><a href="bridge-reopens.html">bridge-reopens.html</a></li>
<li><a href="budget-2024.html">budget-2024.html</a></li>
<li><a href="council-minutes.txt">council-minutes.txt</a></li>
</ul>
<hr>
</body>
</html>
"""

# A globally routable address the tests pretend some names resolve to; connections to it go to a loopback server.
PUBLIC_IP = "93.184.215.14"


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"index_dir": tmp_path, "allow_private_urls": True, "fetch_timeout_seconds": 5.0}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[FakeWebServer]:
    with FakeWebServer() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def url_id(url: str) -> str:
    return "u-" + hashlib.sha1(url.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------------- articles
def test_article_page_gives_title_date_and_body_without_menus(server: FakeWebServer, settings: Settings) -> None:
    server.route("/news/bridge.html", ARTICLE_HTML)
    url = server.url("/news/bridge.html")

    article = fetch_article(url, settings)

    assert article.title == "Harbour bridge reopens after repairs"
    assert (article.published or "").startswith("2024-03-05")
    assert "reopened to traffic on Tuesday morning" in article.text
    assert "cyclists would get a separate lane" in article.text
    for chrome in ("Politics menu", "Subscribe today", "Privacy policy", "Cookie settings"):
        assert chrome not in article.text
    assert article.url == url
    assert article.id == url_id(url)


def test_redirects_end_at_the_final_url(server: FakeWebServer, settings: Settings) -> None:
    server.redirect("/old", server.url("/moved"), status=301)
    server.redirect("/moved", "/news/bridge.html", status=302)  # relative Location
    server.route("/news/bridge.html", ARTICLE_HTML)

    article = fetch_article(server.url("/old"), settings)

    final = server.url("/news/bridge.html")
    assert article.url == final
    assert article.id == url_id(final)
    assert [server.hits(p) for p in ("/old", "/moved", "/news/bridge.html")] == [1, 1, 1]


def test_a_redirect_loop_is_cut_short(server: FakeWebServer, settings: Settings) -> None:
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")

    with pytest.raises(FetchError, match="too many redirects"):
        fetch(server.url("/a"), settings)
    assert server.hits("/a") + server.hits("/b") == 6  # the first request and five redirects


def test_http_error_names_status_and_url(server: FakeWebServer, settings: Settings) -> None:
    url = server.url("/missing")
    with pytest.raises(FetchError, match=f"^HTTP 404 from {re.escape(url)}$"):
        fetch_article(url, settings)


def test_a_slow_server_times_out(server: FakeWebServer, tmp_path: Path) -> None:
    server.route("/slow", ARTICLE_HTML, delay=5.0)
    url = server.url("/slow")
    with pytest.raises(FetchError, match=r"^timed out after 0\.5s: "):
        fetch_article(url, make_settings(tmp_path, fetch_timeout_seconds=0.5))


def test_connection_refused_is_one_line(settings: Settings) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, so nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match=r"^could not connect to 127\.0\.0\.1: ") as info:
        fetch(f"http://127.0.0.1:{port}/", settings)
    assert "\n" not in str(info.value)


def test_non_html_content_is_refused(server: FakeWebServer, settings: Settings) -> None:
    server.route("/report.pdf", b"%PDF-1.7 ...", content_type="application/pdf")
    with pytest.raises(FetchError, match=r"not an HTML page \(content type application/pdf\)"):
        fetch_article(server.url("/report.pdf"), settings)


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "streamed"])
def test_a_page_over_the_size_cap_is_refused(server: FakeWebServer, tmp_path: Path, send_length: bool) -> None:
    server.route("/big", "<p>" + "x" * 100_000 + "</p>", send_length=send_length)
    with pytest.raises(FetchError, match="page is larger than 2048 bytes"):
        fetch_article(server.url("/big"), make_settings(tmp_path, fetch_max_bytes=2048))


def test_a_page_without_article_text_is_a_fetch_error(server: FakeWebServer, settings: Settings) -> None:
    url = server.url("/gallery")
    server.route("/gallery", EMPTY_HTML)
    with pytest.raises(FetchError, match=f"^{re.escape(url)}: no article text"):
        fetch_article(url, settings)


@pytest.mark.parametrize("listing", [APACHE_LISTING, NGINX_LISTING, PYTHON_LISTING], ids=["apache", "nginx", "python"])
def test_a_directory_listing_is_not_an_article(server: FakeWebServer, settings: Settings, listing: str) -> None:
    url = server.url("/reports/")
    server.route("/reports/", listing)
    with pytest.raises(FetchError, match=f"^{re.escape(url)} is a directory listing, not an article$"):
        fetch_article(url, settings)


def test_requests_identify_the_bot_and_can_be_conditional(server: FakeWebServer, settings: Settings) -> None:
    server.route("/page", ARTICLE_HTML, etag='"v1"', last_modified="Tue, 05 Mar 2024 08:30:00 GMT")

    first = fetch(server.url("/page"), settings)
    again = fetch(server.url("/page"), settings, etag=first.etag, last_modified=first.last_modified)

    assert (first.status, first.not_modified, first.etag) == (200, False, '"v1"')
    assert (again.status, again.not_modified, again.content) == (304, True, b"")
    sent = server.requests_for("/page")
    assert sent[0].headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("qabot/")
    assert "if-none-match" not in sent[0].headers
    assert sent[1].headers["if-none-match"] == '"v1"'
    assert [r.status for r in sent] == [200, 304]


# ---------------------------------------------------------------------------------------------- address guard
@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/file", "javascript:alert(1)", "gopher://x/", "data:,hi"]
)
def test_only_http_and_https_are_fetched(url: str, settings: Settings) -> None:
    with pytest.raises(FetchError, match="only http and https URLs can be fetched"):
        fetch_article(url, settings)


@pytest.mark.parametrize("url", ["http://xn--/", "http://\u2488.com/", "https://xn--a.com/"])
def test_a_host_name_that_is_not_valid_idna_is_a_one_line_error(url: str, settings: Settings) -> None:
    # Pasted links with broken punycode used to escape as a bare UnicodeError (IDNAError) from httpx.
    with pytest.raises(FetchError, match="not a valid URL"):
        fetch_article(url, settings)


def test_loopback_is_refused_unless_allowed(server: FakeWebServer, tmp_path: Path) -> None:
    server.route("/a", ARTICLE_HTML)
    strict = make_settings(tmp_path, allow_private_urls=False)

    for url in (server.url("/a"), server.url("/a", host="localhost"), f"http://2130706433:{server.port}/a"):
        with pytest.raises(FetchError, match="refusing to fetch a private or local address"):
            fetch(url, strict)
    assert server.hits("/a") == 0


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata service
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        (PUBLIC_IP, True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


class FakeNetwork:
    """Pretend DNS and routing: names resolve to chosen addresses; PUBLIC_IP is served by a loopback server."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, public_site: FakeWebServer) -> None:
        self.names: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.create_connection

        def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
            if host in self.names:
                self.lookups.append(host)
                answers = self.names[host]
                if not answers:
                    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
                address = answers.pop(0) if len(answers) > 1 else answers[0]
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
                return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]

        def create_connection(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
            if address[0] == PUBLIC_IP:
                address = ("127.0.0.1", public_site.port)
            return real_connect(address, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch, server: FakeWebServer) -> FakeNetwork:
    net = FakeNetwork(monkeypatch, server)
    net.names["public.example"] = [PUBLIC_IP]
    net.names["intranet.example"] = ["10.0.0.7"]
    return net


@pytest.fixture
def strict(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, allow_private_urls=False)


def test_a_public_host_is_fetched_with_its_own_host_header(
    server: FakeWebServer, network: FakeNetwork, strict: Settings
) -> None:
    # The control for the redirect tests below: with the guard on, a public name is fetched, redirects included.
    server.redirect("/start", server.url("/news/bridge.html", host="public.example"))
    server.route("/news/bridge.html", ARTICLE_HTML)

    article = fetch_article(server.url("/start", host="public.example"), strict)

    assert article.url == server.url("/news/bridge.html", host="public.example")
    assert server.requests_for("/news/bridge.html")[0].headers["host"] == f"public.example:{server.port}"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/secret",
        "http://localhost:{port}/secret",
        "http://intranet.example:{port}/secret",
        "http://[::ffff:127.0.0.1]:{port}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ],
)
def test_the_guard_holds_after_a_redirect(
    server: FakeWebServer, network: FakeNetwork, strict: Settings, target: str
) -> None:
    server.redirect("/start", target.format(port=server.port))
    server.route("/secret", "internal only")

    with pytest.raises(FetchError, match=r"refusing to fetch a private or local address|only http and https"):
        fetch(server.url("/start", host="public.example"), strict)

    assert server.hits("/start") == 1  # the public first hop was fetched ...
    assert server.hits("/secret") == 0  # ... the private second hop never was


def test_the_checked_address_is_the_one_connected_to(
    server: FakeWebServer, network: FakeNetwork, strict: Settings
) -> None:
    # DNS rebinding: the name answers a public address for the check, then 127.0.0.1. A fetch that resolved
    # again to connect would reach the internal server; the pinned fetch reaches the checked address.
    with FakeWebServer() as internal:
        internal.route("/page", "internal only")
        server.route("/page", ARTICLE_HTML)
        network.names["rebind.example"] = [PUBLIC_IP, "127.0.0.1"]

        result = fetch(internal.url("/page", host="rebind.example"), strict)

        assert internal.hits("/page") == 0
        assert server.hits("/page") == 1
        assert b"Harbour bridge" in result.content


def test_check_url_allowed_returns_the_addresses_it_approved(network: FakeNetwork) -> None:
    assert check_url_allowed("https://public.example/x", allow_private=False) == [PUBLIC_IP]
    with pytest.raises(FetchError, match=r"refusing to fetch a private or local address: intranet\.example$"):
        check_url_allowed("https://intranet.example/x", allow_private=False)
    assert check_url_allowed("https://intranet.example/x", allow_private=True) == ["10.0.0.7"]


def test_a_name_that_does_not_resolve_is_a_clear_error(network: FakeNetwork, settings: Settings) -> None:
    network.names["gone.example"] = []
    with pytest.raises(FetchError, match=r"^could not resolve host gone\.example: check the URL"):
        fetch("http://gone.example/", settings)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a test certificate")
def test_https_is_verified_against_the_host_name_not_the_pinned_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, strict: Settings
) -> None:
    # The pin connects to an IP address; SNI and certificate checks must still use the URL's host name.
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=public.example",
         "-addext", "subjectAltName=DNS:public.example", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server_names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)  # type: ignore[assignment]
    import certifi

    monkeypatch.setattr(certifi, "where", lambda: str(cert))  # trust only the test's own certificate
    with FakeWebServer(ssl_context=context) as tls:
        net = FakeNetwork(monkeypatch, tls)
        net.names["public.example"] = [PUBLIC_IP]
        net.names["other.example"] = [PUBLIC_IP]
        tls.route("/news/bridge.html", ARTICLE_HTML)

        article = fetch_article(tls.url("/news/bridge.html", host="public.example"), strict)
        with pytest.raises(FetchError, match="certificate verify failed"):
            fetch(tls.url("/news/bridge.html", host="other.example"), strict)

    assert article.url == f"https://public.example:{tls.port}/news/bridge.html"
    assert server_names[0] == "public.example"
    assert tls.requests_for("/news/bridge.html")[0].headers["host"] == f"public.example:{tls.port}"
