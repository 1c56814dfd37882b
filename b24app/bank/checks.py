"""Well-formedness of Russian payment identifiers: ИНН, КПП, БИК, account numbers.

Each check returns ``None`` when the value is good, or an :class:`~b24app.bank.issues.Issue` otherwise.

* ИНН: 10 digits (organisations) or 12 (persons, sole traders), with the tax service's check digits
  (weighted sums modulo 11, then modulo 10).
* КПП: 9 characters, ``NNNNPPNNN`` where PP may be digits or capital Latin letters.
* БИК: 9 digits.
* Account: 20 digits whose 9th digit is the control key computed with the bank's БИК — the Bank of
  Russia's algorithm: prefix the account with three digits from the БИК (its last three for an account
  at a credit institution; ``0`` and its 5th–6th digits for a correspondent account at the Bank of
  Russia), multiply the 23 digits by 7, 1, 3, 7, 1, 3, …, and the sum of the products' last digits
  must end in 0.
"""

from __future__ import annotations

import re

from b24app.bank.issues import Issue

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")
_KEY_WEIGHTS = (7, 1, 3)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_problem(inn: str) -> Issue | None:
    if not inn.isdigit() or len(inn) not in (10, 12) or not inn.isascii():
        return Issue.of("inn_format", value=inn)
    if set(inn) == {"0"}:
        return Issue.of("inn_zeros", value=inn)
    if len(inn) == 10:
        ok = _check_digit(inn, _INN10) == int(inn[9])
    else:
        ok = _check_digit(inn, _INN11) == int(inn[10]) and _check_digit(inn, _INN12) == int(inn[11])
    return None if ok else Issue.of("inn_check", value=inn)


def kpp_problem(kpp: str) -> Issue | None:
    return None if _KPP.fullmatch(kpp) else Issue.of("kpp_format", value=kpp)


def bik_problem(bik: str) -> Issue | None:
    return None if len(bik) == 9 and bik.isdigit() and bik.isascii() else Issue.of("bik_format", value=bik)


def _key_sum(digits: str) -> int:
    return sum(int(d) * _KEY_WEIGHTS[i % 3] % 10 for i, d in enumerate(digits)) % 10


def account_problem(account: str, bik: str, *, correspondent: bool = False) -> Issue | None:
    """An account (``correspondent=True``: a bank's correspondent account) checked against ``bik``."""
    kind = "corr" if correspondent else "account"
    if len(account) != 20 or not account.isdigit() or not account.isascii():
        return Issue.of(f"{kind}_format", value=account)
    if correspondent and not account.startswith("301"):
        return Issue.of("corr_prefix", value=account)
    if bik_problem(bik):
        return Issue.of(f"{kind}_unchecked", value=account)
    prefix = "0" + bik[4:6] if correspondent else bik[6:9]
    if _key_sum(prefix + account):
        return Issue.of(f"{kind}_key", value=account, bik=bik)
    return None
