"""``b24sandbox`` (also ``b24app sandbox``): run the sandbox portal standalone and print where to reach it."""

from __future__ import annotations

import contextlib
import signal
import threading
from datetime import datetime
from pathlib import Path

import click

from b24sandbox.clock import SandboxClock
from b24sandbox.portal import SandboxPortal
from b24sandbox.tls import SandboxCA


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=int, help="Port (0 picks a free one).")
@click.option("--http", "plain_http", is_flag=True, help="Serve plain HTTP instead of HTTPS.")
@click.option("--org", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Organisation YAML (default: the built-in one).")
@click.option("--profile", type=click.Choice(["standard", "enterprise"]), default="standard", show_default=True,
              help="Plan: request limits 2/s burst 50, or 5/s burst 250.")
@click.option("--no-rate-limit", is_flag=True, help="Switch the leaky bucket off.")
@click.option("--no-strict", is_flag=True, help="Do not validate calls against the official schemas.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for injected faults.")
@click.option("--start-at", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
              help="Set the sandbox clock, e.g. 2026-03-02T10:00:00+0300.")
@click.option("--speed", default=1.0, show_default=True, type=float, help="Clock speed (60 = a minute per second).")
@click.option("--ca-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the CA bundle (default: a temporary folder).")
@click.option("--webhook-user", default="admin", show_default=True, help="Login to create a webhook for.")
def sandbox_command(host: str, port: int, plain_http: bool, org: Path | None, profile: str, no_rate_limit: bool,
                    no_strict: bool, seed: int, start_at: datetime | None, speed: float, ca_dir: Path | None,
                    webhook_user: str) -> None:
    """Run the sandbox Bitrix24 portal until interrupted."""
    clock = SandboxClock(start_at, speed=speed) if start_at else SandboxClock(speed=speed)
    portal = SandboxPortal(
        org=org, strict=not no_strict, tls=not plain_http, clock=clock, profile=profile, seed=seed,
        host=host, port=port, rate_limit=not no_rate_limit, ca=None if plain_http or ca_dir is None else SandboxCA(ca_dir),
    )  # without --ca-dir the portal makes its own CA and removes its temporary folder when it stops
    with portal:
        click.echo(f"Sandbox portal:  {portal.base_url}  (domain {portal.domain}, member_id {portal.member_id})")
        click.echo(f"Web UI:          {portal.ui_url}")
        click.echo(f"OAuth token URL: {portal.oauth_url}")
        if portal.ca_bundle:
            click.echo(f"CA bundle:       {portal.ca_bundle}   (export REQUESTS_CA_BUNDLE={portal.ca_bundle})")
        click.echo(f"Webhook ({webhook_user}): {portal.webhook_url(webhook_user)}")
        click.echo("Press Ctrl+C to stop.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


def main() -> None:
    """The ``b24sandbox`` console script."""
    sandbox_command()
