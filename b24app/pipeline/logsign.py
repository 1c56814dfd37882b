"""The approval log's signatures: only entries the app wrote count, and only the log it wrote last.

The log lives in the item's ``DECISIONS`` field, which anyone who may edit the item can write. Every
entry the app writes carries ``"sig"``: an HMAC-SHA256 (keyed by ``deps.app_secret``) over the portal's
``member_id``, the item's entity type and id, the previous entry's signature (a hash chain; ``""`` for
the first entry) and the entry's canonical JSON without ``sig`` (which holds its ``seq``). Entries are
verified here, at the boundary, before the pure engine sees them: the chain is followed from its start;
what is not on it is ignored (and reported once in the item's timeline by :mod:`b24app.pipeline.process`).
An entry copied to another item or portal fails, as does any edited byte, a removed or reordered entry
in the middle (the entries after it leave the chain).

Signatures alone cannot tell the newest entries deleted, or an older signed log put back. So after each
write of the log the app keeps a copy of it (the entries without signatures) in Redis per item
(:func:`remember`); a log read from the portal that is not that copy or its continuation is a rollback
(:func:`rolled_back`): the engine works from the copy, the next item write puts it back on the portal
and the timeline says so once (:func:`rollback_report`). Without a copy (Redis lost it, or the item was
last written before copies were kept) the verified chain is used as found.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from b24app import keys
from b24app.texts import timeline
from b24app.workflow.actions import LogTimeline

SIG = "sig"
CONTEXT = b"b24app-decisions-v2"
#: How long the copy of an item's last written log is kept (renewed by every write).
RECORD_TTL = keys.RECORD_TTL


@dataclass(frozen=True)
class Scope:
    """Whose log this is: the signature binds an entry to one item of one portal."""

    member_id: str
    entity_type_id: int
    item_id: int


@dataclass(frozen=True)
class Verified:
    entries: tuple[str, ...]     # the verified chain, in order (canonical JSON without ``sig``)
    rejected: tuple[str, ...]    # values that are not on the chain, as found
    head: str = ""               # the signature of the chain's last entry


def canonical(data: Mapping[str, Any]) -> str:
    """The same text ``Entry.to_text`` writes (sorted keys, compact, UTF-8)."""
    return json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def body(text: str) -> str:
    """An entry's canonical text without ``sig``."""
    data = json.loads(text)
    data.pop(SIG, None)
    return canonical(data)


def mac(secret: bytes, scope: Scope, text: str, prev: str = "") -> str:
    message = b"\n".join([CONTEXT, scope.member_id.encode(), str(scope.entity_type_id).encode(),
                          str(scope.item_id).encode(), prev.encode(), text.encode()])
    return hmac.digest(secret, message, "sha256").hex()         # one-shot: hmac.new(...).hexdigest()


def sign(secret: bytes, scope: Scope, text: str, prev: str = "") -> str:
    """An entry's text (``Entry.to_text``) with its signature (chained to ``prev``) added."""
    data = json.loads(text)
    data.pop(SIG, None)
    return canonical({**data, SIG: mac(secret, scope, canonical(data), prev)})


def sign_chain(secret: bytes, scope: Scope, texts: Iterable[str]) -> list[str]:
    """The whole log signed as a chain, in the order given (the engine writes it in ``seq`` order)."""
    signed: list[str] = []
    prev = ""
    for text in texts:
        signed.append(sign(secret, scope, text, prev))
        prev = str(json.loads(signed[-1])[SIG])
    return signed


def _cut(text: str) -> tuple[str, str] | None:
    """The fast path of :func:`_split` for a value as :func:`sign` writes it (canonical JSON, ``sig``
    a hex digest): the ``sig`` member cut out of the text, no JSON parsed or written. Whatever this
    returns is only believed when its MAC holds, and the MAC is of exactly the text returned."""
    at = text.find(_SIG_MEMBER)
    if at < 1 or text[at - 1] not in "{,":
        return None
    start = at + len(_SIG_MEMBER)
    end = text.find('"', start)
    sig = text[start:end]
    if end < 0 or len(sig) != 64 or end + 1 >= len(text) or text[end + 1] not in ",}":
        return None
    if text[at - 1] == ",":
        rest = text[:at - 1] + text[end + 1:]
    else:
        rest = text[:at] + text[end + 2:] if text[end + 1] == "," else text[:at] + text[end + 1:]
    return rest, sig


