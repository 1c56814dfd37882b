"""``user.current``, ``user.get``, ``user.search`` (scope ``user``, REFERENCE §8.1).

Rows have the key set of the documented examples: ``ID`` a string, ``ACTIVE`` a JSON boolean,
``UF_DEPARTMENT`` an array of ints. ``user.get`` takes its filter under ``FILTER``, lower-case
``filter`` or as top-level keys (SPEC-GAPS), with the prefix operators of list filters; a plain
value containing ``%`` is a LIKE pattern (``{"NAME": "Iv%"}``). ``user.search`` also takes ``FIND``
(or ``NAME_SEARCH``): a substring of name, last name, position or department name. Inactive users
are returned unless ``ACTIVE`` filters them out. 50 rows a page; ``start`` pages. ``select`` names the
keys of each row (spec: "without it, every field"; masks ``*`` every field, ``UF_*`` every user field;
unknown names are skipped without an error); ``ID`` is always kept (UNVERIFIED, docs/sandbox.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from b24sandbox.filters import compile_filter, sort_rows, split_key
from b24sandbox.registry import Call, Page, method
from b24sandbox.state import PortalState, User

PAGE_SIZE = 50
_NOT_FILTERS = {"SORT", "ORDER", "START", "SELECT", "ADMIN_MODE", "IMAGE_RESIZE", "FILTER", "FIND", "AUTH"}
_REGISTERED = datetime(2024, 1, 15)


def user_row(state: PortalState, user: User) -> dict[str, Any]:
    """A ``user.get`` row (all documented keys)."""
    registered = state.iso(_REGISTERED.replace(tzinfo=state.tz))
    return {
        "ID": str(user.id), "ACTIVE": user.active, "NAME": user.name, "LAST_NAME": user.last_name,
        "SECOND_NAME": "", "EMAIL": user.email, "LAST_LOGIN": registered, "DATE_REGISTER": registered,
        "TIME_ZONE": "", "IS_ONLINE": "N", "TIMESTAMP_X": {}, "LAST_ACTIVITY_DATE": {}, "PERSONAL_GENDER": "",
        "PERSONAL_WWW": "", "PERSONAL_BIRTHDAY": "", "PERSONAL_MOBILE": "", "PERSONAL_CITY": "", "WORK_PHONE": "",
        "WORK_POSITION": user.position, "UF_EMPLOYMENT_DATE": "", "UF_DEPARTMENT": list(user.departments),
        "USER_TYPE": "employee",
    }


@method("user.current", scope="user")
def user_current(call: Call) -> dict[str, Any]:
    row = user_row(call.state, call.user)
    keep = ("ID", "ACTIVE", "NAME", "LAST_NAME", "EMAIL", "LAST_LOGIN", "DATE_REGISTER", "IS_ONLINE",
            "LAST_ACTIVITY_DATE", "PERSONAL_GENDER", "PERSONAL_BIRTHDAY", "WORK_POSITION", "UF_EMPLOYMENT_DATE",
            "UF_DEPARTMENT")
    out = {key: row[key] for key in keep}
    out["LAST_ACTIVITY_DATE"] = call.now.strftime("%Y-%m-%d %H:%M:%S")
    return out


def _filter_spec(call: Call) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for key, value in call.params.items():
        if str(key).upper() not in _NOT_FILTERS:
            spec[str(key)] = value
    for name in ("FILTER", "filter"):
        nested = call.params.get(name)
        if isinstance(nested, dict):
            spec.update({str(k): v for k, v in nested.items()})
    result: dict[str, Any] = {}
    for key, value in spec.items():
        op, field = split_key(key)
        field = field.upper()
        if op == "=" and isinstance(value, str) and "%" in value and not key.startswith("="):
            op = "=%"
        if field == "ACTIVE":
            value = str(value).upper() in ("TRUE", "Y", "1")
        result[op + field if op != "=" else field] = value
    return result


def _search_row(state: PortalState, user: User) -> dict[str, Any]:
    row = user_row(state, user)
    departments = " ".join(state.departments[d].name for d in user.departments if d in state.departments)
    row["ID"] = user.id
    row["UF_DEPARTMENT_NAME"] = departments
    row["FIND"] = " ".join((user.name, user.last_name, user.position, departments))
    row["NAME_SEARCH"] = row["FIND"]
    return row


def _resolve(name: str) -> str:
    return name.upper()


def _list(call: Call, search: bool) -> Page:
    state = call.state
    spec = _filter_spec(call)
    find = call.param("FIND")
    if find:
        spec["%FIND"] = str(find)
    fuzzy = ("NAME", "LAST_NAME", "WORK_POSITION") if search else ()
    for key in list(spec):
        op, field = split_key(key)
        if op == "=" and field in (*fuzzy, "UF_DEPARTMENT_NAME", "NAME_SEARCH"):
            spec["%" + field] = spec.pop(key)
    predicate = compile_filter(spec, _resolve)
    rows: list[Any] = [r for r in (_search_row(state, u) for u in state.users.values()) if predicate(r)]
    sort = str(call.param("sort") or "ID").upper()
    descending = str(call.param("order") or "ASC").upper() == "DESC"
    rows = sort_rows(rows, [(sort, descending)])
    start = _start(call.param("start"))
    keys = _selected(call.param("select"))
    page = [_only(user_row(state, state.users[r["ID"]]), keys) for r in rows[start: start + PAGE_SIZE]]
    following = start + PAGE_SIZE
    return Page(page, total=len(rows), next=following if following < len(rows) else None)


def _selected(value: Any) -> list[str] | None:
    """The names ``select`` asks for (None: every field)."""
    names = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    wanted = [str(n).strip().upper() for n in names if n not in (None, "")]
    return wanted or None


def _only(row: dict[str, Any], keys: list[str] | None) -> dict[str, Any]:
    if keys is None or ("*" in keys and "UF_*" in keys):
        return row
    def chosen(key: str) -> bool:
        is_uf = key.startswith("UF_")
        return key == "ID" or key in keys or ("UF_*" in keys and is_uf) or ("*" in keys and not is_uf)
    return {k: v for k, v in row.items() if chosen(k)}


def _start(value: Any) -> int:
    try:
        return max(int(str(value)), 0) if value not in (None, "") else 0
    except ValueError:
        return 0


@method("user.get", scope="user")
def user_get(call: Call) -> Page:
    return _list(call, search=False)


@method("user.search", scope="user")
def user_search(call: Call) -> Page:
    return _list(call, search=True)
