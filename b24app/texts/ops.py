"""Alerts to the operations manager (``b24app.auth.lifecycle.alert_once``): Russian, English; the English
text is also the ERROR log line."""

from __future__ import annotations

# What the operations manager is told (Russian, English) and the ERROR line logged (the English text): each
# names the portal and the fix. Keys are ``alert_once``'s ``text``; ``{...}`` are its ``values``.
ALERTS: dict[str, tuple[str, str]] = {
    "refused": (
        "Портал {portal} больше не принимает ключи приложения согласований ({reason}): приложение на этом портале "
        "остановлено. Что сделать: администратор портала {portal} открывает приложение ещё раз (Приложения → "
        "приложение) или переустанавливает его; проверьте, что Redis работает с appendonly yes "
        "(docs/operations.md).",
        "portal {portal} ({member}) refuses the app's tokens for good ({reason}); its periodic jobs are stopped. "
        "Fix: an administrator of {portal} opens the app again (Applications -> the app), or reinstalls it; check "
        "that Redis runs with appendonly yes (docs/operations.md)"),
    "lost": (
        "Приложение согласований потеряло ключи доступа к порталу {portal} (данные Redis утеряны?): его события "
        "отклоняются. Что сделать: администратор портала {portal} открывает приложение ещё раз (Приложения → "
        "приложение); проверьте, что Redis работает с appendonly yes и без вытеснения ключей (docs/operations.md).",
        "events of portal {portal} arrive but its installation is not stored (Redis lost part of its data, or "
        "evicted it?): its events are refused. Fix: an administrator of that portal opens the app again so it "
        "re-installs; run Redis with appendonly yes and maxmemory-policy noeviction (docs/operations.md)"),
    "no-installations": (
        "Приложение согласований потеряло ключи доступа к Битрикс24 (данные Redis утеряны?): все события "
        "отклоняются. Что сделать: администратор каждого портала открывает приложение ещё раз (Приложения → "
        "приложение); включите в Redis appendonly yes (docs/operations.md).",
        "events arrive but no installation is stored (Redis lost its data?): every event is refused. "
        "Fix: run Redis with appendonly yes (docs/operations.md), then an administrator of each portal "
        "opens the app again so it re-installs"),
}
