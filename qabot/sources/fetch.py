"""Safe HTTP(S) fetching: one page or feed, size- and time-capped, never to a private or local address.

Every hop of a redirect chain goes through the same guard: the host is resolved, every address it resolves to
must be public (unless ``Settings.allow_private_urls``), and the connection is then made to that checked address
(the URL's host goes in the ``Host`` header and in TLS SNI, so virtual hosts and certificates still work). Pinning
the address closes the DNS-rebinding gap where a name resolves to a public address for the check and to
127.0.0.1 for the connection.

Blocking by design (httpx's sync client): the bot calls these functions in a worker thread.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, replace
from urllib.parse import urljoin

import httpx

from qabot import __version__
from qabot.config import Settings
from qabot.errors import FetchError, LoadError
from qabot.models import Article
from qabot.sources.html import extract_html, is_directory_listing, url_id

USER_AGENT = f"qabot/{__version__} (+https://github.com/qabot; news question answering bot)"
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# NAT64 (RFC 6052) embeds an IPv4 address in the low 32 bits; a private one there is still private.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchResult:
    """One completed fetch. ``not_modified`` means a conditional request got 304 and ``content`` is empty."""

    final_url: str
    status: int
    content: bytes
    content_type: str  # the Content-Type header as sent, e.g. "text/html; charset=utf-8"; "" when missing
    etag: str | None
    last_modified: str | None
    not_modified: bool = False

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased: ``"text/html"``."""
        return self.content_type.split(";", 1)[0].strip().lower()


