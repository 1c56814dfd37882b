"""Accepting an install POST: nothing posted is stored until the OAuth server proves it.

An install POST (the install page's frame-open form or ``ONAPPINSTALL``) is a *claim*. Every user who
opens a widget gets ``APPLICATION_TOKEN`` and ``member_id`` in their browser, so those prove nothing.
:func:`accept_install` therefore spends the posted refresh token once at
``{B24APP_OAUTH_SERVER}/oauth/token/`` with our client id and secret — this only succeeds for a genuine
token issued to *our* local app — and stores what that answer says (member_id, client_endpoint, the
portal's host, scopes, the freshly rotated pair). A refused refresh, or an answer for another portal,
stores and enqueues nothing. A replayed or late ``ONAPPINSTALL`` carries an already spent refresh token,
fails with ``invalid_grant`` and leaves the stored (newer) pair alone.

The client credentials may not be configured yet when the first install arrives (an administrator
saves the local app, *then* learns its client id and secret). Such a claim is held for
:data:`PENDING_TTL` seconds under ``b24app:install-pending:{member_id}`` — never used for a REST call,
not listed as an installation — and proved the same way by :func:`promote_pending` when the app first
needs that portal (``Deps.bitrix(member_id)``) with credentials set. In webhook mode (no client
credentials) installs are refused: there is nothing to prove them with.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from b24app.auth.install import InstallRefused, may_replace, verified
from b24app.auth.store import Installation
from b24app.errors import OAuthError
from b24app.log import register_secret

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)

PENDING_TTL = 3600
_PENDING = "b24app:install-pending:{}"


def accept_install(deps: Deps, claim: Installation) -> Installation | None:
    """The proved and stored installation; None when held until client credentials are configured.

    InstallRefused (with an HTTP status) when the install cannot be accepted.
    """
    settings = deps.settings
    if not settings.client_id or settings.client_secret is None:
        if settings.webhook_url is not None:
            raise InstallRefused(
                "the app runs with an incoming webhook (B24APP_WEBHOOK_URL); installing it as a local app "
                "needs B24APP_CLIENT_ID and B24APP_CLIENT_SECRET", status=400, error="install_not_supported")
        _hold(deps, claim)
        log.info("install for %r held: B24APP_CLIENT_ID/B24APP_CLIENT_SECRET are not set, it is proved "
                    "when they are", claim.member_id)
        return None
    return _prove_and_store(deps, claim)


def promote_pending(deps: Deps, member_id: str) -> Installation | None:
    """Prove and store the held install of ``member_id`` (credentials must be set now); None if none/refused."""
    claim = _take(deps, member_id)
    if claim is None:
        return None
    try:
        return _prove_and_store(deps, claim)
    except InstallRefused as exc:
        log.warning("held install for %r refused: %s", member_id, exc.reason)
        return None


def _prove_and_store(deps: Deps, claim: Installation) -> Installation:
    store = deps.installations
    if not may_replace(store.find(claim.member_id), claim):
        log.warning("refused install for %r: application_token does not match the active installation",
                    claim.member_id)
        raise InstallRefused("application_token does not match this portal's installation")
    try:
        answer = deps.refresher.exchange(claim.refresh_token)
    except OAuthError as exc:
        log.warning("refused install for %r: the OAuth server did not accept its refresh token (%s)",
                    claim.member_id, exc.code)
        if exc.code == "transport" or exc.status >= 500:
            raise InstallRefused("the OAuth server could not be reached; try again", status=503,
                                 error="oauth_server_unavailable") from None
        raise InstallRefused(f"the OAuth server did not accept the posted tokens ({exc.code})") from None
    installation = verified(claim, answer, time.time())
    store.save(installation)
    _enqueue_hooks(deps, installation)
    log.info("installed on %s (%s), tokens proved by the OAuth server", installation.domain, installation.member_id)
    return installation


def _enqueue_hooks(deps: Deps, installation: Installation) -> None:
    from b24app import queue as queues

    # The install time is part of the id: a failed hook job never blocks a later install's hooks. The job
    # is named by its dotted path: importing ``b24app.jobs`` here would close an import cycle through deps.
    job = queues.job_id("install", installation.member_id, repr(installation.installed_at))
    queues.enqueue_once(deps.queue(queues.DEFAULT), "b24app.jobs.after_install", installation.member_id, id=job,
                        retry=queues.remote_retry())


def _hold(deps: Deps, claim: Installation) -> None:
    register_secret(claim.access_token, claim.refresh_token, claim.application_token)
    key = _PENDING.format(claim.member_id)
    pipe = deps.redis.pipeline()
    pipe.delete(key)
    pipe.hset(key, mapping=dict(claim.to_hash()))  # type: ignore[arg-type]
    pipe.expire(key, PENDING_TTL)
    pipe.execute()


def _take(deps: Deps, member_id: str) -> Installation | None:
    key = _PENDING.format(member_id)
    pipe = deps.redis.pipeline()
    pipe.hgetall(key)
    pipe.delete(key)
    raw, _ = pipe.execute()
    if not raw:
        return None
    data = {_str(k): _str(v) for k, v in raw.items()}
    claim = Installation.from_hash(data)
    register_secret(claim.access_token, claim.refresh_token, claim.application_token)
    return claim


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
