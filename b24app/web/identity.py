"""Who posted a widget frame: ``user.current`` with the posted ``AUTH_ID``, cheaply and on its own budget.

Any employee has the installation's ``APPLICATION_TOKEN`` and ``member_id`` (every widget POST hands them
over), so a flood of POSTs with random ``AUTH_ID`` values passes every free check and would each ask the
portal ``user.current`` — through the portal's leaky bucket, which the approval work needs. So:

* answers are cached by a hash of (portal, ``AUTH_ID``): a person for :data:`POSITIVE_TTL` seconds (a
  genuine tab re-opened with the same token asks nothing), a refusal for :data:`NEGATIVE_TTL` seconds (a
  repeated forged token asks nothing);
* the checks that do reach the portal take a slot from a small bucket of their own per portal
  (:data:`BURST` requests, refilled at :data:`DRAIN` per second, ``b24app:bucket:{host}:identity``) and
  never wait for one: without a slot the POST is refused at once with :class:`IdentityBusy` (the tab
  asks to retry in a few seconds). Those checks also count in the portal's shared bucket like any
  request, so at most :data:`BURST` of its requests in a burst can go to identity checks.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from b24app import keys
from b24app.errors import RestError, TransportError
from b24app.rest.pacing import Pacer

if TYPE_CHECKING:
    from b24app.auth.store import Installation
    from b24app.deps import Deps

log = logging.getLogger(__name__)

BURST = 10
DRAIN = 0.5
POSITIVE_TTL = 300
NEGATIVE_TTL = 600


class WidgetAuthError(Exception):
    """The widget POST cannot be trusted; ``message`` is safe to show (no token in it)."""


class IdentityBusy(WidgetAuthError):
    """Too many identity checks on this portal right now; the person may retry in a few seconds."""


def who(deps: Deps, installation: Installation, access_token: str,
        ask: Callable[[], Any]) -> tuple[int, str]:
    """(user id, name) of the posted token's owner; ``ask()`` calls ``user.current`` with that token."""
    key = keys.widget_identity(hashlib.sha256(f"{installation.member_id}\x00{access_token}".encode()).hexdigest())
    cached = deps.redis.get(key)
    if cached:
        data = json.loads(cached)
        if not data.get("user_id"):
            raise WidgetAuthError("the portal did not accept the user's token (cached)")
        return int(data["user_id"]), str(data.get("name") or "")
    budget = Pacer(deps.redis, f"{installation.rest_host}:identity", drain=DRAIN, burst=BURST, margin=1.0)
    if not budget.try_acquire():
        log.warning("identity checks on %s over budget: widget POST refused without asking the portal",
                    installation.member_id)
        raise IdentityBusy("too many sign-in checks on this portal right now; retry in a few seconds")
    try:
        row = ask()
    except TransportError:
        raise
    except RestError as exc:
        deps.redis.set(key, json.dumps({"user_id": 0}), ex=NEGATIVE_TTL)
        raise WidgetAuthError(f"the portal did not accept the user's token ({exc.code or exc.status})") from None
    if not isinstance(row, Mapping) or not str(row.get("ID") or "").isdigit():
        deps.redis.set(key, json.dumps({"user_id": 0}), ex=NEGATIVE_TTL)
        raise WidgetAuthError("user.current returned no user")
    name = " ".join(str(row.get(k) or "") for k in ("NAME", "LAST_NAME")).strip()
    deps.redis.set(key, json.dumps({"user_id": int(row["ID"]), "name": name}), ex=POSITIVE_TTL)
    return int(row["ID"]), name
