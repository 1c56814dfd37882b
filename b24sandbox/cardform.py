"""The "new item" card of the sandbox UI: the fields a person fills in, and their ``crm.item.add`` form.

:func:`card_fields` reads the smart process as provisioned on this portal (its user fields in the
sandbox state, through the same field catalogue ``crm.item.fields`` uses): labels in the portal
language, mandatory fields, list options with their defaults, multiple values, text areas, files.
:func:`item_fields` turns the posted form (and uploaded files) into the ``fields`` of ``crm.item.add``
with the REST (camelCase) names, the way the portal's card sends them: a list option by its id, money as
``amount|CURRENCY``, a yes/no field as ``Y``/``N``, each file as ``[name, base64]``. Nothing is validated
here: the portal's own method checks the values (mandatory fields, list ids, money), so the person sees
the portal's error and nothing is created.

A sandbox choice, not a portal fact: fields marked not editable in lists (``editInList: N`` — provisioning
marks the fields the app fills so) are left out of the form; the real card shows them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from b24sandbox import crmstore as cs
from b24sandbox.crmfields import catalogue
from b24sandbox.state import PortalState

CURRENCIES = ("RUB", "USD", "EUR")
TITLE = {"ru": "Название", "en": "Name"}
ASSIGNED = {"ru": "Ответственный", "en": "Responsible person"}


@dataclass(frozen=True)
class Option:
    id: int
    value: str
    default: bool


@dataclass(frozen=True)
class CardField:
    name: str  # the REST name crm.item.add takes
    label: str
    kind: str  # string, text, integer, double, money, enumeration, boolean, date, datetime, employee, file, ...
    required: bool = False
    multiple: bool = False
    options: tuple[Option, ...] = ()
    help: str = ""
    checked: bool = False  # a yes/no field whose default value is "yes"


def _kind(uf: cs.UserField) -> str:
    if uf.user_type_id == "string" and int(uf.settings.get("ROWS") or 1) > 1:
        return "text"
    return uf.user_type_id


def card_fields(state: PortalState, entity_type_id: int) -> list[CardField] | None:
    """The card's fields in the portal's order (title, responsible person, then the user fields by
    ``sort``), or ``None`` when there is no such smart process."""
    language = state.portal.language
    with state.lock:
        smart = cs.type_by_etid(state, entity_type_id)
        if smart is None:
            return None
        found = [CardField("title", TITLE.get(language, TITLE["en"]), "string"),
                 CardField("assignedById", ASSIGNED.get(language, ASSIGNED["en"]), "employee", required=True)]
        user_fields = [(rest, f) for rest, f in catalogue(state, smart, False).items() if f.user_field is not None]
        user_fields.sort(key=lambda pair: (pair[1].user_field.sort if pair[1].user_field else 0))
        for rest, field in user_fields:
            uf = field.user_field
            if uf is None or uf.edit_in_list == "N":
                continue
            options = tuple(Option(o.id, o.value, o.default) for o in sorted(uf.enum, key=lambda o: (o.sort, o.id)))
            help_text = uf.help_message.get(language) or ""
            checked = uf.user_type_id == "boolean" and str(uf.settings.get("DEFAULT_VALUE", 0)) == "1"
            found.append(CardField(rest, field.title, _kind(uf), uf.mandatory, uf.multiple, options, help_text,
                                   checked))
    return found


def item_fields(fields: Iterable[CardField], form: Mapping[str, str], lists: Callable[[str], list[str]],
                files: Callable[[str], list[tuple[str, bytes]]]) -> dict[str, Any]:
    """The ``crm.item.add`` fields for a posted card. ``form`` gives single values, ``lists(name)`` every
    value of a multiple select, ``files(name)`` the uploaded files as (name, content). Empty inputs are
    left out, as the portal's card leaves them."""
    result: dict[str, Any] = {}
    for field in fields:
        value = _value(field, form, lists, files)
        if value is not None:
            result[field.name] = value
    return result


def _value(field: CardField, form: Mapping[str, str], lists: Callable[[str], list[str]],
           files: Callable[[str], list[tuple[str, bytes]]]) -> Any:
    if field.kind == "file":
        uploaded = [[name, base64.b64encode(content).decode("ascii")] for name, content in files(field.name) if name]
        if not uploaded:
            return None
        return uploaded if field.multiple else uploaded[0]
    if field.kind == "boolean":
        return "Y" if form.get(field.name) else "N"
    if field.multiple:
        chosen = [v for v in lists(field.name) if v.strip()]
        return chosen or None
    text = (form.get(field.name) or "").strip()
    if not text:
        return None
    if field.kind == "money":
        return f"{text.replace(',', '.').replace(' ', '')}|{form.get(field.name + '__currency') or CURRENCIES[0]}"
    if field.kind == "datetime" and len(text) == len("2026-03-02T10:00"):
        return text + ":00"
    return text
