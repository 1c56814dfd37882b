"""Who opened the approval tab, and single-use form tokens for the decisions made in it.

* :func:`identify` checks the frame-open POST of a widget (REFERENCE §2.4, §9): ``member_id``,
  ``DOMAIN`` and ``APPLICATION_TOKEN`` (all required) must match a stored, active installation before
  anything is asked of the portal, and the posted ``AUTH_ID`` must be accepted by *that* portal —
  ``user.current`` is called on the installation's own REST endpoint with the posted token (never with
  the app's stored token), on a small budget of its own with cached answers (:mod:`b24app.web.identity`),
  so a token of another portal, or a forged one, fails without spending the approval work's budget.
* :func:`check_item_visible` / :func:`visible_task` ask the same portal, with the same posted token,
  whether *the person* may see the item (``crm.item.get``) or the task (``tasks.task.get``) the tab
  names — the item id comes from the client-posted ``PLACEMENT_OPTIONS``, and the approval sheet is
  read with the app's token, so without this check anyone could read any request's sheet. The
  portal's own permission model decides; a refusal is :class:`NotVisible` (the tab answers 404).
* :class:`Tickets` issues the token a decision form carries: ``nonce.expires.signature``, an HMAC over
  member_id, user id, workflow, item id, nonce and expiry. The nonce's record lives in Redis until the
  token expires; :meth:`Tickets.consume` deletes it atomically, so a token works once. ``AUTH_ID``
  never reaches the page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import redis

from b24app import keys
from b24app.auth.credentials import PostedToken
from b24app.auth.store import Installation
from b24app.errors import RestError
from b24app.rest.client import RestClient, RetryPolicy
from b24app.rest.protocol import BatchResult, Command
from b24app.web import identity
from b24app.web.identity import WidgetAuthError

if TYPE_CHECKING:
    from b24app.deps import Deps

TICKET_TTL = 30 * 60


#: ``crm.item.get`` error codes that mean "this person cannot see that item" (REFERENCE §6: 400
#: NOT_FOUND for a missing item or smart process, 400 ACCESS_DENIED, 403 allowed_only_intranet_user).
NOT_VISIBLE_CODES = frozenset({"NOT_FOUND", "ACCESS_DENIED", "ALLOWED_ONLY_INTRANET_USER",
                               "ENTITY_TYPE_NOT_SUPPORTED"})


class NotVisible(LookupError):
    """The person may not see the item or task the tab names (or it does not exist)."""


@dataclass(frozen=True)
class Person:
    """The portal user who opened the widget."""

    member_id: str
    user_id: int
    name: str


def identify(form: Mapping[str, str], query: Mapping[str, str], deps: Deps) -> tuple[Person, Installation, RestClient]:
    """The person behind a widget POST, their portal, and a client acting with their token.

    Everything that costs nothing is checked first: ``member_id``, ``DOMAIN``, ``APPLICATION_TOKEN`` and
    ``AUTH_ID`` are required and must match an active installation (so a forged POST without the
    installation's own token makes no portal request). Then ``user.current`` with the posted token, on
    the identity budget of :mod:`b24app.web.identity` (answers cached, refusals too)."""
    member_id = str(form.get("member_id") or "")
    domain = str(query.get("DOMAIN") or form.get("DOMAIN") or "")
    access = str(form.get("AUTH_ID") or "")
    posted_app_token = str(form.get("APPLICATION_TOKEN") or "")
    if not member_id or not access or not domain or not posted_app_token:
        raise WidgetAuthError("the request lacks member_id, DOMAIN, APPLICATION_TOKEN or AUTH_ID")
    installation = deps.installations.find(member_id)
    if installation is None or installation.removed:
        raise WidgetAuthError("the application is not installed on this portal")
    if domain.lower() not in (installation.domain.lower(), installation.rest_host.lower()):
        raise WidgetAuthError("DOMAIN does not match the installation of this member_id")
    if not hmac.compare_digest(posted_app_token.encode(), installation.application_token.encode()):
        raise WidgetAuthError("APPLICATION_TOKEN does not match the installation")
    pair = deps.credentials.for_installation(installation)
    if pair is None:
        raise WidgetAuthError("no client id and secret are configured for this portal")
    as_user = RestClient(PostedToken(installation.rest_host, access, pair), deps.pacer(installation.rest_host),
                         retry=RetryPolicy(retries=1))
    user_id, name = identity.who(deps, installation, access, lambda: as_user.call("user.current"))
    return Person(member_id, user_id, name), installation, as_user


def check_item_visible(as_user: RestClient, entity_type_id: int, item_id: int,
                       also: Mapping[str, Command] | None = None) -> BatchResult | None:
    """Raise :class:`NotVisible` unless the person behind ``as_user`` may read the item (one request).

    With ``also``, the check rides one ``batch`` with those commands (key ``item`` is the check) and the
    batch's answer is returned for them."""
    params = {"entityTypeId": entity_type_id, "id": item_id}
    if also:
        answer = as_user.batch({"item": ("crm.item.get", params), **also})
        error = answer.error("item")
        if error is not None:
            _refused(error, entity_type_id, item_id)
        _check_item(answer.results.get("item"), entity_type_id, item_id)
        return answer
    try:
        _check_item(as_user.call("crm.item.get", params), entity_type_id, item_id)
    except RestError as exc:
        _refused(exc, entity_type_id, item_id)
    return None


def _refused(exc: RestError, entity_type_id: int, item_id: int) -> None:
    if exc.code.upper() in NOT_VISIBLE_CODES:
        raise NotVisible(f"item {entity_type_id}/{item_id}: {exc.code}") from None
    raise exc


def _check_item(answer: Any, entity_type_id: int, item_id: int) -> None:
    item = answer.get("item") if isinstance(answer, Mapping) else None
    if not isinstance(item, Mapping) or str(item.get("id")) != str(item_id):
        raise NotVisible(f"item {entity_type_id}/{item_id}: no item in the answer")


def visible_task(as_user: RestClient, task_id: int) -> Mapping[str, Any]:
    """The task (ID and UF_CRM_TASK) as the person sees it; :class:`NotVisible` when the portal answers
    ``[]`` (a missing task, or one the person is not a member of)."""
    answer = as_user.call("tasks.task.get", {"taskId": task_id, "select": ["ID", "UF_CRM_TASK"]})
    task = answer.get("task") if isinstance(answer, Mapping) else None
    if not isinstance(task, Mapping):
        raise NotVisible(f"task {task_id}")
    return task


@dataclass(frozen=True)
class Ticket:
    """What a decision form is allowed to do: one decision on one item, by one person."""

    member_id: str
    user_id: int
    workflow: str
    item_id: int
    lang: str
    nonce: str = ""
    expires: int = 0
    name: str = ""                  # the person's name, shown as "signed in as"
    #: the other items (entity type id, item id) the person could read when the tab opened — what a
    #: page re-rendered after a decision shows of the link lists (it has no token of the person's)
    readable: tuple[tuple[int, int], ...] = ()


class Tickets:
    """Issue, check and consume single-use decision tokens (state in Redis, signature by a secret)."""

    def __init__(self, conn: redis.Redis, secret: str, ttl: int = TICKET_TTL) -> None:
        self._redis = conn
        self._secret = secret.encode()
        self._ttl = ttl

    def issue(self, ticket: Ticket, now: float | None = None) -> str:
        nonce = secrets.token_urlsafe(18)
        expires = int((now if now is not None else time.time()) + self._ttl)
        stored = replace(ticket, nonce=nonce, expires=expires)
        self._redis.set(keys.widget_ticket(nonce), json.dumps(asdict(stored)), ex=self._ttl)
        return f"{nonce}.{expires}.{self._sign(stored)}"

    def check(self, token: str, now: float | None = None) -> Ticket | None:
        """The ticket a token stands for, or None (malformed, forged, expired or already used)."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        nonce, expires, signature = parts
        if int(expires) < (now if now is not None else time.time()):
            return None
        raw = self._redis.get(keys.widget_ticket(nonce))
        ticket = _ticket(raw)
        if ticket is None or ticket.nonce != nonce or ticket.expires != int(expires):
            return None
        return ticket if hmac.compare_digest(self._sign(ticket), signature) else None

    def consume(self, ticket: Ticket) -> bool:
        """Spend the ticket; False when it was spent already (a replayed form)."""
        return bool(self._redis.delete(keys.widget_ticket(ticket.nonce)))

    def _sign(self, ticket: Ticket) -> str:
        body = "|".join(str(v) for v in (ticket.member_id, ticket.user_id, ticket.workflow, ticket.item_id,
                                         ticket.lang, ticket.nonce, ticket.expires, ticket.name,
                                         ",".join(f"{e}/{i}" for e, i in ticket.readable)))
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()


def _ticket(raw: Any) -> Ticket | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Ticket(str(data["member_id"]), int(data["user_id"]), str(data["workflow"]), int(data["item_id"]),
                      str(data["lang"]), str(data["nonce"]), int(data["expires"]), str(data.get("name", "")),
                      tuple((int(e), int(i)) for e, i in data.get("readable") or ()))
    except (ValueError, KeyError, TypeError):
        return None
