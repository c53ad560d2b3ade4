"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of a real python-telegram-bot Application.

Standard library only (asyncio streams), so it runs in the test's own event loop next to the bot. It speaks the
wire format PTB 22.8 uses: form-urlencoded bodies whose non-string values are JSON, ``{"ok": …}`` answers with the
HTTP status PTB maps to its exceptions. It is stricter than Telegram on purpose where that catches bugs: HTML is
checked like Telegram's parser (allowed tags only, balanced, escaped ``<``/``>``/``&``), messages over 4096
visible characters (UTF-16 units) are refused (the message an inline result would post too), an inline query is
answered once, a chat the bot left refuses its messages (403), and unknown methods answer 404 (PTB raises
``EndPointNotFound``), so unexpected calls are loud.

Test-side helpers build updates as Telegram would (entities for commands and @mentions in UTF-16 offsets, inline
queries, the bot added to or removed from a chat), queue
them for ``getUpdates`` or push them to a webhook, inject failures (:meth:`FakeBotApi.fail_next` for HTTP errors,
:meth:`~FakeBotApi.drop_next` for a connection closed without an answer, :meth:`~FakeBotApi.stall_next` for an API
that stops answering, :meth:`~FakeBotApi.refuse_chat` for a chat that refuses every message, e.g. a user who
blocked the bot or HTML that Telegram will not parse) and wait for calls with :meth:`FakeBotApi.wait_for_call` —
event-driven, no sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

MAX_TEXT = 4096

# Parameters that are strings on the wire even when they look like JSON ("1", "true", "123").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "action",
        "url",
        "secret_token",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "file_id",
        "language_code",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
    }
)

_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d+)|#[xX]([0-9a-fA-F]+));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "pre"})
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}")


class HtmlError(ValueError):
    """Telegram would refuse this text with 400 ``Bad Request: can't parse entities: …``."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, Telegram's unit for lengths and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def check_html(text: str) -> str:
    """Parse Telegram HTML like the Bot API does and return the visible text; raise :class:`HtmlError` if refused."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "<":
            match = _TAG.match(text, pos)
            if not match:
                raise HtmlError(f'Unsupported start tag "" at byte offset {_byte_offset(text, pos)}')
            closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
            if closing:
                if not stack:
                    raise HtmlError(f"Unexpected end tag at byte offset {_byte_offset(text, pos)}")
                if stack[-1] != name:
                    raise HtmlError(
                        f"Unmatched end tag at byte offset {_byte_offset(text, pos)}, "
                        f'expected "</{stack[-1]}>", found "</{name}>"'
                    )
                stack.pop()
            else:
                _check_start_tag(name, _parse_attrs(attrs), stack, _byte_offset(text, pos))
                stack.append(name)
            pos = match.end()
        elif ch == "&":
            match = _ENTITY.match(text, pos)
            if not match:
                raise HtmlError(f"Unescaped '&' at byte offset {_byte_offset(text, pos)}: use &amp;")
            named, dec, hexa = match.groups()
            out.append(_NAMED[named] if named else chr(int(dec) if dec else int(hexa, 16)))
            pos = match.end()
        elif ch == ">":
            # Telegram tolerates some bare '>'; refusing it keeps the bot honest about escaping.
            raise HtmlError(f"Unescaped '>' at byte offset {_byte_offset(text, pos)}: use &gt;")
        else:
            out.append(ch)
            pos += 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


def _parse_attrs(raw: str) -> dict[str, str | None]:
    attrs: dict[str, str | None] = {}
    for m in _ATTR.finditer(raw):
        value = next((v for v in m.groups()[1:] if v is not None), None)
        if value is not None:
            if "<" in value or (("&" in value) and not _ENTITY.search(value)):
                raise HtmlError(f'Bad attribute value in tag "{m.group(1)}"')
            value = html.unescape(value)
        attrs[m.group(1).lower()] = value
    return attrs


