"""Routing a received event to handlers registered by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handlers import events


@pytest.fixture(autouse=True)
def isolated_registry() -> Iterator[None]:
    saved = {k: list(v) for k, v in events._registry.items()}
    events.clear()
    yield
    events.clear()
    events._registry.update(saved)


def test_exact_then_generic_name() -> None:
    seen: list[tuple[str, str]] = []

    @events.handles("onCrmDynamicItemAdd")
    def generic(deps: Any, event: events.Event) -> None:
        seen.append(("generic", event.name))

    @events.handles("ONCRMDYNAMICITEMADD_1220")
    def specific(deps: Any, event: events.Event) -> None:
        seen.append(("specific", event.name))

    assert events.dispatch(None, events.Event("m", "ONCRMDYNAMICITEMADD_1220")) == 1  # type: ignore[arg-type]
    assert events.dispatch(None, events.Event("m", "ONCRMDYNAMICITEMADD_1030")) == 1  # type: ignore[arg-type]
    assert seen == [("specific", "ONCRMDYNAMICITEMADD_1220"), ("generic", "ONCRMDYNAMICITEMADD_1030")]


def test_unknown_event_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO"):
        assert events.dispatch(None, events.Event("m1", "ONSOMETHINGELSE")) == 0  # type: ignore[arg-type]
    assert "ONSOMETHINGELSE" in caplog.text


def test_handler_errors_propagate_for_the_queue_to_retry() -> None:
    @events.handles("ONTASKADD")
    def broken(deps: Any, event: events.Event) -> None:
        raise RuntimeError("portal down")

    with pytest.raises(RuntimeError):
        events.dispatch(None, events.Event("m", "ONTASKADD"))  # type: ignore[arg-type]
