"""Sending to Telegram from RQ jobs: per-chat outboxes, one paced dispatcher, typed-error handling.

``TelegramNotifier.notify`` appends the message to the chat's outbox (a Redis list), marks the chat
ready and makes sure a dispatcher job runs. The dispatcher (``b24app.telegram.runtime.dispatch_outbox``, an RQ job) takes
send slots from a Lua script that enforces, across every process sharing the Redis: at most
``global_per_second`` messages in any 1-second window, at least ``chat_interval`` seconds between two
messages to one chat, and a global pause after ``RetryAfter`` (the message stays at the head of its
outbox and is sent after the pause). Messages to one chat keep their order; a message leaves its outbox
only once Telegram accepted it (or rejected it for good). ``Forbidden`` marks the link inactive and
drops the chat's outbox (Bitrix24 notifications continue). Bots live inside one ``asyncio.run``.

Redis keys (prefix ``b24app:tg:``): ``outbox:{chat}`` list, ``ready`` zset (chat -> next allowed send),
``pace:chat:{chat}``, ``pace:global`` zset, ``pace:blocked``, ``dispatcher`` flag, ``dead`` list.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from redis import Redis
from rq import Queue
from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from b24app import keys
from b24app.notify.base import Message
from b24app.telegram.callbacks import CallbackRecord, CallbackStore, StepRef
from b24app.telegram.config import TelegramConfig
from b24app.telegram.links import LinkStore
from b24app.texts.common import OPEN_IN_BITRIX24

log = logging.getLogger(__name__)

#: The RQ job that drains the outboxes, by dotted path (it lives with the process's runtime, which
#: builds the configuration from the process's settings).
DISPATCH_JOB = "b24app.telegram.runtime.dispatch_outbox"
T = TypeVar("T")
MAX_ATTEMPTS = 8
FLAG_TTL = 30  # seconds a dispatcher is presumed alive without touching its flag
RUN_FOR = 60.0  # a dispatcher hands its worker back after this long and re-enqueues itself
SLEEP_MAX = 2.0  # longer waits are handed to the RQ scheduler instead of sleeping in the worker

# KEYS: outbox, ready, chat next-slot, dispatcher flag.  ARGV: payload, chat id, flag ttl
_PUT = """
redis.call('RPUSH', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local nextc = tonumber(redis.call('GET', KEYS[3]) or '0')
redis.call('ZADD', KEYS[2], 'NX', math.max(now, nextc), ARGV[2])
if redis.call('SET', KEYS[4], '1', 'NX', 'EX', tonumber(ARGV[3])) then return 1 end
return 0
"""

# KEYS: ready, global window, blocked-until, dispatcher flag
# ARGV: global limit, chat interval, flag ttl, unique member, key prefix
_NEXT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[3]))
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #head == 0 then
  redis.call('DEL', KEYS[4])
  return {'done', '', ''}
end
local chat, score = head[1], tonumber(head[2])
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
if blocked > now then return {'wait', tostring(blocked - now), ''} end
if score > now then return {'wait', tostring(score - now), ''} end
local box = ARGV[5] .. 'outbox:' .. chat
if redis.call('LLEN', box) == 0 then
  redis.call('ZREM', KEYS[1], chat)
  return {'skip', '', ''}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'wait', tostring(tonumber(oldest[2]) + 1 - now), ''}
end
local nextc = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('EXPIRE', KEYS[2], 10)
redis.call('ZADD', KEYS[1], nextc, chat)
redis.call('SET', ARGV[5] .. 'pace:chat:' .. chat, tostring(nextc), 'EX', 600)
return {'go', chat, redis.call('LINDEX', box, 0)}
"""


def run_bot(config: TelegramConfig, call: Callable[[Bot], Awaitable[T]]) -> T:
    """Run one Bot API interaction from sync code; the Bot lives only inside this event loop."""

    async def main() -> T:
        async with Bot(config.bot_token, base_url=config.base_url) as bot:
            return await call(bot)

    return asyncio.run(main())


class Outbox:
    """Per-chat message queues plus the dispatcher that drains them at the allowed pace."""

    def __init__(self, redis: Redis, config: TelegramConfig) -> None:
        self._r = redis
        self._config = config
        self._put = redis.register_script(_PUT)
        self._next = redis.register_script(_NEXT)

    def put(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None,
            step_key: str | None = None) -> None:
        """Queue a message; ``step_key`` remembers the delivered message so its buttons can be closed later."""
        payload = json.dumps({"text": text, "reply_markup": reply_markup, "id": uuid.uuid4().hex, "step": step_key})
        names = [_key("outbox", chat_id), keys.tg("ready"), _key("pace:chat", chat_id), keys.tg("dispatcher")]
        if self._put(keys=names, args=[payload, chat_id, FLAG_TTL]):
            self._queue().enqueue(DISPATCH_JOB)

    def pending(self, chat_id: int) -> int:
        return int(self._r.llen(_key("outbox", chat_id)))

    def kick(self) -> bool:
        """Start a dispatcher if messages wait and none runs (e.g. after a worker died); for the sweep."""
        if self._r.zcard(keys.tg("ready")) and self._r.set(keys.tg("dispatcher"), "1", nx=True, ex=FLAG_TTL):
            self._queue().enqueue(DISPATCH_JOB)
            return True
        return False

    def dispatch(self) -> None:
        """Send until every outbox is empty; long pauses go to the scheduler, the worker is handed back."""
        asyncio.run(self._dispatch())

    async def _dispatch(self) -> None:
        started = time.monotonic()
        async with Bot(self._config.bot_token, base_url=self._config.base_url) as bot:
            while time.monotonic() - started < RUN_FOR:
                verdict, chat, value = self._take_slot()
                if verdict == "done":
                    return
                if verdict == "go":
                    await self._deliver(bot, int(chat), json.loads(value))
                elif verdict == "wait":
                    wait = float(chat)
                    if wait > SLEEP_MAX:
                        return self._resume_in(wait)
                    await asyncio.sleep(wait)
        self._resume_in(0)

    def _take_slot(self) -> tuple[str, str, str]:
        names = [keys.tg("ready"), keys.tg("pace:global"), keys.tg("pace:blocked"), keys.tg("dispatcher")]
        args: list[str | float] = [self._config.global_per_second, self._config.chat_interval, FLAG_TTL,
                                   uuid.uuid4().hex, keys.TG]
        verdict, chat, value = self._next(keys=names, args=args)
        return _text(verdict), _text(chat), _text(value)

    async def _deliver(self, bot: Bot, chat_id: int, payload: dict[str, Any]) -> None:
        try:
            sent = await bot.send_message(chat_id=chat_id, text=payload["text"],
                                          reply_markup=markup_from_dict(payload.get("reply_markup")))
            if payload.get("step"):
                CallbackStore(self._r).remember_message(payload["step"], chat_id, sent.message_id)
        except RetryAfter as exc:
            seconds = _seconds(exc)
            self._block_for(seconds)
            log.warning("telegram flood control: pausing all sends for %.0f s", seconds)
            return
        except Forbidden:
            LinkStore(self._r).set_active(chat_id, False)
            self._r.delete(_key("outbox", chat_id))
            self._r.zrem(keys.tg("ready"), chat_id)
            log.info("telegram chat %s blocked the bot: link marked inactive", chat_id)
            return
        except BadRequest as exc:
            log.error("telegram rejected a message to chat %s, dropped: %s", chat_id, exc.message)
        except NetworkError as exc:
            if self._retry_later(chat_id, payload, exc):
                return
        self._r.lpop(_key("outbox", chat_id))

    def _retry_later(self, chat_id: int, payload: dict[str, Any], exc: NetworkError) -> bool:
        attempts = int(self._r.hincrby(keys.tg("attempts"), payload["id"], 1))
        if attempts >= MAX_ATTEMPTS:
            self._r.hdel(keys.tg("attempts"), payload["id"])
            self._r.rpush(keys.tg("dead"), json.dumps({"chat_id": chat_id, **payload}))
            log.error("telegram message to chat %s moved to %sdead after %d attempts", chat_id, keys.TG, attempts)
            return False
        log.warning("telegram network error for chat %s (attempt %d): %s", chat_id, attempts, exc.message)
        self._r.zadd(keys.tg("ready"), {str(chat_id): self._server_now() + min(2.0**attempts, 300.0)}, xx=True)
        return True

    def _block_for(self, seconds: float) -> None:
        until = self._server_now() + seconds
        key = keys.tg("pace:blocked")
        current = self._r.get(key)
        if current is None or float(current) < until:
            self._r.set(key, str(until), ex=int(seconds) + 60)

    def _resume_in(self, wait: float) -> None:
        self._r.set(keys.tg("dispatcher"), "1", ex=int(wait) + FLAG_TTL)
        if wait <= 0:
            self._queue().enqueue(DISPATCH_JOB)
        else:
            self._queue().enqueue_at(datetime.fromtimestamp(time.time() + wait, tz=UTC), DISPATCH_JOB)

    def _server_now(self) -> float:
        sec, usec = self._r.time()
        return float(sec) + usec / 1e6

    def _queue(self) -> Queue:
        return Queue(self._config.queue_name, connection=self._r)


class TelegramNotifier:
    """``Notifier`` for one portal: queues the message for the user's linked, active chat."""

    def __init__(self, member_id: str, redis: Redis, config: TelegramConfig) -> None:
        self._member_id = member_id
        self._redis = redis
        self._config = config

    def notify(self, user_id: int, message: Message) -> bool:
        if not self._config.enabled:
            return False
        store = LinkStore(self._redis)
        link = store.for_user(self._member_id, user_id)
        if link is None or not link.active:
            return False
        markup = self._markup(message, link.lang)
        step = None
        if message.decision and any(b.action for b in message.buttons):
            d = message.decision
            step = StepRef(self._member_id, d.entity_type_id, d.item_id, d.step).step_key
        text = message.text(link.lang)
        if len(store.links_of_chat(link.chat_id)) > 1:  # the chat serves several companies: say which one
            text = f"{company_label(self._redis, self._member_id)}\n{text}"
        Outbox(self._redis, self._config).put(link.chat_id, text, markup, step)
        return True

    def _markup(self, message: Message, lang: str) -> dict[str, Any] | None:
        store = CallbackStore(self._redis)
        actions, links = [], []
        for button in message.buttons:
            if button.action and message.decision:
                d = message.decision
                ref = store.create(CallbackRecord(self._member_id, d.entity_type_id, d.item_id, d.step, button.action))
                actions.append(InlineKeyboardButton(button.text(lang), callback_data=ref))
            elif button.url:
                links.append(InlineKeyboardButton(button.text(lang), url=button.url))
        if message.item_url and not links:
            links.append(InlineKeyboardButton(OPEN_IN_BITRIX24.get(lang), url=message.item_url))
        rows = [row for row in (actions, links) if row]
        return InlineKeyboardMarkup(rows).to_dict() if rows else None


def company_label(redis: Redis, member_id: str) -> str:
    """The first line of a notice to a chat linked on several portals: which company (portal) it is about."""
    from b24app.auth.store import InstallationStore

    installation = InstallationStore(redis).find(member_id)
    return f"🏢 {installation.domain if installation else member_id}"


def markup_from_dict(data: dict[str, Any] | None) -> InlineKeyboardMarkup | ForceReply | None:
    if not data:
        return None
    if "force_reply" in data:
        return ForceReply.de_json(data, None)
    return InlineKeyboardMarkup.de_json(data, None)


def edit_outcome(config: TelegramConfig, chat_id: int, message_id: int, text: str) -> None:
    """Replace a message's text and remove its buttons (an already identical message is fine)."""
    try:
        run_bot(config, lambda bot: bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id))
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


def remove_buttons(config: TelegramConfig, messages: list[tuple[int, int]]) -> None:
    """Take the buttons off delivered messages (a message already without buttons is fine)."""

    async def run(bot: Bot) -> None:
        for chat_id, message_id in messages:
            try:
                await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
            except (BadRequest, Forbidden) as exc:
                log.info("telegram: buttons of message %s in chat %s not removed: %s", message_id, chat_id, exc)

    if messages:
        run_bot(config, run)


def answer_callback(config: TelegramConfig, query_id: str, text: str, alert: bool = False) -> bool:
    """Answer a button press; False when Telegram no longer accepts an answer (query too old)."""
    try:
        return bool(run_bot(config, lambda bot: bot.answer_callback_query(query_id, text=text[:200], show_alert=alert)))
    except BadRequest:
        return False


def _seconds(exc: RetryAfter) -> float:
    value: Any = exc._retry_after  # a timedelta; the public property warns while it still returns int
    return float(value.total_seconds()) if isinstance(value, timedelta) else float(value)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _key(kind: str, chat_id: int) -> str:
    return keys.tg(kind, chat_id)
