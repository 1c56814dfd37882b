"""The one place that knows how b24pysdk is wired; everything else uses ``b24app.rest.client``.

Workaround, and why: b24pysdk refreshes an expired OAuth token by itself, inside the token object, by
calling a token URL that is a ``Final`` class attribute of its OAuth requester
(``https://oauth.bitrix24.tech/oauth/token/``). That cannot point at the configured OAuth server (or the
sandbox), and it cannot take our cross-process Redis lock, so two workers would spend the same
refresh token. We therefore switch the SDK's own refresh off with the class attribute the SDK provides
for that (``_AUTO_REFRESH_EXPIRED_TOKEN = False``) on a subclass, let ``expired_token`` surface as an
exception, and refresh in ``b24app.auth.refresh`` under the lock. Nothing in the SDK is patched.

The SDK's own handling of a portal that moved to a new domain is switched off the same way
(``_AUTO_CHANGED_DOMAIN = False``): it would follow the 302 inside one call on every call (two HTTP
requests, one paced and counted) and keep only the host name, dropping the port. The 302 surfaces as
``BitrixResponse302JSONDecodeError`` and ``b24app.rest.client`` moves the stored endpoint once it is
proved (see ``b24app.auth.refresh``).

Each HTTP attempt is made with ``max_retries=1`` so that every request passes through our pacing and
request counter (the SDK would otherwise silently retry 503s three times).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from b24pysdk import BitrixAppLocal, BitrixToken, BitrixWebhook
from b24pysdk.credentials.bitrix_token import AbstractBitrixToken
from b24pysdk.errors import BitrixResponse302JSONDecodeError

SDK_OPTIONS: dict[str, Any] = {"max_retries": 1}


class _ManualRefreshToken(BitrixToken):  # type: ignore[misc]  # b24pysdk ships no type information
    """An OAuth token the SDK never refreshes or re-points by itself (see the module docstring)."""

    _AUTO_REFRESH_EXPIRED_TOKEN = False
    _AUTO_CHANGED_DOMAIN = False


class _FixedWebhook(BitrixWebhook):  # type: ignore[misc]  # b24pysdk ships no type information
    """A webhook the SDK never re-points to another domain (see the module docstring)."""

    _AUTO_CHANGED_DOMAIN = False


def webhook_token(host: str, user_id: int, code: str) -> AbstractBitrixToken:
    """An SDK token for an incoming webhook ``https://{host}/rest/{user_id}/{code}/``."""
    return _FixedWebhook(domain=host, webhook_token=f"{user_id}/{code}")


def oauth_token(host: str, access_token: str, client_id: str, client_secret: str) -> AbstractBitrixToken:
    """An SDK token for a local app's access token; ``expires`` unset so only the portal decides."""
    app = BitrixAppLocal(domain=host, client_id=client_id, client_secret=client_secret)
    return _ManualRefreshToken(domain=host, auth_token=access_token, bitrix_app=app)


def redirect_host(exc: BitrixResponse302JSONDecodeError) -> str:
    """``host[:port]`` a 302 answer points at ("" without a usable ``Location``)."""
    return urlsplit(exc.redirect_url or "").netloc


def send(token: AbstractBitrixToken, method: str, params: Mapping[str, Any], timeout: float) -> dict[str, Any]:
    """One HTTP request: ``method`` with JSON ``params``; returns the parsed envelope or raises SDK errors."""
    return dict(token.call_method(method, dict(params), timeout=timeout, **SDK_OPTIONS))


def send_batch(
    token: AbstractBitrixToken, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool, timeout: float
) -> dict[str, Any]:
    """One ``batch`` HTTP request of at most 50 commands; returns the raw envelope."""
    methods = {key: (method, dict(params)) for key, (method, params) in commands.items()}
    return dict(token.call_batch(methods, halt=halt, timeout=timeout, **SDK_OPTIONS))
