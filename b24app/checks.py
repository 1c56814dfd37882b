"""``check_files``: every problem of ``config/`` and ``workflows/`` at once (``b24app check-config``).

App start and the provisioning command run the same checks; nothing starts on an invalid definition.
"""

from __future__ import annotations

from pathlib import Path

from b24app.workflow.config import load_org_config
from b24app.workflow.loader import check_workflows
from b24app.workflow.models import OrgConfig, Workflow
from b24app.yamlio import ConfigError, Problem


def check_files(config_dir: Path, workflows_dir: Path) -> list[Problem]:
    """All problems, sorted by file and line; an empty list means the definitions are valid."""
    org, problems = load_org_config(config_dir)
    _, found = check_workflows(workflows_dir, org)
    return sorted(problems + found)


def load_definitions(config_dir: Path, workflows_dir: Path) -> tuple[OrgConfig, list[Workflow]]:
    """The org config and the workflows, or a ConfigError listing every problem."""
    org, problems = load_org_config(config_dir)
    workflows, found = check_workflows(workflows_dir, org)
    if problems or found:
        raise ConfigError(problems + found)
    return org, workflows
