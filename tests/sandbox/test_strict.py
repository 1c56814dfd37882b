"""Strict mode: calls are validated against the official schemas plus the cited corrections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from b24sandbox import SandboxPortal
from b24sandbox.shared import load_spec
from b24sandbox.strict import CORRECTIONS, HAND_SCHEMAS, STRICT_ERROR, build_schema, check, type_ok


def post(portal: SandboxPortal, url: str, **kwargs: Any) -> requests.Response:
    return requests.post(url, verify=portal.ca_bundle, timeout=10, **kwargs)


def test_misspelled_parameter_is_a_400_naming_it(sandbox: SandboxPortal) -> None:
    answer = post(sandbox, sandbox.webhook_url("admin") + "crm.item.list", json={"entityTypeID": 1030})

    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == STRICT_ERROR
    assert "unknown parameter 'entityTypeID' (documented as 'entityTypeId')" in body["error_description"]
    assert "missing required parameter 'entityTypeId'" in body["error_description"]
    assert {(v.method, v.param) for v in sandbox.violations} == {("crm.item.list", "entityTypeID"),
                                                                 ("crm.item.list", "entityTypeId")}
    assert sandbox.calls[-1].error == STRICT_ERROR
    sandbox.violations.clear()


def test_unknown_method_is_named_in_the_violations(sandbox: SandboxPortal) -> None:
    answer = post(sandbox, sandbox.webhook_url("admin") + "crm.item.lst", json={"entityTypeId": 1030})

    assert (answer.status_code, answer.json()["error"]) == (404, "ERROR_METHOD_NOT_FOUND")
    assert [str(v) for v in sandbox.violations] == ["crm.item.lst: unknown method 'crm.item.lst'"]
    sandbox.violations.clear()


def test_wrong_type_and_missing_required(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/app")
    url = f"{sandbox.base_url}/rest/event.bind"

    wrong_type = post(sandbox, url, json={"auth": app.tokens["access_token"], "event": "ONTASKADD",
                                          "handler": "http://127.0.0.1:9/h", "auth_type": "admin"})
    missing = post(sandbox, url, json={"auth": app.tokens["access_token"], "handler": "http://127.0.0.1:9/h"})

    assert wrong_type.status_code == 400
    assert "parameter 'auth_type' must be integer, got 'admin'" in wrong_type.json()["error_description"]
    assert "missing required parameter 'event'" in missing.json()["error_description"]
    sandbox.violations.clear()


def test_strings_from_forms_pass_integer_and_boolean_checks(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/app")

    answer = post(sandbox, f"{sandbox.base_url}/rest/event.bind",
                  data={"auth": app.tokens["access_token"], "event": "ONTASKADD", "handler": "http://127.0.0.1:9/h",
                        "auth_type": "1"})

    assert answer.json()["result"] is True
    assert sandbox.violations == []


def test_corrections_apply(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/app")
    token = app.tokens["access_token"]

    offline = post(sandbox, f"{sandbox.base_url}/rest/event.bind",
                   json={"auth": token, "event": "ONTASKADD", "event_type": "offline"})
    reserve = post(sandbox, f"{sandbox.base_url}/rest/event.offline.get", json={"auth": token, "clear": 0})

    assert offline.json()["result"] is True  # handler omitted for offline bindings (REFERENCE §3.1)
    assert reserve.status_code == 200  # clear is not in the parsed schema (REFERENCE §3.6)
    assert sandbox.violations == []


def test_batch_commands_are_validated_one_by_one(sandbox: SandboxPortal) -> None:
    cmd = {"ok": "scope", "bad": "scope?fulll=1"}

    result = post(sandbox, sandbox.webhook_url("admin") + "batch", json={"cmd": cmd}).json()["result"]

    assert list(result["result"]) == ["ok"]
    assert result["result_error"]["bad"]["error"] == STRICT_ERROR
    assert "'fulll'" in result["result_error"]["bad"]["error_description"]
    sandbox.violations.clear()


def test_strict_mode_can_be_switched_off(sandbox_factory: Callable[..., SandboxPortal]) -> None:
    portal = sandbox_factory(strict=False)

    answer = post(portal, portal.webhook_url("admin") + "scope", json={"fulll": 1})

    assert answer.status_code == 200
    assert portal.violations == []


# --- the schemas themselves -------------------------------------------------------------------------


def test_every_correction_targets_a_spec_method_and_cites_a_source() -> None:
    for method, fix in CORRECTIONS.items():
        assert load_spec(method) is not None, method
        assert "§" in fix.cite or "SPEC-GAPS" in fix.cite, method


def test_hand_schemas_cover_only_methods_missing_from_spec() -> None:
    for method in HAND_SCHEMAS:
        assert load_spec(method) is None, method


def test_schema_checks_exact_case_types_and_required() -> None:
    schema = build_schema("crm.item.list")
    assert schema is not None

    assert check(schema, {"entityTypeId": "1030", "start": "50", "useOriginalUfNames": "Y", "auth": "x"}) == []
    problems = check(schema, {"entityTypeId": 1030, "Filter": {}, "start": "next"})
    assert [p.param for p in problems] == ["Filter", "start"]


@pytest.mark.parametrize(("kind", "value", "ok"), [
    ("integer", 5, True), ("integer", "5", True), ("integer", 5.0, True), ("integer", True, False),
    ("integer", "5a", False), ("boolean", "Y", True), ("boolean", True, True), ("boolean", "maybe", False),
    ("string", 12, True), ("string", {"a": 1}, False), ("object", [], True), ("array", {"a": 1}, True),
    ("object", "x", False),
])
def test_type_rules(kind: str, value: Any, ok: bool) -> None:
    assert type_ok(kind, value) is ok


def test_status_delete_takes_params_as_an_object() -> None:
    schema = build_schema("crm.status.delete")
    assert schema is not None

    assert check(schema, {"id": "263", "params": {"FORCED": "Y"}}) == []
