"""Staff-facing texts of the bank exchange's problems and reasons (issue 18): Russian first, English available.

The service returns :class:`~b24app.bank.issues.Issue` values (a code, the file's key, the values);
:func:`issue_text` renders one for the accounting view and ``b24app bank``. The file's keys
(``ПолучательИНН``) are the bank format's own names and are shown as they are, in both languages.
"""

from __future__ import annotations

from b24app.bank.issues import Issue
from b24app.bank.report import Missing
from b24app.workflow.models import Label

ISSUES: dict[str, Label] = {
    "missing": Label("не заполнено", "missing"),
    "multiline": Label("должно быть одной строкой", "must be a single line"),
    "cp1251": Label("символ «{char}» нельзя записать в кодировке Windows-1251",
                    "character «{char}» cannot be written in cp1251"),
    "inn_format": Label("ИНН «{value}» должен состоять из 10 или 12 цифр", "ИНН «{value}» must be 10 or 12 digits"),
    "inn_zeros": Label("ИНН {value} состоит из одних нулей", "ИНН {value} is all zeros"),
    "inn_check": Label("ИНН {value} не проходит проверку контрольных цифр", "ИНН {value} fails its check digits"),
    "kpp_format": Label("КПП «{value}» должен состоять из 9 знаков (NNNNPPNNN)",
                        "КПП «{value}» must be 9 characters (NNNNPPNNN)"),
    "bik_format": Label("БИК «{value}» должен состоять из 9 цифр", "БИК «{value}» must be 9 digits"),
    "account_format": Label("счёт «{value}» должен состоять из 20 цифр", "account «{value}» must be 20 digits"),
    "account_unchecked": Label("счёт {value} нельзя проверить без правильного БИК",
                               "account {value} cannot be checked without a valid БИК"),
    "account_key": Label("счёт {value} не соответствует БИК {bik} (контрольный ключ)",
                         "account {value} does not match БИК {bik} (control key)"),
    "corr_format": Label("корр. счёт «{value}» должен состоять из 20 цифр",
                         "correspondent account «{value}» must be 20 digits"),
    "corr_prefix": Label("корр. счёт {value} должен начинаться с 301",
                         "correspondent account {value} must start with 301"),
    "corr_unchecked": Label("корр. счёт {value} нельзя проверить без правильного БИК",
                            "correspondent account {value} cannot be checked without a valid БИК"),
    "corr_key": Label("корр. счёт {value} не соответствует БИК {bik} (контрольный ключ)",
                      "correspondent account {value} does not match БИК {bik} (control key)"),
    "amount_not_positive": Label("{value} — сумма должна быть больше нуля", "{value} must be greater than zero"),
    "amount_decimals": Label("{value} — больше двух знаков после запятой", "{value} has more than 2 decimals"),
    "invoice_number_missing": Label("не указан номер счёта (нужен для назначения платежа)",
                                    "invoice number: missing (needed for НазначениеПлатежа)"),
    "invoice_date_missing": Label("не указана дата счёта (нужна для назначения платежа)",
                                  "invoice date: missing (needed for НазначениеПлатежа)"),
    "request_number_missing": Label("нет номера заявки (нужен для назначения платежа)",
                                    "request number: missing (needed for НазначениеПлатежа)"),
    "purpose_length": Label("{length} символов, допустимо не больше {limit}", "{length} characters, at most {limit}"),
    "number_range": Label("{value} вне диапазона 1..{limit}", "{value} is outside 1..{limit}"),
    "source_company": Label("реквизиты компании {company} в CRM", "CRM requisites of company {company}"),
    "source_fields": Label("реквизиты получателя в заявке", "the request's recipient fields"),
    "matched": Label("совпали ИНН и сумма", "ИНН and amount match"),
    "matched_referenced": Label("совпали ИНН и сумма, назначение платежа подтверждает",
                                "ИНН and amount match, confirmed by the purpose"),
    "no_inn": Label("в платеже нет ИНН получателя", "the document has no ПолучательИНН"),
    "no_request": Label("нет открытых заявок с ИНН {inn}", "no open request for ИНН {inn}"),
    "partial": Label("ИНН совпал, но оплачено частично: оплачено {paid}, по заявке {requested}",
                     "ИНН matches but a partial payment: {paid} paid, requested {requested}"),
    "amount_differs": Label("ИНН совпал, но сумма другая: оплачено {paid}, по заявке {requested}",
                            "ИНН matches but the amount differs: {paid} paid, requested {requested}"),
    "several": Label("{count} открытые заявки с ИНН {inn} и этой суммой",
                     "{count} open requests with ИНН {inn} and this amount"),
    "double": Label("заявке №{request} соответствуют {count} платежа банка",
                    "{count} bank documents match request №{request}"),
    "known": Label("уже загружен ранее", "already applied by an earlier import"),
    "not_at_payment": Label("заявка №{request} уже не на шаге оплаты",
                            "request №{request} is no longer at the payment step"),
    "no_pending": Label("платёж {document} не ждёт решения", "no bank document {document} is waiting for a decision"),
    "not_candidate": Label("заявка №{request} не подходит к платежу №{number} (подходят: {candidates})",
                           "request №{request} is not a candidate for document №{number} (candidates: {candidates})"),
    "already_applied": Label("платёж №{number} уже учтён", "document №{number} was already applied"),
}


def issue_text(issue: Issue, lang: str = "ru") -> str:
    """One issue in the staff's language, prefixed by the file's key it is about."""
    text = ISSUES[issue.code].get(lang).format(**issue.args)
    return f"{issue.key}: {text}" if issue.key else text


def missing_text(missing: Missing, lang: str = "ru") -> str:
    """What keeps a request out of the file, with where a recipient's details were read."""
    text = issue_text(missing.issue, lang)
    return f"{text} ({issue_text(missing.source, lang)})" if missing.source is not None else text
