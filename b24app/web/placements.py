"""The approval tab: ``POST /b24/placement`` (the widget) and ``POST /b24/placement/decide``.

Bitrix24 opens the tab (``CRM_DYNAMIC_{ETID}_DETAIL_TAB`` in an item card, ``TASK_VIEW_TAB`` in a task
card) by POSTing the frame-open form with the person's ``AUTH_ID``. The view identifies the person
with that token (:mod:`b24app.web.placement_auth`), finds the item and its workflow, checks with the
same token that the person may see it (``crm.item.get`` for the item tab; the task tab's
``tasks.task.get`` — a ``[]`` answer means not visible), and only then renders the approval sheet
(read with the app's token) with a button per decision the person may make now (``Sheet.allowed``);
what the sheet tells about *other* items (a contract's payments, a payment's contract and duplicate
candidates) is shown only as far as the person's own token may read them
(a contract's payments: the person's ``crm.item.list`` riding the visibility check's batch; a payment's
contract and duplicates: :func:`b24app.pipeline.linkview.readable`, one more request when there are
any; a page re-rendered after a decision keeps the set the ticket recorded);
an item or task the person cannot see is a 404 with nothing of the request shown. Each decision
form carries a single-use signed ticket instead of any token; the decision itself is
``handlers.decisions.decide``. Russian by default, English with ``LANG=en``.

When Telegram is configured (a bot token and ``B24APP_TELEGRAM_BOT_USERNAME``), the tab also offers
«Подключить Telegram»: ``POST /b24/placement/telegram-link`` with the same single-use ticket (never the
``AUTH_ID``) issues a one-time deep link ``https://t.me/<bot>?start=<token>`` for the person the ticket
names (``b24app.telegram.links.LinkStore``: single use, valid 10 minutes) and shows it in the tab.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue

from b24app.deps import Deps
from b24app.errors import B24AppError
from b24app.pipeline import linkview
from b24app.telegram.config import TelegramConfig
from b24app.telegram.links import TOKEN_TTL, LinkStore
from b24app.texts.placements import REASON_REQUIRED, texts, working_time
from b24app.web.app import get_deps
from b24app.web.identity import IdentityBusy, WidgetAuthError
from b24app.web.pages import lang_of
from b24app.web.placement_auth import (
    NotVisible,
    Person,
    Ticket,
    Tickets,
    check_item_visible,
    identify,
    visible_task,
)
from b24app.workflow.snapshot import VERSION
from b24app.workflow.versions import RESTART

log = logging.getLogger(__name__)

placements_bp = Blueprint("placements", __name__, template_folder="templates")
bp = placements_bp

#: ``app.extensions`` key of the decisions engine (``handlers.decisions`` unless a test installs one).
ENGINE_KEY = "b24app.decisions"
DECISIONS = ("approve", "reject", "request_documents", "freeze", "unfreeze", "resubmit")
_CRM_TAB = re.compile(r"^CRM_DYNAMIC_(\d+)_DETAIL_TAB$")
_TASK_BINDING = re.compile(r"^T([0-9a-f]+)_(\d+)$")


def init_app(app: Flask, deps: Deps) -> None:
    app.register_blueprint(placements_bp)


def engine() -> Any:
    """The decisions engine: ``handlers.decisions`` (or what a test put in ``app.extensions``)."""
    return current_app.extensions.get(ENGINE_KEY) or importlib.import_module("handlers.decisions")


def tickets(deps: Deps) -> Tickets:
    return Tickets(deps.redis, str(current_app.config["SECRET_KEY"]))


@placements_bp.post("/b24/placement")
def widget() -> ResponseReturnValue:
    lang = lang_of(request.args.get("LANG"))
    deps = get_deps()
    try:
        person, as_user = _identify(deps)
        workflow, item_id, seen = _target(deps, person.member_id, str(request.form.get("PLACEMENT") or ""),
                                          _options(), as_user)
    except IdentityBusy as exc:
        log.info("widget refused: %s", exc)
        return _message(lang, "unavailable", 503)
    except WidgetAuthError as exc:
        log.info("widget refused: %s", exc)
        return _message(lang, "not_authenticated", 403)
    except NotVisible as exc:
        log.info("widget refused: the person may not see %s", exc)
        return _message(lang, "not_visible", 404)
    except LookupError:
        return _message(lang, "not_an_approval", 404)
    except B24AppError as exc:
        log.warning("widget: the portal failed: %s", exc)
        return _message(lang, "unavailable", 502)
    if workflow is None:
        return _message(lang, "not_an_approval", 404)
    ticket = Ticket(person.member_id, person.user_id, workflow, item_id, lang, name=person.name)
    return _sheet_page(deps, ticket, as_user=as_user, seen=seen)


@placements_bp.post("/b24/placement/decide")
def decide() -> ResponseReturnValue:
    deps = get_deps()
    store = tickets(deps)
    ticket = store.check(str(request.form.get("ticket") or ""))
    if ticket is None:
        return _message(lang_of(request.form.get("lang")), "stale_form", 403)
    decision = str(request.form.get("decision") or "")
    reason = str(request.form.get("reason") or "").strip() or None
    if decision not in DECISIONS:
        return _sheet_page(deps, ticket, notice=("error", texts(ticket.lang)["unknown_decision"]), status=400)
    if decision in REASON_REQUIRED and reason is None:
        return _sheet_page(deps, ticket, notice=("error", texts(ticket.lang)[f"reason_required_{decision}"]),
                           status=400, reason_for=decision)
    if not store.consume(ticket):
        return _message(ticket.lang, "stale_form", 403)
    try:
        outcome = engine().decide(deps, ticket.member_id, ticket.workflow, ticket.item_id, ticket.user_id,
                                  decision, reason, via="card")
    except B24AppError as exc:
        log.warning("decision %s on item %s failed: %s", decision, ticket.item_id, exc)
        return _message(ticket.lang, "unavailable", 502)
    kind = "ok" if outcome.ok else "error"
    return _sheet_page(deps, ticket, notice=(kind, outcome.message.get(ticket.lang)),
                       status=200 if outcome.ok else 409)


@placements_bp.post("/b24/placement/telegram-link")
def telegram_link() -> ResponseReturnValue:
    """A one-time Telegram deep link for the person the tab's ticket names; the ticket is spent."""
    deps = get_deps()
    store = tickets(deps)
    ticket = store.check(str(request.form.get("ticket") or ""))
    if ticket is None:
        return _message(lang_of(request.form.get("lang")), "stale_form", 403)
    bot = telegram_bot(deps)
    if not bot:
        return _message(ticket.lang, "telegram_off", 404)
    if not store.consume(ticket):
        return _message(ticket.lang, "stale_form", 403)
    token = LinkStore(deps.redis).issue_token(ticket.member_id, ticket.user_id)
    log.info("telegram deep link issued member=%s user=%s", ticket.member_id, ticket.user_id)
    return _sheet_page(deps, ticket, telegram_link=LinkStore.deep_link(bot, token))


