"""``b24app provision [--apply] [--allow-delete]``: show the plan; carry it out when asked.

The command reads settings (``B24APP_PUBLIC_URL``, the portal's credentials), checks ``config/`` and
``workflows/`` (nothing happens on an invalid definition), builds the client through ``b24app.deps``
and calls :func:`provision` — the same function the tests call.
"""

from __future__ import annotations

import sys

import click

from b24app.checks import load_definitions
from b24app.cliutil import settings_or_exit
from b24app.deps import Deps
from b24app.errors import PortalNotConfigured
from b24app.portal_choice import choose
from b24app.provisioning.apply import Report, provision
from b24app.provisioning.mapping import MappingCache
from b24app.yamlio import ConfigError

__all__ = ["Report", "provision", "provision_command"]


@click.command("provision")
@click.option("--apply", "apply_", is_flag=True, help="Carry the plan out (default: only print it).")
@click.option("--allow-delete", is_flag=True, help="Also delete what the workflows no longer list.")
@click.option("--member-id", default=None, help="The portal to provision (default: the only installation; "
              "`b24app doctor` lists them).")
def provision_command(apply_: bool, allow_delete: bool, member_id: str | None) -> None:
    """Compare the portal with workflows/ and print the plan; --apply carries it out."""
    settings = settings_or_exit()
    if not settings.public_url:
        click.echo("environment: set B24APP_PUBLIC_URL to the app's public https URL (events and widgets "
                   "point at it)", err=True)
        sys.exit(2)
    try:
        _, workflows = load_definitions(settings.config_dir, settings.workflows_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing was sent to the portal", err=True)
        sys.exit(2)
    deps = Deps(settings)
    member_id = _portal_or_exit(deps, member_id)
    report = provision(deps.bitrix(member_id), workflows, settings.public_url, apply_, allow_delete)
    click.echo(report.render())
    if report.applied and settings.redis_url:
        _forget_mapping(deps, member_id)
    sys.exit(0 if report.ok else 1)



def _portal_or_exit(deps: Deps, member_id: str | None) -> str:
    """Provisioning binds events and widgets: it needs an installation of the local app, never a webhook."""
    if not deps.settings.redis_url:
        click.echo("environment: set B24APP_REDIS_URL to the Redis of b24app serve and worker (the installations "
                   "live there)", err=True)
        sys.exit(2)
    try:
        return choose(deps, member_id)
    except PortalNotConfigured as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def _forget_mapping(deps: Deps, member_id: str) -> None:
    """The cached code -> id mapping may be stale after changes: drop it (it is re-read on next use)."""
    MappingCache(deps.redis, member_id).invalidate()
