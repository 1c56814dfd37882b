"""Strict-mode checks of the keys inside ``crm.item.*`` parameters (see ``b24sandbox.deepcheck``).

A real portal ignores unknown keys in ``fields`` silently (REFERENCE §6.1) — a misspelled
``ufCrm5Amout`` or a ``UF_CRM_5_AMOUNT`` sent without ``useOriginalUfNames: "Y"`` is simply lost. In
strict mode each key of ``crm.item.add``/``update`` ``fields`` must name a field of the type's catalogue
as ``crm.item.fields`` shows it for the same ``useOriginalUfNames`` (camelCase system fields,
``parentId{ETID}`` for each related parent type, user fields by their converted ``ufCrm…`` or original
``UF_CRM_…`` names, §6.2, §6.5), plus the item keys ``crm.item.fields`` leaves out (``utm*``,
``entityTypeId``); fields of a feature the type disables are unknown (they are absent from
``crm.item.fields``, §6.2). ``crm.item.list`` ``filter`` (after the prefix operator, inside OR/AND
groups), ``select`` (names or ``"*"``) and ``order`` keys are checked against the same catalogue (§6.3).
A missing or unknown ``entityTypeId`` is left to the method's own answer.
"""

from __future__ import annotations

from b24sandbox import crmstore as cs
from b24sandbox.crmfields import FieldDef, catalogue, enabled
from b24sandbox.crmparams import as_int, yn
from b24sandbox.deepcheck import deep_check, filter_fields, keys_of, names_of, unknown_key
from b24sandbox.methods import crm_item
from b24sandbox.registry import Call
from b24sandbox.strict import Violation
from b24sandbox.ufnames import to_camel


def _catalogue(call: Call) -> tuple[dict[str, FieldDef], bool] | None:
    etid = as_int(call.params.get("entityTypeId"))
    smart = cs.type_by_etid(call.state, etid) if etid is not None else None
    if smart is None:
        return None
    original = yn(call.params.get("useOriginalUfNames")) == "Y"
    fields = catalogue(call.state, smart, original)
    return {rest: f for rest, f in fields.items() if enabled(smart, f)}, original


def _why(fields: dict[str, FieldDef], key: str, original: bool) -> str:
    """Point at the naming mode when the key is a user field's name in the other mode."""
    for field in fields.values():
        uf = field.user_field
        if uf is not None and key in (uf.field_name, to_camel(uf.field_name)):
            return f"that name needs useOriginalUfNames={'N' if original else 'Y'} (REFERENCE §6.5)"
    return "not a field of this smart process (crm.item.fields, REFERENCE §6.2)"


@deep_check("crm.item.add", "crm.item.update")
def item_fields(call: Call) -> list[Violation]:
    found = _catalogue(call)
    if found is None:
        return []
    fields, original = found
    known = set(fields)
    if crm_item.ACCEPT_ORIGINAL_NAMES_IN_CAMEL_MODE:
        known |= {f.user_field.field_name for f in fields.values() if f.user_field is not None}
    return [unknown_key(call, "fields", key, known, _why(fields, key, original))
            for key in keys_of(call.params.get("fields")) if key not in known]


@deep_check("crm.item.list")
def item_list(call: Call) -> list[Violation]:
    found = _catalogue(call)
    if found is None:
        return []
    fields, original = found
    known = {rest for rest, f in fields.items() if f.in_item}
    problems = [unknown_key(call, "filter", key, known, _why(fields, name, original))
                for key, name in filter_fields(call.params.get("filter")) if name not in known]
    problems += [unknown_key(call, "select", name, known, _why(fields, name, original))
                 for name in names_of(call.params.get("select")) if name not in known and name != "*"]
    problems += [unknown_key(call, "order", name, known, _why(fields, name, original))
                 for name in keys_of(call.params.get("order")) if name not in known]
    return problems
