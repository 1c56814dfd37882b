"""Accepting an install POST: nothing posted is stored until the OAuth server *and* the portal prove it.

An install POST (the install page's frame-open form or ``ONAPPINSTALL``) is a *claim*. Every user who
opens a widget gets ``APPLICATION_TOKEN``, ``member_id`` and genuine tokens of the app (their own
``AUTH_ID``/``REFRESH_ID``) in their browser, so none of that proves an install. :func:`accept_install`

1. picks the client id and secret of the claimed portal (:mod:`b24app.auth.credentials`: the registry
   entry of the claimed domain, else the deployment's default pair);
2. spends the posted refresh token once at that pair's OAuth server — this only succeeds for a genuine
   token issued to *that* local app — and takes the portal (member_id, client_endpoint), scopes and the
   freshly rotated pair from the answer (a registry pair's answer must name its own domain);
3. asks the portal, with the proved access token, ``user.admin`` (one request): only a person who may
   manage applications installs. An employee re-posting their own widget tokens is refused with 403.

Only then is the installation stored — replacing any earlier one of that portal, active or removed,
with the posted ``application_token`` — and the hooks job (re-bind events and widgets) enqueued; a
refused claim stores and enqueues nothing. A replayed or late ``ONAPPINSTALL`` carries an already spent
refresh token, fails with ``invalid_grant`` and leaves the stored (newer) pair alone.

The client credentials may not be configured yet when the first install arrives (an administrator
saves the local app, *then* learns its client id and secret). Such a claim is held for
:data:`b24app.keys.INSTALL_PENDING_TTL` seconds under ``b24app:install-pending:{member_id}`` — never used for a REST call,
not listed as an installation — and proved the same way by :func:`promote_pending` when the app first
needs that portal (``Deps.bitrix(member_id)``) with credentials set. In webhook mode (no client
credentials) installs are refused: there is nothing to prove them with.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING

from b24app import keys
from b24app.auth.credentials import AppPair, normal_domain
from b24app.auth.install import InstallRefused, verified
from b24app.auth.store import Installation
from b24app.errors import OAuthError, RestError
from b24app.log import register_secret

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)


def accept_install(deps: Deps, claim: Installation) -> Installation | None:
    """The proved and stored installation; None when held until client credentials are configured.

    InstallRefused (with an HTTP status) when the install cannot be accepted.
    """
    settings = deps.settings
    if deps.credentials.for_domain(claim.domain) is None:
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
    pair = deps.credentials.for_domain(claim.domain)
    if pair is None:
        raise InstallRefused(f"no client id and secret for {claim.domain or 'this portal'}: set B24APP_CLIENT_ID/"
                             "B24APP_CLIENT_SECRET or run `b24app portal add`", status=401)
    try:
        answer = deps.refresher.exchange(claim.refresh_token, pair)
    except OAuthError as exc:
        log.warning("refused install for %r: the OAuth server did not accept its refresh token (%s)",
                    claim.member_id, exc.code)
        if exc.code == "transport" or exc.status >= 500:
            raise InstallRefused("the OAuth server could not be reached; try again", status=503,
                                 error="oauth_server_unavailable") from None
        raise InstallRefused(f"the OAuth server did not accept the posted tokens ({exc.code})") from None
    installation = dataclasses.replace(verified(claim, answer, time.time()), client_id=pair.client_id)
    if pair.domain and normal_domain(installation.client_endpoint) != pair.domain:
        log.warning("refused install for %r: the OAuth server's answer is for %s, not %s", claim.member_id,
                    installation.rest_host, pair.domain)
        raise InstallRefused("the tokens belong to another portal than the one these credentials are for")
    _require_admin(deps, installation, pair)
    deps.installations.save(installation)
    from b24app.auth.lifecycle import clear_refused

    clear_refused(deps, installation.member_id)
    _enqueue_hooks(deps, installation)
    log.info("installed on %s (%s), tokens proved by the OAuth server, installed by administrator #%s",
             installation.domain, installation.member_id, installation.user_id or "?")
    return installation


def _require_admin(deps: Deps, installation: Installation, pair: AppPair) -> None:
    """``user.admin`` with the proved access token must be true (one request on the portal's bucket)."""
    from b24app.auth.credentials import PostedToken
    from b24app.rest.client import RestClient, RetryPolicy

    as_installer = RestClient(PostedToken(installation.rest_host, installation.access_token, pair),
                              deps.pacer(installation.rest_host), retry=RetryPolicy(retries=2))
    try:
        admin = as_installer.call("user.admin")
    except RestError as exc:
        log.warning("refused install for %r: user.admin failed (%s)", installation.member_id, exc.code or exc.status)
        raise InstallRefused("the portal did not confirm who installs the app; try again", status=503,
                             error="portal_unavailable") from None
    if admin is not True:
        log.warning("refused install for %r: user #%s is not a portal administrator", installation.member_id,
                    installation.user_id or "?")
        raise InstallRefused("only a portal administrator may install or re-install the app", status=403,
                             error="install_not_admin")


def _enqueue_hooks(deps: Deps, installation: Installation) -> None:
    from b24app import queue as queues

    # The install time is part of the id: a failed hook job never blocks a later install's hooks. The job
    # is named by its dotted path: importing ``b24app.jobs`` here would close an import cycle through deps.
    job = queues.job_id("install", installation.member_id, repr(installation.installed_at))
    queues.enqueue_once(deps.queue(queues.DEFAULT), "b24app.jobs.after_install", installation.member_id, id=job,
                        retry=queues.remote_retry())


def _hold(deps: Deps, claim: Installation) -> None:
    register_secret(claim.access_token, claim.refresh_token, claim.application_token)
    key = keys.install_pending(claim.member_id)
    pipe = deps.redis.pipeline()
    pipe.delete(key)
    pipe.hset(key, mapping=dict(claim.to_hash()))  # type: ignore[arg-type]
    pipe.expire(key, keys.INSTALL_PENDING_TTL)
    pipe.execute()


def _take(deps: Deps, member_id: str) -> Installation | None:
    key = keys.install_pending(member_id)
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


def held(deps: Deps) -> list[Installation]:
    """The installs held until client credentials are set (claims: nothing in them is proved)."""
    claims = []
    for key in deps.redis.scan_iter(keys.install_pending("*")):
        raw = deps.redis.hgetall(key)
        if raw:
            claims.append(Installation.from_hash({_str(k): _str(v) for k, v in raw.items()}))
    return sorted(claims, key=lambda c: c.member_id)
