"""The scenario's ``config:`` block: absences read with file:line checks, and written into a temporary
copy of ``config/`` that the app's own config reader accepts (logins turned into user ids)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from b24app.scenario import model as m
from b24app.scenario.loader import Known, load_scenario
from b24app.scenario.overrides import config_copy
from b24app.scenario.stack import definition_dir
from b24app.workflow.config import load_org_config
from b24app.workflow.models import Absence
from b24app.yamlio import ConfigError

KNOWN = Known(logins=("a.ivanova", "m.orlova", "d.petrov"))
IDS = {"a.ivanova": 4, "m.orlova": 3, "d.petrov": 5}
STEPS = "steps:\n  - create: {as: a.ivanova}\n"


def load(tmp_path: Path, config: str) -> m.Scenario:
    path = tmp_path / "case.yaml"
    path.write_text(f"name: absences\nconfig:\n{config}{STEPS}", encoding="utf-8")
    return load_scenario(path, KNOWN)


def test_absences_are_read(tmp_path: Path) -> None:
    scenario = load(tmp_path, "  absences:\n"
                              "    - {user: m.orlova, from: 2026-03-02, to: 2026-03-06, substitute: d.petrov}\n")
    (absence,) = scenario.absences
    assert (absence.login, absence.start, absence.end, absence.substitute) == \
        ("m.orlova", date(2026, 3, 2), date(2026, 3, 6), "d.petrov")
    assert absence.where.line == 4


@pytest.mark.parametrize(("config", "message"), [
    ("  absences:\n    - {user: m.orlov, from: 2026-03-02, to: 2026-03-06, substitute: d.petrov}\n",
     "4: config: absence: unknown person 'm.orlov'"),
    ("  absences:\n    - {user: m.orlova, from: 2026-03-06, to: 2026-03-02, substitute: d.petrov}\n",
     "4: config: absence: 'to' (2026-03-02) is before 'from' (2026-03-06)"),
    ("  absences:\n    - {user: m.orlova, from: 6 March, to: 2026-03-02, substitute: d.petrov}\n",
     "4: config: absence: 'from' must be a date like 2026-03-01"),
    ("  absences:\n    - {user: m.orlova, from: 2026-03-02, to: 2026-03-06, substitute: m.orlova}\n",
     "4: config: absence: m.orlova cannot stand in for themselves"),
    ("  absences:\n    - {user: m.orlova, from: 2026-03-02, to: 2026-03-06}\n", "substitute"),
    ("  roles: {director: {user_id: 3}}\n", "roles"),
])
def test_mistakes_are_named_by_line(tmp_path: Path, config: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, config)
    found = [f"{p.line}: {p.message}" for p in caught.value.problems]
    assert any(message in line for line in found), found


def test_the_copy_lists_the_absences_by_user_id_and_the_source_is_untouched() -> None:
    source = definition_dir("config")
    before = (source / "roles.yaml").read_bytes()
    spec = m.AbsenceSpec(m.Where("x", 1), "m.orlova", date(2026, 3, 2), date(2026, 3, 6), "d.petrov")
    with config_copy(source, (spec,), IDS.__getitem__) as copied:
        assert copied != source
        org, problems = load_org_config(copied)
        assert problems == []
        assert org.absences == (Absence(3, "2026-03-02", "2026-03-06", 5),)
        assert org.roles == load_org_config(source)[0].roles                 # everything else as shipped
        assert {p.name for p in copied.iterdir()} == {p.name for p in source.iterdir()}
    assert not copied.exists()
    assert (source / "roles.yaml").read_bytes() == before


def test_without_absences_the_shipped_config_is_used() -> None:
    source = definition_dir("config")
    with config_copy(source, (), IDS.__getitem__) as used:
        assert used == source
