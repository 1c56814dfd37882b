"""``b24app sweep`` and ``b24app digest``: run the escalation sweep / the daily digest once and print a summary.

Every portal runs on its own: a broken portal (tokens refused, a portal that is gone) is reported and the
others still run; the command exits 1 when any portal failed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from b24app.deps import Deps


def _targets(member_id: str | None) -> tuple[Deps, list[str]]:
    from b24app.cliutil import settings_or_exit
    from b24app.deps import Deps, set_current
    from b24app.portals import member_ids

    deps = Deps(settings_or_exit())
    set_current(deps)
    targets = [member_id] if member_id is not None else member_ids(deps)
    if not targets:
        click.echo("no portal: install the app, or set B24APP_WEBHOOK_URL", err=True)
        sys.exit(2)
    return deps, targets


def _each(deps: Deps, targets: list[str], run: Callable[[str], list[str]], what: str) -> None:
    """Run and print each portal's lines; a failed portal is printed too, and the exit status is 1 (a portal
    found uninstalled is printed as such and is no failure)."""
    from b24app.portals import run_each, uninstalled

    outcomes = run_each(targets, lambda target: _echo(run(target)), what, uninstalled(deps))
    for target in outcomes.removed:
        click.echo(f"{what} {target}: uninstalled (marked removed; its periodic jobs stop)")
    for target, error in outcomes.failed.items():
        click.echo(f"{what} {target or '(webhook)'}: FAILED: {type(error).__name__}: {error}", err=True)
    if outcomes.failed:
        click.echo(f"{what}: {len(outcomes.failed)} of {len(targets)} portal(s) failed", err=True)
        sys.exit(1)


def _echo(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@click.command("sweep")
@click.option("--member-id", default=None, help="Only this portal (default: every installed portal).")
@click.option("--digest/--no-digest", default=False, show_default=True,
              help="Also send the daily digest if it is due (the periodic job does).")
@click.option("-v", "--verbose", is_flag=True, help="List every notification sent.")
def sweep_command(member_id: str | None, digest: bool, verbose: bool) -> None:
    """Send the reminders and alerts that are due now (each once) and print a summary."""
    from handlers.sweep import run_sweep

    deps, targets = _targets(member_id)

    def one(target: str) -> list[str]:
        report = run_sweep(deps, target, digest=digest)
        lines = [report.summary()] + ([f"  digest: {report.digest}"] if report.digest else [])
        return lines + [f"  {line}" for line in (report.notices if verbose else [])]

    _each(deps, targets, one, "sweep")


@click.command("digest")
@click.option("--member-id", default=None, help="Only this portal (default: every installed portal).")
@click.option("--force", is_flag=True, help="Send now even before 09:30 or on a day off (still once a day).")
def digest_command(member_id: str | None, force: bool) -> None:
    """Send the operations manager's daily digest (working days from 09:30, once a day)."""
    from b24app.escalation.digest import run_digest

    deps, targets = _targets(member_id)
    _each(deps, targets, lambda target: [run_digest(deps, target, force=force).summary()], "digest")
