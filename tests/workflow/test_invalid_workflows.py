"""Every file in tests/invalid_workflows/ holds one mistake and says what must be reported:
``# expect: <text>`` in its header and ``# <-`` on the line the problem must point at."""

from __future__ import annotations

from pathlib import Path

import pytest

from b24app.workflow.config import load_org_config
from b24app.workflow.loader import load_workflow
from b24app.workflow.models import OrgConfig

ROOT = Path(__file__).resolve().parents[2]
INVALID = sorted((ROOT / "tests" / "invalid_workflows").glob("*.yaml"))


@pytest.fixture(scope="module")
def org() -> OrgConfig:
    config, problems = load_org_config(ROOT / "config")
    assert problems == []
    return config


def _expectation(path: Path) -> tuple[str, int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    message = next(line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: "))
    line = next(number for number, text in enumerate(lines, start=1) if text.rstrip().endswith("# <-"))
    return message, line


def test_there_is_a_file_per_mistake() -> None:
    assert len(INVALID) >= 20


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_workflow_fails_with_file_line_and_fix(path: Path, org: OrgConfig) -> None:
    message, line = _expectation(path)
    workflow, problems = load_workflow(path, org)
    assert workflow is None
    assert problems, "an invalid file must report at least one problem"
    assert all(p.file == str(path) for p in problems)
    matching = [p for p in problems if message in p.message]
    assert matching, f"no problem says {message!r}; got: {[str(p) for p in problems]}"
    assert line in [p.line for p in matching], f"expected line {line}; got {[str(p) for p in matching]}"


def test_the_base_of_the_invalid_files_is_valid(org: OrgConfig, tmp_path: Path) -> None:
    # Undo the one mistake of a file: the rest must load, so each file fails for its own reason only.
    text = (ROOT / "tests" / "invalid_workflows" / "bad_color.yaml").read_text(encoding="utf-8")
    fixed = tmp_path / "mini.yaml"
    fixed.write_text(text.replace('"orange"', '"#FFA900"'), encoding="utf-8")
    workflow, problems = load_workflow(fixed, org)
    assert problems == []
    assert workflow is not None and workflow.start == "review"
