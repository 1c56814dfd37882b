"""The sandbox portal's CRM data: smart processes, funnels, stages, user fields, items, files, timeline.

Everything lives in one :class:`CrmStore` per portal (``crm_store(state)``); the method modules in
``b24sandbox.methods.crm_*`` and ``userfieldconfig`` read and change it under ``state.lock``.
Other areas use the small helpers at the bottom (``task_binding_enabled``, ``item_exists``,
``binding_code``, ``stage_semantics``, ``file_by_id``/``file_by_token``).

Identifiers follow the portal (REFERENCE §0, §4, §5): a smart process has an ``id`` (user fields:
``CRM_{id}``, ``UF_CRM_{id}_*``) and an ``entityTypeId`` (everything else); a funnel's stages live in
the directory ``DYNAMIC_{ETID}_STAGE_{categoryId}`` with codes ``DT{ETID}_{categoryId}:{CODE}``.

UNVERIFIED, chosen and kept switchable here:

* :data:`FIRST_AUTO_ENTITY_TYPE_ID` -- auto-assigned ``entityTypeId`` values are the next free even
  number from 1030 (docs show only even values >= 1030).
* :data:`DEFAULT_STAGE_NAMES` -- only ``NEW`` = "Начало" is documented for Russian portals; the other
  Russian names are the ones the Russian UI shows and are inferred. Likewise the Russian name of the
  default funnel (:data:`DEFAULT_CATEGORY_NAME`, "Общая"; English "General" is documented).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from b24sandbox import ids

if TYPE_CHECKING:
    from b24sandbox.state import PortalState

FIRST_AUTO_ENTITY_TYPE_ID = 1030

TYPE_FLAGS = (
    "isCategoriesEnabled",
    "isStagesEnabled",
    "isBeginCloseDatesEnabled",
    "isClientEnabled",
    "isUseInUserfieldEnabled",
    "isLinkWithProductsEnabled",
    "isMycompanyEnabled",
    "isDocumentsEnabled",
    "isSourceEnabled",
    "isObserversEnabled",
    "isRecyclebinEnabled",
    "isAutomationEnabled",
    "isBizProcEnabled",
    "isSetOpenPermissions",
)
FLAG_DEFAULTS = {flag: ("Y" if flag == "isSetOpenPermissions" else "N") for flag in TYPE_FLAGS}
LINKED_USER_FIELDS = (
    "CALENDAR_EVENT|UF_CRM_CAL_EVENT",
    "TASKS_TASK|UF_CRM_TASK",
    "TASKS_TASK_TEMPLATE|UF_CRM_TASK",
)

# (code, sort, system, color, semantics) -- REFERENCE §5.2
DEFAULT_STAGES: tuple[tuple[str, int, bool, str, str | None], ...] = (
    ("NEW", 10, True, "#22B9FF", None),
    ("PREPARATION", 20, False, "#88B9FF", None),
    ("CLIENT", 30, False, "#10e5fc", None),
    ("SUCCESS", 40, True, "#00ff00", "S"),
    ("FAIL", 50, True, "#ff0000", "F"),
)
DEFAULT_STAGE_NAMES = {
    "en": {"NEW": "Start", "PREPARATION": "Preparation", "CLIENT": "Approval", "SUCCESS": "Success", "FAIL": "Failure"},
    "ru": {"NEW": "Начало", "PREPARATION": "Подготовка", "CLIENT": "Согласование", "SUCCESS": "Успех", "FAIL": "Провал"},
}
DEFAULT_CATEGORY_NAME = {"en": "General", "ru": "Общая"}


@dataclass
class SmartType:
    id: int
    entity_type_id: int
    title: str
    flags: dict[str, str]
    linked_user_fields: dict[str, str]
    created_by: int
    updated_by: int
    created_time: datetime
    updated_time: datetime
    code: str = ""
    custom_section_id: int | None = None

    def flag(self, name: str) -> bool:
        return self.flags.get(name) == "Y"

    @property
    def uf_entity_id(self) -> str:
        return f"CRM_{self.id}"


@dataclass
class Relation:
    """A parent -> child link between entity types; items of ``child`` get ``parentId{parent}``."""

    parent: int
    child: int
    children_list: bool


@dataclass
class Category:
    id: int
    entity_type_id: int
    name: str
    sort: int
    is_default: bool


@dataclass
class Stage:
    id: int
    entity_id: str
    status_id: str
    name: str
    name_init: str
    sort: int
    system: bool
    category_id: int | None
    color: str | None
    semantics: str | None


@dataclass
class EnumOption:
    id: int
    value: str
    default: bool
    sort: int
    xml_id: str


@dataclass
class UserField:
    id: int
    entity_id: str
    field_name: str
    user_type_id: str
    xml_id: str | None = None
    sort: int = 100
    multiple: bool = False
    mandatory: bool = False
    show_filter: str = "N"
    show_in_list: str = "Y"
    edit_in_list: str = "Y"
    is_searchable: str = "N"
    settings: dict[str, Any] = field(default_factory=dict)
    edit_form_label: dict[str, str | None] = field(default_factory=dict)
    help_message: dict[str, str | None] = field(default_factory=dict)
    enum: list[EnumOption] = field(default_factory=list)


@dataclass
class StoredFile:
    id: int
    name: str
    content: bytes
    token: str = field(default_factory=lambda: secrets.token_hex(16))


@dataclass
class Item:
    """``values`` holds system fields by camelCase name and user fields by UF_CRM_ name."""

    id: int
    entity_type_id: int
    values: dict[str, Any]


@dataclass
class HistoryRow:
    id: int
    entity_type_id: int
    type_id: int  # 1 created, 2 moved to an in-progress stage, 3 moved to a final stage
    owner_id: int
    created_time: datetime
    category_id: int
    stage_semantic_id: str
    stage_id: str


@dataclass
class TimelineComment:
    id: int
    entity_type: str
    entity_id: int
    created: datetime
    comment: str
    author_id: int
    files: list[int]


@dataclass
class LogMessage:
    id: int
    entity_type_id: int
    entity_id: int
    created: datetime
    author_id: int
    title: str
    text: str
    icon_code: str


@dataclass
class CrmStore:
    types: dict[int, SmartType] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    categories: dict[int, Category] = field(default_factory=dict)
    stages: dict[int, Stage] = field(default_factory=dict)
    user_fields: dict[int, UserField] = field(default_factory=dict)
    items: dict[int, dict[int, Item]] = field(default_factory=dict)
    files: dict[int, StoredFile] = field(default_factory=dict)
    history: list[HistoryRow] = field(default_factory=list)
    comments: dict[int, TimelineComment] = field(default_factory=dict)
    log_messages: dict[int, LogMessage] = field(default_factory=dict)


def crm_store(state: PortalState) -> CrmStore:
    return state.area("crm", CrmStore)


# --- smart processes ------------------------------------------------------------------------------


def type_by_etid(state: PortalState, entity_type_id: int) -> SmartType | None:
    for smart in crm_store(state).types.values():
        if smart.entity_type_id == entity_type_id:
            return smart
    return None


def next_entity_type_id(state: PortalState) -> int:
    used = {smart.entity_type_id for smart in crm_store(state).types.values()}
    candidate = FIRST_AUTO_ENTITY_TYPE_ID
    while candidate in used:
        candidate += 2
    return candidate


def parent_type_ids(state: PortalState, entity_type_id: int) -> list[int]:
    """Entity types whose items can be parents of this type's items (``parentId{ETID}`` fields)."""
    return [rel.parent for rel in crm_store(state).relations if rel.child == entity_type_id]


