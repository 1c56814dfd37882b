"""crm.company.{add,get,list}, crm.requisite.{add,get,list} and crm.requisite.bankdetail.{add,get,list}:
a counterparty, its ИНН/КПП and its bank account.

Not in /work/shared/bitrix24: the shapes come from b24restdocs (``bitrix24/b24restdocs``,
``api-reference/crm/companies/crm-company-{add,get,list}.md``,
``api-reference/crm/requisites/universal/crm-requisite-{add,get,list}.md`` and
``.../bank-detail/crm-requisite-bank-detail-{add,get,list}.md``; docs/sandbox.md «Requisites»).

* A requisite belongs to a company (``ENTITY_TYPE_ID`` 4) or a contact (3) by ``ENTITY_ID``; a bank
  detail belongs to a requisite (its ``ENTITY_ID`` is the requisite's ``ID``).
* ``add`` takes ``fields`` and answers the new id (an integer). Errors are HTTP 400 with an empty
  ``error`` and the documented sentence in ``error_description``.
* ``list`` takes ``select`` (empty or ``*``: every field), ``filter`` (the prefix operators of
  :mod:`b24sandbox.filters`), ``order`` and ``start``; 50 rows a page with ``total``/``next``.
* ``get`` takes ``id``. A company that does not exist answers "Not found" (crm-company-get.md).
* ``crm.company.add`` keeps the documented keys of ``fields`` and ignores the others ("An incorrect
  field in ``fields`` will be ignored."); ``params`` is accepted and ignored.

UNVERIFIED, chosen here: the sandbox has no contacts, so ``ENTITY_TYPE_ID`` 3 answers "Entity not
found."; a missing ``NAME`` answers "NAME is not defined or invalid." (the docs mark NAME required but
list no error; a company needs none); an unknown filter or order field answers 400 ``INVALID_ARG_VALUE``; unknown ``select``
names are ignored; the default order is ``ID`` ascending; a missing ``fields`` object answers
"Parameter 'fields' must be array." for requisites too (documented for crm.company.add); ``get`` without a valid id answers "ID is not defined or
invalid." for requisites too (documented for bank details);
no ``ONCRMREQUISITE*`` / ``ONCRMBANKDETAIL*`` events are emitted; access rights are not checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from b24sandbox import requisites as rq
from b24sandbox.crmparams import as_int, as_list, as_mapping, page
from b24sandbox.filters import compile_filter, compile_order, parse_datetime, sort_rows
from b24sandbox.registry import Call, Page, RestError, method


def _invalid(description: str) -> RestError:
    return RestError("", description, 400)


def _fields(call: Call) -> dict[str, Any]:
    fields = call.param("fields")
    if not isinstance(fields, dict) or not fields:
        raise _invalid("Parameter 'fields' must be array.")
    return {str(k).upper(): v for k, v in fields.items()}


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """The row with numbers as numbers and dates as datetimes, for filtering and ordering."""
    typed = dict(row)
    for key in rq.INT_KEYS & row.keys():
        typed[key] = as_int(row[key])
    for key in rq.DATE_KEYS:
        if key in row:
            typed[key] = parse_datetime(row[key]) if row[key] else None
    return typed


def _resolver(keys: tuple[str, ...], what: str) -> Callable[[str], str]:
    def resolve(name: str) -> str:
        if name.upper() not in keys:
            raise RestError("INVALID_ARG_VALUE", f"Invalid {what}: field '{name}' is not allowed", 400)
        return name.upper()
    return resolve


def _list(call: Call, rows: list[dict[str, Any]], keys: tuple[str, ...]) -> Page:
    matches = compile_filter(as_mapping(call.param("filter")), _resolver(keys, "filter"))
    order = compile_order(as_mapping(call.param("order")), _resolver(keys, "order"))
    typed = [(row, _typed(row)) for row in rows]
    chosen = [t for _, t in typed if matches(t)]
    ordered_ids = [t["ID"] for t in sort_rows(chosen, [*order, ("ID", False)])]
    by_id = {t["ID"]: row for row, t in typed}
    asked = [str(s).upper() for s in as_list(call.param("select"))]
    select = [] if "*" in asked else [s for s in asked if s in keys]
    shown = [{k: by_id[i][k] for k in select} if select else dict(by_id[i]) for i in ordered_ids]
    chunk, total, following = page(shown, call.param("start"))
    return Page(chunk, total, following)


def _get(call: Call, rows: dict[int, dict[str, Any]], entity: str | None) -> dict[str, Any]:
    row_id = as_int(call.param("id"))
    if row_id is None or row_id <= 0:
        raise _invalid("ID is not defined or invalid.")
    row = rows.get(row_id)
    if row is None:
        raise _invalid(f"The {entity} with ID '{row_id}' is not found" if entity else "Not found")
    return dict(row)


@method("crm.company.add", scope="crm")
def add_company(call: Call) -> int:
    params = call.param("params")
    if params is not None and not isinstance(params, (dict, list)):
        raise _invalid("Parameter 'params' must be array.")
    return rq.requisite_store(call.state).add_company(call.state, _fields(call), call.user_id)


@method("crm.company.get", scope="crm")
def get_company(call: Call) -> dict[str, Any]:
    return _get(call, rq.requisite_store(call.state).companies, None)


@method("crm.company.list", scope="crm")
def list_companies(call: Call) -> Page:
    return _list(call, list(rq.requisite_store(call.state).companies.values()), rq.COMPANY_KEYS)


@method("crm.requisite.add", scope="crm")
def add_requisite(call: Call) -> int:
    fields = _fields(call)
    store = rq.requisite_store(call.state)
    entity_type = as_int(fields.get("ENTITY_TYPE_ID"))
    if entity_type not in (rq.COMPANY, rq.CONTACT):
        raise _invalid("ENTITY_TYPE_ID is not defined or invalid.")
    entity_id = as_int(fields.get("ENTITY_ID"))
    if entity_id is None or entity_id <= 0:
        raise _invalid("ENTITY_ID is not defined or invalid.")
    preset = as_int(fields.get("PRESET_ID"))
    if preset is None or preset <= 0:
        raise _invalid("PRESET_ID is not defined or invalid.")
    if entity_type != rq.COMPANY or entity_id not in store.companies:
        raise _invalid("Entity not found.")
    if not str(fields.get("NAME") or "").strip():
        raise _invalid("NAME is not defined or invalid.")
    return store.add_requisite(call.state, fields, call.user_id)


@method("crm.requisite.get", scope="crm")
def get_requisite(call: Call) -> dict[str, Any]:
    return _get(call, rq.requisite_store(call.state).requisites, "Requisite")


@method("crm.requisite.list", scope="crm")
def list_requisites(call: Call) -> Page:
    return _list(call, list(rq.requisite_store(call.state).requisites.values()), rq.REQUISITE_KEYS)


@method("crm.requisite.bankdetail.add", scope="crm")
def add_bank_detail(call: Call) -> int:
    fields = _fields(call)
    store = rq.requisite_store(call.state)
    requisite_id = as_int(fields.get("ENTITY_ID"))
    if requisite_id is None or requisite_id not in store.requisites:
        raise _invalid("ENTITY_ID is not defined or invalid.")
    if not str(fields.get("NAME") or "").strip():
        raise _invalid("NAME is not defined or invalid.")
    return store.add_bank_detail(call.state, fields, call.user_id)


@method("crm.requisite.bankdetail.get", scope="crm")
def get_bank_detail(call: Call) -> dict[str, Any]:
    return _get(call, rq.requisite_store(call.state).bank_details, "RequisiteBankDetail")


@method("crm.requisite.bankdetail.list", scope="crm")
def list_bank_details(call: Call) -> Page:
    return _list(call, list(rq.requisite_store(call.state).bank_details.values()), rq.BANK_DETAIL_KEYS)
