"""The definitions every item's processing needs (workflows, roles, calendar, deadline rules), loaded once
per process and portal, and the portal's names of a workflow's type, stages and fields (``MappingCache``)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from b24app.checks import load_definitions
from b24app.deadlines import DeadlineRules
from b24app.portal_config import PORTALS, ConfigDir, portal_dir
from b24app.provisioning.mapping import MappingCache
from b24app.workflow.models import OrgConfig, Workflow
from b24app.workflow.snapshot import ItemNames
from b24app.worktime import WorkCalendar

if TYPE_CHECKING:
    from b24app.deps import Deps


@dataclass(frozen=True)
class Definitions:
    org: OrgConfig
    workflows: Mapping[str, Workflow]
    calendar: WorkCalendar
    deadlines: DeadlineRules

    @property
    def roles(self) -> dict[str, int]:
        return {code: role.user_id for code, role in self.org.roles.items()}


_definitions: dict[tuple[str, str, str], Definitions] = {}
_portal_dirs: dict[tuple[str, str], ConfigDir] = {}
_definitions_lock = threading.Lock()


def definitions(deps: Deps, member_id: str | None = None) -> Definitions:
    """The definitions of a portal: its own ``config/portals/<member_id or domain>/`` files over the shared
    ``config/`` (:mod:`b24app.portal_config`); the shared ones without ``member_id``."""
    config_dir, workflows_dir = config_for(deps, member_id), Path(deps.settings.workflows_dir)
    key = (str(config_dir.shared.resolve()), str(config_dir.own.resolve()) if config_dir.own else "",
           str(workflows_dir.resolve()))
    with _definitions_lock:
        if key not in _definitions:
            org, workflows = load_definitions(config_dir, workflows_dir)
            calendar_file, deadlines_file = config_dir / "calendar.yaml", config_dir / "deadlines.yaml"
            calendar = WorkCalendar.from_config(calendar_file) if calendar_file.exists() else WorkCalendar.default()
            deadlines = DeadlineRules.load(deadlines_file, calendar) if deadlines_file.exists() \
                else DeadlineRules(calendar)
            _definitions[key] = Definitions(org, {w.code: w for w in workflows}, calendar, deadlines)
        return _definitions[key]


def config_for(deps: Deps, member_id: str | None) -> ConfigDir:
    """The portal's layered config folder (found once per process: by member id, else by its domain)."""
    shared = Path(deps.settings.config_dir)
    if not member_id or not (shared / PORTALS).is_dir():
        return ConfigDir(shared)
    key = (str(shared), member_id)
    with _definitions_lock:
        found = _portal_dirs.get(key)
    if found is None:
        installation = deps.installations.find(member_id)
        found = portal_dir(shared, member_id, installation.domain if installation else None)
        if installation is not None or found.own is not None:  # a domain folder counts once it is known
            with _definitions_lock:
                _portal_dirs[key] = found
    return found


def item_names(deps: Deps, member_id: str, workflow_code: str) -> ItemNames:
    defs = definitions(deps, member_id)
    mapping = MappingCache(deps.redis, member_id).load(deps.bitrix(member_id), list(defs.workflows.values()))
    t = mapping.types[workflow_code]
    return ItemNames(t.code, t.entity_type_id, t.type_id, t.category_id, dict(t.stages), dict(t.fields))


def workflow_code_for(deps: Deps, member_id: str, entity_type_id: int) -> str | None:
    defs = definitions(deps, member_id)
    mapping = MappingCache(deps.redis, member_id).load(deps.bitrix(member_id), list(defs.workflows.values()))
    found = mapping.by_entity_type(entity_type_id)
    return found.code if found is not None else None
