"""An optional summary from the user's own LLM server, every sentence checked against the quotes it cites.

Off unless ``QABOT_LLM_URL`` names an OpenAI-compatible chat-completions endpoint (llama.cpp's server, Ollama, vLLM,
a hosted API); no model ships with qabot. The LLM sees the question and the quotes already chosen, numbered, and
nothing else; it is asked for one or two sentences, each ending in ``[n]`` markers. ``check_reply`` then keeps a
sentence only when

- every ``[n]`` names one of the quotes;
- every number, month and name in it is in the quotes it cites (after normalising "per cent"/"%", thousands
  separators, "bn"/"billion", month names and their abbreviations);
- most of its content words are in those quotes.

The quotes themselves are never changed. Every failure of the server (a refused connection, a timeout, a 5xx,
malformed JSON, an empty reply) gives the plain quoted answer and one log line, never an error.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from qabot.claimcheck import NOT_ANSWERED, check_reply, is_refusal
from qabot.config import Settings
from qabot.errors import ConfigError
from qabot.models import Answer

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = 256_000
MAX_TOKENS = 160

SYSTEM_PROMPT = (
    "You answer a question about the news from numbered quotes, and only from them. Write one or two short "
    "sentences. End every sentence with the numbers of the quotes it relies on, like [1] or [1][2]. Copy names, "
    "numbers and dates exactly as the quotes give them, and add nothing the quotes do not say. If the quotes do not "
    f"answer the question, reply only: {NOT_ANSWERED}"
)


class LlmFailed(Exception):
    """The LLM server gave no usable reply (the message says why, in a few words; never the key)."""


# ---------------------------------------------------------------------------------------------- the client
def endpoint(url: str) -> str:
    """The chat-completions URL from what the user set: a server root, its ``/v1``, or the full endpoint."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("QABOT_LLM_URL is not an http(s) URL: set it like http://127.0.0.1:8080/v1")
    if url.endswith("/chat/completions"):
        return url
    return url + ("/chat/completions" if url.endswith("/v1") else "/v1/chat/completions")


class ChatClient:
    """One POST to an OpenAI-compatible chat-completions endpoint per call, with a deadline for the whole reply."""

    def __init__(self, url: str, *, model: str = "", api_key: str = "", timeout: float = 10.0) -> None:
        self.url = endpoint(url)
        self.model = model
        self.timeout = timeout
        self._key = api_key  # sent as a header only: never in the URL, a log line or an error message

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The reply's text; raises LlmFailed for anything but a non-empty reply within the timeout."""
        import httpx  # only when a summary is asked for: plain answers never load the HTTP client

        body: dict[str, object] = {"messages": messages, "temperature": 0, "max_tokens": MAX_TOKENS, "stream": False}
        if self.model:
            body["model"] = self.model
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        deadline = time.monotonic() + self.timeout
        data = bytearray()
        try:
            # A fresh client per call: thread-safe by construction, and an LLM reply takes far longer than a connect.
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False) as http,
                http.stream("POST", self.url, json=body, headers=headers) as reply,
            ):
                if reply.status_code != 200:
                    raise LlmFailed(f"HTTP {reply.status_code}")
                # httpx's timeout is per read: a server trickling bytes would never trip it, the deadline does.
                for chunk in reply.iter_bytes():
                    data += chunk
                    if time.monotonic() > deadline:
                        raise LlmFailed(f"no complete reply within {self.timeout:g} s")
                    if len(data) > MAX_REPLY_BYTES:
                        raise LlmFailed("reply too large")
        except httpx.TimeoutException:
            raise LlmFailed(f"no reply within {self.timeout:g} s") from None
        except httpx.HTTPError as err:
            raise LlmFailed(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no details'}") from None
        return reply_text(bytes(data))


def reply_text(data: bytes) -> str:
    """``choices[0].message.content`` of a chat-completions response; LlmFailed when missing or empty."""
    try:
        content = json.loads(data)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LlmFailed("malformed JSON reply") from None
    if not isinstance(content, str):
        raise LlmFailed("malformed JSON reply")
    if not content.strip():
        raise LlmFailed("empty reply")
    return content.strip()


def prompt(question: str, quotes: Sequence[str]) -> list[dict[str, str]]:
    """The messages sent: the instructions, then the question and the numbered quotes, nothing else."""
    numbered = "\n".join(f"[{i}] {' '.join(q.split())}" for i, q in enumerate(quotes, 1))
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Question: {question}\n\nQuotes:\n{numbered}"},
    ]


# ---------------------------------------------------------------------------------------------- the stage
class Synthesizer:
    """Adds a checked summary to answers; never raises for anything the LLM server does."""

    def __init__(self, client: ChatClient, *, decline_on_refusal: bool = False) -> None:
        self.client = client
        self.decline_on_refusal = decline_on_refusal

    @classmethod
    def from_settings(cls, settings: Settings) -> Synthesizer | None:
        """A synthesizer for ``QABOT_LLM_URL``, or None when it is not set (ConfigError for a URL that is no URL)."""
        if not settings.llm_url.strip():
            return None
        key = settings.llm_api_key.get_secret_value().strip() if settings.llm_api_key else ""
        client = ChatClient(
            settings.llm_url, model=settings.llm_model, api_key=key, timeout=settings.llm_timeout_seconds
        )
        return cls(client, decline_on_refusal=settings.llm_decline_on_refusal)

    def add_to(self, answer: Answer, *, decline_text: str) -> Answer:
        """``answer`` with its summary; unchanged when qabot declined (the LLM is never asked) or the LLM failed."""
        if answer.abstained or not answer.quotes:
            return answer
        t0 = time.perf_counter()
        quotes = [q.text for q in answer.quotes]
        try:
            reply = self.client.complete(prompt(answer.question, quotes))
            timings = {**answer.timings_ms, "synthesis": (time.perf_counter() - t0) * 1000}
            if is_refusal(reply):
                if self.decline_on_refusal:
                    log.info("LLM says the quotes don't answer: declining (QABOT_LLM_DECLINE_ON_REFUSAL)")
                    declined = replace(answer, abstained=True, answer=decline_text, quotes=(), more=(), note=None)
                    return replace(declined, mode="answer", timings_ms=timings)  # as qabot's own declines read
                log.info("LLM says the quotes don't answer: showing them without a summary")
                return replace(answer, timings_ms=timings)
            synthesis = check_reply(reply, quotes)
        except LlmFailed as err:
            log.warning("LLM summary skipped: %s", err)
            return answer
        except Exception as err:  # a summary is optional: nothing in it may cost the user the answer
            log.warning(
                "LLM summary skipped: unexpected %s", type(err).__name__, exc_info=log.isEnabledFor(logging.DEBUG)
            )
            return answer
        if synthesis.dropped:
            log.info("LLM summary: dropped %s", "; ".join(d.why for d in synthesis.dropped))
        return replace(answer, synthesis=synthesis, timings_ms=timings)


__all__ = [
    "NOT_ANSWERED",
    "ChatClient",
    "LlmFailed",
    "Synthesizer",
    "check_reply",
    "endpoint",
    "prompt",
    "reply_text",
]