def _check_start_tag(name: str, attrs: dict[str, str | None], stack: list[str], offset: int) -> None:
    if name in _SIMPLE_TAGS:
        ok = not attrs
    elif name == "span":
        ok = attrs == {"class": "tg-spoiler"}
    elif name == "a":
        ok = set(attrs) == {"href"} and bool(attrs["href"]) and "a" not in stack
    elif name == "code":
        ok = not attrs or (set(attrs) == {"class"} and stack[-1:] == ["pre"])
    elif name == "blockquote":
        ok = set(attrs) <= {"expandable"} and attrs.get("expandable") is None and "blockquote" not in stack
    elif name == "tg-emoji":
        ok = set(attrs) == {"emoji-id"}
    elif name == "tg-time":
        ok = "unix" in attrs and set(attrs) <= {"unix", "format"}
    else:
        raise HtmlError(f'Unsupported start tag "{name}" at byte offset {offset}')
    if not ok:
        raise HtmlError(f'Bad start tag "{name}" at byte offset {offset}')


def text_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram would attach: a leading ``/command[@bot]`` and every ``@username``, in UTF-16 offsets."""
    entities: list[dict[str, Any]] = []
    command = _COMMAND.match(text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))})
    for m in _MENTION.finditer(text):
        if command and m.start() < command.end():
            continue
        entities.append({"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))})
    return entities


def user(
    user_id: int,
    first_name: str = "Ann",
    username: str | None = None,
    *,
    is_bot: bool = False,
    language_code: str | None = None,
) -> dict:
    """A Telegram ``User`` dict (``language_code``: the user's app language, an IETF tag such as "de" or "es-MX")."""
    data: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if username:
        data["username"] = username
    if language_code:
        data["language_code"] = language_code
    return data


def private_chat(of_user: dict) -> dict:
    """The private chat with a user."""
    return {"id": of_user["id"], "type": "private", "first_name": of_user["first_name"]}


def group_chat(chat_id: int, title: str = "News fans", *, supergroup: bool = True, forum: bool = False) -> dict:
    """A group or supergroup ``Chat`` dict (ids are negative, as on Telegram)."""
    data: dict[str, Any] = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
    if forum:
        data["is_forum"] = True
    return data


@dataclass
class Call:
    """One request the bot made: its method, decoded parameters, and what the fake answered."""

    method: str
    params: dict[str, Any]
    raw: dict[str, str]
    status: int = 200
    result: Any = None
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Failure:
    code: int
    description: str
    parameters: dict[str, Any]
    kind: str = "error"  # "error": answer with code; "drop": close without answering; "stall": answer 504 late
    delay: float = 0.0


@dataclass
class _ChatRefusal:
    code: int
    description: str
    html_only: bool


# What Telegram answers a message to a user who blocked the bot, and to HTML it cannot parse.
BLOCKED = (403, "Forbidden: bot was blocked by the user")
UNPARSABLE = (400, 'Bad Request: can\'t parse entities: unsupported start tag "x" at byte offset 0')
_TO_A_CHAT = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendChatAction"})


class _DropError(Exception):
    """Close the connection without an answer."""


class FakeBotApi:
    """The fake server; ``async with FakeBotApi() as fake:`` starts it on 127.0.0.1 with a free port."""

    def __init__(self, *, token: str = "123456:TEST-fake-token", username: str = "QA_Test_Bot") -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.webhook: dict[str, Any] = {}
        self.inline_queries: dict[str, dict] = {}  # id → the inline query, until answered (each is answered once)
        self.left_chats: set[int] = set()  # chats the bot left: sending there is refused, as Telegram does
        self._updates: list[dict] = []
        self.last_update_id = 0  # the newest update queued for getUpdates
        self._confirmed_offset = 0
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._failures: dict[str, list[_Failure]] = {}
        self._refusing: dict[int, _ChatRefusal] = {}
        self._changed: asyncio.Condition | None = None
        self._server: asyncio.Server | None = None
        self._conn_tasks: set[asyncio.Task] = set()
        self._notify_tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closing = False
        self.port = 0
        # The fake's own bugs (an exception in a handler): answered 500, remembered here, and raised at exit.
        self.server_errors: list[str] = []

    # ---- lifecycle

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        if self.server_errors and exc[0] is None:  # never mask the test's own failure
            raise AssertionError("the fake Bot API failed in its own code:\n" + "\n".join(self.server_errors))

    async def start(self) -> None:
        """Listen on 127.0.0.1 with a port the OS picks."""
        self._changed = asyncio.Condition()
        self._server = await asyncio.start_server(self._on_connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the server and any open connections (including parked long polls)."""
        if self._server is None:
            return
        self._server.close()
        # Wake parked long polls and close sockets so every connection task ends by itself: cancelling them would
        # make asyncio log the CancelledError from its stream callback.
        self._closing = True
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()
        for writer in list(self._writers):
            writer.close()
        pending = self._conn_tasks | self._notify_tasks
        if pending:
            await asyncio.wait(pending, timeout=5)
        await self._server.wait_closed()
        self._server = None

    @property
    def base_url(self) -> str:
        """The Bot API root to give PTB's ``base_url`` (the token is appended to it)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def root_url(self) -> str:
        """The server root, as a self-hosted Bot API server would be configured."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot_user(self) -> dict:
        """The bot's own ``User`` dict, as ``getMe`` returns it."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "QA bot",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # ---- test-side: updates in

    def push_update(self, update: dict) -> int:
        """Queue an update for ``getUpdates``; assigns and returns its ``update_id``."""
        update = {"update_id": next(self._update_ids), **update}
        self.last_update_id = update["update_id"]
        self._updates.append(update)
        self._remember(update)
        self._notify()
        return update["update_id"]

    def message(
        self,
        chat: dict,
        sender: dict | None,
        text: str,
        *,
        reply_to: dict | None = None,
        thread_id: int | None = None,
        entities: list[dict] | None = None,
        sender_chat: dict | None = None,
    ) -> dict:
        """A ``Message`` dict with the entities Telegram would attach (commands, @mentions)."""
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "text": text,
        }
        if sender is not None:
            msg["from"] = sender
        if sender_chat is not None:
            msg["sender_chat"] = sender_chat
        ents = text_entities(text) if entities is None else entities
        if ents:
            msg["entities"] = ents
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                msg["is_topic_message"] = True
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        return msg

    def send_text(self, chat: dict, sender: dict | None, text: str, **kwargs: Any) -> dict:
        """A user writes ``text`` in ``chat``; returns the message (the update is queued)."""
        msg = self.message(chat, sender, text, **kwargs)
        self.push_update({"message": msg})
        return msg

    def edit_text(self, original: dict, text: str) -> dict:
        """The user edits an earlier message (an ``edited_message`` update)."""
        msg = {**original, "text": text, "edit_date": int(time.time())}
        ents = text_entities(text)
        msg.pop("entities", None)
        if ents:
            msg["entities"] = ents
        self.push_update({"edited_message": msg})
        return msg

    def channel_post(self, channel: dict, text: str) -> dict:
        """A post in a channel the bot belongs to (no ``from``; ``sender_chat`` is the channel)."""
        msg = self.message(channel, None, text, sender_chat=channel)
        self.push_update({"channel_post": msg})
        return msg

    def press_button(self, message: dict, presser: dict, data: str) -> int:
        """A user presses an inline button under ``message`` (a message the bot sent), as it is now (edited or not)."""
        return self.push_update(self.press_button_update(message, presser, data))

    def press_button_update(self, message: dict, presser: dict, data: str) -> dict:
        """The update of a button press, not queued (for :meth:`push_webhook`)."""
        message = self.messages.get((message["chat"]["id"], message["message_id"]), message)
        query = {
            "id": str(next(self._message_ids)),
            "from": presser,
            "chat_instance": f"ci{message['chat']['id']}",
            "data": data,
            "message": message,
        }
        return {"callback_query": query}

    def inline_query(self, sender: dict, query: str, *, chat_type: str = "private") -> str:
        """A user types ``@bot query`` in a chat of ``chat_type``; returns the query's id (``inline_query_id``)."""
        update = self.inline_query_update(sender, query, chat_type=chat_type)
        self.push_update(update)
        return str(update["inline_query"]["id"])

    def inline_query_update(self, sender: dict, query: str, *, chat_type: str = "private") -> dict:
        """The update of an inline query, not queued (for :meth:`push_webhook`); it may be answered once."""
        query_id = str(next(self._message_ids))
        inline = {"id": query_id, "from": sender, "query": query, "offset": "", "chat_type": chat_type}
        self.inline_queries[query_id] = inline
        return {"inline_query": inline}

    def bot_member_update(self, chat: dict, by: dict, old: str, new: str) -> int:
        """Someone changed the bot's membership of ``chat`` (a ``my_chat_member`` update), e.g. ``"left"`` →
        ``"member"`` when they add it to a group, ``"member"`` → ``"left"`` when they remove it."""
        update = {
            "chat": chat,
            "from": by,
            "date": int(time.time()),
            "old_chat_member": self._bot_as_member(old),
            "new_chat_member": self._bot_as_member(new),
        }
        if chat["id"] in self.left_chats and new in ("member", "administrator"):
            self.left_chats.discard(chat["id"])
        return self.push_update({"my_chat_member": update})

    def _bot_as_member(self, status: str) -> dict:
        member: dict[str, Any] = {"user": self.bot_user, "status": status}
        if status == "kicked":
            member["until_date"] = 0  # banned for good
        if status == "administrator":  # the rights an administrator's ChatMember always lists
            rights = (
                "can_be_edited is_anonymous can_manage_chat can_delete_messages can_manage_video_chats "
                "can_restrict_members can_promote_members can_change_info can_invite_users can_post_stories "
                "can_edit_stories can_delete_stories"
            )
            member |= {right: right == "can_manage_chat" for right in rights.split()}
        return member

    def send_document(self, chat: dict, sender: dict, data: bytes, file_name: str, mime_type: str) -> dict:
        """A user sends a file; ``getFile`` and the file download then serve ``data``."""
        file_id = f"file{next(self._message_ids)}"
        self.files[file_id] = (f"documents/{file_name}", data)
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": len(data),
            },
        }
        self.push_update({"message": msg})
        return msg

    async def push_webhook(self, update: dict, *, secret: str | None = None, url: str | None = None) -> int:
        """POST an update to the webhook the bot registered; returns the HTTP status it answered."""
        update = {"update_id": next(self._update_ids), **update}
        self._remember(update)
        target = url or self.webhook["url"]
        token = self.webhook.get("secret_token") if secret is None else secret
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.post(target, content=json.dumps(update), headers=headers)
        return response.status_code

    # ---- test-side: failures and waiting

    def fail_next(self, method: str, code: int, description: str, *, times: int = 1, **parameters: Any) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``code`` (e.g. 429 with ``retry_after=1``).

        A failed call is not carried out (no message is sent), as when Telegram refuses it.
        """
        for _ in range(times):
            self._failures.setdefault(method, []).append(_Failure(code, description, parameters))

    def refuse_chat(self, chat_id: int, code: int, description: str, *, html_only: bool = False) -> None:
        """Refuse every message to ``chat_id`` from now on (sends, edits, chat actions) with ``code``.

        ``refuse_chat(id, *BLOCKED)`` is a user who blocked the bot; ``refuse_chat(id, *UNPARSABLE, html_only=True)``
        refuses only HTML, so the same text sent plainly goes through.
        """
        self._refusing[chat_id] = _ChatRefusal(code, description, html_only)

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """Close the connection of the next ``times`` calls of ``method`` without answering (nothing carried out)."""
        for _ in range(times):
            self._failures.setdefault(method, []).append(_Failure(0, "connection dropped", {}, kind="drop"))

    def stall_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds``, then answer 504 (nothing carried out).

        Longer than the client's read timeout, this is a Bot API that stopped answering: the client times out.
        """
        for _ in range(times):
            self._failures.setdefault(method, []).append(
                _Failure(504, "Gateway Timeout", {}, kind="stall", delay=seconds)
            )

    def forget(self) -> None:
        """Drop the recorded calls and messages (a long load test keeps the fake's memory flat between rounds)."""
        self.calls.clear()
        self.messages.clear()

    def calls_of(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Recorded calls of one method; ``ok=True`` keeps only those that succeeded."""
        return [c for c in self.calls if c.method == method and (ok is None or (c.error is None) == ok)]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Successful ``sendMessage`` calls, optionally in one chat."""
        return [c for c in self.calls_of("sendMessage", ok=True) if chat_id is None or c.params["chat_id"] == chat_id]

    async def wait_for_call(
        self, method: str, nth: int = 1, within: float = 30.0, *, ok: bool | None = True, **match: Any
    ) -> Call:
        """Wait until the ``nth`` call of ``method`` (whose params include ``match``) has been answered."""

        def found() -> Call | None:
            hits = [c for c in self.calls_of(method, ok=ok) if all(c.params.get(k) == v for k, v in match.items())]
            return hits[nth - 1] if len(hits) >= nth else None

        return await self._wait(found, within, f"{method} #{nth} {match or ''}")

    async def wait_consumed(self, update_id: int, within: float = 30.0) -> None:
        """Wait until the bot confirmed ``update_id`` (a ``getUpdates`` with a larger offset)."""
        await self._wait(lambda: self._confirmed_offset > update_id or None, within, f"offset > {update_id}")

    async def _wait(self, probe: Any, within: float, what: str) -> Any:
        assert self._changed is not None, "start() the fake first"
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(probe), within)
            except TimeoutError:
                raise AssertionError(f"fake Bot API: gave up waiting for {what}") from None

    async def _stall(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the server is stopping."""
        assert self._changed is not None
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self._closing), seconds)

    def _notify(self) -> None:
        if self._changed is None:
            return

        async def notify() -> None:
            assert self._changed is not None
            async with self._changed:
                self._changed.notify_all()

        # Called from sync code in the loop's thread; the notification runs as soon as the test awaits.
        task = asyncio.get_running_loop().create_task(notify())
        self._notify_tasks.add(task)
        task.add_done_callback(self._notify_tasks.discard)

    def _remember(self, update: dict) -> None:
        for key in ("message", "edited_message", "channel_post"):
            msg = update.get(key)
            if msg:
                self.messages[(msg["chat"]["id"], msg["message_id"])] = msg

    # ---- HTTP

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conn_tasks.add(task)
        self._writers.add(writer)
        try:
            while not self._closing and await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # the client dropped the connection (e.g. a cancelled long poll): nothing is lost
        finally:
            self._conn_tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        verb, target, _version = request_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        try:
            status, content_type, payload = await self._route(verb, unquote(urlsplit(target).path), headers, body)
        except _DropError:
            return False  # the caller closes the connection: the client sees it drop without an answer
        except Exception as err:  # a bug in the fake, not the client's doing: answer 500 and fail the test at exit
            self.server_errors.append(f"{verb} {target}: {''.join(traceback.format_exception(err)).rstrip()}")
            status, content_type, payload = _json(500, {"ok": False, "error_code": 500, "description": repr(err)})
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + payload)
        await writer.drain()
        return headers.get("connection", "").lower() != "close"

    async def _route(self, verb: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        file_prefix = f"/file/bot{self.token}/"
        if verb == "GET" and path.startswith(file_prefix):
            wanted = path[len(file_prefix) :]
            for file_path, data in self.files.values():
                if file_path == wanted:
                    return 200, "application/octet-stream", data
            return 404, "text/plain", b"Not Found"
        prefix, _, method = path.rpartition("/")
        if prefix != f"/bot{self.token}":
            return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        if "multipart/form-data" in headers.get("content-type", ""):
            return _json(400, {"ok": False, "error_code": 400, "description": "Bad Request: multipart not faked"})
        raw = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        call = Call(method=method, params=_decode(raw), raw=raw, headers=headers)
        failures = self._failures.get(method)
        recorded = False
        refusal = self._refusal(call)
        if refusal is not None:
            call.status, call.error = refusal.code, refusal.description
            answer = {"ok": False, "error_code": refusal.code, "description": refusal.description}
        elif failures:
            failure = failures.pop(0)
            call.status, call.error = failure.code, failure.description
            if failure.kind in ("drop", "stall"):  # recorded on arrival: the client may give up before the end
                self.calls.append(call)
                self._notify()
                recorded = True
            if failure.kind == "drop":
                raise _DropError
            if failure.kind == "stall":
                await self._stall(failure.delay)
            answer: dict[str, Any] = {"ok": False, "error_code": failure.code, "description": failure.description}
            if failure.parameters:
                answer["parameters"] = failure.parameters
        else:
            answer = await self._answer(call)
        if not recorded:
            self.calls.append(call)
            self._notify()
        return _json(call.status, answer)

    def _refusal(self, call: Call) -> _ChatRefusal | None:
        refusal = self._refusing.get(call.params.get("chat_id"))  # type: ignore[arg-type]
        if refusal is None or call.method not in _TO_A_CHAT:
            return None
        carries_html = call.method in ("sendMessage", "editMessageText") and bool(call.params.get("parse_mode"))
        return None if refusal.html_only and not carries_html else refusal

    async def _answer(self, call: Call) -> dict[str, Any]:
        name = self._METHODS.get(call.method)
        handler = getattr(self, name) if name else None
        if handler is None:
            call.status, call.error = 404, "Not Found"
            return {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            result = await handler(call.params)
        except _ApiError as err:
            call.status, call.error = err.code, err.description
            return {"ok": False, "error_code": err.code, "description": err.description}
        call.result = result
        return {"ok": True, "result": result}

    # ---- Bot API methods

    _METHODS: ClassVar[dict[str, str]] = {
        "getMe": "_get_me",
        "deleteWebhook": "_delete_webhook",
        "setWebhook": "_set_webhook",
        "getWebhookInfo": "_get_webhook_info",
        "getUpdates": "_get_updates",
        "sendMessage": "_send_message",
        "editMessageText": "_edit_message_text",
        "editMessageReplyMarkup": "_edit_message_reply_markup",
        "sendChatAction": "_send_chat_action",
        "setMyCommands": "_set_my_commands",
        "deleteMyCommands": "_delete_my_commands",
        "answerCallbackQuery": "_answer_callback_query",
        "getFile": "_get_file",
        "leaveChat": "_leave_chat",
        "answerInlineQuery": "_answer_inline_query",
    }

    async def _get_me(self, params: dict) -> dict:
        return self.bot_user

    async def _delete_webhook(self, params: dict) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: dict) -> bool:
        if not params.get("url"):
            raise _ApiError("Bad Request: bad webhook: an HTTPS URL must be provided for webhook")
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: dict) -> dict:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    async def _get_updates(self, params: dict) -> list[dict]:
        if self.webhook:
            raise _ApiError(
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first",
                code=409,
            )
        offset = int(params.get("offset") or 0)
        if offset > 0:
            # Confirmed updates are gone for good; unconfirmed ones are served again (nothing lost on a dropped poll).
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed_offset = max(self._confirmed_offset, offset)
            self._notify()
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0:
            assert self._changed is not None
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self._closing), timeout
                    )
        return sorted(self._updates, key=lambda u: u["update_id"])[:limit]

    async def _send_message(self, params: dict) -> dict:
        visible = self._checked_text(params)
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise _ApiError("Bad Request: chat_id is empty")
        msg = self._new_message(chat_id, visible, params)
        reply = params.get("reply_parameters") or {}
        replied = self.messages.get((chat_id, reply.get("message_id")))
        if reply and replied is None and not reply.get("allow_sending_without_reply"):
            raise _ApiError("Bad Request: message to be replied not found")
        if replied is not None:
            msg["reply_to_message"] = replied
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    async def _edit_message_text(self, params: dict) -> dict:
        visible = self._checked_text(params)
        key = (params.get("chat_id"), params.get("message_id"))
        old = self.messages.get(key)
        if old is None:
            raise _ApiError("Bad Request: message to edit not found")
        if visible == old.get("text") and params.get("reply_markup") == old.get("reply_markup"):
            raise _ApiError(_NOT_MODIFIED)
        msg = {**old, "text": visible, "edit_date": int(time.time())}
        msg.pop("reply_markup", None)  # as on Telegram: an edit without a keyboard removes it
        if params.get("reply_markup"):
            msg["reply_markup"] = params["reply_markup"]
        self.messages[key] = msg
        return msg

    async def _edit_message_reply_markup(self, params: dict) -> dict:
        key = (params.get("chat_id"), params.get("message_id"))
        old = self.messages.get(key)
        if old is None:
            raise _ApiError("Bad Request: message to edit not found")
        markup = params.get("reply_markup") if (params.get("reply_markup") or {}).get("inline_keyboard") else None
        if markup == old.get("reply_markup"):
            raise _ApiError(_NOT_MODIFIED)
        msg = {**old, "edit_date": int(time.time())}
        if markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        self.messages[key] = msg
        return msg

    async def _send_chat_action(self, params: dict) -> bool:
        if params.get("action") not in {"typing", "upload_document", "find_location", "choose_sticker"}:
            raise _ApiError("Bad Request: wrong parameter action in request")
        return True

    async def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError("Bad Request: commands must be a list of at most 100 commands")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", cmd.get("command", "")):
                raise _ApiError("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(cmd.get("description", "")) <= 256:
                raise _ApiError("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        return True

    async def _delete_my_commands(self, params: dict) -> bool:
        return True

    async def _answer_callback_query(self, params: dict) -> bool:
        if not params.get("callback_query_id"):
            raise _ApiError("Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise _ApiError("Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _get_file(self, params: dict) -> dict:
        file_id = params.get("file_id")
        if file_id not in self.files:
            raise _ApiError("Bad Request: invalid file_id")
        file_path, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), "file_path": file_path}

    async def _leave_chat(self, params: dict) -> bool:
        chat_id = params.get("chat_id")
        if chat_id in self.left_chats:
            raise _ApiError("Forbidden: bot is not a member of the supergroup chat", code=403)
        self.left_chats.add(chat_id)
        return True

    async def _answer_inline_query(self, params: dict) -> bool:
        query = self.inline_queries.pop(str(params.get("inline_query_id")), None)
        if query is None:  # unknown, or answered already: Telegram takes one answer per query
            raise _ApiError("Bad Request: query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise _ApiError("Bad Request: RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids):
            raise _ApiError("Bad Request: RESULT_ID_DUPLICATE")
        if not all(0 < len(i.encode()) <= 64 for i in ids):
            raise _ApiError("Bad Request: RESULT_ID_INVALID")
        for result in results:
            if result.get("type") != "article" or not str(result.get("title") or "").strip():
                raise _ApiError("Bad Request: RESULT_TYPE_INVALID or empty title")
            content = result.get("input_message_content") or {}
            self._checked({**content, "text": content.get("message_text")})  # what picking it would send
        button = params.get("button")
        if button is not None and not (1 <= len(button.get("text", "")) <= 64):
            raise _ApiError("Bad Request: BUTTON_TEXT_INVALID")
        cache_time = params.get("cache_time", 300)
        if not isinstance(cache_time, int) or cache_time < 0:
            raise _ApiError("Bad Request: cache_time must be a non-negative integer")
        return True

    def _checked_text(self, params: dict) -> str:
        if params.get("chat_id") in self.left_chats:
            raise _ApiError("Forbidden: bot is not a member of the supergroup chat", code=403)
        return self._checked(params)

    def _checked(self, params: dict) -> str:
        """The visible text of ``params["text"]`` in its ``parse_mode``, refused as Telegram would."""
        text = params.get("text")
        if text is None or not str(text).strip():
            raise _ApiError("Bad Request: message text is empty")
        text = str(text)
        if params.get("parse_mode") == "HTML":
            try:
                text = check_html(text)
            except HtmlError as err:
                raise _ApiError(f"Bad Request: can't parse entities: {err}") from None
        elif params.get("parse_mode") not in (None, ""):
            raise _ApiError("Bad Request: the fake only checks HTML; unsupported parse_mode")
        if not text.strip():
            raise _ApiError("Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise _ApiError("Bad Request: message is too long")
        return text

    def _new_message(self, chat_id: int, visible: str, params: dict) -> dict:
        chat = self._known_chat(chat_id)
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {k: v for k, v in self.bot_user.items() if k in ("id", "is_bot", "first_name", "username")},
            "text": visible,
        }
        thread = params.get("message_thread_id")
        if thread is not None:
            if not chat.get("is_forum"):
                raise _ApiError("Bad Request: message thread not found")
            msg["message_thread_id"] = thread
            msg["is_topic_message"] = True
        if "reply_markup" in params:
            msg["reply_markup"] = params["reply_markup"]
        return msg

    def _known_chat(self, chat_id: int) -> dict:
        for (cid, _), msg in reversed(list(self.messages.items())):
            if cid == chat_id:
                return msg["chat"]
        return {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": "chat"}


_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as "
    "a current content and reply markup of the message"
)


class _ApiError(Exception):
    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


def _decode(raw: dict[str, str]) -> dict[str, Any]:
    """Form fields → Python values: PTB sends non-strings (ints, bools, objects) as JSON text."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _STRING_PARAMS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _json(status: int, payload: dict[str, Any]) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(payload).encode("utf-8")


__all__ = [
    "BLOCKED",
    "UNPARSABLE",
    "Call",
    "FakeBotApi",
    "HtmlError",
    "check_html",
    "group_chat",
    "private_chat",
    "text_entities",
    "user",
    "utf16_len",
]
