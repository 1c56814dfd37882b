"""Staff-facing texts of the approval route: Russian first, English alongside.

Every function returns a :class:`Label`; the engine puts them in notifications, refusals, task
descriptions and timeline entries. Names of people come in as already formatted strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from b24app.workflow.models import Label
from b24app.workflow.rules import DECISIONS

NOTHING_CHANGED = Label("Без изменений.", "Nothing changed.")

_DECISION_DONE = {
    "start": ("Заявка запущена в согласование", "Sent for approval"),
    "resubmit": ("Отправлено повторно", "Resubmitted"),
    "approve": ("Согласовано", "Approved"),
    "reject": ("Отклонено", "Rejected"),
    "request_documents": ("Запрошены документы", "Documents requested"),
    "freeze": ("Заморожено", "Frozen"),
    "unfreeze": ("Разморожено", "Unfrozen"),
    "docs_provided": ("Документы предоставлены", "Documents provided"),
    "complete": ("Задачи шага выполнены", "All tasks of the step complete"),
    "reroute": ("Передано другому согласующему", "Handed to another approver"),
    "version": ("Загружена новая версия файла", "New file version uploaded"),
    "restart": ("Согласование начато заново: новая версия файла", "Approval restarted: new file version"),
}
_VIA = {"card": ("в карточке", "in the card"), "task": ("задачей", "by the task"),
        "kanban": ("на канбане", "on the kanban"), "telegram": ("в Telegram", "in Telegram"),
        "auto": ("автоматически", "automatically"), "scenario": ("в карточке", "in the card"),
        "bank": ("по банковской выписке", "by bank statement")}


def when(moment: datetime) -> str:
    return moment.strftime("%d.%m.%Y %H:%M")


def decision_name(decision: str) -> Label:
    spec = DECISIONS.get(decision)
    if spec is not None:
        return Label(spec.label_ru, spec.label_en)
    ru, en = _DECISION_DONE.get(decision, (decision, decision))
    return Label(ru, en)


def done_name(decision: str) -> Label:
    ru, en = _DECISION_DONE.get(decision, (decision, decision))
    return Label(ru, en)


def missing_fields(title: str, labels: Iterable[Label]) -> Label:
    items = list(labels)
    ru = ", ".join(f"«{label.ru}»" for label in items)
    en = ", ".join(f"'{label.en}'" for label in items)
    return Label(f"Заявка «{title}» ждёт в статусе «Новая»: заполните {ru}. Как только поля будут заполнены, "
                 f"согласование начнётся само.",
                 f"Request '{title}' is waiting in 'New': fill in {en}. Approval starts by itself once they are "
                 f"filled in.")


def not_entitled(approver: str) -> Label:
    return Label(f"Решение сейчас принимает {approver}. Вы не можете принять решение по этой заявке.",
                 f"{approver} decides at this step now. You cannot decide on this request.")


def unavailable(decision: str, stage: Label) -> Label:
    name = decision_name(decision)
    return Label(f"Действие «{name.ru}» недоступно на этапе «{stage.ru}».",
                 f"'{name.en}' is not available at the stage '{stage.en}'.")


def reason_required(decision: str) -> Label:
    name = decision_name(decision)
    return Label(f"Для действия «{name.ru}» нужно указать причину.",
                 f"'{name.en}' needs a reason.")


def put_back(stage: Label, why: Label) -> Label:
    return Label(f"Карточка возвращена на этап «{stage.ru}». {why.ru}",
                 f"The card was put back to '{stage.en}'. {why.en}")


def no_skipping(target: Label) -> Label:
    return Label(f"Перенос на этап «{target.ru}» пропускает шаги согласования — так нельзя.",
                 f"Moving to '{target.en}' skips approval steps, which is not allowed.")


def use_the_tab(target: Label) -> Label:
    return Label(f"Для переноса на этап «{target.ru}» нужна причина: используйте вкладку «Согласование» "
                 f"(или сначала заполните поле «Причина отклонения»).",
                 f"Moving to '{target.en}' needs a reason: use the 'Approval' tab "
                 f"(or fill in the 'Rejection reason' field first).")


def paused_task(stage: Label) -> Label:
    return Label(f"Заявка на этапе «{stage.ru}»: задача возобновлена, решение по ней можно принять после "
                 f"возврата заявки на шаг.",
                 f"The request is at '{stage.en}': the task was reopened; decide once the request is back.")


def order_missing(field: Label) -> Label:
    return Label(f"Задача возобновлена: прикрепите платёжное поручение с отметкой банка к задаче или к полю "
                 f"«{field.ru}» заявки, затем завершите задачу.",
                 f"The task was reopened: attach the payment order stamped by the bank to the task or to the "
                 f"request's '{field.en}' field, then complete the task.")


def assigned(task_title: str, deadline: datetime | None) -> Label:
    due_ru = f" Срок — {when(deadline)}." if deadline else ""
    due_en = f" Due {when(deadline)}." if deadline else ""
    return Label(f"Вам поставлена задача «{task_title}».{due_ru}",
                 f"You have a new task: '{task_title}'.{due_en}")


def rejected(title: str, by: str, reason: str) -> Label:
    return Label(f"Заявка «{title}» отклонена ({by}). Причина: {reason}. Исправьте её и отправьте повторно.",
                 f"Request '{title}' was rejected ({by}). Reason: {reason}. Correct it and resubmit.")


def finished(title: str, stage: Label) -> Label:
    return Label(f"Заявка «{title}»: {stage.ru}.", f"Request '{title}': {stage.en}.")


def paused(title: str, stage: Label, by: str, reason: str) -> Label:
    return Label(f"Заявка «{title}» переведена на этап «{stage.ru}» ({by}). Причина: {reason}.",
                 f"Request '{title}' moved to '{stage.en}' ({by}). Reason: {reason}.")


def returned(title: str, what: Label, by: str) -> Label:
    return Label(f"Заявка «{title}» снова ждёт вашего решения: {what.ru.lower()} ({by}).",
                 f"Request '{title}' is waiting for your decision again: {what.en.lower()} ({by}).")


def attach_documents() -> Label:
    return Label("Приложите запрошенные документы к задаче «Предоставить документы» или к карточке заявки, "
                 "затем завершите задачу.",
                 "Attach the requested documents to the 'Provide documents' task or to the request's card, "
                 "then complete the task.")


def docs_task_title(item_id: int) -> Label:
    return Label(f"Предоставить документы по заявке №{item_id}", f"Provide documents for request #{item_id}")


def task_description(title: str, url_hint: str = "", item_id: int | None = None) -> Label:
    number_ru, number_en = (f" №{item_id}", f" #{item_id}") if item_id is not None else ("", "")
    return Label(f"Заявка{number_ru}: {title}. Решение — завершением задачи или во вкладке «Согласование» "
                 f"карточки.{url_hint}",
                 f"Request{number_en}: {title}. Decide by completing the task or in the card's 'Approval' tab.{url_hint}")


def timeline(decision: str, step: Label | None, by: str, on_behalf: str | None, at: datetime, reason: str,
             via: str, stage: Label, note: Label | None = None) -> tuple[Label, Label]:
    """The title and text of a timeline entry for one log entry (``note``: e.g. the bank document)."""
    done = done_name(decision)
    step_ru = f" Шаг: «{step.ru}»." if step else ""
    step_en = f" Step: '{step.en}'." if step else ""
    behalf_ru = f" от имени {on_behalf}" if on_behalf else ""
    behalf_en = f" on behalf of {on_behalf}" if on_behalf else ""
    via_ru, via_en = _VIA.get(via, (via, via))
    reason_ru = f" Причина: {reason}." if reason else ""
    reason_en = f" Reason: {reason}." if reason else ""
    if note is not None:
        reason_ru += f" {note.ru[:1].upper()}{note.ru[1:]}."
        reason_en += f" {note.en[:1].upper()}{note.en[1:]}."
    text = Label(
        f"{done.ru}: {by}{behalf_ru}, {when(at)} ({via_ru}).{step_ru}{reason_ru} Этап: «{stage.ru}».",
        f"{done.en}: {by}{behalf_en}, {when(at)} ({via_en}).{step_en}{reason_en} Stage: '{stage.en}'.",
    )
    return Label(f"Согласование: {done.ru}", f"Approval: {done.en}"), text


def decision_done(decision: str, stage: Label) -> Label:
    done = done_name(decision)
    return Label(f"{done.ru}. Этап: «{stage.ru}».", f"{done.en}. Stage: '{stage.en}'.")


def person(user_id: int | None, names: dict[int, str] | None = None) -> str:
    if user_id is None:
        return "—"
    found = (names or {}).get(user_id)
    return found or f"пользователь #{user_id}"


def stands_in(title: str, named: str, acting: str, why: str, until: str | None) -> Label:
    """Why the step of request ``title`` went to ``acting`` instead of ``named`` (absent or dismissed)."""
    if why == "dismissed":
        return Label(f"Заявка «{title}»: {named} деактивирован(а) на портале, решение принимает {acting}.",
                     f"Request '{title}': {named} is deactivated on the portal; {acting} decides instead.")
    day = f" до {until[:10]}" if until else ""
    day_en = f" until {until[:10]}" if until else ""
    return Label(f"Заявка «{title}»: {named} отсутствует{day} (график отсутствий), решение принимает {acting}. "
                 "Шаг останется у него, даже если отсутствующий вернётся раньше.",
                 f"Request '{title}': {named} is away{day_en} (absence chart); {acting} decides instead. "
                 "The step stays with them even if the absent person returns earlier.")


def role_holder_gone(title: str, role: Label, named: str, acting: str) -> Label:
    """The operations manager's alert: a role's user is deactivated, the work went to ``acting``."""
    return Label(f"Внимание: роль «{role.ru}» назначена деактивированному сотруднику {named}. Заявка «{title}» "
                 f"передана: {acting}. Исправьте config/roles.yaml.",
                 f"Attention: role '{role.en}' belongs to deactivated user {named}. Request '{title}' went to "
                 f"{acting}. Fix config/roles.yaml.")


def bank_note(number: str, day: str) -> Label:
    """The approval sheet's and the timeline's note on a step completed by a bank statement."""
    shown = f"{day[8:10]}.{day[5:7]}.{day[0:4]}" if len(day) == 10 else day
    return Label(f"по банковской выписке: платёжное поручение № {number} от {shown}",
                 f"by bank statement: payment order No. {number} of {shown}")


def routed_note(why: str, named: str) -> Label:
    """The approval sheet's note on an entry whose step went to someone else."""
    if why == "dismissed":
        return Label(f"вместо {named}: деактивирован(а) на портале", f"instead of {named}: deactivated on the portal")
    return Label(f"вместо {named}: отсутствует (график отсутствий)", f"instead of {named}: away (absence chart)")


