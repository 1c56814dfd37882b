"""Reading the portal: a missing type is planned for creation; any other error stops the run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from b24app.provisioning.observed import ObserveError, observe
from b24app.rest.protocol import BatchResult


class OneBatch:
    """A client whose every batch answers the given errors (and empty lists for the rest)."""

    def __init__(self, errors: dict[str, dict[str, Any]]) -> None:
        self.errors = errors

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        raise AssertionError("observe uses batch only")

    def batch(self, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool = False) -> BatchResult:
        results: dict[str, Any] = {k: [] for k in commands if k not in self.errors}
        return BatchResult(results, {k: v for k, v in self.errors.items() if k in commands})

    def list_all(self, method: str, params: Mapping[str, Any] | None = None, *,
                 items_key: str | None = None) -> Iterator[dict[str, Any]]:
        raise AssertionError("no paging expected")

    @property
    def request_count(self) -> int:
        return 0


def test_missing_type_is_absent() -> None:
    client = OneBatch({"type_1100": {"error": 0, "error_description": "SPA not found"},
                       "cats_1100": {"error": 0, "error_description": "SPA not found"}})
    assert observe(client, [1100]).types == {}


def test_access_denied_is_not_mistaken_for_a_missing_type() -> None:
    client = OneBatch({"type_1100": {"error": "ACCESS_DENIED", "error_description": "Access denied"}})
    with pytest.raises(ObserveError, match=r"ACCESS_DENIED.*CRM administrator"):
        observe(client, [1100])


def test_unreadable_bindings_stop_the_plan() -> None:
    client = OneBatch({"type_1100": {"error": 0, "error_description": "SPA not found"},
                       "events": {"error": "WRONG_AUTH_TYPE", "error_description": "Application context required"}})
    with pytest.raises(ObserveError, match=r"event.get failed.*not an incoming webhook"):
        observe(client, [1100])
