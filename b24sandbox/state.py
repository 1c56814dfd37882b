"""The sandbox portal's data: the organisation, per-area stores, ids, the clock and event emission.

Everything that changes portal data runs under ``state.lock`` (the transport takes it around each
call). Each functional area keeps its own store object, created on first use through :meth:`area`,
so area modules stay independent: ``crm = state.area("crm", CrmStore)``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import yaml

from b24sandbox.clock import SandboxClock

DEFAULT_ORG = Path(__file__).with_name("default_org.yaml")

T = TypeVar("T")
EventListener = Callable[[str, dict[str, Any], "int | None"], None]


@dataclass
class User:
    id: int
    login: str
    name: str
    last_name: str
    departments: list[int]
    position: str = ""
    active: bool = True
    admin: bool = False
    email: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.name} {self.last_name}".strip()


@dataclass
class Department:
    id: int
    name: str
    parent: int | None
    head: int | None
    sort: int = 500


@dataclass
class Portal:
    domain: str
    member_id: str
    language: str
    timezone: str
    admin_login: str


@dataclass
class PortalState:
    portal: Portal
    users: dict[int, User]
    departments: dict[int, Department]
    clock: SandboxClock = field(default_factory=SandboxClock)
    seed: dict[str, Any] = field(default_factory=dict)  # the org file's other sections (``companies``)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _areas: dict[str, Any] = field(default_factory=dict)
    _ids: dict[str, itertools.count[int]] = field(default_factory=dict)
    _listeners: list[EventListener] = field(default_factory=list)

    # --- organisation -------------------------------------------------------------------------

    @classmethod
    def from_org_file(cls, path: str | Path | None = None, clock: SandboxClock | None = None) -> PortalState:
        """Load an organisation of the shape of ``default_org.yaml``."""
        source = Path(path) if path else DEFAULT_ORG
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        info = data["portal"]
        logins = {u["login"]: int(u["id"]) for u in data["users"]}
        admin_login = info.get("admin", "admin")
        users = {
            int(u["id"]): User(
                id=int(u["id"]),
                login=u["login"],
                name=u.get("name", ""),
                last_name=u.get("last_name", ""),
                departments=[int(u["department"])] if u.get("department") is not None else [],
                position=u.get("position", ""),
                active=bool(u.get("active", True)),
                admin=u["login"] == admin_login or bool(u.get("admin", False)),
                email=u.get("email", f"{u['login']}@{info['domain']}"),
            )
            for u in data["users"]
        }
        departments = {
            int(d["id"]): Department(
                id=int(d["id"]),
                name=d["name"],
                parent=int(d["parent"]) if d.get("parent") is not None else None,
                head=logins[d["head"]] if d.get("head") else None,
                sort=int(d.get("sort", 500)),
            )
            for d in data["departments"]
        }
        portal = Portal(
            domain=info["domain"],
            member_id=info["member_id"],
            language=info.get("language", "ru"),
            timezone=info.get("timezone", "Europe/Moscow"),
            admin_login=admin_login,
        )
        seed = {k: v for k, v in data.items() if k not in ("portal", "users", "departments")}
        return cls(portal=portal, users=users, departments=departments, clock=clock or SandboxClock(), seed=seed)

    def user_by_login(self, login: str) -> User:
        for user in self.users.values():
            if user.login == login:
                return user
        raise KeyError(f"no user with login {login!r} in the sandbox organisation")

    def is_admin(self, user_id: int) -> bool:
        user = self.users.get(user_id)
        return bool(user and user.admin)

    # --- time -----------------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.portal.timezone)

    def now(self) -> datetime:
        return self.clock.now().astimezone(self.tz)

    def iso(self, moment: datetime | None = None) -> str:
        """ISO 8601 with offset, as the portal prints datetimes: ``2025-09-09T16:31:11+03:00``."""
        return (moment or self.now()).astimezone(self.tz).replace(microsecond=0).isoformat()

    # --- ids, areas, events -------------------------------------------------------------------

    def next_id(self, kind: str, start: int = 1) -> int:
        counter = self._ids.get(kind)
        if counter is None:
            counter = self._ids[kind] = itertools.count(start)
        return next(counter)

    def area(self, name: str, factory: Callable[[], T]) -> T:
        """The store of one functional area, created on first use."""
        store = self._areas.get(name)
        if store is None:
            store = self._areas[name] = factory()
        return store

    def subscribe(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def emit(self, event: str, data: dict[str, Any], user_id: int | None) -> None:
        """Announce a portal event (``ONCRMDYNAMICITEMADD``, ``ONTASKUPDATE``...) to the dispatcher.

        ``data`` is the event's ``data`` block as documented; ``user_id`` is who caused the change
        (``None`` for automation), whose tokens go into ``auth``.
        """
        for listener in list(self._listeners):
            listener(event.upper(), data, user_id)
