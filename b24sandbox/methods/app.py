"""``app.info`` and ``scope`` (REFERENCE §2.6, §2.7)."""

from __future__ import annotations

from typing import Any

from b24sandbox import oauth
from b24sandbox.registry import Call, RestError, method

# License names per sandbox profile. The real values depend on the plan and are UNVERIFIED; the
# enterprise triple follows examples/app.info.json ("de_ent10000", "ent10000", "ent").
_LICENSES = {"standard": ("std", "std"), "enterprise": ("ent250", "ent")}


@method("app.info", scope=None)
def app_info(call: Call) -> dict[str, Any]:
    if call.auth_kind != "oauth":
        raise RestError("ACCESS_DENIED", "Access denied! Application context required", 400)
    app = oauth.installed_app(call.state)
    if app is None or app.client_id != call.app_client_id:
        raise RestError("ACCESS_DENIED", "Access denied! Application context required", 400)
    language = call.state.portal.language
    profile = oauth.store(call.state).profile
    license_type, family = _LICENSES.get(profile, _LICENSES["standard"])
    return {
        "ID": app.app_id,
        "CODE": app.client_id,
        "VERSION": app.version,
        "STATUS": oauth.APP_STATUS,
        "INSTALLED": app.installed,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": language,
        "LICENSE": f"{language}_{license_type}",
        "LICENSE_TYPE": license_type,
        "LICENSE_FAMILY": family,
    }


@method("scope", scope=None)
def scope(call: Call) -> list[str]:
    """The caller's scopes; ``full=true`` lists every scope the portal offers."""
    full = str(call.param("full", "")).lower() in ("1", "true", "y")
    scopes = oauth.ALL_SCOPES if full else call.scopes
    return sorted(s for s in scopes if s != "basic")


@method("user.admin", scope=None)
def user_admin(call: Call) -> bool:
    """Whether the caller may manage application settings (api-reference/common/users/user-admin.md):
    ``true`` for a portal administrator. That only administrators get ``true`` (no separate "manage
    apps" right in the sandbox) is UNVERIFIED."""
    return call.is_admin
