"""``b24app demo --keep``: live work a person can act on in the sandbox UI, and a guide to it.

:func:`build_live` plays a few more moves on a running :class:`~b24app.demo.Narrator` (its stack must
run Telegram) so that the portal holds, each waiting for one person:

* a payment request at «Согласование руководителем» — the head, whose Telegram chat is linked, so the
  approval also waits in the fake Bot API's chat with its buttons (``/sandbox/telegram``);
* one at «Проверка финансовым менеджером» — the finance manager;
* one at «Оплата» — the accountant attaches the payment order to the subtask, the chief accountant
  completes the payment task;
* one at «Заморозка» — the head unfreezes it;
* a contract at «Проверка юристом» — the lawyer.

Approvals on the way are made by completing the approval task, not in the tab: each tab opened asks the
app for an identity check (``b24app.web.identity``: a small per-portal budget, refilled in real time),
and the demo's moves come faster than a person's — the budget stays for the person who plays.

It returns :class:`Live`: what was left (read back from the portal) and :meth:`Live.guide`, the lines
``demo --keep`` prints — the sandbox UI's address, and per item the person to act as and a link that
chooses that person and opens the place to act (``/sandbox/act-as?login=…&next=…``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from b24app.demo_play import CONTRACTS, PAYMENTS, Move, Narrator, act, approve, contract, payment
from b24app.scenario import model as m
from b24app.scenario.telegram import CHAT_BASE

HEAD = "m.orlova"


@dataclass(frozen=True)
class Wanted:
    """One live item: played by ``moves``, it waits at ``stage`` for ``login``, who does ``todo`` at ``place``."""

    ref: str
    workflow: str
    stage: str
    login: str
    todo: str
    place: str                       # "tab" (the item's approval tab) or "tasks" (the person's tasks page)
    moves: tuple[tuple[m.Action, str], ...]


def _wanted() -> tuple[Wanted, ...]:
    return (
        Wanted("live-finance", PAYMENTS, "FINANCE_REVIEW", "finance.manager",
               "согласуйте или отклоните во вкладке «Согласование»", "tab",
               ((payment("a.ivanova", "live-finance", "Баннеры для выставки «Красота-2026»", 85_000,
                         "ООО «Печатный двор»", "MARKETING"), "создаёт заявку на оплату"),
                (approve(HEAD, "live-finance", "task"), "завершает задачу согласования"))),
        Wanted("live-payment", PAYMENTS, "PAYMENT", "junior.accountant",
               "прикрепите платёжное поручение к подзадаче и завершите её; затем Татьяна Морозова "
               "(chief.accountant) завершает задачу оплаты", "tasks",
               ((payment("e.smirnova", "live-payment", "Картонные коробки для отгрузок", 64_000, "ООО «Упаковка»",
                         "RAW_MATERIALS"), "создаёт заявку на оплату"),
                (approve("s.kuznetsov", "live-payment", "task"), "завершает задачу согласования"),
                (approve("finance.manager", "live-payment", "task"), "завершает задачу проверки"))),
        Wanted("live-frozen", PAYMENTS, "FROZEN", HEAD, "разморозьте во вкладке «Согласование»", "tab",
               ((payment("a.ivanova", "live-frozen", "Стенд на выставке «Красота-2026»", 320_000, "ООО «Экспо»",
                         "MARKETING"), "создаёт заявку на оплату"),
                (act("freeze", HEAD, "live-frozen", reason="Ждём решения по бюджету выставки"),
                 "замораживает во вкладке «Согласование» с причиной"))),
        Wanted("live-contract", CONTRACTS, "LEGAL_REVIEW", "lawyer",
               "согласуйте или отклоните договор во вкладке «Согласование»", "tab",
               ((contract("a.ivanova", "live-contract", "Договор на услуги фотостудии", 240_000, "ООО «Кадр»",
                           "Предметная съёмка продукции, 12 съёмочных дней"), "создаёт договор на согласование"),
                (approve(HEAD, "live-contract", "task"), "завершает задачу согласования договора"))),
        # Last, after the head linked Telegram: the head's chat shows this approval with its buttons.
        Wanted("live-head", PAYMENTS, "HEAD_APPROVAL", HEAD,
               "согласуйте, отклоните или заморозьте во вкладке «Согласование» — или кнопками в Telegram", "tab",
               ((m.Action(kind="link_telegram", login=HEAD, via=None, where=m.Where("demo --keep", 0)),
                 "подключает Telegram на странице приложения"),
                (payment("a.ivanova", "live-head", "Реклама у блогеров, апрель", 150_000, "ООО «Блог»", "MARKETING"),
                 "создаёт заявку на оплату"))),
    )


@dataclass(frozen=True)
class LiveItem:
    wanted: Wanted
    item_id: int
    stage: str                       # the stage the portal shows now
    title: str
    url: str                         # chooses the person in the sandbox UI and opens the place to act

    @property
    def ok(self) -> bool:
        return self.stage == self.wanted.stage


@dataclass(frozen=True)
class Live:
    ui_url: str
    items: tuple[LiveItem, ...]
    telegram_login: str
    telegram_chat: int
    telegram_url: str
    telegram_linked: bool
    names: dict[str, str]            # login -> full name
    stage_names: dict[tuple[str, str], str]
    control_url: str = ""            # the app's own page, as the operations manager (issue 15)
    accounting_url: str = ""         # the app's own page, as the chief accountant: the accounting view (#18)

    @property
    def ok(self) -> bool:
        return self.telegram_linked and all(item.ok for item in self.items)

    def guide(self) -> list[str]:
        lines = [f"Песочница работает: {self.ui_url}",
                 "Осталась живая работа — откройте ссылку: она выбирает сотрудника («Действовать как») "
                 "и открывает место, где он действует:"]
        for item in self.items:
            who = item.wanted.login
            stage = self.stage_names[(item.wanted.workflow, item.stage)]
            lines += [f"  №{item.item_id} «{item.title}» — этап «{stage}»",
                      f"      действуйте как {self.names[who]} ({who}): {item.wanted.todo}",
                      f"      {item.url}"]
        lines += [f"  Telegram: {self.names[self.telegram_login]} ({self.telegram_login}) подключила чат "
                  f"{self.telegram_chat}; в нём согласование с кнопками «Согласовать» / «Отклонить»:",
                  f"      {self.telegram_url}"]
        lines += ["  Контрольная панель (как операционный менеджер, ops.manager):",
                  f"      {self.control_url}"]
        if self.accounting_url:
            lines += ["  Бухгалтерия — платёжные поручения и выписка банка (как главный бухгалтер, chief.accountant):",
                      f"      {self.accounting_url}"]
        return lines


def build_live(narrator: Narrator) -> Live:
    """Play the live moves on ``narrator``'s stack (Telegram running) and read back what was left."""
    stack = narrator.stack
    if narrator.telegram is None:
        raise RuntimeError("build_live needs a stack with Telegram (Stack(..., telegram=True))")
    narrator.echo("")
    narrator.echo("Живая работа для интерфейса песочницы:")
    wanted = _wanted()
    for want in wanted:
        for action, says in want.moves:
            narrator.move(Move(0.2, action, says))
    ui = stack.portal.ui_url
    items = []
    for want in wanted:
        code, item_id = narrator.refs[want.ref]
        view = narrator.views[code]
        items.append(LiveItem(want, item_id, view.stage_code(item_id), str(view.values(item_id).get("title")),
                              _link(ui, want, view.etid, item_id)))
    users = stack.portal.state.users.values()
    stage_names = {(code, s.code): s.name.ru for code, view in narrator.views.items() for s in view.workflow.stages}
    chat = CHAT_BASE + narrator.view.user_id(HEAD)
    return Live(ui, tuple(items), HEAD, chat, f"{ui}telegram#chat-{chat}", narrator.telegram.linked(HEAD),
                {u.login: u.full_name for u in users}, stage_names,
                f"{ui}act-as?" + urlencode({"login": "ops.manager", "next": "/" + ui.split("/", 3)[3] + "app/page"}),
                f"{ui}act-as?" + urlencode({"login": "chief.accountant", "next": "/" + ui.split("/", 3)[3] + "app/page"}))


def _link(ui: str, want: Wanted, etid: int, item_id: int) -> str:
    base = "/" + ui.split("/", 3)[3]                     # "/sandbox/"
    if want.place == "tasks":
        target = f"{base}user/{want.login}"
    else:
        target = f"{base}widget?" + urlencode({"placement": f"CRM_DYNAMIC_{etid}_DETAIL_TAB", "ID": item_id})
    return f"{ui}act-as?" + urlencode({"login": want.login, "next": target})