def telegram_bot(deps: Deps) -> str:
    """The bot's username when Telegram is on and deep links can be made; "" otherwise."""
    config = TelegramConfig.from_settings(deps.settings)
    return config.bot_username if config.enabled else ""


# --- helpers --------------------------------------------------------------------------------------

def _identify(deps: Deps) -> tuple[Person, Any]:
    person, _, as_user = identify(request.form, request.args, deps)
    return person, as_user


def _options() -> dict[str, Any]:
    try:
        options = json.loads(str(request.form.get("PLACEMENT_OPTIONS") or "{}"))
    except ValueError:
        return {}
    return options if isinstance(options, dict) else {}


def _target(deps: Deps, member_id: str, placement: str, options: Mapping[str, Any],
            as_user: Any) -> tuple[str | None, int, linkview.Seen]:
    """(workflow, item id) the tab is about, checked with the person's own token (one request):
    NotVisible when the person may not see the item or task, LookupError when it is about nothing we
    know. In a contract's card the lists of its payments the person may read ride that request."""
    match = _CRM_TAB.match(placement.upper())
    if match:
        etid, item_id = int(match.group(1)), _int(options.get("ID") or options.get("ENTITY_ID"))
        workflow = engine().workflow_for_entity_type(deps, member_id, etid)
        children = linkview.children_lists(deps, member_id, workflow, etid, item_id) if workflow else None
        answer = check_item_visible(as_user, etid, item_id, children.commands if children else None)
        seen = children.seen(answer.results) if children is not None and answer is not None else linkview.Seen()
        return workflow, item_id, seen
    if placement.upper() == "TASK_VIEW_TAB":
        task = visible_task(as_user, _int(options.get("taskId")))
        for binding in task.get("ufCrmTask") or []:
            found = _TASK_BINDING.match(str(binding))
            if found:
                etid, item_id = int(found.group(1), 16), int(found.group(2))
                return engine().workflow_for_entity_type(deps, member_id, etid), item_id, linkview.Seen()
    raise LookupError(placement)


def _int(value: Any) -> int:
    text = str(value or "")
    if not text.isdigit():
        raise LookupError(text)
    return int(text)


def _message(lang: str, key: str, status: int) -> ResponseReturnValue:
    return render_template("placement_message.html", t=texts(lang), lang=lang, text=texts(lang)[key]), status