def one_of(labels: Iterable[Label]) -> Label:
    """A ``required_one_of`` group named in the missing-fields message: «A или B»."""
    items = list(labels)
    return Label(" или ".join(x.ru for x in items), " or ".join(x.en for x in items))


# -- file versions (#16) ----------------------------------------------------------------------------

def version_name(number: int, file_name: str, accusative: bool = False) -> Label:
    """«версия 2 (договор.pdf)» (or «версию 2», what someone approved): a version as texts name it."""
    name = f" ({file_name})" if file_name else ""
    return Label(f"{'версию' if accusative else 'версия'} {number}{name}", f"version {number}{name}")


def version_changed(title: str, current: Label, approved: Label, by: str, restart_at: Label | None) -> Label:
    """An earlier approver's notice: the document changed after they approved it."""
    again_ru = f" Согласование начато заново с шага «{restart_at.ru}»." if restart_at else ""
    again_en = f" Approval restarted at the step '{restart_at.en}'." if restart_at else ""
    return Label(f"«{title}» изменён(а): {by} загрузил(а) новый файл — {current.ru}. Вы согласовали "
                 f"{approved.ru}.{again_ru}",
                 f"'{title}' changed: {by} uploaded a new file — {current.en}. You approved {approved.en}.{again_en}")


def version_refused(current: Label, restart_at: Label | None) -> Label:
    """A decision refused because the file changed since the tab, task or message was shown."""
    again_ru = f" Согласование начато заново с шага «{restart_at.ru}»." if restart_at else ""
    again_en = f" Approval restarted at the step '{restart_at.en}'." if restart_at else ""
    return Label(f"Решение не принято: файл изменился, загружена {current.ru}. Откройте новую версию и примите "
                 f"решение по ней.{again_ru}",
                 f"Decision not accepted: the file changed, {current.en} was uploaded. Open the new version and "
                 f"decide on it.{again_en}")


def unseen_version(current: Label, seen: Label, restart_at: Label) -> Label:
    """The final approval refused: the previous approver approved another version than the current one."""
    return Label(f"Итоговое решение не принято: предыдущий согласующий утвердил {seen.ru}, а сейчас в карточке "
                 f"{current.ru}. Подписывается только та версия, которую видел предыдущий согласующий. Согласование "
                 f"начато заново с шага «{restart_at.ru}».",
                 f"Final decision not accepted: the previous approver approved {seen.en}, but the card now holds "
                 f"{current.en}. Only the version the previous approver saw is signed. Approval restarted at the "
                 f"step '{restart_at.en}'.")


def version_timeline(version: Label, by: str, at: datetime, sha256: str) -> tuple[Label, Label]:
    """The timeline entry of a new file version."""
    return (Label(f"Новая версия: {version.ru}", f"New version: {version.en}"),
            Label(f"Загружена {version.ru}: {by}, {when(at)}. SHA-256: {sha256}.",
                  f"Uploaded {version.en}: {by}, {when(at)}. SHA-256: {sha256}."))
