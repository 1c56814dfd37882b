"""Every problem and reason of the bank exchange has its staff text, in Russian and English."""

from __future__ import annotations

import string

from b24app.bank.issues import ENGLISH, Issue
from b24app.bank.report import Missing
from b24app.texts.bank import ISSUES, issue_text, missing_text


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_issue_code_has_both_texts_with_the_same_values() -> None:
    assert set(ISSUES) == set(ENGLISH)
    for code, label in ISSUES.items():
        assert _fields(label.ru) == _fields(label.en) == _fields(ENGLISH[code]), code


def test_an_issue_is_rendered_in_russian_first_and_in_english() -> None:
    issue = Issue.of("account_key", "ПолучательСчет", value="40702810100000012345", bik="044030777")
    assert issue_text(issue) == "ПолучательСчет: счёт 40702810100000012345 не соответствует БИК 044030777 (контрольный ключ)"
    assert issue_text(issue, "en") == str(issue) == (
        "ПолучательСчет: account 40702810100000012345 does not match БИК 044030777 (control key)")
    missing = Missing(Issue("missing", "ПолучательИНН"), Issue.of("source_company", company=12))
    assert missing_text(missing) == "ПолучательИНН: не заполнено (реквизиты компании 12 в CRM)"
    assert str(missing) == "ПолучательИНН: missing (CRM requisites of company 12)"
    assert Issue.from_json(issue.as_json()) == issue
