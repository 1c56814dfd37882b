"""Which portal a command acts on, and — when it cannot tell — the one thing to do next.

``provision``, ``doctor``, ``sweep``… act on an installation of the local app. :func:`choose` picks it
(the ``--member-id`` given, else the only one) and proves a held install on the way; every refusal is a
:class:`PortalNotConfigured` whose message names the next step, never another refusal's advice (the
circle of issue #14: webhook → ``--member-id`` → "set B24APP_CLIENT_ID" → "0 active installations").
:func:`listing` is every installation doctor shows: proved, held (arrived before the client id and secret)
or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from b24app.errors import PortalNotConfigured

if TYPE_CHECKING:
    from b24app.deps import Deps

INSTALL_STEP = ("a portal administrator opens the app in the portal to install it (b24app serve and worker "
                "must be running at B24APP_PUBLIC_URL; on the sandbox: its «Локальное приложение» page, "
                "docs/deploy.md «Rehearsal on the sandbox»)")
REGISTER_STEP = ("register the local app on the portal (docs/deploy.md §1; on the sandbox: b24app sandbox "
                 "--app-handler-url https://YOUR-HOST/b24/install) and set B24APP_CLIENT_ID and B24APP_CLIENT_SECRET "
                 "(or `b24app portal add`)")
WEBHOOK_STEP = ("an incoming webhook cannot bind events or widgets: " + REGISTER_STEP + ", then " + INSTALL_STEP)


@dataclass(frozen=True)
class Listed:
    member_id: str
    domain: str
    state: str              # "proved" | "held" | "removed"
    client_id: str = ""


def listing(deps: Deps) -> list[Listed]:
    """Every installation: stored ones (proved by the OAuth server and the portal), removed ones, held claims."""
    from b24app.auth.accept import held

    found = [deps.installations.find(m) for m in deps.installations.member_ids()]
    rows = [Listed(i.member_id, i.domain, "removed" if i.removed else "proved", i.client_id) for i in found if i]
    known = {r.member_id for r in rows if r.state == "proved"}
    rows += [Listed(c.member_id, c.domain, "held") for c in held(deps) if c.member_id not in known]
    return rows


def has_credentials(deps: Deps, domain: str = "") -> bool:
    """A client id and secret for that portal (or, without a domain, for any portal)."""
    if domain:
        return deps.credentials.for_domain(domain) is not None
    return deps.credentials.default() is not None or bool(deps.credentials.domains())


def choose(deps: Deps, member_id: str | None) -> str:
    """The member id to act on; PortalNotConfigured naming the next step when there is none."""
    rows = listing(deps)
    proved = [r for r in rows if r.state == "proved"]
    if member_id:
        return _named(deps, member_id, rows)
    if len(proved) == 1:
        return proved[0].member_id
    if len(proved) > 1:
        raise PortalNotConfigured(f"{len(proved)} portals are installed: pass --member-id, one of: "
                                  + ", ".join(f"{r.member_id} ({r.domain})" for r in proved))
    held = [r for r in rows if r.state == "held"]
    if len(held) == 1:
        return _named(deps, held[0].member_id, rows)
    if held:
        raise PortalNotConfigured(f"{len(held)} installs are held: pass --member-id, one of: "
                                  + ", ".join(f"{r.member_id} ({r.domain})" for r in held))
    if deps.settings.webhook_url is not None and not has_credentials(deps):
        raise PortalNotConfigured(WEBHOOK_STEP)
    if not has_credentials(deps):
        raise PortalNotConfigured(f"no installation and no client credentials: {REGISTER_STEP}, then {INSTALL_STEP}")
    removed = [r for r in rows if r.state == "removed"]
    again = f" (it was uninstalled from {', '.join(r.domain for r in removed)})" if removed else ""
    raise PortalNotConfigured(f"no installation yet{again}: {INSTALL_STEP}")


def _named(deps: Deps, member_id: str, rows: list[Listed]) -> str:
    from b24app.auth.accept import promote_pending

    row = next((r for r in rows if r.member_id == member_id and r.state != "removed"), None)
    row = row or next((r for r in rows if r.member_id == member_id), None)
    if row is None:
        known = ", ".join(f"{r.member_id} ({r.domain}, {r.state})" for r in rows) or "none"
        raise PortalNotConfigured(f"no installation of member_id {member_id!r} (known: {known}): {INSTALL_STEP}")
    if row.state == "removed":
        raise PortalNotConfigured(f"the app was uninstalled from {row.domain}: {INSTALL_STEP}")
    if row.state == "held":
        if not has_credentials(deps, row.domain):
            raise PortalNotConfigured(f"the install of {row.domain} is held until the app has its client id and "
                                      f"secret: {REGISTER_STEP}, then run this command again")
        if promote_pending(deps, member_id) is None:
            raise PortalNotConfigured(f"the held install of {row.domain} was refused (see the log): {INSTALL_STEP}")
    return member_id
