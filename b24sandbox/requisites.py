"""CRM companies with their requisites and bank details (``crm.company.*``, ``crm.requisite.*``,
``crm.requisite.bankdetail.*``).

Companies are seeded from the org file's ``companies`` section (``default_org.yaml``) together with their
requisites and bank details; scenarios add more through ``crm.company.add``, ``crm.requisite.add`` and
``crm.requisite.bankdetail.add``.

Rows are stored exactly as the ``get`` methods print them in b24restdocs
(``api-reference/crm/companies/crm-company-get.md``,
``api-reference/crm/requisites/universal/crm-requisite-get.md``,
``.../bank-detail/crm-requisite-bank-detail-get.md``): every documented key present, numbers as
strings, unset values ``null``, ``DATE_MODIFY`` ``""`` until modified (a company's ``DATE_MODIFY`` is
its ``DATE_CREATE``, as the company example shows a value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from b24sandbox.state import PortalState

COMPANY, CONTACT = 4, 3  # ENTITY_TYPE_ID values a requisite may belong to

#: crm-company-get.md's example row without its portal-specific PARENT_ID_156 and UF_CRM_* keys.
COMPANY_KEYS = (
    "ID", "COMPANY_TYPE", "TITLE", "LOGO", "LEAD_ID", "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL", "ASSIGNED_BY_ID",
    "CREATED_BY_ID", "MODIFY_BY_ID", "BANKING_DETAILS", "INDUSTRY", "REVENUE", "CURRENCY_ID", "EMPLOYEES",
    "COMMENTS", "DATE_CREATE", "DATE_MODIFY", "OPENED", "IS_MY_COMPANY", "ORIGINATOR_ID", "ORIGIN_ID",
    "ORIGIN_VERSION", "ADDRESS", "ADDRESS_2", "ADDRESS_CITY", "ADDRESS_POSTAL_CODE", "ADDRESS_REGION",
    "ADDRESS_PROVINCE", "ADDRESS_COUNTRY", "ADDRESS_COUNTRY_CODE", "ADDRESS_LOC_ADDR_ID", "ADDRESS_LEGAL",
    "REG_ADDRESS", "REG_ADDRESS_2", "REG_ADDRESS_CITY", "REG_ADDRESS_POSTAL_CODE", "REG_ADDRESS_REGION",
    "REG_ADDRESS_PROVINCE", "REG_ADDRESS_COUNTRY", "REG_ADDRESS_COUNTRY_CODE", "REG_ADDRESS_LOC_ADDR_ID",
    "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", "LAST_ACTIVITY_BY",
    "LAST_ACTIVITY_TIME", "LAST_COMMUNICATION_TIME",
)
#: UNVERIFIED defaults of a new company (the example shows one company's values, not the defaults).
COMPANY_DEFAULTS = {"COMPANY_TYPE": "CUSTOMER", "HAS_PHONE": "N", "HAS_EMAIL": "N", "HAS_IMOL": "N",
                    "OPENED": "Y", "IS_MY_COMPANY": "N", "CURRENCY_ID": "RUB", "REVENUE": "0", "COMMENTS": ""}

REQUISITE_HEAD = (
    "ID", "ENTITY_TYPE_ID", "ENTITY_ID", "PRESET_ID", "DATE_CREATE", "DATE_MODIFY", "CREATED_BY_ID",
    "MODIFY_BY_ID", "NAME", "CODE", "XML_ID", "ORIGINATOR_ID", "ACTIVE", "ADDRESS_ONLY", "SORT",
)
REQUISITE_RQ = tuple(f"RQ_{name}" for name in (
    "NAME", "FIRST_NAME", "LAST_NAME", "SECOND_NAME", "COMPANY_ID", "COMPANY_NAME", "COMPANY_FULL_NAME",
    "COMPANY_REG_DATE", "DIRECTOR", "ACCOUNTANT", "CEO_NAME", "CEO_WORK_POS", "CONTACT", "EMAIL", "PHONE",
    "FAX", "IDENT_TYPE", "IDENT_DOC", "IDENT_DOC_SER", "IDENT_DOC_NUM", "IDENT_DOC_PERS_NUM",
    "IDENT_DOC_DATE", "IDENT_DOC_ISSUED_BY", "IDENT_DOC_DEP_CODE", "INN", "KPP", "USRLE", "IFNS", "OGRN",
    "OGRNIP", "OKPO", "OKTMO", "OKVED", "EDRPOU", "DRFO", "KBE", "IIN", "BIN", "ST_CERT_SER", "ST_CERT_NUM",
    "ST_CERT_DATE", "VAT_PAYER", "VAT_ID", "VAT_CERT_SER", "VAT_CERT_NUM", "VAT_CERT_DATE",
    "RESIDENCE_COUNTRY", "BASE_DOC", "REGON", "KRS", "PESEL", "LEGAL_FORM", "SIRET", "SIREN", "CAPITAL",
    "RCS", "CNPJ", "STATE_REG", "MNPL_REG", "CPF",
))
REQUISITE_KEYS = REQUISITE_HEAD + REQUISITE_RQ

BANK_DETAIL_KEYS = (
    "ID", "ENTITY_ID", "COUNTRY_ID", "DATE_CREATE", "DATE_MODIFY", "CREATED_BY_ID", "MODIFY_BY_ID", "NAME",
    "CODE", "XML_ID", "ORIGINATOR_ID", "ACTIVE", "SORT", "RQ_BANK_NAME", "RQ_BANK_CODE", "RQ_BANK_ADDR",
    "RQ_BANK_ROUTE_NUM", "RQ_BIK", "RQ_MFO", "RQ_ACC_NAME", "RQ_ACC_NUM", "RQ_ACC_TYPE", "RQ_IIK",
    "RQ_ACC_CURRENCY", "RQ_COR_ACC_NUM", "RQ_IBAN", "RQ_SWIFT", "RQ_BIC", "RQ_CODEB", "RQ_CODEG", "RQ_RIB",
    "RQ_AGENCY_NAME", "COMMENTS",
)

#: Integer-valued keys: compared as numbers in filters and order, printed as strings.
INT_KEYS = frozenset({"ID", "ENTITY_TYPE_ID", "ENTITY_ID", "PRESET_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "SORT",
                      "COUNTRY_ID", "ASSIGNED_BY_ID", "LEAD_ID", "LAST_ACTIVITY_BY"})
DATE_KEYS = ("DATE_CREATE", "DATE_MODIFY", "LAST_ACTIVITY_TIME", "LAST_COMMUNICATION_TIME")
_SYSTEM_KEYS = ("ID", "DATE_CREATE", "DATE_MODIFY", "CREATED_BY_ID", "MODIFY_BY_ID", "LAST_ACTIVITY_BY",
                "LAST_ACTIVITY_TIME")

#: Defaults of a new row where the get examples show a value the caller did not necessarily pass.
#: UNVERIFIED: SORT 500 and COUNTRY_ID 1 (the examples pass SORT; COUNTRY_ID 1 = Russia per the example).
REQUISITE_DEFAULTS = {"ACTIVE": "Y", "ADDRESS_ONLY": "N", "SORT": "500", "RQ_VAT_PAYER": "N"}
BANK_DETAIL_DEFAULTS = {"ACTIVE": "Y", "SORT": "500", "COUNTRY_ID": "1"}


@dataclass
class RequisiteStore:
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    requisites: dict[int, dict[str, Any]] = field(default_factory=dict)
    bank_details: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add_company(self, state: PortalState, fields: dict[str, Any], user_id: int, row_id: int | None = None) -> int:
        if row_id is None:
            row_id = state.next_id("crm.company", start=max(self.companies, default=0) + 1)
        row = new_row(state, COMPANY_KEYS, COMPANY_DEFAULTS, fields, row_id, user_id)
        row["ASSIGNED_BY_ID"] = row["ASSIGNED_BY_ID"] or str(user_id)
        row.update(DATE_MODIFY=row["DATE_CREATE"], MODIFY_BY_ID=str(user_id), LAST_ACTIVITY_BY=str(user_id),
                   LAST_ACTIVITY_TIME=row["DATE_CREATE"])
        self.companies[row_id] = row
        return row_id

    def add_requisite(self, state: PortalState, fields: dict[str, Any], user_id: int) -> int:
        row_id = state.next_id("crm.requisite")
        self.requisites[row_id] = new_row(state, REQUISITE_KEYS, REQUISITE_DEFAULTS, fields, row_id, user_id)
        return row_id

    def add_bank_detail(self, state: PortalState, fields: dict[str, Any], user_id: int) -> int:
        row_id = state.next_id("crm.requisite.bankdetail")
        self.bank_details[row_id] = new_row(state, BANK_DETAIL_KEYS, BANK_DETAIL_DEFAULTS, fields, row_id, user_id)
        return row_id


def new_row(state: PortalState, keys: tuple[str, ...], defaults: dict[str, str], fields: dict[str, Any],
            row_id: int, user_id: int) -> dict[str, Any]:
    """A stored row: documented keys only (others are dropped), values as strings or ``None``."""
    row: dict[str, Any] = dict.fromkeys(keys)
    row.update(defaults)
    for key, value in fields.items():
        upper = key.upper()
        if upper in row and upper not in _SYSTEM_KEYS:
            row[upper] = None if value is None else str(value)
    row.update(ID=str(row_id), DATE_CREATE=state.iso(), DATE_MODIFY="", CREATED_BY_ID=str(user_id))
    return row


def _seed(state: PortalState) -> RequisiteStore:
    store = RequisiteStore()
    admin = state.user_by_login(state.portal.admin_login).id
    for company in state.seed.get("companies") or []:
        company_id = store.add_company(state, {"TITLE": company["title"]}, admin, int(company["id"]))
        for requisite in company.get("requisites") or []:
            fields = {k: v for k, v in requisite.items() if k != "bank_details"}
            fields.update(ENTITY_TYPE_ID=COMPANY, ENTITY_ID=company_id)
            fields.setdefault("PRESET_ID", 1)
            requisite_id = store.add_requisite(state, fields, admin)
            for detail in requisite.get("bank_details") or []:
                store.add_bank_detail(state, {**detail, "ENTITY_ID": requisite_id}, admin)
    return store


def requisite_store(state: PortalState) -> RequisiteStore:
    return state.area("requisites", lambda: _seed(state))
