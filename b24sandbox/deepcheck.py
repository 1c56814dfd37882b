"""Strict mode, second layer: the keys inside ``fields``, ``filter``, ``select`` and ``order``.

The first layer (:mod:`b24sandbox.strict`) checks a call's top-level parameters against the
method schema. Misspellings one level down (``fields.ufCrm5Amout``, ``filter.RESPONSIBLE``) are
silently ignored by a real portal (REFERENCE §6.1 "Unknown keys in fields are ignored silently"), so
in strict mode these checks report them as violations too. A check needs the portal's data (a smart
process's field catalogue, say), so it runs with the :class:`Call`, under the state lock, right before
the method. Checks register per method with :func:`deep_check`; check modules live beside the methods
(``b24sandbox/methods/checks_*.py``) and are imported with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from b24sandbox.filters import split_key
from b24sandbox.registry import Call
from b24sandbox.strict import Violation

Check = Callable[[Call], list[Violation]]
CHECKS: dict[str, list[Check]] = {}


def deep_check(*methods: str) -> Callable[[Check], Check]:
    """Register ``func`` as a strict-mode check of each named method."""

    def register(func: Check) -> Check:
        for name in methods:
            CHECKS.setdefault(name.lower(), []).append(func)
        return func

    return register


def run(call: Call) -> list[Violation]:
    problems: list[Violation] = []
    for check in CHECKS.get(call.method.lower(), []):
        problems.extend(check(call))
    return problems


def unknown_key(call: Call, where: str, key: str, known: Iterable[str], why: str = "") -> Violation:
    """``unknown key 'X' in 'fields' (documented as 'Y')`` — the same wording family as top-level ones."""
    names = list(known)
    twins = [n for n in names if n.lower() == key.lower() and n != key]
    hint = f" (documented as '{twins[0]}')" if twins else ""
    tail = f"; {why}" if why else ""
    return Violation(call.method, f"{where}.{key}", f"unknown key '{key}' in '{where}'{hint}{tail}")


def filter_fields(spec: Any) -> Iterator[tuple[str, str]]:
    """``(key as sent, field name)`` of every condition of a list filter, OR/AND groups included."""
    if isinstance(spec, (list, tuple)):
        spec = {str(i): v for i, v in enumerate(spec)}
    if not isinstance(spec, Mapping):
        return
    for key, value in spec.items():
        key = str(key)
        if key.lower() == "logic":
            continue
        if key.isdigit() and isinstance(value, (Mapping, list, tuple)):
            yield from filter_fields(value)
            continue
        yield key, split_key(key)[1]


def names_of(value: Any) -> list[str]:
    """``select`` as a list or a numbered map; ``order`` keys."""
    if isinstance(value, Mapping):
        return [str(v) for v in value.values()]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [] if value in (None, "") else [str(value)]


def keys_of(value: Any) -> list[str]:
    return [str(k) for k in value] if isinstance(value, Mapping) else []
