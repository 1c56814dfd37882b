"""Switches for behaviour the docs leave open (UNVERIFIED, listed in docs/sandbox.md), per portal.

``portal.switches`` (the ``switches`` area of :class:`PortalState`) is read by the method modules at
call time, so a test can flip one on a running portal:

* ``list_items`` — how ``crm.item.fields`` describes the options of a list field: ``"list"`` (default,
  ``items: [{ID, VALUE}]`` as the legacy ``crm.*.fields`` do), ``"map"`` (``items: {"41": "Маркетинг"}``,
  a PHP array with non-sequential keys), ``"enum"`` (``enum: [{id, value, xmlId}]`` as
  ``userfieldconfig``), ``"xml"`` (``items: [{ID, XML_ID}]``, no names) or ``"none"`` (no options).
"""

from __future__ import annotations

from dataclasses import dataclass

from b24sandbox.state import PortalState

LIST_ITEM_SHAPES = ("list", "map", "enum", "xml", "none")


@dataclass
class Switches:
    list_items: str = "list"


def switches(state: PortalState) -> Switches:
    return state.area("switches", Switches)
