"""The one interface the rest of the app uses to talk to a Bitrix24 portal.

The b24pysdk-based adapter in ``b24app.rest.client`` implements it; handlers, provisioning and jobs
depend only on this protocol, so they can be read without knowing the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class BatchResult:
    """What a batch answered: per-command results and per-command errors, by command key."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    def ok(self, key: str) -> bool:
        return key in self.results and key not in self.errors


class Bitrix24(Protocol):
    """A Bitrix24 portal reachable over REST."""

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call one method; return its ``result``. Raises ``b24app.errors.RestError`` subclasses."""
        ...

    def batch(self, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool = False) -> BatchResult:
        """Run many commands in as few ``batch`` requests as possible (50 per request)."""
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
