"""What every ``b24app`` subcommand shares: settings, or every problem printed and exit status 2."""

from __future__ import annotations

import sys

import click

from b24app.errors import SettingsError
from b24app.settings import Settings, load_settings


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            click.echo(f"environment: {problem}", err=True)
        sys.exit(2)
