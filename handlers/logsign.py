"""The approval log's signatures: only entries the app wrote count.

The log lives in the item's ``DECISIONS`` field, which anyone who may edit the item can write. Every
entry the app writes carries ``"sig"``: an HMAC-SHA256 (keyed by ``deps.app_secret``) over the portal's
``member_id``, the item's entity type and id, and the entry's canonical JSON without ``sig``. Entries are
verified here, at the boundary, before the pure engine sees them; the rest are ignored (and reported
once in the item's timeline by :mod:`handlers.itemstate`). An entry copied to another item or portal
fails, as does any edited byte of its content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SIG = "sig"
CONTEXT = b"b24app-decisions-v1"


@dataclass(frozen=True)
class Scope:
    """Whose log this is: the signature binds an entry to one item of one portal."""

    member_id: str
    entity_type_id: int
    item_id: int


@dataclass(frozen=True)
class Verified:
    entries: tuple[str, ...]     # the verified entries (canonical JSON without ``sig``)
    rejected: tuple[str, ...]    # values that failed verification, as found


def canonical(data: Mapping[str, Any]) -> str:
    """The same text ``Entry.to_text`` writes (sorted keys, compact, UTF-8)."""
    return json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def mac(secret: bytes, scope: Scope, text: str) -> str:
    message = b"\n".join([CONTEXT, scope.member_id.encode(), str(scope.entity_type_id).encode(),
                          str(scope.item_id).encode(), text.encode()])
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign(secret: bytes, scope: Scope, text: str) -> str:
    """An entry's text (``Entry.to_text``) with its signature added."""
    data = json.loads(text)
    data.pop(SIG, None)
    body = canonical(data)
    return canonical({**data, SIG: mac(secret, scope, body)})


def verify_one(secret: bytes, scope: Scope, value: Any) -> str | None:
    """The entry's canonical text without ``sig`` when its signature holds, else None."""
    try:
        data = json.loads(str(value))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    sig = data.pop(SIG, None)
    if not isinstance(sig, str):
        return None
    body = canonical(data)
    return body if hmac.compare_digest(sig, mac(secret, scope, body)) else None


def verify(secret: bytes, scope: Scope, value: Any) -> Verified:
    """Split the ``DECISIONS`` field's values into verified entries and rejected values."""
    values = value if isinstance(value, list | tuple) else ([value] if value else [])
    good: list[str] = []
    bad: list[str] = []
    for raw in values:
        if raw in (None, ""):
            continue
        body = verify_one(secret, scope, raw)
        if body is None:
            bad.append(str(raw))
        else:
            good.append(body)
    return Verified(tuple(good), tuple(bad))


def digest(values: tuple[str, ...]) -> str:
    """A short stable name for a set of rejected values (the timeline reports each set once)."""
    return hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()[:16]
