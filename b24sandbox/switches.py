"""Switches for what the docs leave open (UNVERIFIED, listed in docs/sandbox.md) and for the portal's plan.

``portal.switches`` (the ``switches`` area of :class:`PortalState`) is read by the method modules at
call time, so a test can flip one on a running portal:

* ``list_items`` — how ``crm.item.fields`` describes the options of a list field: ``"list"`` (default,
  ``items: [{ID, VALUE}]`` as the legacy ``crm.*.fields`` do), ``"map"`` (``items: {"41": "Маркетинг"}``,
  a PHP array with non-sequential keys), ``"enum"`` (``enum: [{id, value, xmlId}]`` as
  ``userfieldconfig``), ``"xml"`` (``items: [{ID, XML_ID}]``, no names) or ``"none"`` (no options).
* ``features`` — what ``feature.get`` answers per ``CODE`` (``"Y"``/``"N"``); a plan without
  ``rest_offline_extended`` has no processing confirmation for offline events (``event.offline.get``
  with ``clear=0``, docs: "available on certain plans").
* ``offline_without_extended`` — what ``clear=0`` does on such a plan (the docs do not say):
  ``"refuse"`` (default: 400 ``ERROR_FEATURE_NOT_AVAILABLE``) or ``"clear"`` (``clear=0`` is ignored:
  the rows are handed out and deleted at once).
* ``language`` — the language of ``error_description`` texts: ``"en"`` (default) or ``"ru"``: a real
  portal localises its messages, so an app must decide by ``error`` codes (``b24sandbox.localise``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from b24sandbox.state import PortalState

LIST_ITEM_SHAPES = ("list", "map", "enum", "xml", "none")
FEATURES = ("rest_offline_extended", "rest_auth_connector")


@dataclass
class Switches:
    list_items: str = "list"
    features: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FEATURES, "Y"))
    offline_without_extended: str = "refuse"
    language: str = "en"

    def feature(self, code: str) -> bool:
        return self.features.get(code, "N") == "Y"


def switches(state: PortalState) -> Switches:
    return state.area("switches", Switches)
