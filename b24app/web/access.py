"""Who may open the app's own pages: role holders of ``config/roles.yaml`` (or their substitute today) and
portal administrators — and :func:`may_exchange`, the one rule of who may exchange files with the bank,
used by the accounting view and by ``b24app bank --user-id``.

"Today" is the portal's day (:func:`portal_now`): the app's clock (``Deps.now``) plus the portal's clock
offset as the last control-room view measured it (``keys.control_clock``) — the day the workflows and the
control room work on, not the machine's.

``user.admin`` is asked with the person's own token (never the app's), only for people outside the
roles, and its answer is kept :data:`~b24app.web.identity.POSITIVE_TTL` seconds per person
(``keys.control_admin``), shared by the control room and the accounting view.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from b24app import keys
from b24app.errors import RestError
from b24app.pipeline.definitions import definitions
from b24app.rest.client import RestClient
from b24app.web.identity import POSITIVE_TTL
from b24app.workflow.actors import effective

if TYPE_CHECKING:
    from b24app.deps import Deps


def portal_now(deps: Deps, member_id: str) -> datetime:
    """The portal's time on its calendar: the app's clock plus the portal's last measured offset
    (none before the first control-room view of the portal)."""
    try:
        offset = float(deps.redis.get(keys.control_clock(member_id)) or 0)
    except ValueError:
        offset = 0.0
    return (deps.now() + timedelta(seconds=offset)).astimezone(definitions(deps, member_id).calendar.tz)


def holds_role(deps: Deps, member_id: str, user_id: int, roles: Iterable[str]) -> bool:
    """Whether ``user_id`` holds one of ``roles`` on this portal, or stands in for a holder on the
    portal's day (:func:`portal_now`)."""
    defs = definitions(deps, member_id)
    now = portal_now(deps, member_id)
    holders = {defs.roles[r] for r in roles if r in defs.roles}
    return user_id in holders | {effective(u, defs.org.absences, now) for u in holders}


def may_exchange(deps: Deps, member_id: str, user_id: int, as_user: RestClient | None) -> bool:
    """Who may exchange files with the bank: a holder of a role of ``config/bank.yaml`` (none without the
    file), whoever stands in for a holder today, or a portal administrator. ``user.admin`` needs the
    person's own token (``as_user``): the accounting view has it; ``b24app bank`` has none, so there an
    administrator outside the roles is not recognised (:func:`is_admin` is asked only for people outside
    the roles)."""
    from b24app.bank.service import BankNotConfigured, bank_config

    try:
        roles = bank_config(deps, member_id).roles
    except BankNotConfigured:
        roles = ()
    if holds_role(deps, member_id, user_id, roles):
        return True
    return as_user is not None and is_admin(deps, member_id, user_id, as_user)


def is_admin(deps: Deps, member_id: str, user_id: int, as_user: RestClient) -> bool:
    """``user.admin`` with the person's token, cached; a refusal of the call counts as "no"."""
    key = keys.control_admin(member_id, user_id)
    cached = deps.redis.get(key)
    if cached is not None:
        return cached in (b"1", "1")
    try:
        admin = as_user.call("user.admin") is True
    except RestError:
        admin = False
    deps.redis.set(key, "1" if admin else "0", ex=POSITIVE_TTL)
    return admin
