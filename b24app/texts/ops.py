"""Alerts to the operators (``b24app.auth.lifecycle.alert_once``): English for the log, Russian for staff."""

from __future__ import annotations

from b24app.workflow.models import Label


def portal_refused(member_id: str, reason: str) -> Label:
    return Label(
        "Битрикс24 больше не принимает ключи приложения согласований: приложение остановлено на этом портале. "
        "Администратор портала должен открыть приложение ещё раз (или переустановить его).",
        f"portal {member_id} refuses the app's tokens for good ({reason}); its periodic jobs are stopped. "
        "Fix: an administrator of that portal opens the app again (Applications -> the app), or reinstalls "
        "it; check that Redis runs with appendonly yes (docs/operations.md)")


NO_INSTALLATIONS = Label(
    "Приложение согласований потеряло ключи доступа к Битрикс24: события отклоняются. "
    "Администратор портала должен открыть приложение ещё раз.",
    "events arrive but no installation is stored (Redis lost its data?): every event is refused. "
    "Fix: run Redis with appendonly yes (docs/operations.md), then an administrator of each portal "
    "opens the app again so it re-installs")
