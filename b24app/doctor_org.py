"""``b24app doctor``'s organisation checks: does ``config/`` fit the portal it runs on? (issue 12, item 4)

One ``batch`` reads what the routes rely on — the app's user is an administrator (``user.admin``), the plan
has ``rest_offline_extended`` (``feature.get``), no custom task field is required (``tasks.task.getFields``:
``tasks.task.add`` would fail), the department tree and the role holders (``im.user.list.get``: missing or
deactivated) — and each problem is one line naming the role or department and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b24app.errors import B24AppError
from b24app.workflow import actors
from b24app.workflow.actors import OPERATIONS_MANAGER

if TYPE_CHECKING:
    from b24app.deps import Deps

FEATURE = "rest_offline_extended"


def check_organisation(deps: Deps, member_id: str | None, say: Callable[[str], Any]) -> bool:
    """Print one line per problem (with its fix) or one line saying all is well; True when all is well."""
    from b24app.pipeline.definitions import definitions

    if not Path(deps.settings.config_dir).is_dir():
        say(f"organisation: skipped (no {deps.settings.config_dir}/ here; run doctor where config/ lives)")
        return True
    try:
        defs = definitions(deps, member_id)
        client = deps.bitrix(member_id)
        roles = defs.org.roles
        answer = client.batch({
            "admin": ("user.admin", {}), "feature": ("feature.get", {"CODE": FEATURE}),
            "task_fields": ("tasks.task.getFields", {}), "departments": ("department.get", {}),
            "roles": ("im.user.list.get", {"ID": sorted({r.user_id for r in roles.values()}) or [0]}),
        })
    except B24AppError as exc:
        say(f"organisation: cannot be read ({exc})")
        return False
    results = answer.results
    problems = _app(results) + _roles(defs.org.roles, actors.people_from(results.get("roles")))
    table = actors.departments_from(results.get("departments"))
    problems += _departments(client, table, results.get("departments"), defs.roles,
                             actors.people_from(results.get("roles")))
    for line in problems:
        say(line)
    if not problems:
        say(f"organisation: ok ({len(roles)} roles, {len(table)} departments checked)")
    return not problems


def _app(results: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if results.get("admin") is not True:
        problems.append("app user: not a portal administrator — provisioning and event bindings need one; fix: "
                        "install (or create the webhook) as an administrator")
    feature = results.get("feature")
    if not (isinstance(feature, dict) and str(feature.get("value", "")).upper() == "Y"):
        problems.append(f"plan: offline events with confirmation ({FEATURE}) are not available — a lost event is "
                        "recovered only by the sweep's read of changed items (docs/escalation.md); fix: a plan "
                        "with them (Professional) for the full backstop")
    fields = (results.get("task_fields") or {}).get("fields") if isinstance(results.get("task_fields"), dict) else {}
    for name, spec in (fields or {}).items():
        if str(name).startswith("UF_") and isinstance(spec, dict) and spec.get("required") in (True, "Y", "true"):
            title = spec.get("title") or name
            problems.append(f"task field {name} «{title}»: required on this portal — tasks.task.add of the approval "
                            "tasks would fail; fix: make it optional in the task form settings")
    return problems


def _roles(roles: Any, people: dict[int, actors.Person]) -> list[str]:
    problems: list[str] = []
    for code, role in roles.items():
        person = people.get(role.user_id)
        if person is None:
            problems.append(f"role {code}: user #{role.user_id} does not exist on the portal; fix: put the "
                            f"right user id in config/roles.yaml (roles.{code}.user_id)")
        elif not person.active:
            problems.append(f"role {code}: user #{role.user_id} is deactivated (dismissed); fix: put the new "
                            f"holder's user id in config/roles.yaml (roles.{code}.user_id)")
    return problems


def _departments(client: Any, table: dict[int, tuple[int | None, int | None]], rows: Any,
                 roles: dict[str, int], known: dict[int, actors.Person]) -> list[str]:
    heads = sorted({h for _, h in table.values() if h and h not in known})
    people = dict(known)
    if heads:
        people.update(actors.people_from(client.call("im.user.list.get", {"ID": heads})))
    ops = roles.get(OPERATIONS_MANAGER)
    fallback = ops is not None and actors.available(people, ops) and ops in people
    names = {int(r["ID"]): str(r.get("NAME") or r["ID"]) for r in rows if isinstance(r, dict)} \
        if isinstance(rows, list) else {}
    problems: list[str] = []
    for department in sorted(table):
        chain = actors.heads_up(table, [department])
        if any(people.get(h, actors.Person(active=False)).active for h in chain) or fallback:
            continue
        problems.append(f"department {department} «{names.get(department, department)}»: no active head up the "
                        "tree and no active operations manager to fall back on; fix: appoint a head in the "
                        "portal's company structure, or an active operations_manager in config/roles.yaml")
    return problems
