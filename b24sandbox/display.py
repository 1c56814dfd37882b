"""How the sandbox UI shows values to a person, as a portal's pages do: amounts with their currency
(``95000|RUB`` -> «95 000 ₽»), dates in the portal's time zone without the ISO punctuation
(«02.03.2026 10:00»), and CRM bindings by name (``T44c_22`` -> «Заявки на оплату #22», the item's
type and id) instead of their codes. Display only: the REST answers keep their formats.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from b24sandbox import crmstore as cs
from b24sandbox.state import PortalState

_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€"}
_BINDING = re.compile(r"^(?:T([0-9a-f]+)|([A-Z]{1,2}))_(\d+)$")
_STANDARD = {"D": "Сделка", "C": "Контакт", "CO": "Компания", "L": "Лид"}


def money(value: Any, currency: str = "") -> str:
    """``"95000|RUB"`` (a money field) or an amount with its currency -> «95 000 ₽»; "" when empty."""
    text = str(value or "")
    if "|" in text:
        text, currency = text.split("|", 1)
    try:
        amount = Decimal(text or "0")
    except InvalidOperation:
        return str(value)
    if not amount:
        return ""
    whole = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{whole.replace(',', ' ').replace('.', ',')} {_SYMBOLS.get(currency, currency)}".strip()


def when(value: Any, state: PortalState) -> str:
    """A datetime (or its ISO text) in the portal's time zone: «02.03.2026 10:00»."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value or "—")
    if moment.tzinfo is not None:
        moment = moment.astimezone(state.tz)
    return moment.strftime("%d.%m.%Y %H:%M")


def binding(value: str, state: PortalState) -> str:
    """A task's CRM binding by name: ``T44c_22`` -> «Заявки на оплату #22» (the code when unknown)."""
    found = _BINDING.match(str(value))
    if found is None:
        return str(value)
    hex_id, prefix, item_id = found.groups()
    if prefix:
        return f"{_STANDARD.get(prefix, prefix)} #{item_id}"
    smart = cs.type_by_etid(state, int(hex_id, 16))
    return f"{smart.title if smart is not None else value} #{item_id}"


def card_amount(card: dict[str, Any], money_fields: list[str]) -> str:
    """A kanban card's amount: the item's «Сумма» (opportunity) or else its first filled money field."""
    shown = money(card.get("opportunity"), str(card.get("currencyId") or ""))
    for name in money_fields:
        if shown:
            break
        shown = money(card.get(name))
    return shown or "—"
