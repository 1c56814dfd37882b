"""The wired bank service against the sandbox over HTTPS with real Redis: what the scenarios do not
show — the upload record, a refused file changing nothing, the accountant's choices refused, the
roles, and ``b24app bank``."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from b24app import keys
from b24app.bank import service
from b24app.control import read as control
from b24app.deps import Deps
from b24app.web.access import may_exchange, portal_now
from b24sandbox.bank import statement_for_orders
from handlers import decisions
from tests.integration.approval_env import PR, ROOT, Env
from tests.integration.test_sweep import _process_env

HEAD, FINANCE, CHIEF, JUNIOR, INITIATOR = 3, 8, 10, 11, 4
RECIPIENT = {"RECIPIENT_INN": "7700000016", "RECIPIENT_KPP": "770001001",
             "RECIPIENT_ACCOUNT": "40702810000000012345", "RECIPIENT_BIK": "044030777",
             "RECIPIENT_BANK": "ПАО «ДРУГОЙ БАНК»", "RECIPIENT_BANK_CITY": "г. Санкт-Петербург",
             "RECIPIENT_CORR_ACCOUNT": "30101810800000000777", "INVOICE_NUMBER": "А-15",
             "INVOICE_DATE": "2026-02-27"}


def at_payment(env: Env, amount: int = 15000, **fields: str) -> int:
    item = env.as_user("a.ivanova").create_item(env.names().entity_type_id,
                                                 env.request_fields(amount, **{**RECIPIENT, **fields}))
    item_id = int(item["id"])
    env.settle()
    for user in (HEAD, FINANCE):
        assert decisions.decide(env.deps, env.member_id, PR, item_id, user, "approve").ok
        env.settle()
    assert env.stage(item_id) == "PAYMENT"
    return item_id


def statement(env: Env) -> bytes:
    orders = service.orders_file(env.deps, env.member_id, today=date(2026, 3, 2))
    assert orders.data is not None
    return statement_for_orders(orders.data, debit_date=date(2026, 3, 3))


def test_an_upload_is_recorded_and_a_broken_one_changes_nothing(env: Env) -> None:
    item_id = at_payment(env)
    data = statement(env)
    broken = data.replace("Сумма=15000.00".encode("cp1251"), "Сумма=15 000".encode("cp1251"), 1)
    with pytest.raises(service.BankFileError, match=r"^line \d+: Сумма"):
        service.import_statement(env.deps, env.member_id, broken, user_id=JUNIOR)
    assert service.uploads(env.deps, env.member_id) == [] and env.stage(item_id) == "PAYMENT"

    report = service.import_statement(env.deps, env.member_id, data, user_id=JUNIOR, filename="kl_to_1c.txt")
    env.settle()
    assert [line.item_id for line in report.paid] == [item_id] and env.stage(item_id) == "PAID"
    again = service.import_statement(env.deps, env.member_id, data, user_id=CHIEF)
    assert again.paid == [] and [line.key for line in again.unchanged] == [report.paid[0].key]
    second, first = service.uploads(env.deps, env.member_id)
    assert first.at.utcoffset() == timedelta(0) and abs(first.at - env.deps.now()) < timedelta(minutes=1)
    assert (first.user_id, first.filename, first.paid) == (JUNIOR, "kl_to_1c.txt", (item_id,))
    assert first.sha256 == hashlib.sha256(data).hexdigest() == second.sha256
    assert (second.user_id, second.paid, second.unchanged) == (CHIEF, (), 1)
    log = env.item(item_id)[env.names().field("DECISIONS")]
    assert '"bank_doc":"1"' in log[-1] and '"via":"bank"' in log[-1]


def test_an_upload_recorded_without_an_offset_reads_as_utc(env: Env) -> None:
    legacy = {"at": "2026-03-03T09:15:00", "user_id": JUNIOR, "sha256": "0" * 64, "filename": "old.txt",
              "paid": [], "ambiguous": 0, "unmatched": 0, "unchanged": 0}
    env.deps.redis.lpush(keys.bank(env.member_id, "uploads"), json.dumps(legacy))
    [old] = service.uploads(env.deps, env.member_id)
    assert old.at == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)


def test_the_accountants_choice_is_refused_unless_it_names_a_pending_line_and_a_candidate(env: Env) -> None:
    first, second = at_payment(env), at_payment(env, INVOICE_NUMBER="А-16")
    data = statement(env)
    partial = data.replace("Сумма=15000.00".encode("cp1251"), "Сумма=5000.00".encode("cp1251"), 1)
    report = service.import_statement(env.deps, env.member_id, partial, user_id=JUNIOR)
    assert [line.item_id for line in report.paid] == [second]
    [line] = report.ambiguous
    assert line.candidates == (first, second) and line.reason.code == "partial"    # every request to that ИНН
    assert service.pending(env.deps, env.member_id) == [line]
    with pytest.raises(service.ResolveError, match="no bank document"):
        service.resolve(env.deps, env.member_id, "nope", first, user_id=CHIEF)
    with pytest.raises(service.ResolveError, match="not a candidate"):
        service.resolve(env.deps, env.member_id, line.key, 999, user_id=CHIEF)
    with pytest.raises(service.ResolveError, match="no longer at the payment step"):
        service.resolve(env.deps, env.member_id, line.key, second, user_id=CHIEF)       # paid by the other line
    assert env.stage(first) == "PAYMENT"
    paid = service.resolve(env.deps, env.member_id, line.key, first, user_id=CHIEF)
    env.settle()
    assert paid.item_id == first and env.stage(first) == "PAID"
    assert service.pending(env.deps, env.member_id) == []


def _numbers(data: bytes | None) -> list[str]:
    assert data is not None
    return re.findall(r"\r\nНомер=(\d+)\r\n", data.decode("cp1251"))


def test_a_request_keeps_its_payment_order_number_in_every_download(env: Env) -> None:
    first = at_payment(env)
    assert service.preview(env.deps, env.member_id, today=date(2026, 3, 2)).included == [first]
    once = service.orders_file(env.deps, env.member_id, today=date(2026, 3, 2))
    assert _numbers(once.data) == ["1"]                               # the preview took no number
    second = at_payment(env, INVOICE_NUMBER="А-16")
    again = service.orders_file(env.deps, env.member_id, today=date(2026, 3, 3))
    assert again.included == [first, second] and _numbers(again.data) == ["1", "2"]
    assert _numbers(service.orders_file(env.deps, env.member_id, today=date(2026, 3, 3)).data) == ["1", "2"]
    assert _numbers(service.preview(env.deps, env.member_id, today=date(2026, 3, 3)).data) == ["1", "2"]

    service.import_statement(env.deps, env.member_id, statement_for_orders(again.data or b"", debit_date=date(2026, 3, 4)),
                             user_id=JUNIOR)
    env.settle()
    assert env.stage(first) == env.stage(second) == "PAID"
    third = at_payment(env, INVOICE_NUMBER="А-17")
    assert _numbers(service.orders_file(env.deps, env.member_id, today=date(2026, 3, 5)).data) == ["3"]
    assert service.preview(env.deps, env.member_id, today=date(2026, 3, 5)).included == [third]


def test_only_the_roles_of_bank_yaml_may_exchange(env: Env) -> None:
    assert service.accountants(env.deps, env.member_id) == {CHIEF, JUNIOR}
    assert may_exchange(env.deps, env.member_id, JUNIOR, None)
    assert not may_exchange(env.deps, env.member_id, INITIATOR, None)


def test_the_cli_lets_the_chief_accountants_substitute_act_during_the_absence(
        env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's ``--user-id`` follows the accounting view's rule: whoever stands in for a holder today."""
    from click.testing import CliRunner

    from b24app.bank.cli import bank_group

    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    control.view(env.deps, env.member_id)            # the portal's clock offset is measured (keys.control_clock)
    today = portal_now(env.deps, env.member_id).date()   # absences are judged on the portal's day
    roles = (config / "roles.yaml").read_text(encoding="utf-8").replace(
        "absences: []", f"absences:\n  - {{user_id: {CHIEF}, from: {today - timedelta(days=1)}, "
                        f"to: {today + timedelta(days=1)}, substitute_id: 12}}")
    (config / "roles.yaml").write_text(roles, encoding="utf-8")
    for key, value in _process_env(env).items():
        if key.startswith("B24APP_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("B24APP_CONFIG_DIR", str(config))
    args = ["resolve", "no-such-line", "1", "--member-id", env.member_id, "--user-id"]
    stands_in = CliRunner().invoke(bank_group, [*args, "12"])
    assert stands_in.exit_code == 1 and "не ждёт решения" in stands_in.output, stands_in.output   # past the check
    other = CliRunner().invoke(bank_group, [*args, str(INITIATOR)])
    assert other.exit_code == 2 and "holds none of the roles" in other.output


def test_the_cli_names_a_missing_bank_yaml(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from b24app.bank.cli import bank_group

    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "bank.yaml").unlink()
    for key, value in _process_env(env).items():
        if key.startswith("B24APP_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("B24APP_CONFIG_DIR", str(config))
    done = CliRunner().invoke(bank_group, ["pending", "--member-id", env.member_id])
    assert done.exit_code == 2 and f"{config / 'bank.yaml'} is missing" in done.output


def test_the_cli_refuses_an_employee_and_writes_the_orders_file(env: Env, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from b24app.bank.cli import bank_group

    item_id = at_payment(env)
    lacking = at_payment(env, 7000, RECIPIENT_BIK="")
    for key, value in _process_env(env).items():
        if key.startswith("B24APP_"):
            monkeypatch.setenv(key, value)
    out = tmp_path / "orders.txt"
    employee = CliRunner().invoke(bank_group, ["orders", str(out), "--user-id", str(INITIATOR),
                                               "--member-id", env.member_id])
    assert employee.exit_code == 2 and "holds none of the roles" in employee.output and not out.exists()
    done = CliRunner().invoke(bank_group, ["orders", str(out), "--user-id", str(JUNIOR), "--member-id", env.member_id,
                                           "--date", "2026-03-02"])
    assert done.exit_code == 0, done.output
    assert f"request №{lacking} left out: ПолучательБИК: не заполнено (реквизиты получателя в заявке)" in done.output
    english = CliRunner().invoke(bank_group, ["orders", str(out), "--user-id", str(JUNIOR), "--member-id",
                                              env.member_id, "--lang", "en"])
    assert "ПолучательБИК: missing (the request's recipient fields)" in english.output
    late = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)               # 01:30 on 3 March in Moscow, the portal's day
    night = tmp_path / "night.txt"
    with monkeypatch.context() as clock:
        clock.setattr(Deps, "now", lambda self: late)
        assert CliRunner().invoke(bank_group, ["orders", str(night), "--user-id", str(JUNIOR),
                                               "--member-id", env.member_id]).exit_code == 0
    assert "Дата=03.03.2026".encode("cp1251") in night.read_bytes()
    assert f"requests №{item_id}" in done.output and out.read_bytes().startswith(b"1CClientBankExchange\r\n")
    statement_file = tmp_path / "statement.txt"
    statement_file.write_bytes(statement_for_orders(out.read_bytes(), debit_date=date(2026, 3, 3)))
    refused = CliRunner().invoke(bank_group, ["import", str(statement_file), "--user-id", str(INITIATOR),
                                              "--member-id", env.member_id])
    assert refused.exit_code == 2 and "holds none of the roles" in refused.output
    assert env.stage(item_id) == "PAYMENT"
    broken = tmp_path / "broken.txt"
    broken.write_bytes(statement_file.read_bytes().replace(b"\xca\xee\xed\xe5\xf6\xd4\xe0\xe9\xeb\xe0", b""))
    failed = CliRunner().invoke(bank_group, ["import", str(broken), "--user-id", str(JUNIOR),
                                             "--member-id", env.member_id])
    assert failed.exit_code == 1 and "nothing changed" in failed.output and "line " in failed.output
    done = CliRunner().invoke(bank_group, ["import", str(statement_file), "--user-id", str(JUNIOR),
                                           "--member-id", env.member_id])
    assert done.exit_code == 0, done.output
    assert "paid: 1" in done.output and f"-> request №{item_id}" in done.output
