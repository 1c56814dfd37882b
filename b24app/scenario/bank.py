"""The bank round trip in scenarios (issue #18): ``bank_orders``, ``bank_statement``, ``bank_import``.

:class:`BankDesk` plays the accountants and the bank: it downloads the payment-order file through
:func:`b24app.bank.service.orders_file`, turns it into the bank's statement, and uploads that through
:func:`b24app.bank.service.import_statement` — the calls the accounting view and ``b24app bank``
make. The bank is the sandbox's (:func:`b24sandbox.bank.statement_for_orders`), which shares no code
with the app's parser or writer, so a bug in one cannot hide in the other; :func:`adjusted` changes one
document's sum (a partial payment) or breaks a line (a refusal) on the statement's text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from b24app.bank import service
from b24app.scenario import model as m
from b24sandbox.bank import statement_for_orders

if TYPE_CHECKING:
    from b24app.scenario.stack import Stack

CHARSETS = {"Windows": "cp1251", "DOS": "cp866"}


def adjusted(statement: bytes, amounts: Mapping[int, str] | None = None, corrupt: bool = False,
             charset: str = "cp1251") -> bytes:
    """The bank's statement (in ``charset``) with the sum of request N's document replaced by ``amounts[N]`` (a
    partial payment) and, with ``corrupt``, the first ``Сумма`` line broken (``Сумма=сто``)."""
    out: list[str] = []
    document: list[str] = []
    broken = False
    for text in statement.decode(charset).split("\r\n"):
        if text.startswith("СекцияДокумент="):
            document = [text]
        elif document and text != "КонецДокумента":
            document.append(text)
        elif document:
            purpose = next((line for line in document if line.startswith("НазначениеПлатежа=")), "")
            amount = next((a for item, a in (amounts or {}).items() if f"(заявка №{item})" in purpose), None)
            for line in document:
                if line.startswith("Сумма=") and (amount is not None or (corrupt and not broken)):
                    broken = broken or amount is None
                    line = "Сумма=сто" if amount is None else f"Сумма={amount}"
                out.append(line)
            out.append(text)
            document = []
        else:
            out.append(text)
    return "\r\n".join(out).encode(charset)


@dataclass
class BankDesk:
    """What the scenario's accountants and bank hold between steps: the last orders file and statement."""

    stack: Stack
    user_id: Callable[[str], int]
    refs: Callable[[str], int]
    orders: bytes | None = None
    statement: bytes | None = None
    charset: str = "cp1251"
    log: list[str] = field(default_factory=list)

    def run(self, step: m.Bank) -> tuple[bool, str, list[str]]:
        if step.kind == "bank_orders":
            return self._orders(step)
        if step.kind == "bank_statement":
            return self._statement(step)
        return self._import(step)

    def _orders(self, step: m.Bank) -> tuple[bool, str, list[str]]:
        today = self.stack.clock.now().date()
        result = service.orders_file(self.stack.deps, self.stack.member_id, today=today)
        self.orders = result.data
        problems: list[str] = []
        if step.included is not None:
            wanted = sorted(self.refs(r) for r in step.included)
            if sorted(result.included) != wanted:
                problems.append(f"in the file: expected requests {wanted}, got {sorted(result.included)}")
        missing = dict(result.missing)
        for ref, words in step.missing.items():
            found = " / ".join(str(p) for p in missing.get(self.refs(ref), []))
            if not found or any(w not in found for w in words):
                problems.append(f"missing for {ref}: expected {list(words)}, got {found or 'nothing'}")
        text = f"{result.filename}: {len(result.included)} orders, {len(result.missing)} requests left out"
        return not problems, text, problems

    def _statement(self, step: m.Bank) -> tuple[bool, str, list[str]]:
        if self.orders is None:
            return False, "no payment-order file yet: a 'bank_orders' step must come first", []
        assert step.paid_on is not None
        amounts = {self.refs(ref): amount for ref, amount in step.amounts.items()}
        self.charset = CHARSETS[step.encoding]
        made = statement_for_orders(self.orders, debit_date=step.paid_on, encoding=step.encoding,
                                    unknown_keys=step.unknown_keys)
        self.statement = adjusted(made, amounts, charset=self.charset)
        return True, f"the bank debited the orders on {step.paid_on:%d.%m.%Y} ({step.encoding} statement)", []

    def _import(self, step: m.Bank) -> tuple[bool, str, list[str]]:
        if self.statement is None or self.orders is None:
            return False, "no statement yet: a 'bank_statement' step must come first", []
        assert step.login is not None
        data = self.statement
        if step.corrupt:
            data = adjusted(data, corrupt=True, charset=self.charset)
        user = self.user_id(step.login)
        try:
            report = service.import_statement(self.stack.deps, self.stack.member_id, data, user_id=user)
        except service.BankFileError as exc:
            words = step.refused if isinstance(step.refused, tuple) else ()
            missing = [w for w in words if w not in str(exc)]
            ok = bool(step.refused) and not missing
            return ok, f"refused: {exc}", [f"the refusal lacks {missing}"] if missing else \
                ([] if ok else ["the statement was refused"])
        if step.refused:
            return False, "the statement was accepted", ["expected a refusal"]
        self.stack.settle()
        problems = self._check(step, report)
        if step.resolve and not problems:
            [line] = report.ambiguous
            service.resolve(self.stack.deps, self.stack.member_id, line.key, self.refs(step.resolve), user_id=user)
            self.stack.settle()
        text = (f"{len(report.paid)} paid, {len(report.ambiguous)} ambiguous, {len(report.unmatched)} unmatched, "
                f"{len(report.unchanged)} unchanged" + (f"; the accountant chose {step.resolve}" if step.resolve else ""))
        return not problems, text, problems

    def _check(self, step: m.Bank, report: service.ImportReport) -> list[str]:
        problems: list[str] = []
        if step.paid is not None:
            wanted = sorted(self.refs(r) for r in step.paid)
            got = sorted(line.item_id for line in report.paid if line.item_id is not None)
            if got != wanted:
                problems.append(f"paid: expected requests {wanted}, got {got}")
        for name, expected, lines in (("ambiguous", step.ambiguous, report.ambiguous),
                                      ("unmatched", step.unmatched, report.unmatched),
                                      ("unchanged", step.unchanged, report.unchanged)):
            if expected is not None and len(lines) != expected:
                problems.append(f"{name}: expected {expected}, got {len(lines)} "
                                f"({'; '.join(str(line.reason) for line in lines)})")
        return problems

