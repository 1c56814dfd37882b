"""A fake Telegram Bot API on loopback for tests, the demo and scenarios.

``FakeBotApi`` answers ``POST/GET /bot<token>/<method>`` like api.telegram.org (form-encoded or JSON
parameters, ``reply_markup`` as a JSON string) for getMe, sendMessage, editMessageText,
editMessageReplyMarkup, answerCallbackQuery, setWebhook, deleteWebhook, getWebhookInfo and getUpdates.
It records every call and every message per chat, and plays Telegram users: ``send_text`` and ``press``
build an Update and POST it to the registered webhook with the secret header (executing a
``{"method": ...}`` reply like Telegram does) or queue it for getUpdates. ``fail_next`` injects 429
(with ``retry_after``) or other errors; ``block`` makes a chat answer 403 Forbidden.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

JSON = dict[str, Any]


@dataclass
class SentMessage:
    chat_id: int
    message_id: int
    text: str
    reply_markup: JSON | None
    at: float  # time.time() when the API received it
    edits: list[JSON] = field(default_factory=list)

    def buttons(self) -> list[JSON]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: JSON
    status: int
    at: float


@dataclass(frozen=True)
class Delivery:
    """What happened to an update the fake delivered to the webhook."""

    status: int  # HTTP status of the webhook (0 when queued for getUpdates)
    body: Any  # the webhook's JSON response, if any
    executed: JSON | None  # the Bot API result of a ``{"method": ...}`` response, if any


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


class FakeBotApi:
    def __init__(self, token: str = "123456:TEST-token", username: str = "b24app_test_bot") -> None:
        self.token, self.username = token, username
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "b24app", "username": username,
                         "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
        self.calls: list[ApiCall] = []
        self.sent: list[SentMessage] = []
        self.answers: list[JSON] = []
        self.webhook_url, self.webhook_secret = "", ""
        self._chats: dict[int, dict[int, SentMessage]] = {}
        self._users: dict[int, JSON] = {}
        self._blocked: set[int] = set()
        self._faults: list[tuple[str, int, int | None]] = []
        self._queries: dict[str, bool] = {}  # callback query id -> answered
        self._updates: list[JSON] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeBotApi:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-bot-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake Bot API first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    # -- knobs and inspection -----------------------------------------------------------------
    def fail_next(self, method: str = "sendMessage", status: int = 429, count: int = 1,
                  retry_after: int | None = None) -> None:
        with self._cond:
            self._faults.extend([(method, status, retry_after)] * count)

    def block(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def user(self, chat_id: int, first_name: str = "", language_code: str = "ru") -> JSON:
        return self._users.setdefault(chat_id, {"id": chat_id, "is_bot": False, "first_name": first_name or f"User{chat_id}",
                                                "language_code": language_code})

    def messages(self, chat_id: int) -> list[SentMessage]:
        with self._cond:
            return list(self._chats.get(chat_id, {}).values())

    def chats(self) -> list[tuple[JSON, list[SentMessage]]]:
        """Every chat the bot wrote to or a user wrote from: the user, and the bot's messages in order."""
        with self._cond:
            ids = sorted(set(self._chats) | set(self._users))
            return [(self.user(chat_id), list(self._chats.get(chat_id, {}).values())) for chat_id in ids]

    def last_message(self, chat_id: int) -> SentMessage:
        messages = self.messages(chat_id)
        if not messages:
            raise LookupError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1]

    def wait_until(self, predicate: Any, timeout: float = 30.0) -> bool:
        """Wait (on a condition, not a fixed sleep) until ``predicate()`` is true or the timeout passes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.2))
        return True

    # -- playing a Telegram user ----------------------------------------------------------------
    def send_text(self, chat_id: int, text: str, reply_to: int | None = None) -> Delivery:
        message: JSON = {"message_id": self._next_id(), "from": self.user(chat_id), "chat": self._chat(chat_id),
                         "date": int(time.time()), "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}]
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(self._chats[chat_id][reply_to])
        return self.deliver({"update_id": self._next_id(), "message": message})

    def press(self, chat_id: int, message_id: int, button: str | None = None, data: str | None = None,
              from_id: int | None = None) -> Delivery:
        """Press a button (by its text, or send raw ``data`` as a client holding an old keyboard would)."""
        message = self._chats[chat_id][message_id]
        if data is None:
            found = [b for b in message.buttons() if b.get("text") == button and "callback_data" in b]
            if not found:
                raise LookupError(f"no button {button!r} on message {message_id} in chat {chat_id}")
            data = found[0]["callback_data"]
        query_id = str(self._next_id())
        with self._cond:
            self._queries[query_id] = False
        query = {"id": query_id, "from": self.user(from_id or chat_id), "message": self._message_json(message),
                 "chat_instance": str(chat_id), "data": data}
        return self.deliver({"update_id": self._next_id(), "callback_query": query})

    def deliver(self, update: JSON) -> Delivery:
        if not self.webhook_url:
            with self._cond:
                self._updates.append(update)
                self._cond.notify_all()
            return Delivery(0, None, None)
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
        response = requests.post(self.webhook_url, json=update, headers=headers, timeout=30)
        body = response.json() if response.content and "json" in response.headers.get("Content-Type", "") else None
        executed = None
        if response.status_code == 200 and isinstance(body, dict) and body.get("method"):
            params = {k: v for k, v in body.items() if k != "method"}
            executed = self.call(str(body["method"]), params)[1]
        return Delivery(response.status_code, body, executed)

    # -- the Bot API ------------------------------------------------------------------------------
    def call(self, method: str, params: JSON) -> tuple[int, JSON]:
        with self._cond:
            try:
                status, result = 200, {"ok": True, "result": self._dispatch(method, params)}
            except ApiError as exc:
                status = exc.status
                result = {"ok": False, "error_code": exc.status, "description": exc.description}
                if exc.parameters:
                    result["parameters"] = exc.parameters
            self.calls.append(ApiCall(method, params, status, time.time()))
            self._cond.notify_all()
            return status, result

    def _dispatch(self, method: str, params: JSON) -> Any:
        self._inject_fault(method)
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(params)

    def _inject_fault(self, method: str) -> None:
        for i, (name, status, retry_after) in enumerate(self._faults):
            if name.lower() == method.lower():
                del self._faults[i]
                if status == 429:
                    raise ApiError(429, f"Too Many Requests: retry after {retry_after or 1}",
                                   {"retry_after": retry_after or 1})
                raise ApiError(status, "Injected error")

    def _api_getme(self, params: JSON) -> JSON:
        return self.bot_user

    def _api_sendmessage(self, params: JSON) -> JSON:
        chat_id = int(params["chat_id"])
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        msg = SentMessage(chat_id, self._next_id(), text, _markup(params.get("reply_markup")), time.time())
        self._chats.setdefault(chat_id, {})[msg.message_id] = msg
        self.sent.append(msg)
        return self._message_json(msg)

    def _api_editmessagetext(self, params: JSON) -> JSON:
        msg = self._find(params)
        markup = _markup(params.get("reply_markup"))
        if msg.text == params.get("text") and msg.reply_markup == markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        msg.text, msg.reply_markup = str(params["text"]), markup
        msg.edits.append({"text": msg.text, "reply_markup": markup, "at": time.time()})
        return self._message_json(msg)

    def _api_editmessagereplymarkup(self, params: JSON) -> JSON:
        msg = self._find(params)
        msg.reply_markup = _markup(params.get("reply_markup"))
        msg.edits.append({"text": msg.text, "reply_markup": msg.reply_markup, "at": time.time()})
        return self._message_json(msg)

    def _api_answercallbackquery(self, params: JSON) -> bool:
        query_id = str(params["callback_query_id"])
        if self._queries.get(query_id, True):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._queries[query_id] = True
        self.answers.append({"callback_query_id": query_id, "text": params.get("text", ""),
                             "show_alert": _bool(params.get("show_alert"))})
        return True

    def _api_setwebhook(self, params: JSON) -> bool:
        self.webhook_url, self.webhook_secret = str(params["url"]), str(params.get("secret_token") or "")
        return True

    def _api_deletewebhook(self, params: JSON) -> bool:
        self.webhook_url, self.webhook_secret = "", ""
        return True

    def _api_getwebhookinfo(self, params: JSON) -> JSON:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _api_getupdates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
        while not self._updates and time.monotonic() < deadline:
            self._cond.wait(deadline - time.monotonic())
        return self._updates[: int(params.get("limit") or 100)]

    # -- helpers -------------------------------------------------------------------------------
    def _find(self, params: JSON) -> SentMessage:
        msg = self._chats.get(int(params.get("chat_id") or 0), {}).get(int(params.get("message_id") or 0))
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return msg

    def _chat(self, chat_id: int) -> JSON:
        return {"id": chat_id, "type": "private", "first_name": self.user(chat_id)["first_name"]}

    def _message_json(self, msg: SentMessage) -> JSON:
        data: JSON = {"message_id": msg.message_id, "from": self.bot_user, "chat": self._chat(msg.chat_id),
                      "date": int(msg.at), "text": msg.text}
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:  # Telegram echoes inline keyboards only
            data["reply_markup"] = msg.reply_markup
        return data

    def _next_id(self) -> int:
        return next(self._ids)


def _markup(value: Any) -> JSON | None:
    if not value:
        return None
    data = json.loads(value) if isinstance(value, str) else value
    return data if isinstance(data, dict) and data else None


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _handler(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _serve(self, body: bytes) -> None:
            parts = urlsplit(self.path)
            prefix, _, method = parts.path.rpartition("/")
            if prefix != f"/bot{api.token}":
                return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            params: JSON = dict(parse_qsl(parts.query))
            if "json" in (self.headers.get("Content-Type") or ""):
                params.update(json.loads(body or b"{}"))
            elif body:
                params.update(parse_qsl(body.decode()))
            self._reply(*api.call(method, params))

        def _reply(self, status: int, payload: JSON) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
