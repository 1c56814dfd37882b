"""``b24sandbox`` (also ``b24app sandbox``): run the sandbox portal standalone and print where to reach it."""

from __future__ import annotations

import contextlib
import signal
import threading
from datetime import datetime
from pathlib import Path

import click

from b24sandbox import install
from b24sandbox.clock import SandboxClock
from b24sandbox.localapp import env_lines
from b24sandbox.oauth import DEFAULT_SCOPES
from b24sandbox.portal import SandboxPortal
from b24sandbox.shared import SharedMaterialMissing, bitrix24_dir
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
@click.option("--app-handler-url", help="Register a local app with this handler path (the portal's Developer "
              "resources → Other → Local application form) and print its client id and secret.")
@click.option("--app-install-url", help="The local app's initial installation path (default: the handler path).")
@click.option("--app-scopes", default=",".join(DEFAULT_SCOPES), show_default=True, help="The local app's scopes.")
@click.option("--app-api-only", is_flag=True, help="The local app \"uses only API\" (no install page).")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the local app's B24APP_CLIENT_ID/SECRET, B24APP_OAUTH_SERVER and REQUESTS_CA_BUNDLE here.")
def sandbox_command(host: str, port: int, plain_http: bool, org: Path | None, profile: str, no_rate_limit: bool,
                    no_strict: bool, seed: int, start_at: datetime | None, speed: float, ca_dir: Path | None,
                    webhook_user: str, app_handler_url: str | None, app_install_url: str | None, app_scopes: str,
                    app_api_only: bool, env_file: Path | None) -> None:
    """Run the sandbox Bitrix24 portal until interrupted."""
    if env_file and not app_handler_url:
        raise click.UsageError("--env-file needs --app-handler-url (the local app whose credentials it holds)")
    if not no_strict:
        try:  # strict mode validates every call against the official schemas: find them before serving
            bitrix24_dir()
        except SharedMaterialMissing as exc:
            raise click.ClickException(f"{exc} (or pass --no-strict to skip validating calls)") from exc
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
        if app_handler_url:
            _register_app(portal, app_handler_url, app_install_url or app_handler_url,
                          [s.strip() for s in app_scopes.split(",") if s.strip()], app_api_only, env_file)
        click.echo("Press Ctrl+C to stop.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


def _register_app(portal: SandboxPortal, handler_url: str, install_url: str, scopes: list[str], api_only: bool,
                  env_file: Path | None) -> None:
    try:
        app = install.register(portal, handler_url, install_url, scopes, "api" if api_only else "ui")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--app-scopes") from None
    click.echo(f"Local app:       client id {app.client_id}, handler {handler_url}, scopes {','.join(app.scopes)}")
    lines = env_lines(portal, app)
    for line in lines:
        click.echo(f"  export {line}")
    if env_file:
        env_file.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        env_file.chmod(0o600)
        click.echo(f"  (written to {env_file})")
    click.echo(f"Install it:      open {portal.ui_url}app and press the button, as the administrator would, or")
    click.echo(f"                 curl -sS --cacert {portal.ca_bundle} -X POST '{portal.ui_url}app/open?format=json'"
               if portal.ca_bundle else f"                 curl -sS -X POST '{portal.ui_url}app/open?format=json'")


def main() -> None:
    """The ``b24sandbox`` console script."""
    sandbox_command()