def user_fields_of(state: PortalState, smart: SmartType) -> list[UserField]:
    fields = [uf for uf in crm_store(state).user_fields.values() if uf.entity_id == smart.uf_entity_id]
    return sorted(fields, key=lambda uf: uf.id)


# --- funnels and stages ----------------------------------------------------------------------------


def stage_entity_id(entity_type_id: int, category_id: int) -> str:
    return f"DYNAMIC_{entity_type_id}_STAGE_{category_id}"


def stage_prefix(entity_type_id: int, category_id: int) -> str:
    return f"DT{entity_type_id}_{category_id}"


def categories_of(state: PortalState, entity_type_id: int) -> list[Category]:
    found = [c for c in crm_store(state).categories.values() if c.entity_type_id == entity_type_id]
    return sorted(found, key=lambda c: (c.sort, c.id))


def default_category(state: PortalState, entity_type_id: int) -> Category | None:
    for category in categories_of(state, entity_type_id):
        if category.is_default:
            return category
    return None


def stages_of(state: PortalState, entity_id: str) -> list[Stage]:
    found = [s for s in crm_store(state).stages.values() if s.entity_id == entity_id]
    return sorted(found, key=lambda s: (s.sort, s.id))


def stage_by_status_id(state: PortalState, status_id: str) -> Stage | None:
    for stage in crm_store(state).stages.values():
        if stage.status_id == status_id:
            return stage
    return None


