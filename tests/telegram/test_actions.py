"""The engine's button actions are (re)registered whenever the action modules are loaded."""

from __future__ import annotations

from b24app.telegram.callbacks import ActionRegistry
from b24app.telegram.config import TelegramConfig
from b24app.telegram.context import load_action_modules
from handlers.telegram_actions import stale_text


def test_loading_the_action_modules_registers_the_decisions_again(registry: ActionRegistry) -> None:
    config = TelegramConfig(action_modules=("handlers.telegram_actions",))
    load_action_modules(config)                    # imported earlier in the session: the hook registers
    approve, reject = registry.get("approve"), registry.get("reject")
    assert approve is not None and not approve.needs_reason
    assert reject is not None and reject.needs_reason
    registry.clear()                               # e.g. a test emptied the process-wide registry
    load_action_modules(config)
    assert registry.get("approve") is not None and registry.get("freeze") is not None


def test_a_stale_press_names_who_decided_and_when() -> None:
    from b24app.workflow.models import Label
    from handlers.decisions import SheetEntry

    entry = SheetEntry(step="head_approval", step_name=None, decision="approve",
                       decision_name=Label("Согласовано", "Approved"), by=9, by_name="Ольга Смирнова",
                       on_behalf_of=3, on_behalf_of_name="Марина Орлова", at="2026-03-04T11:01:00+03:00",
                       reason="", via="telegram")
    assert stale_text((entry,), "head_approval") == ("Решение по этому этапу уже принято: Ольга Смирнова от имени "
                                                     "Марина Орлова, 04.03.2026 11:01. (Согласовано)")
    assert stale_text((entry,), "finance_review").startswith("Кнопка устарела")
