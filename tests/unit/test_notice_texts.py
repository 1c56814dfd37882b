"""Every notice names its request (#15): number, title, amount, counterparty and a link to the card, in
Bitrix24 (``im.notify``) and Telegram alike.

The texts catalogue ``b24app/texts/`` is enumerated, not listed: every function returning a ``Message`` is
called and its text checked; every function returning a ``Label`` is an engine notice's head, sent through
the one path the pipeline uses (``message_for`` -> ``bitrix24_command``) and checked there; a text that is no
notice about a request must be named in ``NOT_A_NOTICE`` with the reason. A new text therefore either
names its request or fails here. Task texts (titles of every step's task and subtask, descriptions) carry
the request's number.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import b24app.texts
from b24app.escalation.rules import Notice, OpenTask
from b24app.notify.base import Message, bitrix24_command
from b24app.notify.itemnotes import ItemView, message_for
from b24app.texts import approval
from b24app.texts.escalation import digest_message
from b24app.texts.telegram import RequestCard, format_amount, reminder
from b24app.workflow.actions import Notify
from b24app.workflow.config import load_org_config
from b24app.workflow.effects import _title
from b24app.workflow.loader import load_workflows
from b24app.workflow.models import Label, TaskSpec, Workflow
from b24app.workflow.snapshot import Entry, Snapshot

ROOT = Path(__file__).resolve().parents[2]
ITEM, ETID, TITLE, COUNTERPARTY = 4217, 1100, "Реклама у блогеров", "ООО «Блог»"
AMOUNT = Decimal(95000)
URL = f"https://portal.example/crm/type/{ETID}/details/{ITEM}/"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
CARD = RequestCard(ETID, ITEM, TITLE, COUNTERPARTY, AMOUNT, "RUB", "head_approval", "Согласование руководителем",
                   "Head approval", timedelta(hours=3), URL)
TASK = OpenTask(77, "payment:sub0", 2, 9, NOW, "Прикрепить платежное поручение")
NOTICES = [Notice("k1", "remind", 0, "every1", (3,), ("bitrix24",), False, timedelta(hours=4)),
           Notice("k2", "alert", 1, "after", (6,), ("bitrix24",), True, timedelta(hours=19)),
           Notice("k3", "alert", 2, "after", (6,), ("bitrix24",), False, timedelta(hours=19)),
           Notice("k4", "alert", 0, "task77", (6,), ("bitrix24",), False, timedelta(hours=1), TASK)]

#: Texts of the catalogue that are not a notice about one request, and why.
NOT_A_NOTICE = {
    "approval.decision_done": "the answer shown to the person who just decided, in the tab or the bot",
    "approval.decision_name": "a word inside other texts",
    "approval.done_name": "a word inside other texts",
    "approval.one_of": "a fragment of missing_fields",
    "approval.person": "a person's name",
    "approval.routed_note": "a note on one entry of the approval sheet (in the card)",
    "approval.timeline": "a timeline entry written on the card itself",
    "approval.version_timeline": "a timeline entry written on the card itself",
    "approval.version_name": "a fragment of the version texts",
    "approval.when": "a date",
    "approval.task_description": "a task text: checked by test_task_texts_carry_the_request_number",
    "approval.docs_task_title": "a task title: checked by test_task_texts_carry_the_request_number",
    "timeline.forged_text": "a timeline entry written on the card itself",
    "escalation.request_card": "builds the RequestCard every message shows",
    "placements.texts": "the approval tab's own words (the tab is the card)",
    "control.texts": "the control room page's own words (each row links its card)",
    "accounting.texts": "the accounting view's own words (each request links its card)",
    "bank.issue_text": "a problem or reason shown beside its request or bank line (accounting view, CLI)",
    "bank.missing_text": "a missing detail shown in its request's row of the accounting view",
    "placements.working_time": "a duration",
    "telegram.details": "the request's block every message ends with",
    "telegram._details": "the request's block every message ends with",
    "telegram._line": "a digest line: checked inside the digests",
    "telegram.format_amount": "an amount",
    "telegram.format_waiting": "a duration",
    "telegram.bot_text": "the bot's replies to commands (/start, /stop), not about a request",
    "telegram.decided_text": "a button's answer on the request's own message",
    "telegram.link_page": "the Telegram linking page",
    "telegram.link_page_invite": "the Telegram linking page",
    "links.contract_line": "a line the checked step's task and assigned notice carry under their own head",
    "links.paid_line": "a line the checked step's task and assigned notice carry under their own head",
    "links.unsigned": "a flag line the checked step's task, notice and tab carry under their own head",
    "links.over": "a flag line the checked step's task, notice and tab carry under their own head",
    "links.duplicate": "a flag line the checked step's task, notice and tab carry under their own head",
}


def catalogue() -> list[tuple[str, Any]]:
    found = []
    for module in pkgutil.iter_modules(b24app.texts.__path__):
        mod = importlib.import_module(f"b24app.texts.{module.name}")
        for name, function in inspect.getmembers(mod, inspect.isfunction):
            if function.__module__ == mod.__name__:
                found.append((f"{module.name}.{name}", function))
    return found


def returns(function: Any) -> str:
    return str(inspect.signature(function).return_annotation)


def argument(name: str, annotation: str) -> list[Any]:
    """Sample values for one parameter (several when the text has branches)."""
    by_type: dict[str, list[Any]] = {
        "RequestCard": [CARD], "Notice": NOTICES, "bool": [True, False], "date": [NOW.date()],
        "Sequence[RequestCard]": [[CARD]], "list[tuple[Label, list[RequestCard]]]": [[(Label("Раздел", "Section"), [CARD])]],
        "tuple[str, ...]": [("approve", "reject")], "Label": [Label("Этап", "Stage")],
        "Label | None": [Label("Этап", "Stage")], "datetime": [NOW], "datetime | None": [NOW, None],
        "Iterable[Label]": [[Label("Сумма", "Amount")]], "dict[int, str]": [{3: "Марина Орлова"}],
        "int | None": [3], "int": [3], "str | None": [None, "2026-03-10"], "Decimal": [AMOUNT],
        "timedelta": [timedelta(hours=2)], "list[Label]": [[Label("⚠ Договор не подписан.", "⚠ Not signed.")]],
        "Message": [digest_message(NOW.date(), [(Label("Раздел", "Section"), [CARD])]), reminder(CARD)],
    }
    by_name: dict[str, list[Any]] = {"title": [TITLE], "decision": ["approve"], "why": ["absent", "dismissed"],
                                     "via": ["card"], "kind": ["reminder"], "lang": ["ru"], "tag": ["t"],
                                     "url": ["https://portal.example/marketplace/app/1/"]}
    if annotation == "str":
        return by_name.get(name, ["Марина Орлова"])
    if annotation in by_type:
        return by_type[annotation]
    raise AssertionError(f"no sample for parameter {name}: {annotation}; extend argument()")


def calls(function: Any) -> list[dict[str, Any]]:
    """Every combination of sample arguments for the function's required parameters."""
    combos: list[dict[str, Any]] = [{}]
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.VAR_KEYWORD or (p.default is not p.empty and p.name not in ("reason",)):
            continue
        combos = [dict(c, **{p.name: v}) for c in combos for v in argument(p.name, str(p.annotation))]
    return combos