_SIG_MEMBER = '"' + SIG + '":"'


def _split(value: Any) -> tuple[str, str] | None:
    """(canonical text without ``sig``, ``sig``) of a value that looks like a signed entry."""
    try:
        data = json.loads(str(value))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    sig = data.pop(SIG, None)
    return (canonical(data), sig) if isinstance(sig, str) else None


def verify(secret: bytes, scope: Scope, value: Any) -> Verified:
    """Split the ``DECISIONS`` field's values into the verified chain and the rest (rejected values).

    The chain is followed from its first entry whatever the values' order; an entry whose signature
    does not hold after the chain so far (edited, copied, its predecessor removed) is rejected."""
    values = value if isinstance(value, list | tuple) else ([value] if value else [])
    raws = [str(raw) for raw in values if raw not in (None, "")]
    found = _follow(secret, scope, [(raw, _cut(raw)) for raw in raws])       # values as sign() writes them
    if found.rejected:                                                      # else the full way, as before
        found = _follow(secret, scope, [(raw, _split(raw)) for raw in raws])
    return found


def _follow(secret: bytes, scope: Scope, pending: list[tuple[str, tuple[str, str] | None]]) -> Verified:
    good: list[str] = []
    prev = ""
    while True:
        index = next((i for i, (_, parts) in enumerate(pending) if parts is not None
                      and hmac.compare_digest(parts[1], mac(secret, scope, parts[0], prev))), None)
        if index is None:
            break
        _, parts = pending.pop(index)
        assert parts is not None
        good.append(parts[0])
        prev = parts[1]
    return Verified(tuple(good), tuple(raw for raw, _ in pending), prev)


def digest(values: Sequence[str]) -> str:
    """A short stable name for a set of values (the timeline reports each set once)."""
    return hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()[:16]


# -- the copy of the last written log (rollback detection) -------------------------------------------

def record_key(scope: Scope) -> str:
    return keys.decisions_record(scope.member_id, scope.entity_type_id, scope.item_id)


def remember(pipe: Any, scope: Scope, texts: Iterable[str]) -> None:
    """Keep (in a Redis pipeline) the log just written to the item, without signatures."""
    pipe.set(record_key(scope), json.dumps([body(t) for t in texts], ensure_ascii=False), ex=RECORD_TTL)


def _parse_record(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        data = json.loads(value.decode() if isinstance(value, bytes) else str(value))
    except ValueError:
        return None
    return tuple(str(v) for v in data) if isinstance(data, list) else None


def records(redis: Any, scopes: Sequence[Scope]) -> list[tuple[str, ...] | None]:
    """The kept copies of these items' logs (None where there is none), in one Redis round trip."""
    if not scopes:
        return []
    return [_parse_record(v) for v in redis.mget([record_key(s) for s in scopes])]


def rolled_back(found: Sequence[str], record: Sequence[str] | None) -> tuple[str, ...] | None:
    """The kept log when the portal's verified chain is not it or its continuation, else None.

    A longer chain that starts with the copy is newer than it (the copy was not updated after a write,
    e.g. Redis failed then): only the app signs, so it is accepted."""
    if record is None or tuple(found[:len(record)]) == tuple(record):
        return None
    return tuple(record)


def rollback_report(workflow: str, item_id: int, found: Sequence[str]) -> LogTimeline:
    """One timeline entry per rolled-back log found (its key makes it once only)."""
    return LogTimeline(f"b24app:{workflow}:{item_id}:rollback:{digest([str(len(found)), *found])}",
                       timeline.ROLLBACK_TITLE, timeline.ROLLBACK_TEXT)
