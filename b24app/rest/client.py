"""The Bitrix24 REST client: b24pysdk for the wire, plus what the SDK lacks.

:class:`RestClient` implements :class:`b24app.rest.protocol.Bitrix24`. Every HTTP attempt

1. waits while the method is paused by 429 ``OPERATION_TIME_LIMIT``;
2. takes a slot in the portal's shared leaky bucket (:class:`b24app.rest.pacing.Pacer`);
3. is counted (``request_count``, ``requests_by_method``);
4. is sent through the SDK (``b24app.rest.sdk``), one attempt at a time — except a file download
   (:meth:`RestClient.download`, ``b24app.rest.download``), a plain GET that passes the same loop.

A 302 to another host (the portal moved to a new domain, REFERENCE §1.1) is followed only once the
move is proved: the OAuth server's refresh answer must carry the new ``client_endpoint``; then the stored
endpoint is updated and the request is sent again to the new host as a request of its own (paced and
counted), and every later call goes straight there. A webhook cannot prove a move: its client raises
``TransportError(code="portal_moved")`` naming the new host.

An ``expired_token`` answer — or ``NO_AUTH_FOUND`` / ``invalid_token`` for the app's own OAuth token, which
is what a portal answers once the app is uninstalled — triggers one refresh under the Redis lock
(``b24app.auth.refresh``) and a replay (a refresh refused for good marks the portal refused there);
502/503/504 answers are retried with exponential backoff — for a writing request (or a
``batch`` holding one) only 503 ``QUERY_LIMIT_EXCEEDED``, which the portal gives before running anything
(a gateway error may come after the commands ran, so repeating could write twice); errors become :mod:`b24app.errors` types
carrying method, HTTP status, Bitrix24 code and description — never a token or webhook code.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from b24pysdk.credentials.bitrix_token import AbstractBitrixToken
from b24pysdk.errors import (
    BitrixRequestError,
    BitrixRequestTimeout,
    BitrixResponse302JSONDecodeError,
    BitrixResponseError,
)

from b24app.auth.credentials import PortalCredentials
from b24app.auth.refresh import TokenRefresher
from b24app.auth.store import InstallationStore
from b24app.errors import OperationTimeLimit, PortalNotConfigured, RestError, TransportError
from b24app.log import register_secret
from b24app.rest import sdk, wire
from b24app.rest.download import Downloaded, fetch, method_of
from b24app.rest.pacing import Pacer
from b24app.rest.protocol import BatchResult, Command, merge_batches

BATCH_SIZE = 50
PAGE_SIZE = 50
_RETRY_STATUSES = (502, 503, 504)
#: Answers that make the client renew its token once and replay: expired, or unknown to the portal.
_RENEW_CODES = frozenset({"EXPIRED_TOKEN", "NO_AUTH_FOUND", "INVALID_TOKEN"})
T = TypeVar("T")


class Auth(Protocol):
    """Where the client gets its SDK token, and how it renews an expired one."""

    host: str

    def token(self) -> tuple[AbstractBitrixToken, str]:
        """The SDK token and the access token string it carries ("" for webhooks)."""
        ...

    def renew(self, stale_access_token: str) -> bool:
        """Get fresh tokens after ``expired_token``; False when this auth cannot be renewed."""
        ...

    def moved(self, stale_access_token: str, new_host: str) -> bool:
        """The portal redirected to ``new_host``: True once the stored endpoint is proved to be there."""
        ...


class WebhookAuth:
    """An incoming webhook: fixed URL, nothing to renew."""

    def __init__(self, host: str, user_id: int, code: str) -> None:
        register_secret(code)
        self.host = host
        self._token = sdk.webhook_token(host, user_id, code)

    def token(self) -> tuple[AbstractBitrixToken, str]:
        return self._token, ""

    def renew(self, stale_access_token: str) -> bool:
        return False

    def moved(self, stale_access_token: str, new_host: str) -> bool:
        return False


class OAuthAuth:
    """A local-app installation: tokens from the store, renewed by the refresher."""

    def __init__(
        self, store: InstallationStore, refresher: TokenRefresher, member_id: str, credentials: PortalCredentials
    ) -> None:
        self._store = store
        self._refresher = refresher
        self._member_id = member_id
        self._credentials = credentials
        self.host = store.get(member_id).rest_host

    def token(self) -> tuple[AbstractBitrixToken, str]:
        installation = self._store.get(self._member_id)
        pair = self._credentials.for_installation(installation)
        if pair is None:
            raise PortalNotConfigured(f"no client id and secret for {installation.domain}: set B24APP_CLIENT_ID/"
                                      "B24APP_CLIENT_SECRET or run `b24app portal add`")
        access = installation.access_token
        return sdk.oauth_token(installation.rest_host, access, pair.client_id, pair.client_secret), access

    def renew(self, stale_access_token: str) -> bool:
        self._refresher.refresh(self._member_id, stale_access_token)
        return True

    def moved(self, stale_access_token: str, new_host: str) -> bool:
        current = self._refresher.refresh(self._member_id, stale_access_token, moved_to=new_host)
        return current.rest_host.lower() == new_host.lower()


@dataclass(frozen=True)
class RetryPolicy:
    """How 503s and 429s are absorbed."""

    retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_pause: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2.0**attempt)


class RestClient:
    """A paced, counted, self-refreshing Bitrix24 client for one portal."""

    def __init__(
        self,
        auth: Auth,
        pacer: Pacer | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._auth = auth
        self._pacer = pacer
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._sleep = sleep
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    # -- counters -------------------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    @property
    def requests_by_method(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def budget_in_use(self) -> float:
        """Requests currently counted in the portal's shared bucket (0 without pacing)."""
        return self._pacer.level() if self._pacer else 0.0

    # -- the protocol -------------------------------------------------------------------------
    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.envelope(method, params).get("result")

    def envelope(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The whole answer (``result``, ``total``, ``next``, ``time``) of one method call."""
        payload = dict(params or {})
        return self._send(method, lambda token, _: sdk.send(token, method, payload, self._timeout),
                          writing=wire.writes(method, payload))

    def download(self, url: str) -> Downloaded:
        """A file field's ``urlMachine`` (REFERENCE §6.5), hashed: one request like any other — paced in the
        portal's bucket, counted under the method the link calls (``crm.controller.item.getFile``), its
        token renewed once on ``expired_token``, 502/503/504 retried (a download only reads)."""
        return self._send(method_of(url), lambda _, access: fetch(url, access, self._timeout))

    def batch(self, commands: Mapping[str, Command], halt: bool = False) -> BatchResult:
        """Commands in order, 50 per ``batch`` request; ``$result[key]`` references work within a chunk only.

        Booleans in command params become ``Y``/``N`` (commands travel as query strings). With ``halt``
        the portal stops at the first failing command and no further chunk is sent. The answer keeps the
        portal's ``time`` blocks (its clock) and each command's method (for typed errors).
        """
        items = [(str(k), (m, wire.batch_params(p))) for k, (m, p) in commands.items()]
        parts: list[BatchResult] = []
        for start in range(0, len(items), BATCH_SIZE):
            chunk = dict(items[start : start + BATCH_SIZE])
            writing = any(not wire.is_read(m) for m, _ in chunk.values())
            answer = self._send("batch", self._batch_sender(chunk, halt), writing=writing)
            time_block = answer.get("time")
            parts.append(wire.parse_batch(answer.get("result") or {}, {k: m for k, (m, _) in chunk.items()},
                                          time_block if isinstance(time_block, dict) else None))
            if halt and parts[-1].errors:
                break
        return merge_batches(parts)

    def _batch_sender(
        self, chunk: dict[str, tuple[str, dict[str, Any]]], halt: bool
    ) -> Callable[[AbstractBitrixToken, str], dict[str, Any]]:
        return lambda token, _: sdk.send_batch(token, chunk, halt, self._timeout)

    def list_all(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        items_key: str | None = None,
        id_key: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every row; pages by id with ``start=-1`` unless ``params`` sets its own ``order``."""
        base = dict(params or {})
        if "order" in base:
            yield from self._list_by_next(method, base, items_key)
        else:
            key = id_key or ("id" if items_key == "items" else "ID")
            yield from self._list_by_id(method, base, items_key, key)

    # -- paging -------------------------------------------------------------------------------
    def _list_by_id(
        self, method: str, base: dict[str, Any], items_key: str | None, key: str
    ) -> Iterator[dict[str, Any]]:
        last: Any = None
        while True:
            page_filter = dict(base.get("filter") or {})
            if last is not None:
                page_filter[">" + key] = last
            page = {**base, "filter": page_filter, "order": {key: "ASC"}, "start": -1}
            rows = wire.rows(self.call(method, page), items_key)
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            last = wire.row_id(rows[-1], key)

    def _list_by_next(self, method: str, base: dict[str, Any], items_key: str | None) -> Iterator[dict[str, Any]]:
        start: Any = 0
        while True:
            answer = self.envelope(method, {**base, "start": start})
            yield from wire.rows(answer.get("result"), items_key)
            start = answer.get("next")
            if start is None:
                return

    # -- one request, with pacing, counting, refresh and retries -------------------------------
    def _send(self, method: str, do: Callable[[AbstractBitrixToken, str], T],
              writing: bool = False) -> T:
        refreshed = moved = False
        attempt = 0
        while True:
            self._respect_pause(method)
            if self._pacer is not None:
                self._pacer.acquire()
            token, access = self._auth.token()
            with self._lock:
                self._counts[method] += 1
            try:
                return do(token, access)
            except BitrixRequestTimeout:
                raise TransportError(method, 0, "timeout", f"no answer within {self._timeout:g}s") from None
            except BitrixRequestError as exc:
                raise TransportError(method, 0, "connection", wire.cause(exc)) from None
            except BitrixResponse302JSONDecodeError as exc:
                new_host = sdk.redirect_host(exc)
                if not moved and new_host and self._auth.moved(access, new_host):
                    moved = True
                    continue
                raise TransportError(method, 302, "portal_moved",
                                     f"the portal redirects to {new_host or '?'}; the move is not proved by the "
                                     "OAuth server (for a webhook: update B24APP_WEBHOOK_URL)") from None
            except BitrixResponseError as exc:
                error = wire.to_error(method, exc)
            except RestError as exc:  # a download's answer (b24app.rest.download), already typed
                if isinstance(exc, TransportError):
                    raise
                error = exc
            if error.code.upper() in _RENEW_CODES and not refreshed and self._auth.renew(access):
                refreshed = True
                continue
            if error.status in _RETRY_STATUSES and attempt < self._retry.retries \
                    and wire.safe_to_repeat(error, writing):
                self._sleep(self._retry.delay(attempt))
                attempt += 1
                continue
            if (
                isinstance(error, OperationTimeLimit)
                and attempt < self._retry.retries
                and self._pause(method, error.reset_at)
            ):
                attempt += 1
                continue
            raise error

    def _respect_pause(self, method: str) -> None:
        if self._pacer is None:
            return
        until = self._pacer.paused_until(method)
        wait = until - time.time()
        if wait > self._retry.max_pause:
            raise OperationTimeLimit(method, 429, "OPERATION_TIME_LIMIT", "method paused by the portal", until)
        if wait > 0:
            self._sleep(wait)

    def _pause(self, method: str, reset_at: float) -> bool:
        """Remember the pause for every process; True when it is short enough to wait here."""
        if self._pacer is not None:
            self._pacer.pause(method, reset_at)
        wait = reset_at - time.time()
        if wait > self._retry.max_pause:
            return False
        self._sleep(max(0.0, wait))
        return True
