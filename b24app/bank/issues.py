"""Problems and reasons of the bank exchange as codes and values, never as finished sentences.

The writer's checks (what keeps a request out of the payment-order file), the matcher's reasons (why a
statement line is paid, left for the accountant or unmatched) and the service's refusals are
:class:`Issue` values: a ``code``, the file's ``key`` the issue is about (``ПолучательИНН``; empty when
none) and the ``values`` the text needs. Staff read them through ``b24app/texts/bank.py`` (Russian
first, English available); ``str()`` is the English line for logs, ``check-config`` and tests.

Parser errors are different: they stay ``line N: message`` (:class:`~b24app.bank.model.Problem`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: code -> the English text (``str.format`` with the issue's values).
ENGLISH: dict[str, str] = {
    # the writer: one party's details, an order's own values
    "missing": "missing",
    "multiline": "must be a single line",
    "cp1251": "character {char!r} cannot be written in cp1251",
    "inn_format": "ИНН {value!r} must be 10 or 12 digits",
    "inn_zeros": "ИНН {value} is all zeros",
    "inn_check": "ИНН {value} fails its check digits",
    "kpp_format": "КПП {value!r} must be 9 characters (NNNNPPNNN)",
    "bik_format": "БИК {value!r} must be 9 digits",
    "account_format": "account {value!r} must be 20 digits",
    "account_unchecked": "account {value} cannot be checked without a valid БИК",
    "account_key": "account {value} does not match БИК {bik} (control key)",
    "corr_format": "correspondent account {value!r} must be 20 digits",
    "corr_prefix": "correspondent account {value} must start with 301",
    "corr_unchecked": "correspondent account {value} cannot be checked without a valid БИК",
    "corr_key": "correspondent account {value} does not match БИК {bik} (control key)",
    "amount_not_positive": "{value} must be greater than zero",
    "amount_decimals": "{value} has more than 2 decimals",
    "invoice_number_missing": "invoice number: missing (needed for НазначениеПлатежа)",
    "invoice_date_missing": "invoice date: missing (needed for НазначениеПлатежа)",
    "request_number_missing": "request number: missing (needed for НазначениеПлатежа)",
    "purpose_length": "{length} characters, at most {limit}",
    "number_range": "{value} is outside 1..{limit}",
    # where a recipient's details were read
    "source_company": "CRM requisites of company {company}",
    "source_fields": "the request's recipient fields",
    # the matcher
    "matched": "ИНН and amount match",
    "matched_referenced": "ИНН and amount match, confirmed by the purpose",
    "no_inn": "the document has no ПолучательИНН",
    "no_request": "no open request for ИНН {inn}",
    "partial": "ИНН matches but a partial payment: {paid} paid, requested {requested}",
    "amount_differs": "ИНН matches but the amount differs: {paid} paid, requested {requested}",
    "several": "{count} open requests with ИНН {inn} and this amount",
    "double": "{count} bank documents match request №{request}",
    "known": "already applied by an earlier import",
    # the service
    "not_at_payment": "request №{request} is no longer at the payment step",
    "no_pending": "no bank document {document!r} is waiting for a decision",
    "not_candidate": "request №{request} is not a candidate for document №{number} (candidates: {candidates})",
    "already_applied": "document №{number} was already applied",
}


@dataclass(frozen=True)
class Issue:
    """One problem or reason: a code of :data:`ENGLISH`, the file's key it is about, and its values."""

    code: str
    key: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.code not in ENGLISH:
            raise ValueError(f"unknown bank issue code {self.code!r}")

    @classmethod
    def of(cls, code: str, key: str = "", **values: object) -> Issue:
        return cls(code, key, tuple((name, str(value)) for name, value in values.items()))

    @property
    def args(self) -> dict[str, str]:
        return dict(self.values)

    def __str__(self) -> str:
        text = ENGLISH[self.code].format(**self.args)
        return f"{self.key}: {text}" if self.key else text

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "key": self.key, "values": [list(pair) for pair in self.values]}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Issue:
        raw = data.get("values") or []
        assert isinstance(raw, list)
        return cls(str(data["code"]), str(data.get("key") or ""), tuple((str(k), str(v)) for k, v in raw))
