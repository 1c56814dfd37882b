"""The runtime mapping from the workflows' codes to the portal's ids, read from the portal and cached.

Handlers need ``entityTypeId``, the type ``id``, the category id, each stage's ``STATUS_ID`` and each
field's ``UF_CRM_{id}_{CODE}`` name. These are never copied into config by hand: they are read from
the portal (the same two requests as the plan) and cached in Redis as JSON; ``invalidate`` after a
provisioning run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from b24app.provisioning.desired import field_name, stage_suffixes
from b24app.provisioning.observed import ObservedState, observe
from b24app.rest.protocol import Bitrix24
from b24app.workflow.models import Workflow


class MappingError(Exception):
    """The portal does not (yet) hold what the workflows describe."""


@dataclass(frozen=True)
class TypeMapping:
    code: str
    entity_type_id: int
    type_id: int
    category_id: int
    stages: Mapping[str, str]   # YAML stage code -> STATUS_ID (e.g. "DT1100_5:SUCCESS")
    fields: Mapping[str, str]   # YAML field code -> UF name (e.g. "UF_CRM_7_AMOUNT")

    def stage_code(self, status_id: str) -> str | None:
        """The YAML stage code of a portal STATUS_ID (None for a stage the workflow does not know)."""
        return next((code for code, sid in self.stages.items() if sid == status_id), None)


@dataclass(frozen=True)
class PortalMapping:
    types: Mapping[str, TypeMapping]

    def by_entity_type(self, entity_type_id: int) -> TypeMapping | None:
        return next((t for t in self.types.values() if t.entity_type_id == entity_type_id), None)

    def to_json(self) -> str:
        return json.dumps({code: asdict(t) for code, t in self.types.items()}, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PortalMapping:
        return cls({code: TypeMapping(**data) for code, data in json.loads(text).items()})


def mapping_from_observed(workflows: list[Workflow], observed: ObservedState) -> PortalMapping:
    types: dict[str, TypeMapping] = {}
    missing: list[str] = []
    for workflow in workflows:
        current = observed.types.get(workflow.type.entity_type_id)
        if current is None or current.id is None or current.category_id is None:
            missing.append(f"type {workflow.code} (entityTypeId {workflow.type.entity_type_id})")
            continue
        by_suffix = {s.suffix: s.status_id for s in current.stages}
        stages = {code: by_suffix.get(suffix, "") for code, suffix in stage_suffixes(workflow).items()}
        missing += [f"stage {workflow.code}/{code}" for code, sid in stages.items() if not sid]
        names = {f.field_name for f in current.fields}
        fields = {f.code: field_name(current.id, f.code) for f in workflow.fields}
        missing += [f"field {workflow.code}/{code}" for code, name in fields.items() if name not in names]
        types[workflow.code] = TypeMapping(workflow.code, workflow.type.entity_type_id, current.id,
                                           current.category_id, stages, fields)
    if missing:
        raise MappingError("the portal lacks " + ", ".join(missing) + "; run `b24app provision --apply`")
    return PortalMapping(types)


def read_mapping(client: Bitrix24, workflows: list[Workflow]) -> PortalMapping:
    return mapping_from_observed(workflows, observe(client, [w.type.entity_type_id for w in workflows]))


class KeyValueStore(Protocol):
    """The part of a Redis client the cache uses."""

    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: str, ex: int | None = None) -> Any: ...

    def delete(self, *names: str) -> Any: ...


class MappingCache:
    """The mapping of one portal (``member_id``) cached in Redis for ``ttl`` seconds."""

    def __init__(self, store: KeyValueStore, member_id: str, ttl: int = 3600) -> None:
        self.store, self.key, self.ttl = store, f"b24app:mapping:{member_id}", ttl

    def get(self) -> PortalMapping | None:
        raw = self.store.get(self.key)
        if raw is None:
            return None
        return PortalMapping.from_json(raw.decode() if isinstance(raw, bytes) else str(raw))

    def put(self, mapping: PortalMapping) -> None:
        self.store.set(self.key, mapping.to_json(), ex=self.ttl)

    def invalidate(self) -> None:
        self.store.delete(self.key)

    def load(self, client: Bitrix24, workflows: list[Workflow]) -> PortalMapping:
        """The cached mapping, or read it from the portal and cache it."""
        cached = self.get()
        if cached is not None and set(cached.types) == {w.code for w in workflows}:
            return cached
        mapping = read_mapping(client, workflows)
        self.put(mapping)
        return mapping
