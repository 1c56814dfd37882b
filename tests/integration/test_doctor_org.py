"""``b24app doctor`` checks the organisation in config/ against the portal (issue 12, item 4): the CLI in a
subprocess, against the sandbox over HTTPS. Each problem fails doctor (exit 1) with a line naming the
role or department and the fix; the default organisation passes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_cli import ROOT, SHIPPED, aof_on, run_cli

__all__ = ["aof_on"]


@pytest.fixture
def env(redis_url: str, sandbox: Any, aof_on: None) -> Iterator[dict[str, str]]:
    yield {**SHIPPED, "B24APP_REDIS_URL": redis_url, "B24APP_WEBHOOK_URL": sandbox.webhook_url("admin"),
           "REQUESTS_CA_BUNDLE": sandbox.ca_bundle}


def doctor(env: dict[str, str]) -> tuple[int, str]:
    result = run_cli("doctor", cwd=ROOT, env=env)
    return result.returncode, result.stdout + result.stderr


def test_the_default_organisation_passes(env: dict[str, str]) -> None:
    code, out = doctor(env)
    assert code == 0, out
    assert "organisation: ok (6 roles, 9 departments checked)" in out


def test_a_role_user_that_does_not_exist_fails_naming_the_role(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    roles = config / "roles.yaml"
    roles.write_text(roles.read_text().replace("lawyer:             {user_id: 13,", "lawyer:             {user_id: 99,"))
    code, out = doctor({**env, "B24APP_CONFIG_DIR": str(config)})
    assert code == 1, out
    assert "role lawyer: user #99 does not exist on the portal; fix: put the right user id in config/roles.yaml" in out


def test_a_deactivated_role_holder_fails_naming_the_role(env: dict[str, str], sandbox: Any) -> None:
    sandbox.people.deactivate("finance.manager")
    code, out = doctor(env)
    assert code == 1, out
    assert "role finance_manager: user #8 is deactivated (dismissed); fix:" in out


def test_a_department_without_an_active_head_or_fallback_fails_naming_it(env: dict[str, str], sandbox: Any) -> None:
    sandbox.people.deactivate("director")
    sandbox.people.deactivate("ops.manager")
    code, out = doctor(env)
    assert code == 1, out
    assert "department 7 «Производство»: no active head up the tree and no active operations manager" in out
    assert "department 2 «Маркетинг»" not in out          # m.orlova still heads it


def test_an_app_user_who_is_not_an_administrator_fails(env: dict[str, str], sandbox: Any) -> None:
    code, out = doctor({**env, "B24APP_WEBHOOK_URL": sandbox.webhook_url("a.ivanova")})
    assert code == 1, out
    assert "app user: not a portal administrator" in out


def test_a_plan_without_extended_offline_events_fails(env: dict[str, str], sandbox: Any) -> None:
    sandbox.switches.features["rest_offline_extended"] = "N"
    code, out = doctor(env)
    assert code == 1, out
    assert "plan: offline events with confirmation (rest_offline_extended) are not available" in out


def test_a_required_custom_task_field_fails_naming_it(env: dict[str, str], sandbox: Any) -> None:
    sandbox.add_task_field("UF_PROJECT_CODE", "Код проекта", required=True)
    code, out = doctor(env)
    assert code == 1, out
    assert "task field UF_PROJECT_CODE «Код проекта»: required on this portal" in out
