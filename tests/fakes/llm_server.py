"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 (a free port), in a thread, with scripted replies.

``FakeLlm().script(...)`` queues what the next requests get, in order; once the queue is empty every request gets
``default`` (a faithful restatement of quote 1). A reply is a text, or a function of the numbered quotes the
request carried (so a test can echo the quotes qabot chose without knowing them in advance), or a status, raw bytes
or a delay. Every request is recorded, so a test can say the LLM was never asked.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_NUMBERED = re.compile(r"^\[(\d+)\] (.*)$", re.M)


@dataclass(frozen=True)
class Scripted:
    """One reply: ``content`` (text, or a function of the quotes) in a chat completion, unless ``body`` is given."""

    content: str | Callable[[list[str]], str] = ""
    status: int = 200
    body: bytes | None = None  # sent as is (garbage, a wrong shape) instead of a chat completion
    delay: float = 0.0  # seconds before anything is sent


@dataclass(frozen=True)
class Request:
    """What one request carried."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def user_message(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")

    @property
    def quotes(self) -> list[str]:
        """The numbered quotes of the prompt, in order."""
        return [text for _, text in _NUMBERED.findall(self.user_message)]


@dataclass
class FakeLlm:
    """``with FakeLlm() as llm: ...``; ``llm.url`` is the ``/v1`` root to put in ``QABOT_LLM_URL``."""

    default: Scripted = field(default_factory=lambda: Scripted(faithful))
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: list[Scripted] = []
        self._routes: list[tuple[str, Scripted]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "use the fake as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Scripted | str) -> None:
        """Queue replies for the next requests (a plain string is a faithful-looking text reply)."""
        with self._lock:
            self._queue.extend(r if isinstance(r, Scripted) else Scripted(r) for r in replies)

    def route(self, contains: str, reply: Scripted) -> None:
        """Every request whose question or quotes contain ``contains`` gets ``reply``, whatever the queue holds
        (for concurrent requests, whose order of arrival is a race)."""
        with self._lock:
            self._routes.append((contains, reply))

    def _next(self, request: Request) -> Scripted:
        with self._lock:
            for contains, reply in self._routes:
                if contains in request.user_message:
                    return reply
            return self._queue.pop(0) if self._queue else self.default

    def __enter__(self) -> FakeLlm:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the http.server API names it so
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(request)
                reply = fake._next(request)
                if reply.delay and fake._closing.wait(reply.delay):
                    return
                if reply.body is not None:
                    payload = reply.body
                else:
                    content = reply.content(request.quotes) if callable(reply.content) else reply.content
                    payload = json.dumps(completion(content, body.get("model", ""))).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: that is what a slow reply tests

            def log_message(self, format: str, *args: object) -> None:
                pass  # the test output is no place for an access log

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def completion(content: str, model: str = "") -> dict[str, Any]:
    """A chat-completions response as OpenAI-compatible servers send it."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": model or "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }


# ------------------------------------------------------------------------------- replies built from the quotes
def first_clause(quote: str, words: int = 16) -> str:
    """The first ``words`` words of a quote's first sentence, without closing punctuation: what a summary restates."""
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z])", quote.strip())[0]
    return " ".join(sentence.split()[:words]).rstrip('.,;:!?"”’')


def faithful(quotes: list[str]) -> str:
    """One sentence restating quote 1 and citing it."""
    return f"{first_clause(quotes[0])} [1]."


def with_changed_figure(quotes: list[str]) -> str:
    """Quote 1 restated with its first number changed (87 becomes 88): an invented number."""
    text = first_clause(quotes[0], 30)
    return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), text, count=1) + " [1]."


def citing_missing_quote(quotes: list[str]) -> str:
    """A faithful sentence citing one quote more than there are."""
    return f"{first_clause(quotes[0])} [{len(quotes) + 1}]."


def with_invented_name(quotes: list[str]) -> str:
    """Quote 1 restated, attributed to someone no quote names."""
    return f"{first_clause(quotes[0])}, according to Bartholomew Quince [1]."


__all__ = [
    "FakeLlm",
    "Request",
    "Scripted",
    "citing_missing_quote",
    "completion",
    "faithful",
    "first_clause",
    "with_changed_figure",
    "with_invented_name",
]
