"""User-field names in ``crm.item.*``: ``UF_CRM_5_AMOUNT`` <-> ``ufCrm5Amount``.

The documented rule (REFERENCE §6.5, crm/universal/index.md "Field Naming Conventions"):

* regular conversion when the part after ``UF_CRM_{n}_`` is only letters (words joined by ``_``) or
  only digits: ``UF_CRM_10_DIGIT`` -> ``ufCrm10Digit``, ``UF_CRM_3_1747309727`` -> ``ufCrm3_1747309727``;
* simplified conversion (only the prefix changes) when letters and digits are mixed or there is no
  type number: ``UF_CRM_3_DIGIT10`` -> ``ufCrm_3_DIGIT10``, ``UF_CRM_1747309879`` -> ``ufCrm_1747309879``;
* when the converted name collides with another field, the original UPPER_CASE name is used.

UNVERIFIED choices, kept as module-level switches:

* :data:`LETTERS_WITHOUT_TYPE_NUMBER` -- deal-style names with letters only and no type number
  (``UF_CRM_DEAL_AWARD``) are not covered by the docs. ``"simplified"`` (default, following "or no
  type number") gives ``ufCrm_DEAL_AWARD``; ``"regular"`` gives ``ufCrmDealAward``.
* :data:`COLLISION_KEEPS_ALL_ORIGINAL` -- on a collision every colliding user field keeps its
  original name (default); with ``False`` the first one (lowest id) keeps the converted name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

LETTERS_WITHOUT_TYPE_NUMBER = "simplified"
COLLISION_KEEPS_ALL_ORIGINAL = True

_PREFIX = "UF_CRM_"
_WITH_NUMBER = re.compile(r"^UF_CRM_(\d+)_(.+)$")
_WORDS = re.compile(r"^[A-Z]+(?:_[A-Z]+)*$")
_DIGITS = re.compile(r"^\d+$")


def to_camel(name: str) -> str:
    """The camelCase name ``crm.item.*`` uses for the user field ``name`` (collisions aside)."""
    upper = name.upper()
    if not upper.startswith(_PREFIX):
        return name
    match = _WITH_NUMBER.match(upper)
    if match is None:
        rest = upper[len(_PREFIX) :]
        if _WORDS.match(rest) and LETTERS_WITHOUT_TYPE_NUMBER == "regular":
            return "ufCrm" + _camel_words(rest)
        return "ufCrm_" + rest
    number, suffix = match.groups()
    if _WORDS.match(suffix):
        return f"ufCrm{number}{_camel_words(suffix)}"
    if _DIGITS.match(suffix):
        return f"ufCrm{number}_{suffix}"
    return f"ufCrm_{number}_{suffix}"


def _camel_words(words: str) -> str:
    return "".join(part.capitalize() for part in words.split("_"))


def rest_names(uf_names: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """Map each original ``UF_CRM_...`` name to the name ``crm.item.*`` shows in camelCase mode.

    ``uf_names`` in creation order; ``reserved`` are the system field names of the entity, which a
    converted user-field name must not shadow.
    """
    names = list(uf_names)
    taken = set(reserved)
    converted = {name: to_camel(name) for name in names}
    counts: dict[str, int] = {}
    for camel in converted.values():
        counts[camel] = counts.get(camel, 0) + 1
    result: dict[str, str] = {}
    seen: set[str] = set()
    for name in names:
        camel = converted[name]
        clash = camel in taken or (counts[camel] > 1 and (COLLISION_KEEPS_ALL_ORIGINAL or camel in seen))
        result[name] = name if clash else camel
        seen.add(camel)
    return result
