"""The demo's play: the people, the requests and the moves of ``b24app demo``, and its narration.

Shared by :mod:`b24app.demo` (the played run) and :mod:`b24app.demo_live` (the live work ``--keep``
leaves behind).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from b24app.scenario import model as m
from b24app.scenario.actions import Performer
from b24app.scenario.bank import BankDesk
from b24app.scenario.stack import Stack
from b24app.scenario.telegram import TelegramPeople
from b24app.scenario.view import PortalView
from b24app.telegram.links import LinkStore
from b24app.worktime import WorkCalendar

MOSCOW = ZoneInfo("Europe/Moscow")
START = datetime(2026, 3, 2, 9, 30, tzinfo=MOSCOW)
Echo = Callable[[str], None]
PAYMENTS, CONTRACTS = "payment_requests", "contracts"
#: The lines of a notice the narration shows besides its first: the finance review's checks (#16).
CHECK_LINES = ("⚠", "Договор «", "Оплачено по договору")
#: How the played requests end: ref -> final stage.
EXPECTED = {"vk": "PAID", "parts": "REJECTED", "oils": "PAID", "bottles": "SIGNED", "advance": "PAID",
            "vk-again": "REJECTED"}


@dataclass(frozen=True)
class Move:
    """One move of the demo: after ``wait`` working hours, a person does ``action``."""

    wait: float
    action: m.Action | m.Bank
    says: str


def act(kind: str, login: str, ref: str, **kw: Any) -> m.Action:
    return m.Action(kind=kind, login=login, via=m.DEFAULT_VIA.get(kind), where=m.Where("demo", 0), request=ref, **kw)


def payment(login: str, ref: str, title: str, amount: int, counterparty: str, item: str, invoice: str = "",
            contract: str | None = None, **more: Any) -> m.Action:
    """A payment request; ``invoice`` names its file (default: its own), ``contract`` the ref of its contract
    (an empty ``counterparty`` is then taken from the signed contract); ``more``: further fields."""
    fields: dict[str, Any] = {"AMOUNT": amount, "EXPENSE_ITEM": item, "INVOICE": f"счёт-{invoice or ref}.pdf", **more}
    if counterparty:
        fields["COUNTERPARTY_NAME"] = counterparty
    return m.Action(kind="create", login=login, via=None, where=m.Where("demo", 0), ref=ref, title=title,
                    fields=fields, contract=contract)


def contract(login: str, ref: str, title: str, amount: int, counterparty: str, subject: str) -> m.Action:
    fields = {"AMOUNT": amount, "COUNTERPARTY_NAME": counterparty, "SUBJECT": subject,
              "CONTRACT_FILE": f"договор-{ref}.pdf"}
    return m.Action(kind="create", login=login, via=None, where=m.Where("demo", 0), ref=ref, title=title,
                    fields=fields, workflow=CONTRACTS)


def bank(kind: str, login: str | None = None, **kw: Any) -> m.Bank:
    """A step of the bank round trip (#18): the orders file, the bank's statement, its upload."""
    return m.Bank(where=m.Where("demo", 0), kind=kind, login=login, **kw)


#: The recipient's bank details in the request's own fields (the contract's supplier has no CRM requisites).
BOTTLES_BANK = {"INVOICE_NUMBER": "СТ-118", "INVOICE_DATE": "2026-03-03", "RECIPIENT_INN": "7700000016",
                "RECIPIENT_KPP": "770001001", "RECIPIENT_ACCOUNT": "40702810000000012345",
                "RECIPIENT_BIK": "044030777", "RECIPIENT_BANK": "ПАО «ДРУГОЙ БАНК»",
                "RECIPIENT_BANK_CITY": "г. Санкт-Петербург", "RECIPIENT_CORR_ACCOUNT": "30101810800000000777"}


def approve(login: str, ref: str, via: str = "card") -> m.Action:
    return m.Action(kind="approve", login=login, via=via, where=m.Where("demo", 0), request=ref)


PLAY: tuple[Move, ...] = (
    Move(0, payment("a.ivanova", "vk", "Продвижение в VK, март", 150_000, "ООО «ВК Реклама»", "MARKETING"),
         "создаёт заявку на оплату"),
    Move(0.5, payment("p.fedorov", "parts", "Запчасти для линии розлива", 42_000, "ООО «Техснаб»", "RAW_MATERIALS"),
         "создаёт заявку на оплату"),
    Move(1, payment("e.smirnova", "oils", "Эфирные масла на квартал", 1_200_000, "ООО «Аромабаза»",
                    "RAW_MATERIALS"), "создаёт заявку на оплату"),
    Move(0.5, contract("a.ivanova", "bottles", "Договор поставки флаконов", 480_000, "ООО «Стеклотара»",
                        "Поставка флаконов 50 мл на 2026 год"), "создаёт договор на согласование"),
    Move(1, approve("m.orlova", "vk"), "согласует во вкладке «Согласование» карточки"),
    Move(0.2, approve("m.orlova", "bottles", "task"), "завершает задачу согласования договора"),
    Move(0.5, act("reject", "director", "parts", reason="Сначала запросите ещё два предложения поставщиков"),
         "отклоняет во вкладке «Согласование» с причиной"),
    Move(1, approve("s.kuznetsov", "oils", "task"), "завершает задачу согласования"),
    Move(1, approve("lawyer", "bottles", "task"), "завершает задачу проверки договора"),
    Move(1, approve("finance.manager", "vk", "task"), "завершает задачу проверки"),
    Move(0.5, approve("finance.manager", "bottles"), "согласует договор во вкладке «Согласование»"),
    Move(1, approve("finance.manager", "oils"), "согласует во вкладке «Согласование»"),
    Move(3, approve("director", "oils"), "согласует крупную оплату во вкладке «Согласование»"),
    Move(1, approve("director", "bottles"), "подписывает договор во вкладке «Согласование»"),
    Move(1, act("attach", "junior.accountant", "vk", target="item", field="PAYMENT_ORDER",
                 file="платёжка-vk.pdf"), "прикрепляет платёжное поручение к заявке"),
    Move(0.2, act("complete_task", "junior.accountant", "vk", task="Прикрепить платежное поручение"),
         "завершает подзадачу"),
    Move(0.5, act("complete_task", "chief.accountant", "vk", task="Выполнить оплату"), "завершает задачу оплаты"),
    Move(1, act("attach", "junior.accountant", "oils", target="task", task="Прикрепить платежное поручение",
                 file="платёжка-oils.pdf"), "прикрепляет платёжное поручение к подзадаче"),
    Move(0.2, act("complete_task", "junior.accountant", "oils", task="Прикрепить платежное поручение"),
         "завершает подзадачу"),
    Move(0.5, act("complete_task", "chief.accountant", "oils", task="Выполнить оплату"), "завершает задачу оплаты"),
    # Contracts and payments as one system (#16): a payment under the signed contract, a duplicate caught.
    Move(0.5, payment("a.ivanova", "advance", "Аванс по договору поставки флаконов", 240_000, "", "RAW_MATERIALS",
                      contract="bottles", **BOTTLES_BANK),
         "создаёт заявку на оплату по договору (контрагент — из договора)"),
    Move(0.5, approve("m.orlova", "advance"), "согласует во вкладке «Согласование» карточки"),
    Move(1, approve("finance.manager", "advance"), "видит договор и остаток по нему, согласует"),
    Move(0.5, payment("a.ivanova", "vk-again", "Продвижение в VK, март (повторно)", 150_000, "ООО «ВК Реклама»",
                      "MARKETING", invoice="vk"), "создаёт заявку на оплату с тем же счётом"),
    Move(0.5, approve("m.orlova", "vk-again"), "согласует во вкладке «Согласование» карточки"),
    Move(1, act("reject", "finance.manager", "vk-again", reason="Этот счёт уже оплачен"),
         "видит предупреждение о дубле и отклоняет с причиной"),
    # The bank round trip (#18): the advance is paid through the bank client, closed by the statement.
    Move(0.5, bank("bank_orders", "chief.accountant"), "выгружает файл платёжных поручений для банка"),
    Move(2, bank("bank_statement", paid_on=date(2026, 3, 4)), "Банк списывает деньги и присылает выписку"),
    Move(0.5, bank("bank_import", "junior.accountant"), "загружает выписку банка"),
)


class Narrator:
    """Plays the moves and prints what changed after each one (requests of both processes, by ref)."""

    def __init__(self, stack: Stack, echo: Echo) -> None:
        self.stack = stack
        self.echo = echo
        self.views = {w.code: PortalView(stack.portal, w) for w in stack.workflows}
        self.view = self.views[PAYMENTS]
        self.telegram = TelegramPeople(stack.bot, self.view, LinkStore(stack.deps.redis), stack.web_url,
                                       stack.settle) if stack.bot is not None else None
        self.performers = {code: Performer(view, stack.settle, self.telegram if code == PAYMENTS else None)
                           for code, view in self.views.items()}
        self.calendar = WorkCalendar.default()
        self.refs: dict[str, tuple[str, int]] = {}
        self.seen_tasks: set[int] = set()
        self.stages: dict[tuple[str, int], str] = {}
        self.bank = BankDesk(stack, lambda login: int(stack.portal.state.user_by_login(login).id),
                             lambda ref: self.refs[ref][1])

    def play(self, moves: tuple[Move, ...] = PLAY) -> dict[str, str]:
        """Play ``moves``, print the summary; the final stage of each request, by ref."""
        start = self.stack.portal.request_count
        for move in moves:
            self.move(move)
        finals = {ref: self.views[code].stage_code(item) for ref, (code, item) in self.refs.items()}
        self.echo("")
        self.echo("Итог:")
        for ref, (code, item) in self.refs.items():
            view = self.views[code]
            self.echo(f"  №{item} «{view.values(item).get('title')}» — {view.workflow.stage(finals[ref]).name.ru}")
        for line in summary(self.views, self.refs, finals):
            self.echo(line)
        self.echo(f"REST-запросов приложения к порталу: {self.stack.portal.request_count - start}")
        return finals

    def move(self, move: Move) -> int | None:
        """Wait ``move.wait`` working hours, perform the action, print what changed; the request's id."""
        clock = self.stack.clock
        clock.set(self.calendar.add_working_hours(clock.now(), timedelta(hours=move.wait)))
        if isinstance(move.action, m.Bank):
            self.bank_step(move.action, move.says)
            return None
        action = move.action
        if action.contract:
            parent_code, parent_id = self.refs[action.contract]
            action = replace(action, parent=(self.views[parent_code].etid, parent_id))
        code, item = self.refs.get(action.request or "", (action.workflow or PAYMENTS, None))
        view = self.views[code]
        mark = view.mark()
        done = self.performers[code].perform(action, item)
        if done.item_id is not None and action.ref:
            self.refs[action.ref] = (code, done.item_id)
            item = done.item_id
        self.stack.settle()
        when = clock.now().astimezone(MOSCOW)
        who = self.stack.portal.state.user_by_login(action.login).full_name
        self.echo("")
        self.echo(f"{_day(when)} {when:%d.%m %H:%M}  {who} {move.says}"
                  + (f": №{item}" if item else "") + ("  ✗ " + done.text if done.refused or done.error else ""))
        if item is not None:
            self.changes(view, item, mark)
        return item

    def bank_step(self, step: m.Bank, says: str) -> None:
        """The accountants and the bank: what the step did, then what changed for the requests at payment."""
        marks = {(code, item): self.views[code].mark() for code, item in self.refs.values() if code == PAYMENTS}
        ok, text, problems = self.bank.run(step)
        self.stack.settle()
        when = self.stack.clock.now().astimezone(MOSCOW)
        who = f"{self.name(step.login)} " if step.login else ""
        count = f" (поручений: {self.bank.orders.count('СекцияДокумент='.encode('cp1251'))})" \
            if step.kind == "bank_orders" and self.bank.orders else ""
        self.echo("")
        self.echo(f"{_day(when)} {when:%d.%m %H:%M}  {who}{says}{count}" + ("" if ok else f"  ✗ {text}: {problems}"))
        for (code, item), mark in marks.items():
            if self.stages.get((code, item)) != self.views[code].stage_code(item):
                self.changes(self.views[code], item, mark)

    def changes(self, view: PortalView, item: int, mark: tuple[int, int]) -> None:
        stage = view.stage_code(item)
        if self.stages.get((view.workflow.code, item)) != stage:
            self.stages[(view.workflow.code, item)] = stage
            self.echo(f"      → этап «{view.workflow.stage(stage).name.ru}»")
        for task in view.tasks(item):
            if task.id not in self.seen_tasks:
                self.seen_tasks.add(task.id)
                due = f", срок {task.deadline.astimezone(MOSCOW):%d.%m %H:%M}" if task.deadline else ""
                self.echo(f"      → задача «{task.title}» — {self.name(task.responsible)}{due}")
        for notice in view.notices(mark):
            first, *more = notice.text.splitlines() or [""]
            self.echo(f"      → уведомление ({self.name(notice.to)}): «{_short(first)}»")
            for line in more:                       # the finance review's checks: the contract, the flags
                if line.startswith(CHECK_LINES):
                    self.echo(f"          {_short(line, 200)}")

    def name(self, login: str) -> str:
        try:
            return self.stack.portal.state.user_by_login(login).full_name
        except KeyError:
            return login


def summary(views: dict[str, PortalView], refs: dict[str, tuple[str, int]], finals: dict[str, str]) -> list[str]:
    """``Согласование договоров: Подписан — 1``: per process, how many requests reached each final stage."""
    lines = []
    for code, view in sorted(views.items(), key=lambda pair: pair[0] != PAYMENTS):   # payments first
        ends = [s for s in view.workflow.stages if s.final]
        counts = [sum(1 for ref, (c, _) in refs.items() if c == code and finals[ref] == s.code) for s in ends]
        lines.append(f"  {view.workflow.title.ru}: "
                     + ", ".join(f"{s.name.ru} — {n}" for s, n in zip(ends, counts, strict=True)))
    return lines


def _day(moment: datetime) -> str:
    return ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")[moment.weekday()]


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
