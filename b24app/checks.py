"""``check_files``: every problem of ``config/`` and ``workflows/`` at once (``b24app check-config``).

``config/`` holds the org config (``roles.yaml``, ``expense_items.yaml``), the working calendar
(``calendar.yaml``, :mod:`b24app.worktime`) and the deadline rules (``deadlines.yaml``,
:mod:`b24app.deadlines`); each is checked when present, with file and line.

App start and the provisioning command run the same checks; nothing starts on an invalid definition.
"""

from __future__ import annotations

from pathlib import Path

from b24app import deadlines, worktime_config
from b24app.workflow.config import load_org_config
from b24app.workflow.loader import check_workflows
from b24app.workflow.models import OrgConfig, Workflow
from b24app.yamlio import ConfigError, Problem


def check_files(config_dir: Path, workflows_dir: Path) -> list[Problem]:
    """All problems, sorted by file and line; an empty list means the definitions are valid."""
    org, problems = load_org_config(config_dir)
    _, found = check_workflows(workflows_dir, org)
    return sorted(problems + found + check_time_config(config_dir))


def check_time_config(config_dir: Path) -> list[Problem]:
    """Problems of ``calendar.yaml`` and ``deadlines.yaml`` (each only when the file exists)."""
    if (config_dir / "deadlines.yaml").exists():
        return deadlines.check(config_dir)  # checks calendar.yaml too: the rules are read on that calendar
    calendar = config_dir / "calendar.yaml"
    return worktime_config.check_calendar(calendar) if calendar.exists() else []


def load_definitions(config_dir: Path, workflows_dir: Path) -> tuple[OrgConfig, list[Workflow]]:
    """The org config and the workflows, or a ConfigError listing every problem."""
    org, problems = load_org_config(config_dir)
    workflows, found = check_workflows(workflows_dir, org)
    found += check_time_config(config_dir)
    if problems or found:
        raise ConfigError(sorted(problems + found))
    return org, workflows