def names_the_request(text: str, lang: str) -> list[str]:
    """What ``text`` fails to say about the request (empty: all of it)."""
    wanted = {"number": (f"№{ITEM}" if lang == "ru" else f"#{ITEM}"), "title": TITLE, "counterparty": COUNTERPARTY,
              "amount": format_amount(AMOUNT, "RUB", lang), "link": URL}
    return [what for what, shown in wanted.items() if shown not in text]


def check_message(what: str, message: Message) -> None:
    im_text = str(bitrix24_command(3, message)[1]["MESSAGE"])
    texts = {"bitrix24": (im_text, "ru"), "telegram ru": (message.text_ru, "ru"),
             "telegram en": (message.text_en or "", "en")}
    for channel, (text, lang) in texts.items():
        if "\n• " in text:                               # a digest: each line names its request
            lines = [line for line in text.splitlines() if line.startswith("• ")]
            assert lines, what
            for line in lines:
                assert not names_the_request(line, lang), (what, channel, line, names_the_request(line, lang))
        else:
            missing = names_the_request(text, lang)
            assert not missing, f"{what} ({channel}) does not name the request's {missing}:\n{text}"


def workflows() -> dict[str, Workflow]:
    org, _ = load_org_config(ROOT / "config")
    return {w.code: w for w in load_workflows(ROOT / "workflows", org)}


