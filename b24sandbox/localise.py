"""Localised error messages: ``portal.switches.language = "ru"`` (default ``"en"``).

A real portal writes ``error_description`` in the portal's language, so an app must decide by the
``error`` code, never by the text. With ``"ru"`` every error the sandbox answers (REST calls, batch
commands, transport refusals) carries a Russian description: the known sentences are translated
(the wording is the sandbox's own — the official Russian texts are not in ``../shared``: UNVERIFIED),
and any other description is replaced by a Russian sentence naming the code. ``error`` is never changed.
"""

from __future__ import annotations

from typing import Any

from b24sandbox.state import PortalState
from b24sandbox.switches import switches

RUSSIAN = {
    "Not found": "Не найдено",
    "Not found.": "Не найдено.",
    "Element not found": "Элемент не найден",
    "Smart process not found": "Смарт-процесс не найден",
    "Access denied": "Доступ запрещён",
    "Access denied!": "Доступ запрещён!",
    "Insufficient permissions": "Недостаточно прав",
    "Method not found!": "Метод не найден!",
    "Wrong authorization data": "Неверные данные авторизации",
    "The access token provided has expired": "Срок действия токена доступа истёк",
    "Too many requests": "Слишком много запросов",
    "Https required": "Требуется HTTPS",
    "User ID can't be empty": "Не указан ID пользователя",
    "User does not exist": "Пользователь не существует",
    "Message can't be empty": "Сообщение не может быть пустым",
    "Event not found": "Событие не найдено",
    "Handler already exists!": "Обработчик уже существует!",
    "Max batch length exceeded": "Превышено максимальное число команд в пакете",
    "wrong task id": "неверный идентификатор задачи",
    "Owner of the item not found": "Владелец элемента не найден",
    "CODE can't be empty": "Не указан CODE",
    "A wrong format for the ID field is passed": "Передан неверный формат поля ID",
    "Offline events processing confirmation is not available on this plan":
        "Подтверждение обработки офлайн-событий недоступно на этом тарифе",
}


def localise(state: PortalState, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (an error answer) with its description in the portal's language."""
    if switches(state).language != "ru" or "error_description" not in body:
        return body
    text = str(body.get("error_description") or "")
    if not text:
        return body
    russian = RUSSIAN.get(text) or f"Ошибка {body.get('error') or ''}: операция не выполнена".replace("  ", " ")
    return {**body, "error_description": russian}
