"""The ``b24app`` console command (a plain click group: no command needs Flask's app context).

Subcommands: ``check-config``, ``serve``, ``worker``, ``doctor`` (here), and ``sandbox``, ``provision``,
``telegram``, ``scenario``, ``demo``, ``sweep``, ``digest`` from their packages, each imported only when
it runs (``LAZY_COMMANDS``). ``python -m b24app.cli`` works too.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path

import click

from b24app import __version__
from b24app.cliutil import settings_or_exit
from b24app.errors import B24AppError, SettingsError, with_tls_hint
from b24app.log import setup_logging
from b24app.settings import Settings, load_settings
from b24app.yamlio import Problem

log = logging.getLogger(__name__)

REQUIRED_SCOPES = ("crm", "task", "user", "department", "im", "placement", "disk", "userfieldconfig")


# Subcommands that live in their own packages, imported only when that subcommand runs (or its help is
# shown): a production process never loads the sandbox, the scenario runner or the Telegram bot library
# for a command it does not run.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "sandbox": ("b24sandbox.cli", "sandbox_command", "Run the sandbox portal standalone (the sandbox extra)."),
    "provision": ("b24app.provisioning.cli", "provision_command", "Compare the portal with workflows/."),
    "telegram": ("b24app.telegram.cli", "telegram_group", "The Telegram bot: webhook or polling."),
    "scenario": ("b24app.scenario.cli", "scenario_group", "Scenario files on a fresh sandbox portal."),
    "demo": ("b24app.demo", "demo_command", "The demo on the embedded sandbox portal."),
    "sweep": ("b24app.escalation.cli", "sweep_command", "Run the escalation sweep once."),
    "digest": ("b24app.escalation.cli", "digest_command", "Send the daily digest once."),
    "portal": ("b24app.portal_cli", "portal_group", "Per-portal app credentials (client id and secret)."),
    "bank": ("b24app.bank.cli", "bank_group", "Payment orders to the bank and statements back."),
}


class LazyGroup(click.Group):
    """A click group whose listed subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, attr, _ = LAZY_COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in ("b24sandbox", "trustme"):
                raise click.ClickException(
                    f"`b24app {cmd_name}` needs the sandbox: pip install -e \".[sandbox]\"") from exc
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, LAZY_COMMANDS[name][2] if name in LAZY_COMMANDS
                 else self.commands[name].get_short_help_str(limit=limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(name="b24app", cls=LazyGroup, help="Bitrix24 payment-request and contract approval app.")
@click.version_option(__version__, prog_name="b24app")
def cli() -> None:
    pass



@cli.command("check-config")
def check_config() -> None:
    """Check settings, config/ and workflows/; print every problem as file:line: message."""
    env_problems: list[str] = []
    try:
        settings = load_settings()
        config_dir, workflows_dir = settings.config_dir, settings.workflows_dir
    except SettingsError as exc:
        env_problems = exc.problems
        config_dir = Path(os.environ.get("B24APP_CONFIG_DIR") or "config")
        workflows_dir = Path(os.environ.get("B24APP_WORKFLOWS_DIR") or "workflows")
    problems = sorted(set(_file_problems(config_dir, workflows_dir)))
    for env_problem in env_problems:
        click.echo(f"environment: {env_problem}")
    for problem in problems:
        click.echo(str(problem))
    if env_problems or problems:
        click.echo(f"{len(env_problems) + len(problems)} problem(s) found", err=True)
        sys.exit(2)
    click.echo(f"OK: settings, {config_dir}/ and {workflows_dir}/ are valid")
    for line in process_needs(settings):
        click.echo(line)


def process_needs(settings: Settings) -> list[str]:
    """Which settings ``serve``, ``worker`` and ``cron`` need, and which of them are missing."""
    redis_url = ("B24APP_REDIS_URL", bool(settings.redis_url), "required")
    public = ("B24APP_PUBLIC_URL", bool(settings.public_url), "events and widgets are registered at it")
    pair = ("B24APP_CLIENT_ID/B24APP_CLIENT_SECRET", settings.portal_mode == "oauth",
            "installs are held until they are set (or `b24app portal add`)")
    needs = {"serve": (redis_url, public, pair), "worker": (redis_url, public, pair), "cron": (redis_url,)}
    lines = []
    for process, settings_needed in needs.items():
        missing = [f"{name} ({why})" for name, present, why in settings_needed if not present]
        names = ", ".join(name for name, _, _ in settings_needed)
        lines.append(f"{process}: needs {names} — " + (f"missing: {'; '.join(missing)}" if missing else "all set"))
    return lines


def _file_problems(config_dir: Path, workflows_dir: Path) -> list[Problem]:
    from b24app.checks import check_files

    return check_files(config_dir, workflows_dir)


@cli.command("serve")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8000, show_default=True, envvar="PORT", type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes.")
def serve(dev: bool, host: str, port: int, workers: int) -> None:
    """Run the web app (gunicorn; the Flask server with --dev)."""
    settings = settings_or_exit()
    _require_redis(settings)
    _definitions_or_exit(settings)
    setup_logging(settings.log_level, settings.log_format)
    from b24app.web import create_app

    app = create_app(settings)
    if dev:
        from werkzeug.serving import run_simple

        run_simple(host, port, app, use_reloader=False, threaded=True)
        return
    from b24app.web.gunicorn import run_gunicorn

    run_gunicorn(app, bind=f"{host}:{port}", workers=workers)


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker on the app's queues, with the scheduler for delayed jobs and retries; it waits for
    Redis and reconnects when Redis goes away (see docs/operations.md)."""
    settings = settings_or_exit()
    _require_redis(settings)
    _definitions_or_exit(settings)
    setup_logging(settings.log_level, settings.log_format)
    from b24app.deps import Deps, set_current
    from b24app.worker import run_worker

    deps = Deps(settings)
    set_current(deps)
    run_worker(deps.redis, burst=burst)


@cli.command("doctor")
@click.option("--member-id", default=None, help="Only this portal, with the configuration it uses (default: every "
              "installation, listed first).")
def doctor(member_id: str | None) -> None:
    """List the installations and check each portal: identity, scopes, config, Redis, the REST budget and
    whether the organisation in config/ fits the portal (roles, departments, plan, task fields)."""
    settings = settings_or_exit()
    from b24app.doctor import run_doctor

    ok = run_doctor(settings, REQUIRED_SCOPES, click.echo, member_id)
    sys.exit(0 if ok else 1)


def _definitions_or_exit(settings: Settings) -> None:
    """Nothing starts on an invalid definition: the same checks as ``check-config``."""
    problems = _file_problems(settings.config_dir, settings.workflows_dir)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo("refusing to start: run `b24app check-config` and fix the problems above", err=True)
        sys.exit(2)


def _require_redis(settings: Settings) -> None:
    try:
        settings.require_redis()
    except SettingsError as exc:
        click.echo(f"environment: {exc.problems[0]}", err=True)
        sys.exit(2)


def main() -> None:
    try:
        cli.main(prog_name="b24app")
    except B24AppError as exc:
        click.echo(f"error: {with_tls_hint(str(exc))}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
