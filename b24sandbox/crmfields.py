"""The field catalogue of smart-process items: system fields gated by type flags, parents, user fields.

``FieldDef`` describes one field as ``crm.item.*`` sees it; :func:`catalogue` lists the fields of a
type in the order items show them, with the REST name chosen by the naming mode (camelCase names with
the ``ufCrm`` conversion, or the original ``UF_CRM_`` names with ``useOriginalUfNames: "Y"``).

REFERENCE §6.2 and ``crm.item.fields``: fields of a disabled feature are absent from
``crm.item.fields`` and read as ``null`` in items. No SPA item example exists in the docs; the item key
set follows b24phpsdk's ``ItemItemResult`` (REFERENCE §6.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from b24sandbox import crmstore as cs
from b24sandbox.ufnames import rest_names

if TYPE_CHECKING:
    from b24sandbox.state import PortalState

STAGES = "isStagesEnabled"
DATES = "isBeginCloseDatesEnabled"
CLIENT = "isClientEnabled"
PRODUCTS = "isLinkWithProductsEnabled"
MYCOMPANY = "isMycompanyEnabled"
SOURCE = "isSourceEnabled"
OBSERVERS = "isObserversEnabled"


@dataclass(frozen=True)
class FieldDef:
    name: str  # the key stored in Item.values (camelCase system name or UF_CRM_ name)
    kind: str  # crm.item.fields "type" (integer, string, user, datetime, ..., or the UF userTypeId)
    title: str
    gate: str | None = None  # type flag that enables it
    read_only: bool = False
    multiple: bool = False
    required: bool = False
    in_fields: bool = True  # listed by crm.item.fields
    in_item: bool = True  # shown in items
    upper: str = ""
    user_field: cs.UserField | None = None
    parent: int | None = None

    @property
    def upper_name(self) -> str:
        return self.upper or "".join(f"_{c}" if c.isupper() else c.upper() for c in self.name)


def _d(name: str, kind: str, title: str, gate: str | None = None, **extra: object) -> FieldDef:
    return FieldDef(name, kind, title, gate, **extra)  # type: ignore[arg-type]


SYSTEM_FIELDS: tuple[FieldDef, ...] = (
    _d("id", "integer", "ID", read_only=True),
    _d("xmlId", "string", "External code"),
    _d("title", "string", "Name"),
    _d("createdBy", "user", "Created by", read_only=True),
    _d("updatedBy", "user", "Updated by", read_only=True),
    _d("movedBy", "user", "Moved by", STAGES, read_only=True),
    _d("createdTime", "datetime", "Created at", read_only=True),
    _d("updatedTime", "datetime", "Updated at", read_only=True),
    _d("movedTime", "datetime", "Moved at", STAGES, read_only=True),
    _d("categoryId", "crm_category", "Pipeline"),
    _d("opened", "boolean", "Publicly available", required=True),
    _d("stageId", "crm_status", "Stage", STAGES),
    _d("previousStageId", "crm_status", "Previous stage", STAGES, read_only=True),
    _d("begindate", "date", "Start date", DATES),
    _d("closedate", "date", "End date", DATES),
    _d("companyId", "crm_company", "Company", CLIENT),
    _d("contactId", "crm_contact", "Contact", CLIENT),
    _d("opportunity", "double", "Amount", PRODUCTS),
    _d("isManualOpportunity", "boolean", "Amount calculation mode", PRODUCTS),
    _d("taxValue", "double", "Tax amount", PRODUCTS),
    _d("currencyId", "crm_currency", "Currency", PRODUCTS),
    _d("opportunityAccount", "double", "Amount (account)", PRODUCTS, read_only=True, in_fields=False),
    _d("taxValueAccount", "double", "Tax amount (account)", PRODUCTS, read_only=True, in_fields=False),
    _d("accountCurrencyId", "crm_currency", "Account currency", PRODUCTS, read_only=True, in_fields=False),
    _d("mycompanyId", "crm_company", "Your company details", MYCOMPANY),
    _d("sourceId", "crm_status", "Source", SOURCE),
    _d("sourceDescription", "text", "Additional source info", SOURCE),
    _d("webformId", "integer", "Created by CRM form"),
    _d("assignedById", "user", "Assigned to"),
    _d("lastActivityBy", "user", "Last activity in timeline by", read_only=True),
    _d("lastActivityTime", "datetime", "Last activity", read_only=True),
)
TAIL_FIELDS: tuple[FieldDef, ...] = (
    *(_d(f"utm{part}", "string", f"UTM {part}", in_fields=False) for part in ("Source", "Medium", "Campaign", "Content", "Term")),
    _d("observers", "user", "Observers", OBSERVERS, multiple=True),
    _d("contactIds", "crm_contact", "CONTACT_IDS", CLIENT, multiple=True),
    _d("contacts", "crm_contact", "CONTACTS", CLIENT, multiple=True, in_item=False, read_only=True),
    _d("entityTypeId", "integer", "Entity type", read_only=True, in_fields=False),
)
RESERVED = frozenset(f.name for f in (*SYSTEM_FIELDS, *TAIL_FIELDS))
ENTITY_TITLES = {1: "Lead", 2: "Deal", 3: "Contact", 4: "Company", 7: "Quote", 31: "Invoice", 36: "Document"}


def enabled(smart: cs.SmartType, field: FieldDef) -> bool:
    return field.gate is None or smart.flag(field.gate)


def uf_label(state: PortalState, uf: cs.UserField) -> str:
    labels = uf.edit_form_label
    return labels.get(state.portal.language) or labels.get("en") or next(iter(filter(None, labels.values())), uf.field_name)


def catalogue(state: PortalState, smart: cs.SmartType, original_uf_names: bool) -> dict[str, FieldDef]:
    """REST name -> field, in item order."""
    result = {f.name: f for f in SYSTEM_FIELDS}
    for parent in cs.parent_type_ids(state, smart.entity_type_id):
        parent_type = cs.type_by_etid(state, parent)
        title = parent_type.title if parent_type else ENTITY_TITLES.get(parent, str(parent))
        name = f"parentId{parent}"
        result[name] = FieldDef(name, "crm_entity", title, upper=f"PARENT_ID_{parent}", parent=parent)
    user_fields = cs.user_fields_of(state, smart)
    names = rest_names([uf.field_name for uf in user_fields], RESERVED)
    for uf in user_fields:
        rest = uf.field_name if original_uf_names else names[uf.field_name]
        result[rest] = FieldDef(
            uf.field_name, uf.user_type_id, uf_label(state, uf), multiple=uf.multiple,
            required=uf.mandatory, upper=uf.field_name, user_field=uf,
        )  # fmt: skip
    result.update({f.name: f for f in TAIL_FIELDS})
    return result
