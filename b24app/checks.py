"""``check_files``: every problem of ``config/`` and ``workflows/`` at once (``b24app check-config``).

``config/`` holds the org config (``roles.yaml``, ``expense_items.yaml``), the working calendar
(``calendar.yaml``, :mod:`b24app.worktime`), the deadline rules (``deadlines.yaml``,
:mod:`b24app.deadlines`) and the bank exchange (``bank.yaml``, :mod:`b24app.bank.config`); each is
checked when present, with file and line.

A hosted deployment may give a portal its own files in ``config/portals/<member_id or domain>/``
(:mod:`b24app.portal_config`); ``check_files`` checks each such folder laid over the shared one.

App start and the provisioning command run the same checks; nothing starts on an invalid definition.
"""

from __future__ import annotations

from pathlib import Path

from b24app import deadlines, worktime_config
from b24app.portal_config import ConfigDir, portal_dirs
from b24app.workflow.config import load_org_config
from b24app.workflow.loader import check_workflows
from b24app.workflow.models import OrgConfig, Workflow
from b24app.yamlio import ConfigError, Problem


def check_files(config_dir: Path, workflows_dir: Path) -> list[Problem]:
    """All problems of the shared config and of every portal's own folder, sorted by file and line
    (each once); an empty list means the definitions are valid."""
    problems = set(_problems(config_dir, workflows_dir))
    for layered in portal_dirs(config_dir):
        problems.update(_problems(layered, layered.workflows(workflows_dir)))
    return sorted(problems)


def _problems(config_dir: Path | ConfigDir, workflows_dir: Path) -> list[Problem]:
    org, problems = load_org_config(config_dir)
    _, found = check_workflows(workflows_dir, org)
    return problems + found + check_time_config(config_dir) + _bank(config_dir, org)


def _bank(config_dir: Path | ConfigDir, org: OrgConfig) -> list[Problem]:
    from b24app.bank.config import BANK_FILE, check_bank_config

    path = config_dir / BANK_FILE
    return check_bank_config(path, set(org.roles)) if path.exists() else []


def check_time_config(config_dir: Path | ConfigDir) -> list[Problem]:
    """Problems of ``calendar.yaml`` and ``deadlines.yaml`` (each only when the file exists)."""
    if (config_dir / "deadlines.yaml").exists():
        return deadlines.check(config_dir)  # checks calendar.yaml too: the rules are read on that calendar
    calendar = config_dir / "calendar.yaml"
    return worktime_config.check_calendar(calendar) if calendar.exists() else []


def load_definitions(config_dir: Path | ConfigDir, workflows_dir: Path) -> tuple[OrgConfig, list[Workflow]]:
    """The org config and the workflows, or a ConfigError listing every problem (a portal's layered
    config reads its own ``workflows/`` when it has one)."""
    org, problems = load_org_config(config_dir)
    if isinstance(config_dir, ConfigDir):
        workflows_dir = config_dir.workflows(workflows_dir)
    workflows, found = check_workflows(workflows_dir, org)
    found += check_time_config(config_dir)
    if problems or found:
        raise ConfigError(sorted(problems + found))
    return org, workflows
