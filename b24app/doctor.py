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

from b24app.deps import Deps
from b24app.errors import B24AppError
from b24app.settings import Settings

AOF_FIX = ("fix: redis-cli CONFIG SET appendonly yes && redis-cli CONFIG SET appendfsync everysec && "
           "redis-cli CONFIG REWRITE   (or in redis.conf: appendonly yes / appendfsync everysec; see docs/operations.md)")


def run_doctor(settings: Settings, required_scopes: Sequence[str], say: Callable[[str], Any],
               member_id: str | None = None) -> bool:
    """Print a report line by line; True when everything needed is in place."""
    deps = Deps(settings)
    ok = _check_redis(deps, say)
    if settings.portal_mode == "none" and not (ok and deps.credentials.domains()):
        say("portal: not configured — set B24APP_WEBHOOK_URL, or B24APP_CLIENT_ID/SECRET (or `b24app portal add`) "
            "and install the app")
        return False
    if settings.webhook_url is not None:
        return _check_portal(deps, None, required_scopes, say) and ok
    if not ok:
        say("portal: skipped (OAuth tokens live in Redis)")
        return False
    return _check_installations(deps, required_scopes, say, member_id) and ok


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


def _check_installations(deps: Deps, required_scopes: Sequence[str], say: Callable[[str], Any],
                         member_id: str | None = None) -> bool:
    active = deps.installations.active()
    registered = set(deps.credentials.domains())
    if member_id is not None:
        active, registered = [i for i in active if i.member_id == member_id], set()
        if not active:
            say(f"portal {member_id}: no active installation with this member id")
            return False
    if not active:
        say("portal: no active installation — an administrator of the portal opens the app to install it")
        return False
    ok = True
    for installation in active:
        pair = deps.credentials.for_installation(installation)
        source = "registered pair" if pair is not None and pair.domain else "B24APP_CLIENT_ID"
        say(f"portal {installation.domain} ({installation.member_id}): client id "
            f"{pair.client_id if pair else 'NONE'} ({source})")
        registered.discard(installation.domain)
        if member_id is not None:
            _show_config(deps, member_id, say)
        ok = _check_portal(deps, installation.member_id, required_scopes, say) and ok
    for domain in sorted(registered):
        say(f"portal {domain}: credentials registered, not installed yet")
    return ok


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
        say(f"portal: {exc}")
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
