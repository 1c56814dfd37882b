"""The ``fields:`` part of a workflow file: user fields of the smart process."""

from __future__ import annotations

from b24app.workflow.models import EnumValue, Field, FieldType, Label, OrgConfig
from b24app.workflow.schema import Reader
from b24app.yamlio import LocatedDict

FIELD_CODE = r"[A-Z][A-Z0-9_]{0,29}"
CRM_ENTITIES = ("COMPANY", "CONTACT", "DEAL", "LEAD", "QUOTE", "SMART_INVOICE")


def parse_fields(reader: Reader, data: LocatedDict, org: OrgConfig) -> list[Field]:
    fields: list[Field] = []
    for item in reader.mappings(data, "fields"):
        what = f"field {item.get('code', '?')!r}"
        reader.keys(item, what, ("code", "type", "label"),
                    ("required", "required_one_of", "multiple", "app_filled", "values", "values_from", "crm_entities",
                     "currency"))
        code = reader.string(item, "code", what, FIELD_CODE, "use upper-case letters, digits and '_' (at most 30)")
        kind = _field_type(reader, item, what)
        if code and any(f.code == code for f in fields):
            reader.add(item, f"field code {code!r} is used twice; give each field its own code", "code")
        values = _enum_values(reader, item, what, kind, org)
        entities = tuple(reader.strings(item, "crm_entities", what))
        _check_field_extras(reader, item, what, kind, entities)
        currency = reader.string(item, "currency", what, r"[A-Z]{3}", "use a currency code like RUB")
        required, app_filled = reader.boolean(item, "required", what), reader.boolean(item, "app_filled", what)
        group = reader.string(item, "required_one_of", what, r"[a-z][a-z0-9_]*",
                              "name the group in lower case, e.g. counterparty")
        if (required or app_filled) and group:
            reader.add(item, f"{what}: 'required_one_of' means «this or another field of the group»; drop "
                       "'required'/'app_filled'", "required_one_of")
        if required and app_filled:
            reader.add(item, f"{what}: a field the app fills cannot be required from the initiator; drop "
                       "'required' or 'app_filled'", "required")
        if code and kind:
            fields.append(Field(code, kind, reader.label(item, "label", what) or Label("", ""), required,
                                reader.boolean(item, "multiple", what), app_filled, values, entities,
                                currency or ("RUB" if kind is FieldType.MONEY else None), group or None))
    return fields


def _field_type(reader: Reader, item: LocatedDict, what: str) -> FieldType | None:
    value = item.get("type")
    try:
        return FieldType(str(value))
    except ValueError:
        allowed = ", ".join(t.value for t in FieldType)
        reader.add(item, f"{what}: unknown field type {value!r}; use one of: {allowed}", "type")
        return None


def _enum_values(reader: Reader, item: LocatedDict, what: str, kind: FieldType | None,
                 org: OrgConfig) -> tuple[EnumValue, ...]:
    if kind is not FieldType.ENUMERATION:
        if "values" in item or "values_from" in item:
            reader.add(item, f"{what}: only enumeration fields take 'values'/'values_from'", "values")
        return ()
    if ("values" in item) == ("values_from" in item):
        reader.add(item, f"{what}: an enumeration needs exactly one of 'values' (a list) or 'values_from' "
                   f"(a config list: {', '.join(org.lists) or 'none'})")
        return ()
    if "values_from" in item:
        source = item["values_from"]
        if source not in org.lists:
            reader.add(item, f"{what}: unknown list {source!r}; config lists: {', '.join(org.lists)}", "values_from")
            return ()
        return org.lists[source]
    values = []
    for value in reader.mappings(item, "values"):
        reader.keys(value, f"{what} value", ("code", "name"), ())
        code = reader.string(value, "code", f"{what} value", FIELD_CODE, "use upper-case letters, digits, '_'")
        name = reader.label(value, "name", f"{what} value")
        if code and name:
            values.append(EnumValue(code, name))
    return tuple(values)


def _check_field_extras(reader: Reader, item: LocatedDict, what: str, kind: FieldType | None,
                        entities: tuple[str, ...]) -> None:
    if kind is FieldType.CRM and not entities:
        reader.add(item, f"{what}: a crm field needs 'crm_entities' (e.g. [COMPANY])")
    for entity in entities:
        if entity not in CRM_ENTITIES and not entity.startswith("DYNAMIC_"):
            reader.add(item, f"{what}: unknown CRM entity {entity!r}; use {', '.join(CRM_ENTITIES)} or "
                       "DYNAMIC_<entityTypeId>", "crm_entities")
    if entities and kind is not FieldType.CRM:
        reader.add(item, f"{what}: only crm fields take 'crm_entities'", "crm_entities")
    if "currency" in item and kind is not FieldType.MONEY:
        reader.add(item, f"{what}: only money fields take 'currency'", "currency")