def _sheet_page(deps: Deps, ticket: Ticket, notice: tuple[str, str] | None = None,
                status: int = 200, reason_for: str | None = None, telegram_link: str = "",
                as_user: Any = None, seen: linkview.Seen | None = None) -> ResponseReturnValue:
    """The tab's page; ``as_user`` (the person's own client, only when the tab opens) decides which other
    items the link lists show — a later page shows what the ticket recorded then."""
    try:
        sheet = engine().approval_sheet(deps, ticket.member_id, ticket.workflow, ticket.item_id, ticket.user_id)
        if as_user is not None:
            known = seen or linkview.Seen()
            asked = linkview.readable(as_user, known.to_ask(linkview.refs(sheet)))
            ticket = replace(ticket, readable=tuple(sorted(known.readable | asked)))
    except B24AppError as exc:
        log.warning("approval sheet of item %s failed: %s", ticket.item_id, exc)
        return _message(ticket.lang, "unavailable", 502)
    sheet = linkview.for_viewer(sheet, ticket.readable)
    token = tickets(deps).issue(ticket)
    allowed = [d for d in DECISIONS if d in tuple(sheet.allowed)]
    page = render_template("placement.html", t=texts(ticket.lang), lang=ticket.lang, sheet=sheet, ticket=token,
                           allowed=allowed, notice=notice, viewer=ticket.name, reason_required=REASON_REQUIRED,
                           reason_for=reason_for, telegram=_telegram(deps, ticket, telegram_link),
                           **sheet_view(sheet, ticket.lang))
    return page, status


def _telegram(deps: Deps, ticket: Ticket, link: str) -> dict[str, Any] | None:
    """The tab's Telegram block: None when Telegram is off; else whether the person is linked, and a fresh link."""
    if not telegram_bot(deps):
        return None
    current = LinkStore(deps.redis).for_user(ticket.member_id, ticket.user_id)
    return {"linked": bool(current and current.active), "link": link,
            "minutes": int(TOKEN_TTL.total_seconds() // 60)}


#: Sheet entries that record a file version (``b24app.workflow.versions``): named by the version, not a step.
VERSION_DECISIONS = (VERSION, RESTART)


def sheet_view(sheet: Any, lang: str) -> dict[str, Any]:
    """The engine's ``Sheet`` as the template shows it, in the page's language."""
    t = texts(lang)
    entries = [
        {
            "step": e.step_name.get(lang) if e.step_name else t["version_n"].format(n=e.version)
            if e.decision in VERSION_DECISIONS and getattr(e, "version", None) else t["start_step"],
            "decision": e.decision_name.get(lang),
            "by": e.by_name,
            "on_behalf_of": e.on_behalf_of_name,
            "at": _moment(e.at),
            "reason": e.reason or (e.note.get(lang) if getattr(e, "note", None) else ""),
            "version": t["in_version"].format(n=e.version) if getattr(e, "version", None) else "",
        }
        for e in sheet.entries
    ]
    names = getattr(sheet, "names", {})
    versions = [{"title": t["version_n"].format(n=v.number), "current": v.current, "file": v.file_name or "—",
                 "url": v.url, "by": names.get(v.by) or f"#{v.by}", "at": _moment(v.at.isoformat()),
                 "sha256": v.sha256, "approved_by": ", ".join(names.get(u) or f"#{u}" for u in v.approved_by)}
                for v in getattr(sheet, "versions", ())]
    summary = [(label.get(lang), value) for label, value in getattr(sheet, "summary", ())]
    return {
        "summary": summary,
        "stage_name": sheet.stage_name.get(lang),
        "step_name": sheet.step_name.get(lang) if sheet.step_name else "",
        "approver": sheet.approver_name or "",
        "entries": entries,
        "versions": versions,
        "route": [{"name": p.name.get(lang), "state": p.state, "state_name": t[f"state_{p.state}"]}
                  for p in getattr(sheet, "route", ())],
        "clock": _clock(getattr(sheet, "clock", None), sheet.stage_name.get(lang), lang),
        "reminders": [{"kind": t.get(f"notice_{n.action}", n.action), "action": n.action, "to": n.to_name,
                       "at": _moment(n.at)} for n in getattr(sheet, "reminders", ())],
        "checks": [{"text": c.text.get(lang), "url": c.url, "flagged": c.flagged, "blocks": c.blocks}
                   for c in getattr(sheet, "checks", ())],
        "payments": None if getattr(sheet, "payments", None) is None else
        [{"id": p.id, "title": p.title, "stage": p.stage_name.get(lang), "amount": p.amount, "url": p.url}
         for p in sheet.payments],
    }


def _clock(clock: Any, stage: str, lang: str) -> dict[str, Any] | None:
    """The current step's clock in words: deadline, working time left (or overdue), since when, paused."""
    if clock is None:
        return None
    t = texts(lang)
    left = clock.left
    return {
        "paused": clock.paused,
        "paused_text": t["paused_since"].format(since=_moment(_iso(clock.paused_since)), stage=stage)
        if clock.paused else "",
        "deadline": _moment(_iso(clock.deadline)) if clock.deadline else "",
        "left_label": t["overdue"] if left is not None and left < timedelta(0) else t["left"],
        "left": working_time(left, lang) if left is not None else t["no_deadline"],
        "overdue": left is not None and left < timedelta(0),
        "since": _moment(_iso(clock.since)) if clock.since else "",
        "used": working_time(clock.used, lang),
    }


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _moment(value: str) -> str:
    """``2026-03-02T10:00:00+03:00`` -> ``02.03.2026 10:00`` (the portal's own time zone kept)."""
    try:
        return datetime.fromisoformat(value).strftime("%d.%m.%Y %H:%M")
    except (TypeError, ValueError):
        return str(value or "")
