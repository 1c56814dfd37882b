"""Staff-facing texts about a payment's contract and duplicate invoices: Russian first, English alongside."""

from __future__ import annotations

from b24app.workflow.models import Label

RULE_NAMES: dict[str, Label] = {
    "invoice_number": Label("тот же контрагент и номер счёта", "the same counterparty and invoice number"),
    "invoice_file": Label("тот же файл счёта", "the same invoice file"),
    "amount": Label("тот же контрагент и сумма в пределах 30 дней",
                    "the same counterparty and amount within 30 days"),
}

CONTRACT_HEADING = Label("Договор", "Contract")
PAYMENTS_HEADING = Label("Оплаты по договору", "Payments under the contract")
NO_PAYMENTS = Label("Заявок на оплату по договору пока нет.", "No payment requests under the contract yet.")
CHECKS_HEADING = Label("Проверки", "Checks")
COL_REQUEST = Label("Заявка", "Request")
COL_STAGE = Label("Стадия", "Stage")
COL_AMOUNT = Label("Сумма", "Amount")
CONTRACT_MISSING = Label("Связанный договор не найден.", "The linked contract was not found.")


def contract_line(title: str, stage: Label) -> Label:
    return Label(f"Договор «{title}»: {stage.ru}.", f"Contract '{title}': {stage.en}.")


def paid_line(paid: str, in_payment: str, amount: str, left: str) -> Label:
    return Label(f"Оплачено по договору: {paid} из {amount} (в оплате: {in_payment}); остаток: {left}.",
                 f"Paid under the contract: {paid} of {amount} (being paid: {in_payment}); left: {left}.")


def unsigned(title: str, stage: Label) -> Label:
    return Label(f"⚠ Договор «{title}» не подписан (стадия «{stage.ru}»).",
                 f"⚠ Contract '{title}' is not signed (stage '{stage.en}').")


def over(amount: str, left: str, total: str) -> Label:
    return Label(f"⚠ Сумма заявки {amount} больше остатка по договору {left} (сумма договора {total}).",
                 f"⚠ The amount {amount} exceeds what is left of the contract, {left} (contract amount {total}).")


def duplicate(other_id: int, title: str, rules: tuple[str, ...], url: str = "") -> Label:
    ru = ", ".join(RULE_NAMES[r].ru for r in rules)
    en = ", ".join(RULE_NAMES[r].en for r in rules)
    where = f" {url}" if url else ""
    return Label(f"⚠ Возможный дубль: заявка №{other_id} «{title}» — {ru}.{where}",
                 f"⚠ Possible duplicate: request #{other_id} '{title}' — {en}.{where}")


def contract_no_access(contract_id: int) -> Label:
    return Label(f"Договор №{contract_id} (нет доступа).", f"Contract #{contract_id} (no access).")


def duplicate_no_access(other_id: int) -> Label:
    return Label(f"⚠ Возможный дубль: заявка №{other_id} (нет доступа).",
                 f"⚠ Possible duplicate: request #{other_id} (no access).")


def blocked(reasons: list[Label]) -> Label:
    return Label("Согласовать нельзя: " + " ".join(r.ru.removeprefix("⚠ ") for r in reasons),
                 "Cannot approve: " + " ".join(r.en.removeprefix("⚠ ") for r in reasons))