def view() -> ItemView:
    workflow = workflows()["payment_requests"]
    snap = Snapshot(ITEM, TITLE, "HEAD_APPROVAL", 1, {"AMOUNT": "95000|RUB", "COUNTERPARTY_NAME": COUNTERPARTY})
    entry = Entry(1, 1, "start", 1, NOW.isoformat(), "HEAD_APPROVAL", None, "head_approval", 3)
    return ItemView(workflow, snap, ETID, entry, NOW, URL, {3: "Марина Орлова"})


def test_every_text_is_classified() -> None:
    known = {name for name, _ in catalogue()}
    assert not set(NOT_A_NOTICE) - known, f"NOT_A_NOTICE names texts that are gone: {set(NOT_A_NOTICE) - known}"
    kinds = {name: returns(f) for name, f in catalogue() if name not in NOT_A_NOTICE}
    odd = {name: kind for name, kind in kinds.items() if kind not in ("Message", "Label")}
    assert not odd, f"texts that are neither a notice (Message, Label) nor in NOT_A_NOTICE: {odd}"


@pytest.mark.parametrize("name", [n for n, f in catalogue() if n not in NOT_A_NOTICE and returns(f) == "Message"])
def test_every_message_names_its_request(name: str) -> None:
    function = dict(catalogue())[name]
    for kwargs in calls(function):
        check_message(f"{name}({kwargs})", function(**kwargs))


@pytest.mark.parametrize("name", [n for n, f in catalogue() if n not in NOT_A_NOTICE and returns(f) == "Label"])
def test_every_engine_notice_names_its_request(name: str) -> None:
    """An engine text (``Notify``/``Refuse``) reaches Bitrix24 and Telegram through ``message_for``."""
    function = dict(catalogue())[name]
    for kwargs in calls(function):
        head = function(**kwargs)
        check_message(f"{name}({kwargs})", message_for(view(), Notify(3, head, "tag", "head_approval")))


def test_the_put_back_notice_names_its_request() -> None:
    """The known bug: «Карточка возвращена…» said neither number nor title."""
    head = approval.put_back(Label("Согласование руководителем", "Head approval"),
                             approval.no_skipping(Label("Оплата", "Payment")))
    text = str(bitrix24_command(3, message_for(view(), Notify(3, head, "tag")))[1]["MESSAGE"])
    assert text.startswith("Карточка возвращена") and f"№{ITEM}" in text and TITLE in text and URL in text


def test_task_texts_carry_the_request_number() -> None:
    snap = view().snap
    for workflow in workflows().values():
        specs: list[TaskSpec] = []
        for step in workflow.steps:
            if step.task is not None:
                specs += [step.task, *step.task.subtasks]
        assert specs
        for spec in specs:
            title = _title(spec.title, snap)
            assert f"№{ITEM}" in title and COUNTERPARTY in title, (workflow.code, title)
    assert f"№{ITEM}" in approval.task_description(TITLE, item_id=ITEM).ru
    assert f"№{ITEM}" in approval.docs_task_title(ITEM).ru
