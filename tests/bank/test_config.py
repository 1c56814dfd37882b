"""``config/bank.yaml``: every problem with file:line, the payer checked like an order's party."""

from __future__ import annotations

from pathlib import Path

import pytest

from b24app.bank.config import check_bank_config, load_bank_config
from b24app.yamlio import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "config" / "bank.yaml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_is_valid_and_read() -> None:
    config = load_bank_config(ROOT / "config" / "bank.yaml", {"chief_accountant", "junior_accountant"})
    assert config.version == "1.03" and config.payer.account == "40702810600000000001"
    assert config.roles == ("chief_accountant", "junior_accountant")


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    text = (GOOD.replace('format_version: "1.03"', 'format_version: "1.04"')
                .replace('inn: "7707000015"', 'inn: "7707000016"')
                .replace("roles: [chief_accountant, junior_accountant]", "roles: [chief_accountant, cashier]"))
    path = write(tmp_path, text + "colour: blue\n")
    problems = [str(p) for p in check_bank_config(path, {"chief_accountant", "junior_accountant"})]
    lines = text.splitlines()
    line = {key: next(n for n, t in enumerate(lines, 1) if t.strip().startswith(key)) for key in
            ("format_version", "inn:", "roles:")}
    assert any(p.startswith(f"{path}:{line['format_version']}: format_version '1.04'") for p in problems)
    assert any(p.startswith(f"{path}:{line['inn:']}: payer: ПлательщикИНН") and "check digits" in p for p in problems)
    assert any(p.startswith(f"{path}:{line['roles:']}: role 'cashier' is not in roles.yaml") for p in problems)
    assert any("unknown key 'colour'" in p for p in problems)
    with pytest.raises(ConfigError):
        load_bank_config(path)


def test_an_unquoted_number_is_refused_because_leading_zeros_matter(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('inn: "7707000015"', "inn: 7707000015"))
    assert any("must be a text in quotes" in str(p) for p in check_bank_config(path))
