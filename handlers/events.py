"""Routing of received Bitrix24 events to handler functions registered by name.

A handler is ``def handler(deps: Deps, event: Event) -> None`` registered with ``@handles("NAME", ...)``
in any module of the ``handlers`` package (all are imported by :func:`load_handlers`). Per-type
variants (``ONCRMDYNAMICITEMADD_1220``) reach handlers of the exact name, else of the generic name.
Events nobody handles are logged and dropped. :data:`INSTALLED` is a synthetic event dispatched after an
installation is stored (re-binding events and widgets hooks onto it).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)

#: Dispatched by the ``after_install`` job once an installation is stored.
INSTALLED = "B24APP_INSTALLED"

_TYPE_SUFFIX = re.compile(r"^(.*)_\d+$")


@dataclass(frozen=True)
class Event:
    """An event as received: portal, upper-case name, the ``data`` block, the portal's ``ts``."""

    member_id: str
    name: str
    data: Mapping[str, Any] = field(default_factory=dict)
    ts: str = ""
    #: Deliveries the web edge coalesced into this one (an echo plus a person's change is two).
    count: int = 1


Handler = Callable[["Deps", Event], None]

_registry: dict[str, list[Handler]] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for each event name (case-insensitive)."""

    def register(func: Handler) -> Handler:
        for name in names:
            bucket = _registry.setdefault(name.upper(), [])
            if func not in bucket:
                bucket.append(func)
        return func

    return register


def handlers_for(name: str) -> list[Handler]:
    name = name.upper()
    if name in _registry:
        return list(_registry[name])
    match = _TYPE_SUFFIX.match(name)
    return list(_registry.get(match.group(1), [])) if match else []


def dispatch(deps: Deps, event: Event) -> int:
    """Run every handler of the event; return how many ran. Handler errors propagate (RQ retries)."""
    found = handlers_for(event.name)
    if not found:
        log.info("no handler for event %s from %s; dropped", event.name, event.member_id)
        return 0
    for handler in found:
        handler(deps, event)
    return len(found)


def load_handlers() -> None:
    """Import every module of the ``handlers`` package so their ``@handles`` registrations run."""
    import handlers

    for module in pkgutil.iter_modules(handlers.__path__):
        importlib.import_module(f"handlers.{module.name}")


def clear() -> None:
    """Forget every registration (tests)."""
    _registry.clear()
