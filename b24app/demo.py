"""``b24app demo [--keep]``: the whole job on the embedded sandbox, narrated in Russian.

Starts Redis (``B24APP_REDIS_URL`` when it is an empty database, else a private ``redis-server``),
the sandbox portal with the default organisation, the web app and a worker
(:class:`b24app.scenario.stack.Stack`), installs and provisions the app, then plays three payment
requests on a fast clock — two reach «Оплачено», one is rejected — printing what happened after each
move: stages, tasks with deadlines, notifications. ``--keep`` leaves everything running (the sandbox
UI URL is printed; an RQ worker with its scheduler serves the app's jobs) until Ctrl+C.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from rq import SimpleWorker

from b24app import queue as queues
from b24app.scenario import model as m
from b24app.scenario.actions import Performer
from b24app.scenario.services import RedisUnavailable, redis_for_tools
from b24app.scenario.stack import Stack, StackError
from b24app.scenario.view import PortalView
from b24app.worktime import WorkCalendar
from b24sandbox.clock import SandboxClock

MOSCOW = ZoneInfo("Europe/Moscow")
START = datetime(2026, 3, 2, 9, 30, tzinfo=MOSCOW)
Echo = Callable[[str], None]


@dataclass(frozen=True)
class Move:
    """One move of the demo: after ``wait`` working hours, a person does ``action``."""

    wait: float
    action: m.Action
    says: str


def _act(kind: str, login: str, ref: str, **kw: Any) -> m.Action:
    return m.Action(kind=kind, login=login, via=m.DEFAULT_VIA.get(kind), where=m.Where("demo", 0), request=ref, **kw)


def _create(login: str, ref: str, title: str, amount: int, counterparty: str, item: str) -> m.Action:
    fields = {"AMOUNT": amount, "COUNTERPARTY_NAME": counterparty, "EXPENSE_ITEM": item, "INVOICE": f"счёт-{ref}.pdf"}
    return m.Action(kind="create", login=login, via=None, where=m.Where("demo", 0), ref=ref, title=title,
                    fields=fields)


def _approve(login: str, ref: str, via: str = "card") -> m.Action:
    return m.Action(kind="approve", login=login, via=via, where=m.Where("demo", 0), request=ref)


PLAY: tuple[Move, ...] = (
    Move(0, _create("a.ivanova", "vk", "Продвижение в VK, март", 150_000, "ООО «ВК Реклама»", "MARKETING"),
         "создаёт заявку на оплату"),
    Move(0.5, _create("p.fedorov", "parts", "Запчасти для линии розлива", 42_000, "ООО «Техснаб»", "RAW_MATERIALS"),
         "создаёт заявку на оплату"),
    Move(1, _create("e.smirnova", "oils", "Эфирные масла на квартал", 1_200_000, "ООО «Аромабаза»",
                    "RAW_MATERIALS"), "создаёт заявку на оплату"),
    Move(1.5, _approve("m.orlova", "vk"), "согласует во вкладке «Согласование» карточки"),
    Move(0.5, _act("reject", "director", "parts", reason="Сначала запросите ещё два предложения поставщиков"),
         "отклоняет во вкладке «Согласование» с причиной"),
    Move(1, _approve("s.kuznetsov", "oils", "task"), "завершает задачу согласования"),
    Move(2, _approve("finance.manager", "vk", "task"), "завершает задачу проверки"),
    Move(1, _approve("finance.manager", "oils"), "согласует во вкладке «Согласование»"),
    Move(3, _approve("director", "oils"), "согласует крупную оплату во вкладке «Согласование»"),
    Move(2, _act("attach", "junior.accountant", "vk", target="item", field="PAYMENT_ORDER",
                 file="платёжка-vk.pdf"), "прикрепляет платёжное поручение к заявке"),
    Move(0.2, _act("complete_task", "junior.accountant", "vk", task="Прикрепить платежное поручение"),
         "завершает подзадачу"),
    Move(0.5, _act("complete_task", "chief.accountant", "vk", task="Выполнить оплату"), "завершает задачу оплаты"),
    Move(1, _act("attach", "junior.accountant", "oils", target="task", task="Прикрепить платежное поручение",
                 file="платёжка-oils.pdf"), "прикрепляет платёжное поручение к подзадаче"),
    Move(0.2, _act("complete_task", "junior.accountant", "oils", task="Прикрепить платежное поручение"),
         "завершает подзадачу"),
    Move(0.5, _act("complete_task", "chief.accountant", "oils", task="Выполнить оплату"), "завершает задачу оплаты"),
)


class Narrator:
    """Plays the moves and prints what changed after each one."""

    def __init__(self, stack: Stack, echo: Echo) -> None:
        self.stack = stack
        self.echo = echo
        self.view = PortalView(stack.portal, next(w for w in stack.workflows if w.code == "payment_requests"))
        self.performer = Performer(self.view, stack.settle)
        self.calendar = WorkCalendar.default()
        self.refs: dict[str, int] = {}
        self.seen_tasks: set[int] = set()
        self.stages: dict[int, str] = {}

    def play(self, moves: tuple[Move, ...] = PLAY) -> dict[str, str]:
        start = self.stack.portal.request_count
        for move in moves:
            clock = self.stack.clock
            clock.set(self.calendar.add_working_hours(clock.now(), timedelta(hours=move.wait)))
            self.move(move)
        finals = {ref: self.view.stage_code(item) for ref, item in self.refs.items()}
        self.echo("")
        self.echo("Итог:")
        for ref, item in self.refs.items():
            title = self.view.values(item).get("title")
            self.echo(f"  №{item} «{title}» — {self.view.workflow.stage(finals[ref]).name.ru}")
        self.echo(f"REST-запросов приложения к порталу: {self.stack.portal.request_count - start}")
        return finals

    def move(self, move: Move) -> None:
        action = move.action
        mark = self.view.mark()
        item = self.refs.get(action.request or "")
        done = self.performer.perform(action, item)
        if done.item_id is not None and action.ref:
            self.refs[action.ref] = item = done.item_id
        self.stack.settle()
        when = self.stack.clock.now().astimezone(MOSCOW)
        who = self.stack.portal.state.user_by_login(action.login).full_name
        self.echo("")
        self.echo(f"{_day(when)} {when:%d.%m %H:%M}  {who} {move.says}"
                  + (f": №{item}" if item else "") + ("  ✗ " + done.text if done.refused or done.error else ""))
        if item is not None:
            self.changes(item, mark)

    def changes(self, item: int, mark: tuple[int, int]) -> None:
        stage = self.view.stage_code(item)
        if self.stages.get(item) != stage:
            self.stages[item] = stage
            self.echo(f"      → этап «{self.view.workflow.stage(stage).name.ru}»")
        for task in self.view.tasks(item):
            if task.id not in self.seen_tasks:
                self.seen_tasks.add(task.id)
                due = f", срок {task.deadline.astimezone(MOSCOW):%d.%m %H:%M}" if task.deadline else ""
                self.echo(f"      → задача «{task.title}» — {self._name(task.responsible)}{due}")
        for notice in self.view.notices(mark):
            self.echo(f"      → уведомление ({self._name(notice.to)}): «{_short(notice.text)}»")

    def _name(self, login: str) -> str:
        try:
            return self.stack.portal.state.user_by_login(login).full_name
        except KeyError:
            return login


def _day(moment: datetime) -> str:
    return ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")[moment.weekday()]


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def run_demo(echo: Echo, keep: bool = False) -> bool:
    """Play the demo; True when the requests ended as intended (two paid, one rejected)."""
    clock = SandboxClock(START)
    clock.freeze()
    with redis_for_tools() as url, Stack(url, clock) as stack:
        echo(f"Портал-песочница: {stack.portal.base_url} (организация «Лаванда Косметикс»)")
        echo(f"Приложение: {stack.web_url}; Redis: {url}")
        echo("Приложение установлено в портал и развернуло смарт-процессы, стадии, поля и виджеты.")
        finals = Narrator(stack, echo).play()
        ok = finals == {"vk": "PAID", "parts": "REJECTED", "oils": "PAID"}
        if keep:
            _keep(stack, echo)
        return ok


def _keep(stack: Stack, echo: Echo) -> None:
    stack.clock.speed = 1.0
    echo("")
    echo(f"Песочница работает: {stack.portal.ui_url}")
    echo(f"  (сертификат выпущен собственным центром песочницы: {stack.portal.ca_bundle})")
    echo("Действуйте от имени сотрудников в интерфейсе песочницы; воркер обрабатывает события. Ctrl+C — выход.")
    worker = SimpleWorker([stack.deps.queue(n) for n in queues.ALL_QUEUES], connection=stack.deps.redis)
    with contextlib.suppress(KeyboardInterrupt):
        worker.work(with_scheduler=True, logging_level="WARNING")


@click.command("demo")
@click.option("--keep", is_flag=True, help="Leave the sandbox, web app and worker running (Ctrl+C stops).")
def demo_command(keep: bool) -> None:
    """Play payment requests from creation to «Оплачено» (and one rejected) on the embedded sandbox."""
    for name in ("werkzeug", "rq.worker", "rq.queue", "rq.job", "rq.scheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        ok = run_demo(click.echo, keep)
    except (RedisUnavailable, StackError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if not ok:
        click.echo("Демо завершилось не так, как задумано: см. шаги выше.", err=True)
    sys.exit(0 if ok else 1)
