"""``b24app sweep`` and ``b24app digest``: run the escalation sweep / the daily digest once and print a summary."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from b24app.deps import Deps


def _targets(member_id: str | None) -> tuple[Deps, list[str]]:
    from b24app.cliutil import settings_or_exit
    from b24app.deps import Deps, set_current
    from b24app.escalation_jobs import member_ids

    deps = Deps(settings_or_exit())
    set_current(deps)
    targets = [member_id] if member_id is not None else member_ids(deps)
    if not targets:
        click.echo("no portal: install the app, or set B24APP_WEBHOOK_URL", err=True)
        sys.exit(2)
    return deps, targets


@click.command("sweep")
@click.option("--member-id", default=None, help="Only this portal (default: every installed portal).")
@click.option("--digest/--no-digest", default=False, show_default=True,
              help="Also send the daily digest if it is due (the periodic job does).")
@click.option("-v", "--verbose", is_flag=True, help="List every notification sent.")
def sweep_command(member_id: str | None, digest: bool, verbose: bool) -> None:
    """Send the reminders and alerts that are due now (each once) and print a summary."""
    from handlers.sweep import run_sweep

    deps, targets = _targets(member_id)
    for target in targets:
        report = run_sweep(deps, target, digest=digest)
        click.echo(report.summary())
        if report.digest:
            click.echo(f"  digest: {report.digest}")
        for line in report.notices if verbose else []:
            click.echo(f"  {line}")


@click.command("digest")
@click.option("--member-id", default=None, help="Only this portal (default: every installed portal).")
@click.option("--force", is_flag=True, help="Send now even before 09:30 or on a day off (still once a day).")
def digest_command(member_id: str | None, force: bool) -> None:
    """Send the operations manager's daily digest (working days from 09:30, once a day)."""
    from handlers.digest import run_digest

    deps, targets = _targets(member_id)
    for target in targets:
        click.echo(run_digest(deps, target, force=force).summary())
