"""How sandbox REST methods are declared and invoked.

A method is a plain function ``(call: Call) -> result`` registered with :func:`method`. It reads
``call.params`` exactly as the portal received them (already decoded from JSON, form or query string),
raises :class:`RestError` for documented error answers, and returns either the ``result`` value or a
:class:`Page` when the response carries ``total``/``next``. The transport (``server.py``) turns that
into the documented envelope; user actions in the UI invoke the same functions through
:func:`invoke`, so both paths share one behaviour and fire the same events.

Method modules live in ``b24sandbox.methods`` and are discovered by :func:`load_all`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from b24sandbox.state import PortalState, User

AuthKind = Literal["webhook", "oauth", "ui"]


class RestError(Exception):
    """A documented error answer: HTTP ``status`` plus the ``error``/``error_description`` pair.

    ``error`` is whatever the real portal puts there: a symbolic code, a number as a string, the
    integer ``0``, an empty string, or a sentence (``crm.status.*``). ``extra`` adds keys such as
    ``argument`` for ``placement.bind``.
    """

    def __init__(self, error: str | int, description: str = "", status: int = 400, **extra: Any) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description, **self.extra}


@dataclass
class Page:
    """A list answer: ``result`` plus ``total`` and (only when more rows remain) ``next``."""

    result: Any
    total: int | None = None
    next: int | None = None


@dataclass
class Call:
    """One method invocation as the portal sees it."""

    state: PortalState
    method: str
    params: dict[str, Any]
    user_id: int
    auth_kind: AuthKind
    app_client_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    access_token: str | None = None  # the caller's OAuth token; None for webhooks and UI actions

    @property
    def now(self) -> datetime:
        """The sandbox clock, in the portal's time zone."""
        return self.state.now()

    @property
    def user(self) -> User:
        return self.state.users[self.user_id]

    @property
    def is_admin(self) -> bool:
        return self.state.is_admin(self.user_id)

    def param(self, name: str, default: Any = None) -> Any:
        """A top-level parameter by its documented name, matched case-insensitively."""
        if name in self.params:
            return self.params[name]
        lowered = name.lower()
        for key, value in self.params.items():
            if key.lower() == lowered:
                return value
        return default

    def require(self, name: str, error: str | int = "100", description: str | None = None) -> Any:
        value = self.param(name)
        if value is None or value == "":
            raise RestError(error, description or f"Could not find value for parameter {{{name}}}")
        return value


@dataclass(frozen=True)
class MethodSpec:
    name: str
    func: Callable[[Call], Any]
    scope: str | None
    app_only: bool
    batchable: bool


METHODS: dict[str, MethodSpec] = {}


def method(
    name: str, *, scope: str | None, app_only: bool = False, batchable: bool = True
) -> Callable[[Callable[[Call], Any]], Callable[[Call], Any]]:
    """Register a REST method. ``scope=None`` means the implicit ``basic`` scope."""

    def register(func: Callable[[Call], Any]) -> Callable[[Call], Any]:
        key = name.lower()
        if key in METHODS:
            raise RuntimeError(f"sandbox method {name} registered twice")
        METHODS[key] = MethodSpec(name, func, scope, app_only, batchable)
        return func

    return register


def load_all() -> dict[str, MethodSpec]:
    """Import every module of ``b24sandbox.methods`` so their methods register."""
    package = importlib.import_module("b24sandbox.methods")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    return METHODS


def find(name: str) -> MethodSpec | None:
    load_all()
    return METHODS.get(name.lower())


def invoke(state: PortalState, name: str, params: dict[str, Any], user_id: int, auth_kind: AuthKind = "ui") -> Any:
    """Run a method in-process, as a person's UI action would: no transport, no strict validation,
    not counted as a REST request. Returns the ``result`` value (a :class:`Page` is unwrapped)."""
    spec = find(name)
    if spec is None:
        raise RestError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
    with state.lock:
        answer = spec.func(Call(state, spec.name, params, user_id, auth_kind))
    return answer.result if isinstance(answer, Page) else answer
