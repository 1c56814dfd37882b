"""``b24app doctor``: can this deployment reach its portals, as whom, with which permissions — and will
Redis keep the tokens across a restart?

Redis holds every portal's tokens; the OAuth server rotates the refresh token on every refresh, so only an
append-only file (``appendonly yes``, ``appendfsync everysec``) keeps the current pair: a snapshot restored
after a crash holds a refresh token that was already spent. A Redis without AOF is reported with the fix.
In OAuth mode every active installation is checked with its own client id and secret.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis

from b24app.auth.credentials import normal_domain
from b24app.deps import Deps
from b24app.errors import B24AppError, PortalNotConfigured, with_tls_hint
from b24app.portal_choice import Listed, choose, listing
from b24app.settings import Settings

AOF_FIX = ("fix: redis-cli CONFIG SET appendonly yes && redis-cli CONFIG SET appendfsync everysec && "
           "redis-cli CONFIG REWRITE   (or in redis.conf: appendonly yes / appendfsync everysec; see docs/operations.md)")


def run_doctor(settings: Settings, required_scopes: Sequence[str], say: Callable[[str], Any],
               member_id: str | None = None) -> bool:
    """Print a report line by line; True when everything needed is in place. ``member_id``: only that portal."""
    deps = Deps(settings)
    ok = _check_redis(deps, say)
    if settings.webhook_url is not None and not member_id:
        return _check_portal(deps, None, required_scopes, say) and ok
    if not ok and not _reachable(deps):
        say("portal: skipped — the installations live in Redis: fix Redis first (above)")
        return False
    return _check_installations(deps, member_id, required_scopes, say) and ok


def _reachable(deps: Deps) -> bool:
    try:
        return bool(deps.settings.redis_url) and bool(deps.redis.ping())
    except (redis.RedisError, OSError):
        return False


def _check_redis(deps: Deps, say: Callable[[str], Any]) -> bool:
    if not deps.settings.redis_url:
        say("redis: not configured (B24APP_REDIS_URL) — required for serve and worker")
        return False
    try:
        deps.redis.ping()
    except (redis.RedisError, OSError) as exc:
        say(f"redis: unreachable ({type(exc).__name__})")
        return False
    say("redis: ok")
    return _check_persistence(deps, say)


def _check_persistence(deps: Deps, say: Callable[[str], Any]) -> bool:
    try:
        config = deps.redis.config_get("append*")
    except redis.RedisError as exc:  # managed Redis often disables CONFIG
        say(f"redis persistence: cannot be read ({type(exc).__name__}); make sure the server runs with "
            "appendonly yes and appendfsync everysec")
        return True
    aof = str(config.get("appendonly", "")).lower()
    fsync = str(config.get("appendfsync", "")).lower()
    if aof != "yes":
        say("redis persistence: appendonly is OFF — a restart loses every portal's tokens, and a snapshot brings "
            "back refresh tokens the OAuth server already rotated")
        say(AOF_FIX)
        return False
    if fsync not in ("everysec", "always"):
        say(f"redis persistence: appendonly yes but appendfsync {fsync} — up to the OS buffer of writes can be lost")
        say("fix: redis-cli CONFIG SET appendfsync everysec && redis-cli CONFIG REWRITE")
        return False
    say(f"redis persistence: appendonly yes, appendfsync {fsync}")
    return True


def _check_installations(deps: Deps, member_id: str | None, required_scopes: Sequence[str],
                         say: Callable[[str], Any]) -> bool:
    """Every installation with its state, then each proved one (only ``member_id`` when given) checked."""
    rows = listing(deps)
    for row in rows:
        pair = deps.credentials.for_domain(row.domain)
        client = f"client id {row.client_id or (pair.client_id if pair else 'NONE')}"
        say(f"installation {row.domain} ({row.member_id}): {_STATES[row.state]}; {client}")
    registered = set(deps.credentials.domains()) - {normal_domain(r.domain) for r in rows}
    for domain in sorted(registered):
        say(f"portal {domain}: credentials registered, not installed yet")
    try:
        targets = [choose(deps, member_id)] if member_id else _targets(deps, rows)
    except PortalNotConfigured as exc:
        say(f"portal: {exc}")
        return False
    ok = True
    for target in targets:
        installation = deps.installations.get(target)
        say(f"portal {installation.domain} ({target}):")
        if member_id is not None:
            _show_config(deps, target, say)
        ok = _check_portal(deps, target, required_scopes, say) and ok
    return ok


_STATES = {"proved": "proved (the OAuth server and the portal confirmed the administrator's install)",
           "held": "held, NOT proved — it arrived before the client id and secret were set; it is proved on the "
                   "next doctor or provision run once they are",
           "removed": "removed (the app was uninstalled; an administrator opens it again to re-install)"}


def _targets(deps: Deps, rows: list[Listed]) -> list[str]:
    """Every proved installation, and each held one proved now when its credentials are set."""
    proved = [r.member_id for r in rows if r.state == "proved"]
    held = [r.member_id for r in rows if r.state == "held"]
    if not proved and len(held) != 1:
        return [choose(deps, None)]   # raises with the next step
    return proved + [choose(deps, m) for m in held]


def _show_config(deps: Deps, member_id: str, say: Callable[[str], Any]) -> None:
    """Which configuration the portal uses (its own folder over the shared one) and its roles."""
    from b24app.pipeline.definitions import config_for, definitions
    from b24app.yamlio import ConfigError

    layered = config_for(deps, member_id)
    own = layered.own_files()
    say(f"config: {layered.own}/ (own: {', '.join(own) or 'nothing'}) over {layered.shared}/" if layered.own
        else f"config: {layered.shared}/ (shared; no config/portals/ folder for this portal)")
    try:
        roles = definitions(deps, member_id).roles
    except ConfigError as exc:
        say(f"config: invalid — {exc.problems[0]} (run `b24app check-config`)")
        return
    say("roles: " + (", ".join(f"{code}={user}" for code, user in sorted(roles.items())) or "none"))


def _check_portal(deps: Deps, member_id: str | None, required_scopes: Sequence[str],
                  say: Callable[[str], Any]) -> bool:
    try:
        client = deps.bitrix(member_id)
        user = client.call("user.current") or {}
        granted = [str(s) for s in client.call("scope") or []]
    except B24AppError as exc:
        say(f"portal: {with_tls_hint(str(exc))}")
        return False
    name = " ".join(str(user.get(k) or "") for k in ("NAME", "LAST_NAME")).strip()
    admin = " (admin)" if str(user.get("ADMIN", "")).lower() in ("true", "1", "y") else ""
    say(f"portal: {deps.settings.portal_mode}, acting as user #{user.get('ID')} {name}{admin}")
    missing = [s for s in required_scopes if s not in granted]
    say("scopes granted: " + (", ".join(sorted(granted)) or "none"))
    say("scopes missing: " + (", ".join(missing) or "none"))
    if deps.settings.redis_url:
        drain, burst = deps.settings.rate
        say(f"REST budget in use: {client.budget_in_use:.1f} of {burst} (drains {drain:g}/s)")
    return not missing
