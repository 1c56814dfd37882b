"""What the bank exchange remembers per portal, in Redis (:func:`b24app.keys.bank`), as JSON.

* ``applied`` — bank document key -> the request it paid: a re-imported statement changes nothing;
* ``pending`` — document key -> the ambiguous line waiting for the accountant (removed once resolved);
* ``uploads`` — every statement upload, newest first: who, when (an aware UTC instant), the sha256, what
  it changed;
* ``order-number`` — the last payment-order number issued (numbers are never reused);
* ``order-numbers`` — request id -> its payment-order number: given once, on the first download that
  includes the request, and written again by every later download (the bank client sees one order per
  request, never a new one for the same request); dropped once the request is paid.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from b24app import keys
from b24app.bank.issues import Issue
from b24app.bank.report import Line, Upload


class BankStore:
    def __init__(self, redis: Any, member_id: str) -> None:
        self.redis = redis
        self.member_id = member_id

    def _key(self, kind: str) -> str:
        return keys.bank(self.member_id, kind)

    # -- applied documents ------------------------------------------------------------------------
    def applied_keys(self) -> set[str]:
        return {_str(k) for k in self.redis.hkeys(self._key("applied"))}

    def mark_applied(self, key: str, item_id: int, user_id: int, at: str) -> bool:
        """Remember that ``key`` paid ``item_id``; False when it was already applied."""
        value = json.dumps({"item_id": item_id, "by": user_id, "at": at})
        return bool(self.redis.hsetnx(self._key("applied"), key, value))

    # -- lines waiting for the accountant ---------------------------------------------------------
    def put_pending(self, lines: list[tuple[Line, bytes]]) -> None:
        """Store each ambiguous line with its statement extract (attached once the line is resolved)."""
        if lines:
            self.redis.hset(self._key("pending"), mapping={line.key: _dump_line(line, extract)
                                                           for line, extract in lines})

    def pending(self) -> list[Line]:
        raw = self.redis.hgetall(self._key("pending"))
        lines = [_load_line(v)[0] for v in raw.values()]
        return sorted(lines, key=lambda line: (line.date, line.number, line.key))

    def pending_line(self, key: str) -> tuple[Line, bytes] | None:
        raw = self.redis.hget(self._key("pending"), key)
        return _load_line(raw) if raw else None

    def drop_pending(self, key: str) -> None:
        self.redis.hdel(self._key("pending"), key)

    # -- uploads ----------------------------------------------------------------------------------
    def record_upload(self, upload: Upload) -> None:
        row = {**asdict(upload), "at": upload.at.astimezone(UTC).isoformat()}
        self.redis.lpush(self._key("uploads"), json.dumps(row, ensure_ascii=False))

    def uploads(self) -> list[Upload]:
        rows = [json.loads(_str(v)) for v in self.redis.lrange(self._key("uploads"), 0, -1)]
        return [Upload(**{**r, "at": _instant(r["at"]), "paid": tuple(r["paid"])}) for r in rows]

    # -- payment-order numbers --------------------------------------------------------------------
    def last_order_number(self) -> int:
        value = self.redis.get(self._key("order-number"))
        return int(value) if value else 0

    def order_numbers(self, item_ids: list[int]) -> dict[int, int]:
        """The numbers already given to these requests (read only: a preview takes none)."""
        if not item_ids:
            return {}
        values = self.redis.hmget(self._key("order-numbers"), [str(i) for i in item_ids])
        return {i: int(v) for i, v in zip(item_ids, values, strict=True) if v is not None}

    def assign_order_numbers(self, item_ids: list[int]) -> dict[int, int]:
        """Each request's number: the one it was given before, or the next of the portal's sequence
        (in the order given). Call under :meth:`numbering_lock`."""
        numbers = self.order_numbers(item_ids)
        fresh = [i for i in item_ids if i not in numbers]
        if fresh:
            last = int(self.redis.incrby(self._key("order-number"), len(fresh)))
            numbers.update({i: last - len(fresh) + 1 + n for n, i in enumerate(fresh)})
            self.redis.hset(self._key("order-numbers"), mapping={str(i): numbers[i] for i in fresh})
        return numbers

    def forget_order_number(self, item_id: int) -> None:
        """The request is paid: its number is not needed any more."""
        self.redis.hdel(self._key("order-numbers"), str(item_id))

    def import_lock(self) -> Any:
        return self.redis.lock(self._key("import"), timeout=600, blocking_timeout=60)

    def numbering_lock(self) -> Any:
        return self.redis.lock(self._key("order-number") + ":lock", timeout=60, blocking_timeout=30)


def _instant(text: str) -> datetime:
    """An upload's time; the first records were written without an offset, in UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _dump_line(line: Line, extract: bytes) -> str:
    data = asdict(line)
    data.update(date=line.date.isoformat(), amount=str(line.amount), candidates=list(line.candidates),
                reason=line.reason.as_json())
    return json.dumps({"line": data, "extract": base64.b64encode(extract).decode("ascii")}, ensure_ascii=False)


def _load_line(raw: Any) -> tuple[Line, bytes]:
    stored = json.loads(_str(raw))
    data = stored["line"]
    data.update(date=date.fromisoformat(data["date"]), amount=Decimal(data["amount"]),
                candidates=tuple(data["candidates"]), reason=Issue.from_json(data["reason"]))
    return Line(**data), base64.b64decode(stored["extract"])
