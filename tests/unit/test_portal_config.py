"""A portal's own config folder over the shared one (#19.4): each file falls back to the shared one, the
pipeline reads a portal's own roles, and check-config names the file:line of a portal's broken file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from b24app.checks import check_files, load_definitions
from b24app.portal_config import ConfigDir, portal_dir
from tests.integration.approval_env import ROOT

MEMBER = "a" * 32


@pytest.fixture
def config(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    own = tmp_path / "config" / "portals" / MEMBER
    own.mkdir(parents=True)
    roles = (ROOT / "config" / "roles.yaml").read_text(encoding="utf-8").replace("user_id: 2,", "user_id: 77,")
    (own / "roles.yaml").write_text(roles, encoding="utf-8")
    return tmp_path / "config"


def test_a_portal_folder_overrides_its_files_and_falls_back_for_the_rest(config: Path) -> None:
    layered = portal_dir(config, MEMBER)
    assert layered.own == config / "portals" / MEMBER
    assert layered / "roles.yaml" == config / "portals" / MEMBER / "roles.yaml"
    assert layered / "calendar.yaml" == config / "calendar.yaml"
    assert layered.own_files() == ["roles.yaml"]
    org, _ = load_definitions(layered, ROOT / "workflows")
    shared, _ = load_definitions(config, ROOT / "workflows")
    assert org.roles["director"].user_id == 77 and shared.roles["director"].user_id == 2
    assert org.roles["lawyer"].user_id == shared.roles["lawyer"].user_id


def test_a_portal_folder_is_found_by_domain_too(config: Path) -> None:
    (config / "portals" / MEMBER).rename(config / "portals" / "beta.bitrix24.ru")
    assert portal_dir(config, "other", "beta.bitrix24.ru").own == config / "portals" / "beta.bitrix24.ru"
    assert portal_dir(config, "other", None) == ConfigDir(config)


def test_check_config_names_the_file_and_line_of_a_portals_broken_file(config: Path) -> None:
    assert check_files(config, ROOT / "workflows") == []
    own = config / "portals" / MEMBER / "roles.yaml"
    own.write_text(own.read_text(encoding="utf-8").replace("user_id: 77,", "user_id: nobody,"), encoding="utf-8")
    problems = check_files(config, ROOT / "workflows")
    line = next(i for i, text in enumerate(own.read_text(encoding="utf-8").splitlines(), 1) if "nobody" in text)
    assert any(p.file == str(own) and p.line == line for p in problems)
    assert not any(p.file == str(config / "roles.yaml") for p in problems)  # the shared file is fine


def test_a_portal_found_uninstalled_during_a_run_is_an_outcome_not_a_failure() -> None:
    from b24app.portals import each_portal, run_each

    def run(member_id: str) -> str:
        if member_id == "gone":
            raise RuntimeError("401 NO_AUTH_FOUND, then invalid_grant")  # the refresher marked it removed
        return f"swept {member_id}"

    outcomes = run_each(["gone", "ok"], run, "sweep", removed=lambda m: m == "gone")
    assert outcomes.removed == ["gone"] and outcomes.failed == {} and outcomes.done == {"ok": "swept ok"}
    assert each_portal(["gone", "ok"], run, "sweep", removed=lambda m: m == "gone") == {"ok": "swept ok"}
    assert run_each(["gone"], run, "sweep").failed  # still installed: a failure as before
