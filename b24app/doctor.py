"""``b24app doctor``: can this deployment reach its portal, as whom, with which permissions?"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis

from b24app.deps import Deps
from b24app.errors import B24AppError
from b24app.settings import Settings


def run_doctor(settings: Settings, required_scopes: Sequence[str], say: Callable[[str], Any]) -> bool:
    """Print a report line by line; True when everything needed is in place."""
    deps = Deps(settings)
    ok = _check_redis(deps, say)
    if settings.portal_mode == "none":
        say("portal: not configured — set B24APP_WEBHOOK_URL, or B24APP_CLIENT_ID/SECRET and install the app")
        return False
    if settings.portal_mode == "oauth" and not ok:
        say("portal: skipped (OAuth tokens live in Redis)")
        return False
    return _check_portal(deps, required_scopes, say) and ok


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
    return True


def _check_portal(deps: Deps, required_scopes: Sequence[str], say: Callable[[str], Any]) -> bool:
    try:
        client = deps.bitrix()
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
