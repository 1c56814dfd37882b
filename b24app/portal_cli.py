"""``b24app portal``: the per-portal app credentials of a deployment that serves several portals.

A local app gets its own client id and secret on every portal; register each portal's pair here
(encrypted at rest with ``B24APP_SECRET_KEY``, see :mod:`b24app.auth.credentials`). Portals not listed use
``B24APP_CLIENT_ID``/``B24APP_CLIENT_SECRET``. Secrets are never printed.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from b24app.cliutil import settings_or_exit
from b24app.errors import SettingsError

if TYPE_CHECKING:
    from b24app.auth.credentials import PortalCredentials


@click.group("portal")
def portal_group() -> None:
    """Per-portal app credentials (client id and secret of each portal's local app)."""


def _credentials() -> PortalCredentials:
    from b24app.deps import Deps

    settings = settings_or_exit()
    if not settings.redis_url:
        click.echo("environment: B24APP_REDIS_URL: required (the registry lives in Redis)", err=True)
        sys.exit(2)
    return Deps(settings).credentials


@portal_group.command("add")
@click.option("--domain", required=True, help="The portal's address, e.g. example.bitrix24.ru")
@click.option("--client-id", required=True, help="The local app's client id (local.…) on that portal.")
@click.option("--client-secret", required=True, prompt=True, hide_input=True,
              help="The local app's client secret (prompted when omitted).")
@click.option("--oauth-server", default=None, help="OAuth server (default B24APP_OAUTH_SERVER).")
def add(domain: str, client_id: str, client_secret: str, oauth_server: str | None) -> None:
    """Register (or replace) the client id and secret of one portal."""
    try:
        pair = _credentials().add(domain, client_id, client_secret, oauth_server)
    except SettingsError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    click.echo(f"portal {pair.domain}: client id {pair.client_id}, OAuth server {pair.oauth_server} (secret stored "
               "encrypted)")


@portal_group.command("list")
def list_() -> None:
    """The registered portals and their client ids (never the secrets)."""
    credentials = _credentials()
    for domain in credentials.domains():
        pair = credentials.registered(domain)
        click.echo(f"{domain}\t{pair.client_id if pair else '?'}")
    default = credentials.default()
    click.echo(f"(default)\t{default.client_id if default else 'not set'}")


@portal_group.command("remove")
@click.option("--domain", required=True)
def remove(domain: str) -> None:
    """Forget a portal's pair (its installation then needs the default pair)."""
    click.echo("removed" if _credentials().remove(domain) else "not registered")
