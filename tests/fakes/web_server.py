"""A small real HTTP server on 127.0.0.1 (port 0) for fetch and feed tests.

Routes are registered per test; the server counts and records every request (path, headers, status served),
answers conditional requests with 304 when a route has an ETag or Last-Modified, and can be slow, huge, redirect,
or wait for the test to open a gate; given an ``ssl.SSLContext`` it serves HTTPS. Use it as a context manager::

    with FakeWebServer() as server:
        server.route("/a", "<html>...</html>")
        fetch(server.url("/a"), settings)
        assert server.hits("/a") == 1
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass
class Route:
    """What one path answers."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds to wait before answering
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    gate: threading.Event | None = None  # set: answer; until then the request waits (the test decides when)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; header names are lower-cased."""

    path: str
    headers: dict[str, str]
    status: int


class FakeWebServer:
    """A threaded stdlib HTTP server with per-test routes; ``url(path)`` gives the address to fetch."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if ssl_context else "http"
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[RecordedRequest] = []
        self._httpd = _Server(("127.0.0.1", 0), _make_handler(self))
        if ssl_context is not None:
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-web-server", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> FakeWebServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving; slow handlers still sleeping are woken so nothing lingers."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """The absolute URL of ``path`` on this server (``host`` may be a name the test resolves)."""
        return f"{self.scheme}://{host}:{self.port}{path}"

    # ------------------------------------------------------------------ routes
    def route(
        self,
        path: str,
        body: str | bytes = b"",
        *,
        status: int = 200,
        content_type: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        delay: float = 0.0,
        send_length: bool = True,
        gate: threading.Event | None = None,
    ) -> None:
        """Serve ``body`` at ``path`` (replacing any earlier route there); with ``gate``, only once it is set."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._routes[path] = Route(
                status, data, content_type, dict(headers or {}), etag, last_modified, delay, send_length, gate
            )

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        """Answer ``path`` with a redirect to ``location`` (absolute or relative)."""
        self.route(path, b"", status=status, content_type=None, headers={"Location": location})

    # ------------------------------------------------------------------ what happened
    def hits(self, path: str) -> int:
        """How many requests arrived for ``path``."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """The requests for ``path``, oldest first."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # ------------------------------------------------------------------ internals
    def _answer(self, path: str, headers: dict[str, str]) -> tuple[Route | None, int]:
        with self._lock:
            route = self._routes.get(path)
            if route is None:
                status = 404
            elif _not_modified(route, headers):
                status = 304
            else:
                status = route.status
            self.requests.append(RecordedRequest(path, headers, status))
        return route, status


def _not_modified(route: Route, headers: dict[str, str]) -> bool:
    if route.status != 200:
        return False
    if route.etag and "if-none-match" in headers:
        tags = [t.strip() for t in headers["if-none-match"].split(",")]
        return route.etag in tags or "*" in tags
    if route.last_modified and "if-modified-since" in headers:
        return headers["if-modified-since"] == route.last_modified
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that give up (timeouts, size caps) close the socket mid-answer; that is expected here.
        pass


def _make_handler(server: FakeWebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeWebServer/1.0"

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            route, status = server._answer(self.path, headers)
            if route is not None and route.delay:
                server._stopping.wait(route.delay)
            while route is not None and route.gate is not None and not route.gate.wait(0.02):
                if server._stopping.is_set():
                    break
            if route is None:
                self._send(404, b"not found", "text/plain", {})
                return
            extra = dict(route.headers)
            if route.etag:
                extra["ETag"] = route.etag
            if route.last_modified:
                extra["Last-Modified"] = route.last_modified
            if status == 304:
                self._send(304, b"", None, extra)
                return
            self._send(status, route.body, route.content_type, extra, route.send_length)

        def _send(
            self, status: int, body: bytes, content_type: str | None, extra: dict[str, str], length: bool = True
        ) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in extra.items():
                self.send_header(name, value)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if status != 304 and body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


__all__ = ["FakeWebServer", "RecordedRequest", "Route"]
