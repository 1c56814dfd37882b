"""``config/bank.yaml``: every problem with file:line, the payer checked like an order's party."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from b24app.bank import config as bank_config
from b24app.bank.config import cached_bank_config, check_bank_config, load_bank_config
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


def test_the_file_is_read_once_per_change_of_its_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, roles = write(tmp_path, GOOD), {"chief_accountant", "junior_accountant"}
    reads: list[Path] = []
    real = bank_config.load_bank_config

    def counted(where: str | Path, known: object = None) -> bank_config.BankConfig:
        reads.append(Path(where))
        return real(where, known)  # type: ignore[arg-type]

    monkeypatch.setattr(bank_config, "load_bank_config", counted)
    first = cached_bank_config(path, roles)
    assert cached_bank_config(path, roles) is first and len(reads) == 1          # no second read
    path.write_text(GOOD.replace('format_version: "1.03"', 'format_version: "1.02"'), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))        # a new mtime, whatever the clock
    assert cached_bank_config(path, roles).version == "1.02" and len(reads) == 2
    assert cached_bank_config(path, {"chief_accountant"} | roles) is not None and len(reads) == 2
    with pytest.raises(ConfigError):                                              # roles.yaml lost a role
        cached_bank_config(path, {"chief_accountant"})
