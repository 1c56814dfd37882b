"""Provisioning against a fresh sandbox portal over HTTPS, with the real REST client and the app's own
OAuth authorisation. The sandbox runs in strict mode: the fixture fails a test on any schema violation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from b24app.checks import load_definitions
from b24app.provisioning.apply import DONE, FAILED, NOT_DONE, SKIPPED, UNKNOWN, apply_plan, provision, rebind
from b24app.provisioning.desired import desired_state
from b24app.provisioning.observed import observe
from b24app.provisioning.plan import Action, make_plan
from b24app.workflow.models import Workflow
from tests.provisioning.conftest import PUBLIC_URL, ROOT, Installed

PR, CT = 1100, 1102
READ_METHODS = {"batch", "crm.type.getbyentitytypeid", "crm.category.list", "event.get", "placement.get",
                "crm.status.list", "userfieldconfig.list", "userfieldconfig.get"}


def methods_since(installed: Installed, start: int) -> list[str]:
    return [call.method.lower() for call in installed.portal.calls[start:]]


def stages_of(installed: Installed, etid: int) -> list[tuple[str, str, str | None]]:
    category = installed.client.call("crm.category.list", {"entityTypeId": etid})["categories"][0]["id"]
    rows = installed.client.call("crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_{etid}_STAGE_{category}"},
                                                     "order": {"SORT": "ASC"}})
    return [(row["STATUS_ID"].rpartition(":")[2], row["NAME"], row["SEMANTICS"] or None) for row in rows]


def test_plan_apply_then_an_empty_plan_with_reads_only(installed: Installed, workflows: list[Workflow]) -> None:
    start = len(installed.portal.calls)
    dry = provision(installed.client, workflows, PUBLIC_URL)
    assert not dry.applied and not dry.plan.empty
    assert "+ type payment_requests: entityTypeId 1100" in dry.render()
    assert set(methods_since(installed, start)) <= READ_METHODS  # a plan alone changes nothing

    report = provision(installed.client, workflows, PUBLIC_URL, apply=True)
    assert report.ok, report.render()
    assert report.count(DONE) == len(report.plan.changes)
    pr = installed.client.call("crm.type.getByEntityTypeId", {"entityTypeId": PR})["type"]
    assert pr["title"] == "Согласование заявок на оплату"
    assert (pr["isUseInUserfieldEnabled"], pr["isObserversEnabled"], pr["isSetOpenPermissions"]) == ("Y", "Y", "N")
    assert pr["linkedUserFields"]["TASKS_TASK|UF_CRM_TASK"] in ("Y", "true")
    assert CT in [int(r["entityTypeId"]) for r in pr["relations"]["parent"]]
    # Exactly the YAML's stages: the system stages reused and renamed, in progress < success < failure.
    assert stages_of(installed, PR) == [
        ("NEW", "Новая", None), ("HEAD_APPROVAL", "Согласование руководителем", None),
        ("FINANCE_REVIEW", "Проверка финансовым менеджером", None), ("PAYMENT", "Оплата", None),
        ("FROZEN", "Заморозка", None), ("DOCS_REQUESTED", "Запрос документов", None),
        ("SUCCESS", "Оплачено", "S"), ("FAIL", "Отклонено", "F")]
    assert [s[0] for s in stages_of(installed, CT)][1:5] == ["HEAD_APPROVAL", "LEGAL_REVIEW", "FINANCE_REVIEW", "SIGNING"]
    fields = installed.client.call("userfieldconfig.list", {"moduleId": "crm", "filter": {"entityId": f"CRM_{pr['id']}"}})
    assert f"UF_CRM_{pr['id']}_INVOICE" in {f["fieldName"] for f in fields["fields"]}
    bound = installed.client.call("event.get")
    assert {(b["event"], b["handler"]) for b in bound if not int(b["offline"])} >= {
        ("ONCRMDYNAMICITEMADD", PUBLIC_URL + "/b24/events"), ("ONTASKUPDATE", PUBLIC_URL + "/b24/events")}
    assert len([b for b in bound if int(b["offline"])]) == 6
    tabs = {p["placement"] for p in installed.client.call("placement.get")}
    assert tabs == {"CRM_DYNAMIC_1100_DETAIL_TAB", "CRM_DYNAMIC_1102_DETAIL_TAB", "TASK_VIEW_TAB"}

    start = len(installed.portal.calls)
    again = provision(installed.client, workflows, PUBLIC_URL, apply=True)
    assert again.plan.empty and again.ok, again.render()
    assert "No changes" in again.render()
    calls = methods_since(installed, start)
    assert calls and set(calls) <= READ_METHODS, calls
    assert again.requests == 3
    assert installed.portal.violations == []  # strict mode saw every request of the three runs


def test_drift_shows_as_exactly_those_changes(installed: Installed, workflows: list[Workflow]) -> None:
    assert provision(installed.client, workflows, PUBLIC_URL, apply=True).ok
    client = installed.client
    category = client.call("crm.category.list", {"entityTypeId": PR})["categories"][0]["id"]
    rows = client.call("crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_{PR}_STAGE_{category}"}})
    head = next(r for r in rows if r["STATUS_ID"].endswith(":HEAD_APPROVAL"))
    client.call("crm.status.update", {"id": head["ID"], "fields": {"NAME": "Руководитель"}})
    client.call("crm.status.add", {"fields": {"ENTITY_ID": f"DYNAMIC_{PR}_STAGE_{category}", "STATUS_ID": "EXTRA",
                                              "NAME": "Лишняя", "SORT": 250}})
    ct = client.call("crm.type.getByEntityTypeId", {"entityTypeId": CT})["type"]
    fields = client.call("userfieldconfig.list", {"moduleId": "crm", "filter": {"entityId": f"CRM_{ct['id']}"}})["fields"]
    subject = next(f for f in fields if f["fieldName"].endswith("_SUBJECT"))
    client.call("userfieldconfig.delete", {"moduleId": "crm", "id": subject["id"]})

    report = provision(client, workflows, PUBLIC_URL, apply=True)
    assert sorted((c.action, c.kind, c.key, c.guarded) for c in report.plan.changes) == [
        (Action.CREATE, "field", "SUBJECT", False),
        (Action.DELETE, "stage", "EXTRA", True),
        (Action.UPDATE, "stage", "HEAD_APPROVAL", False),
    ]
    assert [(o.change.key, o.status) for o in report.outcomes if o.status != DONE] == [("EXTRA", SKIPPED)]
    assert "EXTRA" in [s[0] for s in stages_of(installed, PR)]  # not deleted without --allow-delete

    left = provision(client, workflows, PUBLIC_URL, apply=True, allow_delete=True)
    assert [(c.action, c.key) for c in left.plan.changes] == [(Action.DELETE, "EXTRA")]
    assert left.ok and left.count(DONE) == 1
    assert "EXTRA" not in [s[0] for s in stages_of(installed, PR)]
    assert provision(client, workflows, PUBLIC_URL).plan.empty


def test_a_task_binds_to_an_item_of_a_provisioned_type(installed: Installed, workflows: list[Workflow]) -> None:
    assert provision(installed.client, workflows, PUBLIC_URL, apply=True).ok
    client = installed.client
    item = client.call("crm.item.add", {"entityTypeId": PR, "fields": {"title": "Заявка"}})["item"]
    binding = f"T{PR:x}_{item['id']}"
    task = client.call("tasks.task.add", {"fields": {"TITLE": "Согласовать", "RESPONSIBLE_ID": 3,
                                                     "UF_CRM_TASK": [binding]}})["task"]
    read = client.call("tasks.task.get", {"taskId": task["id"], "select": ["ID", "UF_CRM_TASK"]})["task"]
    assert read["ufCrmTask"] == [binding]
    # Control: a type created without the flags silently drops the binding — the flags are what matter.
    plain = client.call("crm.type.add", {"fields": {"title": "Без привязки", "isStagesEnabled": "Y"}})["type"]
    other = client.call("crm.item.add", {"entityTypeId": plain["entityTypeId"], "fields": {"title": "x"}})["item"]
    dropped = f"T{int(plain['entityTypeId']):x}_{other['id']}"
    task2 = client.call("tasks.task.add", {"fields": {"TITLE": "x", "RESPONSIBLE_ID": 3, "UF_CRM_TASK": [dropped]}})
    read2 = client.call("tasks.task.get", {"taskId": task2["task"]["id"], "select": ["ID", "UF_CRM_TASK"]})["task"]
    assert dropped not in (read2.get("ufCrmTask") or [])


def test_a_failure_half_way_is_reported_and_a_rerun_converges(installed: Installed,
                                                             workflows: list[Workflow]) -> None:
    assert provision(installed.client, workflows, PUBLIC_URL, apply=True).ok
    client = installed.client
    category = client.call("crm.category.list", {"entityTypeId": PR})["categories"][0]["id"]
    client.call("crm.status.add", {"fields": {"ENTITY_ID": f"DYNAMIC_{PR}_STAGE_{category}", "STATUS_ID": "EXTRA",
                                              "NAME": "Лишняя", "SORT": 250}})
    item = client.call("crm.item.add", {"entityTypeId": PR,
                                        "fields": {"title": "В лишней", "stageId": f"DT{PR}_{category}:EXTRA"}})["item"]
    ct = client.call("crm.type.getByEntityTypeId", {"entityTypeId": CT})["type"]
    client.call("crm.type.update", {"id": ct["id"], "fields": {"title": "Договоры"}})
    client.call("event.unbind", {"event": "ONTASKADD", "handler": PUBLIC_URL + "/b24/events"})

    report = provision(client, workflows, PUBLIC_URL, apply=True, allow_delete=True)
    statuses = {(o.change.kind, o.change.key): o.status for o in report.outcomes}
    assert statuses[("type", "")] == DONE                    # done before the failure
    assert statuses[("stage", "EXTRA")] == FAILED            # a stage with items cannot be deleted
    assert statuses[("event", "ONTASKADD")] == NOT_DONE      # after the failure: not attempted
    assert not report.ok
    text = report.render()
    assert "[failed] - stage payment_requests/EXTRA" in text and "[not done] + event ONTASKADD" in text

    client.call("crm.item.update", {"entityTypeId": PR, "id": item["id"], "fields": {"stageId": f"DT{PR}_{category}:NEW"}})
    rerun = provision(client, workflows, PUBLIC_URL, apply=True, allow_delete=True)
    assert rerun.ok, rerun.render()
    assert sorted(c.key for c in rerun.plan.changes) == ["EXTRA", "ONTASKADD"]
    assert provision(client, workflows, PUBLIC_URL).plan.empty


def test_a_lost_request_is_reported_as_unknown_and_a_rerun_converges(installed: Installed,
                                                                    workflows: list[Workflow]) -> None:
    desired = desired_state(workflows, PUBLIC_URL)
    observed = observe(installed.client, [PR, CT])
    plan = make_plan(desired, observed)
    installed.portal.faults.fail_next(1, status=500)
    outcomes = apply_plan(installed.client, plan, desired, observed, allow_delete=False)
    assert {o.status for o in outcomes if o.change.kind == "type"} == {UNKNOWN}
    assert {o.status for o in outcomes if o.change.kind != "type"} == {NOT_DONE}
    final = provision(installed.client, workflows, PUBLIC_URL, apply=True)
    assert final.ok, final.render()
    assert provision(installed.client, workflows, PUBLIC_URL).plan.empty


def test_rebind_on_install_restores_dropped_events_and_widgets(installed: Installed,
                                                               workflows: list[Workflow]) -> None:
    assert provision(installed.client, workflows, PUBLIC_URL, apply=True).ok
    client = installed.client
    for binding in client.call("event.get"):
        params: dict[str, Any] = {"event": binding["event"], "handler": binding["handler"]}
        if int(binding["offline"]):
            params["event_type"] = "offline"
        client.call("event.unbind", params)
    client.call("placement.unbind", {"PLACEMENT": "TASK_VIEW_TAB"})
    assert client.call("event.get") == []

    report = rebind(client, workflows, PUBLIC_URL)
    assert report.ok and report.count(DONE) == 14, report.render()
    assert report.requests == 2
    assert len(client.call("event.get")) == 13  # ONAPPUNINSTALL too
    assert "TASK_VIEW_TAB" in {p["placement"] for p in client.call("placement.get")}
    assert provision(client, workflows, PUBLIC_URL).plan.empty


def test_rebind_before_provisioning_binds_the_events_and_leaves_the_widgets_to_provision(
        installed: Installed, workflows: list[Workflow]) -> None:
    # An install on a portal that has not been provisioned yet (B24APP_PROVISION_ON_INSTALL off): the
    # types are missing, so their widgets cannot be bound; the events are, and the hook succeeds instead
    # of failing (and being retried by RQ) forever.
    client = installed.client
    report = rebind(client, workflows, PUBLIC_URL)
    assert report.ok, report.render()
    assert report.requests == 2
    assert len(client.call("event.get")) == 13
    bound = {p["placement"] for p in client.call("placement.get")}
    assert "TASK_VIEW_TAB" in bound and not any(p.startswith("CRM_DYNAMIC_") for p in bound)
    assert provision(client, workflows, PUBLIC_URL, apply=True).ok      # provisioning binds the rest
    assert any(p["placement"].startswith("CRM_DYNAMIC_") for p in client.call("placement.get"))
    assert provision(client, workflows, PUBLIC_URL).plan.empty


def test_changed_list_values_converge(installed: Installed, workflows: list[Workflow], tmp_path: Path) -> None:
    assert provision(installed.client, workflows, PUBLIC_URL, apply=True).ok
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    path = config / "expense_items.yaml"
    text = path.read_text(encoding="utf-8").replace('"Упаковка"', '"Упаковка и тара"')
    path.write_text(text + '  - {code: TRAINING, name: {ru: "Обучение", en: "Training"}}\n', encoding="utf-8")
    _, changed = load_definitions(config, ROOT / "workflows")

    report = provision(installed.client, changed, PUBLIC_URL, apply=True)
    assert [(c.action, c.kind, c.key) for c in report.plan.changes] == [(Action.UPDATE, "field", "EXPENSE_ITEM")]
    assert report.ok, report.render()
    field_id = report.plan.changes[0].data["id"]
    values = installed.client.call("userfieldconfig.get", {"moduleId": "crm", "id": field_id})["field"]["enum"]
    by_code = {v["xmlId"]: v["value"] for v in values}
    assert by_code["PACKAGING"] == "Упаковка и тара" and by_code["TRAINING"] == "Обучение"
    assert len(values) == 12
    assert provision(installed.client, changed, PUBLIC_URL).plan.empty