def check_scheme(url: str) -> httpx.URL:
    """Parse ``url`` and refuse anything but absolute http(s) URLs."""
    try:
        parsed = httpx.URL(url.strip())
        host = parsed.host  # decoding the host can raise idna's UnicodeError for a malformed A-label ("xn--")
    except (httpx.InvalidURL, TypeError, UnicodeError) as err:
        raise FetchError(f"not a valid URL: {url!r} ({err})") from err
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be fetched: {url}")
    if not host:
        raise FetchError(f"the URL has no host name: {url}")
    return parsed


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is a globally routable unicast address (IPv4 embedded in IPv6 is checked as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return ip.is_global and not (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def check_url_allowed(url: str, allow_private: bool) -> list[str]:
    """Resolve the URL's host and return the addresses a fetch may connect to, in resolver order.

    Raises FetchError for non-http(s) URLs, unresolvable hosts, and, unless ``allow_private``, when any address
    the host resolves to is loopback, private, link-local, multicast, reserved or unspecified.
    """
    host, addresses = _resolve(check_scheme(url))
    if not allow_private:
        _refuse_private(host, addresses)
    if not addresses:
        raise FetchError(f"could not resolve host {host}: check the URL")
    return addresses


def check_not_private(url: str, allow_private: bool) -> None:
    """Raise the FetchError a fetch of ``url`` would give for its scheme or a private or local address.

    For subscribing to a feed: what every refresh would refuse is refused at once. A host that does not resolve
    right now passes (DNS may be down for a moment); each refresh resolves and checks it again.
    """
    parsed = check_scheme(url)
    if allow_private:
        return
    try:
        host, addresses = _resolve(parsed)
    except FetchError:
        return
    _refuse_private(host, addresses)


def _resolve(parsed: httpx.URL) -> tuple[str, list[str]]:
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise FetchError(f"could not resolve host {host}: check the URL ({err})") from err
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return host, addresses


def _refuse_private(host: str, addresses: list[str]) -> None:
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        # Refuse when ANY address is private: a resolver answer mixing both is exactly how SSRF is attempted.
        if ip is None or not is_public_address(ip):
            raise FetchError(f"refusing to fetch a private or local address: {host}")


def fetch(
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = DEFAULT_ACCEPT,
) -> FetchResult:
    """GET ``url`` following up to five redirects, each hop checked by :func:`check_url_allowed`.

    ``etag``/``last_modified`` make the request conditional; a 304 answer gives ``not_modified=True``.
    The whole fetch is limited to ``settings.fetch_timeout_seconds`` and ``settings.fetch_max_bytes`` of body.
    Raises FetchError with a one-line message for any failure or refusal.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + settings.fetch_timeout_seconds
    current = url.strip()
    # trust_env=False: a proxy taken from the environment would connect on its own and bypass the address pin.
    with httpx.Client(trust_env=False, follow_redirects=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            result, location = _fetch_hop(client, current, headers, settings, deadline)
            if result is not None:
                return result
            current = location
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS}) from {url}")


def _fetch_hop(
    client: httpx.Client, url: str, headers: dict[str, str], settings: Settings, deadline: float
) -> tuple[FetchResult | None, str]:
    """One request: a final result, or ``(None, next_url)`` for a redirect."""
    addresses = check_url_allowed(url, settings.allow_private_urls)
    parsed = httpx.URL(url)
    last_error: httpx.TransportError | None = None
    for address in addresses:
        try:
            return _request_pinned(client, parsed, address, headers, settings, deadline)
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:
            last_error = err  # try the host's next address, as a browser would
        except httpx.TimeoutException as err:
            raise _timeout(settings, url) from err
        except httpx.HTTPError as err:
            raise FetchError(f"fetch failed for {url}: {_one_line(err)}") from err
    if isinstance(last_error, httpx.ConnectTimeout):
        raise _timeout(settings, url) from last_error
    raise FetchError(f"could not connect to {parsed.host}: {_one_line(last_error)}") from last_error


def _request_pinned(
    client: httpx.Client,
    parsed: httpx.URL,
    address: str,
    headers: dict[str, str],
    settings: Settings,
    deadline: float,
) -> tuple[FetchResult | None, str]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _timeout(settings, str(parsed))
    host = parsed.raw_host.decode("ascii")
    extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
    request = client.build_request(
        "GET",
        parsed.copy_with(host=address),
        headers={**headers, "Host": parsed.netloc.decode("ascii")},
        extensions=extensions,
        timeout=httpx.Timeout(remaining),
    )
    url = str(parsed)
    response = client.send(request, stream=True)
    try:
        status = response.status_code
        if status in _REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise FetchError(f"HTTP {status} redirect without a Location header from {url}")
            return None, urljoin(url, location.strip())
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        content_type = response.headers.get("content-type", "")
        if status == 304:
            return FetchResult(url, status, b"", content_type, etag, last_modified, not_modified=True), ""
        if status >= 400 or status < 200:
            raise FetchError(f"HTTP {status} from {url}")
        content = _read_capped(response, settings, deadline, url)
        return FetchResult(url, status, content, content_type, etag, last_modified), ""
    finally:
        response.close()


def _read_capped(response: httpx.Response, settings: Settings, deadline: float, url: str) -> bytes:
    limit = settings.fetch_max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(f"page is larger than {limit} bytes: {url}")
    body = bytearray()
    # iter_bytes decodes gzip/deflate, so the cap holds for the decompressed size too.
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > limit:
            raise FetchError(f"page is larger than {limit} bytes: {url}")
        # httpx times each read; this bounds the whole body against a server trickling bytes.
        if time.monotonic() > deadline:
            raise _timeout(settings, url)
    return bytes(body)


def fetch_article(url: str, settings: Settings) -> Article:
    """Fetch an HTML page and extract its article; ``url`` and ``id`` come from the final URL after redirects.

    Raises FetchError when the page cannot be fetched, is not HTML, is a server's folder listing, or has no
    article text.
    """
    result = fetch(url, settings, accept=HTML_ACCEPT)
    if result.media_type not in HTML_TYPES:
        raise FetchError(f"not an HTML page (content type {result.media_type or 'missing'}): {result.final_url}")
    if is_directory_listing(result.content):
        raise FetchError(f"{result.final_url} is a directory listing, not an article")
    article_id = url_id(result.final_url)
    try:
        article = extract_html(result.content, url=result.final_url, id=article_id)
    except FetchError:
        raise
    except LoadError as err:
        raise FetchError(f"{result.final_url}: {err}") from err
    return replace(article, id=article_id, url=result.final_url)


def _timeout(settings: Settings, url: str) -> FetchError:
    return FetchError(f"timed out after {settings.fetch_timeout_seconds:g}s: {url}")


def _one_line(err: BaseException | None) -> str:
    text = " ".join(str(err).split()) if err is not None else ""
    return text or type(err).__name__


__all__ = [
    "HTML_TYPES",
    "USER_AGENT",
    "FetchResult",
    "check_not_private",
    "check_scheme",
    "check_url_allowed",
    "fetch",
    "fetch_article",
    "is_public_address",
]
