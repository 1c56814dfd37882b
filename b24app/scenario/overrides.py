"""A scenario's own ``config:`` block: settings of ``config/`` that hold for that run only.

Two keys: ``absences`` — who is away, when, and who stands in (issue 6, item 6) — and ``checks`` — the
payment workflow's ``checks:`` modes for this run (issue 16: ``warn`` or ``block``)::

    config:
      absences:
        - {user: m.orlova, from: 2026-03-01, to: 2026-03-10, substitute: d.petrov}
      checks: {contract: block, duplicates: block}

:func:`parse_config` reads the block (logins checked against the organisation, dates as
``YYYY-MM-DD``, both ends inclusive). :func:`config_copy` writes a temporary copy of ``config/`` whose
``roles.yaml`` lists those absences with the people's user ids (``absences: [{user_id, from, to,
substitute_id}]``, the shape the app reads) — the app under test reads that copy, the shipped
``config/`` is never touched.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from b24app.scenario import model as m
from b24app.scenario.values import Values
from b24app.workflow.config import ROLES_FILE
from b24app.yamlio import LocatedDict

CONFIG_KEYS = ("absences", "checks")
CHECK_KEYS = ("contract", "duplicates")
_ABSENCE_KEYS = ("user", "from", "to", "substitute")


def parse_config(values: Values, data: LocatedDict) -> tuple[m.AbsenceSpec, ...]:
    """The scenario's ``config: absences``; problems go to ``values.r`` with file and line."""
    body = _config(values, data)
    if body is None:
        return ()
    found = [_absence(values, item, body) for item in values.r.items(body, "absences", "the scenario's 'config'")]
    return tuple(a for a in found if a is not None)


def _config(values: Values, data: LocatedDict) -> LocatedDict | None:
    if "config" not in data:
        return None
    what = "the scenario's 'config'"
    body = values.r.mapping(data["config"], data, "config", what)
    if body is not None:
        values.r.keys(body, what, (), CONFIG_KEYS)
    return body


def parse_checks(values: Values, data: LocatedDict) -> dict[str, str]:
    """The scenario's ``config: checks`` — {contract|duplicates: warn|block}."""
    body = _config(values, data) if isinstance(data.get("config"), LocatedDict) else None
    if body is None or "checks" not in body:
        return {}
    what = "config: checks"
    checks = values.r.mapping(body["checks"], body, "checks", what)
    if checks is None:
        return {}
    values.r.keys(checks, what, (), CHECK_KEYS)
    found: dict[str, str] = {}
    for key in CHECK_KEYS:
        if key in checks:
            if checks[key] not in ("warn", "block"):
                values.r.add(checks, f"{what}: {key!r} is warn or block, not {checks[key]!r}", key)
            else:
                found[key] = str(checks[key])
    return found


@contextmanager
def workflows_copy(source: Path, workflow: str, checks: dict[str, str]) -> Iterator[Path]:
    """``source`` itself when the checks stay; else a temporary copy of ``workflows/`` whose ``workflow``
    file has its ``checks:`` modes replaced. Removed afterwards."""
    if not checks:
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="b24app-scenario-workflows-") as folder:
        target = Path(folder) / "workflows"
        shutil.copytree(source, target)
        for path in target.glob("*.yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("code") == workflow and isinstance(data.get("checks"), dict):
                data["checks"].update(checks)
                path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        yield target


def _absence(values: Values, item: Any, parent: LocatedDict) -> m.AbsenceSpec | None:
    what = "config: absence"
    if not isinstance(item, LocatedDict):
        values.r.add(parent, f"{what}: each entry is {{user, from, to, substitute}}", "absences")
        return None
    values.r.keys(item, what, _ABSENCE_KEYS, ())
    login, substitute = values.login(item, "user", what), values.login(item, "substitute", what)
    start, end = _date(values, item, "from", what), _date(values, item, "to", what)
    if start and end and end < start:
        values.r.add(item, f"{what}: 'to' ({end}) is before 'from' ({start})", "to")
        return None
    if login and substitute and login == substitute:
        values.r.add(item, f"{what}: {login} cannot stand in for themselves", "substitute")
        return None
    if not (login and substitute and start and end):
        return None
    return m.AbsenceSpec(m.Where(item.file, item.line), login, start, end, substitute)


def _date(values: Values, body: LocatedDict, key: str, what: str) -> date | None:
    value = body.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if key in body:
        values.r.add(body, f"{what}: {key!r} must be a date like 2026-03-01, not {value!r}", key)
    return None


@contextmanager
def config_copy(source: Path, absences: tuple[m.AbsenceSpec, ...],
                user_id: Callable[[str], int]) -> Iterator[Path]:
    """``source`` itself when there is nothing to change; else a temporary copy with the absences
    added to ``roles.yaml`` (``user_id`` turns a login into the portal's user id). Removed afterwards."""
    if not absences:
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="b24app-scenario-config-") as folder:
        target = Path(folder) / "config"
        shutil.copytree(source, target)
        write_absences(target / ROLES_FILE, absences, user_id)
        yield target


def write_absences(roles_file: Path, absences: tuple[m.AbsenceSpec, ...], user_id: Callable[[str], int]) -> None:
    """Add the absences to a ``roles.yaml`` (after any it already lists)."""
    data = yaml.safe_load(roles_file.read_text(encoding="utf-8")) if roles_file.exists() else None
    data = data if isinstance(data, dict) else {}
    listed = list(data.get("absences") or [])
    listed += [{"user_id": user_id(a.login), "from": a.start, "to": a.end, "substitute_id": user_id(a.substitute)}
               for a in absences]
    data["absences"] = listed
    roles_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
