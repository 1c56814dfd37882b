"""Reading the parts of ``config/`` that workflows refer to: roles, absences and list values.

``config/roles.yaml`` maps role names to Bitrix24 user ids; ``config/expense_items.yaml`` holds the
values of the expense item list (``values_from: expense_items`` in a workflow). Every problem is
collected with file and line.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from b24app.portal_config import ConfigDir
from b24app.workflow.models import Absence, EnumValue, Label, OrgConfig, Role
from b24app.workflow.schema import Reader
from b24app.yamlio import ConfigError, LocatedDict, Problem, load

ROLES_FILE = "roles.yaml"
LIST_FILES = {"expense_items": "expense_items.yaml"}
CODE = r"[A-Z][A-Z0-9_]{0,39}"
ROLE = r"[a-z][a-z0-9_]{0,39}"


def load_org_config(config_dir: Path | ConfigDir) -> tuple[OrgConfig, list[Problem]]:
    """Read roles and lists (a portal's own files over the shared ones, :mod:`b24app.portal_config`);
    returns what could be read and every problem found."""
    problems: list[Problem] = []
    roles, absences = _roles(config_dir / ROLES_FILE, problems)
    lists = {name: _list(config_dir / file, name, problems) for name, file in LIST_FILES.items()}
    return OrgConfig(roles=roles, absences=absences, lists=lists), problems


def _read(path: Path, problems: list[Problem]) -> LocatedDict | None:
    try:
        data = load(path)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(data, LocatedDict):
        problems.append(Problem(str(path), 1, "the file must be a mapping of keys at the top level"))
        return None
    return data


def _roles(path: Path, problems: list[Problem]) -> tuple[dict[str, Role], tuple[Absence, ...]]:
    data = _read(path, problems)
    if data is None:
        return {}, ()
    reader = Reader(str(path))
    reader.keys(data, "roles.yaml", ("roles",), ("absences",))
    roles: dict[str, Role] = {}
    table = reader.mapping(data.get("roles"), data, "roles", "'roles'") if "roles" in data else None
    for code, value in (table or {}).items():
        entry = reader.mapping(value, table, code, f"role {code!r}") if table is not None else None
        if entry is None:
            continue
        if not isinstance(code, str) or not _matches(ROLE, code):
            reader.add(table, f"role name {code!r}: use lower-case letters, digits and '_' (e.g. finance_manager)",
                       str(code))
        reader.keys(entry, f"role {code!r}", ("user_id",), ("name",))
        user_id = reader.integer(entry, "user_id", f"role {code!r}") if "user_id" in entry else None
        name = reader.label(entry, "name", f"role {code!r}")
        if user_id is not None and user_id <= 0:
            reader.add(entry, f"role {code!r}: user_id must be a Bitrix24 user id (1 or more)", "user_id")
        elif user_id is not None:
            roles[str(code)] = Role(str(code), user_id, name or _no_label(str(code)))
    absences = tuple(_absence(reader, item) for item in reader.items(data, "absences", "roles.yaml"))
    problems.extend(reader.problems)
    return roles, tuple(a for a in absences if a is not None)


def _absence(reader: Reader, item: Any) -> Absence | None:
    if not isinstance(item, LocatedDict):
        reader.add(None, "each absence must be a mapping {user_id, from, to, substitute_id}")
        return None
    reader.keys(item, "absence", ("user_id", "from", "to", "substitute_id"), ())
    user, substitute = reader.integer(item, "user_id", "absence"), reader.integer(item, "substitute_id", "absence")
    start, end = item.get("from"), item.get("to")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        reader.add(item, "absence: 'from' and 'to' must be dates like 2026-07-01", "from")
        return None
    if end < start:
        reader.add(item, "absence: 'to' is before 'from'; swap them", "to")
    if user is None or substitute is None:
        return None
    return Absence(user, start.isoformat(), end.isoformat(), substitute)


def _list(path: Path, name: str, problems: list[Problem]) -> tuple[EnumValue, ...]:
    data = _read(path, problems)
    if data is None:
        return ()
    reader = Reader(str(path))
    reader.keys(data, path.name, (name,), ())
    values: list[EnumValue] = []
    seen: set[str] = set()
    for item in reader.items(data, name, path.name):
        if not isinstance(item, LocatedDict):
            reader.add(data, f"each entry of {name!r} must be a mapping {{code, name: {{ru, en}}}}", name)
            continue
        reader.keys(item, f"{name} entry", ("code", "name"), ())
        code = reader.string(item, "code", f"{name} entry", CODE, "use upper-case letters, digits and '_'")
        label = reader.label(item, "name", f"{name} entry")
        if code in seen:
            reader.add(item, f"{name}: the code {code!r} is listed twice; codes must be unique", "code")
        elif code and label:
            seen.add(code)
            values.append(EnumValue(code, label))
    if not values and not reader.problems:
        reader.add(data, f"{name!r} is empty; list at least one value", name)
    problems.extend(reader.problems)
    return tuple(values)


def _matches(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


def _no_label(code: str) -> Label:
    return Label(code, code)
