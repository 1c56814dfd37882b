"""The one interface the rest of the app uses to talk to a Bitrix24 portal.

The b24pysdk-based adapter in ``b24app.rest.client`` implements it; handlers, provisioning and jobs
depend only on this protocol, so they can be read without knowing the SDK.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from b24app.errors import RestError, batch_command_error

#: One batch command: the method and its parameters.
Command = tuple[str, Mapping[str, Any]]


@dataclass(frozen=True)
class BatchResult:
    """What a batch answered, by command key: results, errors (as the portal gave them; :meth:`error` makes
    the typed :class:`~b24app.errors.RestError`), ``result_total`` / ``result_next``, the method of each
    command, the portal's ``time`` blocks of the first and the last request, and how many requests it took."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    nexts: dict[str, int] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    first_time: dict[str, Any] = field(default_factory=dict)
    last_time: dict[str, Any] = field(default_factory=dict)
    requests: int = 0

    def ok(self, key: str) -> bool:
        return key in self.results and key not in self.errors

    def error(self, key: str) -> RestError | None:
        """The command's error as the class its code calls for (``insufficient_scope`` ->
        ``InsufficientScope``, ...), naming the command's method; None when it did not fail."""
        raw = self.errors.get(key)
        if raw is None:
            return None
        return batch_command_error(self.methods.get(key, "batch"), raw)

    def raise_first(self, skip: Iterable[str] = ()) -> None:
        """Raise the first command error (in the portal's order), ignoring the keys in ``skip``."""
        ignored = set(skip)
        for key in self.errors:
            if key not in ignored:
                raise self.error(key) or RestError("batch", 0)

    @property
    def started(self) -> datetime | None:
        """The portal's clock when the first request started (``time.date_start``)."""
        return _stamp(self.first_time, "date_start", "date_finish")

    @property
    def finished(self) -> datetime | None:
        """The portal's clock when the last request finished (``time.date_finish``)."""
        return _stamp(self.last_time, "date_finish", "date_start")


def merge_batches(parts: list[BatchResult]) -> BatchResult:
    """The answers of consecutive ``batch`` requests as one (the clock of the first and of the last)."""
    merged = BatchResult(first_time=parts[0].first_time if parts else {},
                         last_time=parts[-1].last_time if parts else {}, requests=len(parts))
    for part in parts:
        merged.results.update(part.results)
        merged.errors.update(part.errors)
        merged.totals.update(part.totals)
        merged.nexts.update(part.nexts)
        merged.methods.update(part.methods)
    return merged


def _stamp(block: Mapping[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        if block.get(key):
            return datetime.fromisoformat(str(block[key]))
    return None


class Bitrix24(Protocol):
    """A Bitrix24 portal reachable over REST."""

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call one method; return its ``result``. Raises ``b24app.errors.RestError`` subclasses."""
        ...

    def batch(self, commands: Mapping[str, Command], halt: bool = False) -> BatchResult:
        """Run many commands in as few ``batch`` requests as possible (50 per request); with ``halt`` the
        portal stops at the first failing command and no further request is sent."""
        ...

    def list_all(
        self, method: str, params: Mapping[str, Any] | None = None, *, items_key: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every row of a list method, paged by id (``start=-1``) where the method allows it."""
        ...

    @property
    def request_count(self) -> int:
        """HTTP requests this client has sent to the portal."""
        ...
