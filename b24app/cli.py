"""The ``b24app`` console command (a plain click group: no command needs Flask's app context).

Subcommands: ``check-config``, ``serve``, ``worker``, ``doctor`` (here), and ``sandbox``, ``provision``,
``telegram``, ``scenario``, ``demo``, ``sweep``, ``digest`` from their packages. ``python -m b24app.cli``
works too.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from b24app import __version__
from b24app import queue as queues
from b24app.cliutil import settings_or_exit
from b24app.demo import demo_command
from b24app.errors import B24AppError, SettingsError
from b24app.log import setup_logging
from b24app.provisioning.cli import provision_command
from b24app.sandbox.cli import sandbox_command
from b24app.scenario.cli import scenario_group
from b24app.settings import Settings, load_settings
from b24app.sweep_cli import digest_command, sweep_command
from b24app.telegram.cli import telegram_group
from b24app.yamlio import Problem

log = logging.getLogger(__name__)

REQUIRED_SCOPES = ("crm", "task", "user", "department", "im", "placement", "disk", "userfieldconfig")


@click.group(name="b24app", help="Bitrix24 payment-request and contract approval app.")
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
    setup_logging(settings.log_level)
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
    """Run an RQ worker on the app's queues, with the scheduler for delayed jobs and retries."""
    settings = settings_or_exit()
    _require_redis(settings)
    _definitions_or_exit(settings)
    setup_logging(settings.log_level)
    from rq import Worker

    from b24app.deps import Deps, set_current

    deps = Deps(settings)
    set_current(deps)
    worker_ = Worker([deps.queue(name) for name in queues.ALL_QUEUES], connection=deps.redis)
    worker_.work(burst=burst, with_scheduler=True)


@cli.command("doctor")
def doctor() -> None:
    """Connect to the configured portal and report identity, scopes, Redis and the REST budget."""
    settings = settings_or_exit()
    from b24app.doctor import run_doctor

    ok = run_doctor(settings, REQUIRED_SCOPES, click.echo)
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


cli.add_command(sandbox_command, "sandbox")
cli.add_command(provision_command, "provision")
cli.add_command(telegram_group, "telegram")
cli.add_command(scenario_group, "scenario")
cli.add_command(demo_command, "demo")
cli.add_command(sweep_command, "sweep")
cli.add_command(digest_command, "digest")


def main() -> None:
    try:
        cli.main(prog_name="b24app")
    except B24AppError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
