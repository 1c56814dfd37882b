"""ИНН, КПП, БИК and account control keys, on values constructed for these tests.

Each valid value below was built by hand from the published algorithms (the check digits computed
separately from the code under test); each invalid one differs from a valid one in a single digit.
"""

from __future__ import annotations

import pytest

from b24app.bank import checks

VALID_INN = ["7700000016", "5042000001", "7707000015", "770000000082", "500100732259"]


@pytest.mark.parametrize("inn", VALID_INN)
def test_valid_inn(inn: str) -> None:
    assert checks.inn_problem(inn) is None


@pytest.mark.parametrize(("inn", "reason"), [
    ("7700000017", "ИНН 7700000017 fails its check digits"),       # 10 digits, last digit off
    ("770000000083", "ИНН 770000000083 fails its check digits"),   # 12 digits, 12th off
    ("770000000092", "ИНН 770000000092 fails its check digits"),   # 12 digits, 11th off
    ("770000001", "ИНН '770000001' must be 10 or 12 digits"),
    ("77000000160", "ИНН '77000000160' must be 10 or 12 digits"),
    ("77OOOOOO16", "ИНН '77OOOOOO16' must be 10 or 12 digits"),
    ("０１２３４５６７８９", "ИНН '０１２３４５６７８９' must be 10 or 12 digits"),   # full-width digits
    ("0000000000", "ИНН 0000000000 is all zeros"),
])
def test_invalid_inn(inn: str, reason: str) -> None:
    assert str(checks.inn_problem(inn)) == reason


@pytest.mark.parametrize("kpp", ["770001001", "7700AB001"])
def test_valid_kpp(kpp: str) -> None:
    assert checks.kpp_problem(kpp) is None


@pytest.mark.parametrize("kpp", ["77000100", "7700010010", "7700ab001", "77AB01001", "7700 1001"])
def test_invalid_kpp(kpp: str) -> None:
    assert str(checks.kpp_problem(kpp)) == f"КПП {kpp!r} must be 9 characters (NNNNPPNNN)"


def test_bik() -> None:
    assert checks.bik_problem("044525999") is None
    assert str(checks.bik_problem("04452599")) == "БИК '04452599' must be 9 digits"
    assert str(checks.bik_problem("04452599x")) == "БИК '04452599x' must be 9 digits"


@pytest.mark.parametrize(("account", "bik"), [
    ("40702810600000000001", "044525999"),
    ("40702810300000000042", "044525999"),
    ("40702810000000012345", "044030777"),
    ("40802810600000000042", "044030777"),
])
def test_an_account_matching_its_bik(account: str, bik: str) -> None:
    assert checks.account_problem(account, bik) is None


def test_an_account_with_a_wrong_key_or_at_another_bank() -> None:
    assert str(checks.account_problem("40702810700000000001", "044525999")) == (
        "account 40702810700000000001 does not match БИК 044525999 (control key)")
    # a valid account, but of another bank: the key depends on the БИК
    assert str(checks.account_problem("40702810600000000001", "044030777")) == (
        "account 40702810600000000001 does not match БИК 044030777 (control key)")
    assert str(checks.account_problem("4070281060000000001", "044525999")) == (
        "account '4070281060000000001' must be 20 digits")
    assert str(checks.account_problem("40702810600000000001", "")) == (
        "account 40702810600000000001 cannot be checked without a valid БИК")


def test_correspondent_accounts_use_the_bik_s_5th_and_6th_digits() -> None:
    assert checks.account_problem("30101810600000000999", "044525999", correspondent=True) is None
    assert checks.account_problem("30101810800000000777", "044030777", correspondent=True) is None
    # a published pair (a large bank's correspondent account) agrees with the algorithm
    assert checks.account_problem("30101810400000000225", "044525225", correspondent=True) is None
    assert str(checks.account_problem("30101810500000000999", "044525999", correspondent=True)) == (
        "correspondent account 30101810500000000999 does not match БИК 044525999 (control key)")
    assert str(checks.account_problem("40702810600000000001", "044525999", correspondent=True)) == (
        "correspondent account 40702810600000000001 must start with 301")
    # checked as an ordinary account it would need the БИК's last three digits instead
    assert checks.account_problem("30101810600000000999", "044525999") is not None