def stage_semantics(state: PortalState, stage_id: str) -> str | None:
    """``"S"``, ``"F"`` or ``None`` (in progress) for a stage code such as ``DT1030_3:SUCCESS``."""
    stage = stage_by_status_id(state, stage_id)
    return stage.semantics if stage else None


def create_default_stages(state: PortalState, entity_type_id: int, category_id: int) -> None:
    names = DEFAULT_STAGE_NAMES.get(state.portal.language, DEFAULT_STAGE_NAMES["en"])
    store = crm_store(state)
    for code, sort, system, color, semantics in DEFAULT_STAGES:
        stage_id = state.next_id("crm.status", 1)
        store.stages[stage_id] = Stage(
            id=stage_id,
            entity_id=stage_entity_id(entity_type_id, category_id),
            status_id=f"{stage_prefix(entity_type_id, category_id)}:{code}",
            name=names[code],
            name_init=names[code],
            sort=sort,
            system=system,
            category_id=category_id,
            color=color,
            semantics=semantics,
        )


def add_category(state: PortalState, entity_type_id: int, name: str, sort: int, is_default: bool) -> Category:
    store = crm_store(state)
    if is_default:
        for other in categories_of(state, entity_type_id):
            other.is_default = False
    category = Category(state.next_id("crm.category", ids.CRM_CATEGORY), entity_type_id, name, max(sort, 0), is_default)
    store.categories[category.id] = category
    create_default_stages(state, entity_type_id, category.id)
    return category


# --- items, files ----------------------------------------------------------------------------------


def items_of(state: PortalState, entity_type_id: int) -> dict[int, Item]:
    return crm_store(state).items.setdefault(entity_type_id, {})


def item_exists(state: PortalState, entity_type_id: int, item_id: int) -> bool:
    return item_id in crm_store(state).items.get(entity_type_id, {})


def binding_code(entity_type_id: int, item_id: int) -> str:
    """The CRM binding of a smart-process item in ``UF_CRM_TASK``: ``T{hex ETID}_{id}`` (177 -> ``Tb1_29``)."""
    return f"T{entity_type_id:x}_{item_id}"


def task_binding_enabled(state: PortalState, entity_type_id: int) -> bool:
    """Whether tasks may be bound to this smart process (REFERENCE §7.3)."""
    smart = type_by_etid(state, entity_type_id)
    if smart is None or not smart.flag("isUseInUserfieldEnabled"):
        return False
    return smart.linked_user_fields.get("TASKS_TASK|UF_CRM_TASK") == "Y"


def store_file(state: PortalState, name: str, content: bytes) -> StoredFile:
    stored = StoredFile(state.next_id("crm.file", 1), name, content)
    crm_store(state).files[stored.id] = stored
    return stored


def file_by_id(state: PortalState, file_id: int) -> StoredFile | None:
    return crm_store(state).files.get(file_id)


def file_by_token(state: PortalState, token: str) -> StoredFile | None:
    for stored in crm_store(state).files.values():
        if secrets.compare_digest(stored.token, token):
            return stored
    return None


def base_url(state: PortalState) -> str:
    """The portal address used in file links: the running portal's ``client_endpoint`` without
    ``/rest/`` when it points at this portal's domain, else ``https://{domain}``."""
    from b24sandbox import oauth  # the transport's module; imported lazily to keep this one light

    endpoint = oauth.store(state).endpoints.client_endpoint
    if f"//{state.portal.domain}/" in endpoint:
        return endpoint.removesuffix("/").removesuffix("/rest")
    return f"https://{state.portal.domain}"
