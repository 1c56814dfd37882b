"""Strict-mode checks one level down for users and notifications (see ``b24sandbox.deepcheck``).

* ``user.get`` / ``user.search``: besides their documented parameters they take filter keys at the
  top level, under ``FILTER`` or under ``filter`` (SPEC-GAPS ``user.get`` row, REFERENCE §8.1). A key
  is a filter key when, after its prefix operator, it names a ``user.add`` field (the spec: "any
  parameter of user.add"), one of the extra filters §8.1 lists (``UF_DEPARTMENT``,
  ``UF_PHONE_INNER``, ``IS_ONLINE``, ``NAME_SEARCH``, ``USER_TYPE``, ``ACTIVE``; ``user.search`` also
  ``UF_DEPARTMENT_NAME`` and ``FIND``) or one of the portal's standard ``UF_*`` user fields (the
  sandbox has no custom user fields, so ``UF_DEPARTAMENT`` is reported). ``SORT``/``ORDER`` in upper
  case are accepted as the documented example sends them (examples/user.get.json). Anything else is
  a violation.
* ``im.notify*``: ``CLIENT_ID`` is required with ``TAG``/``SUB_TAG`` when called via a webhook (§8.3).
"""

from __future__ import annotations

from b24sandbox.deepcheck import deep_check, filter_fields, keys_of, unknown_key
from b24sandbox.registry import Call
from b24sandbox.strict import Violation

USER_ADD_FIELDS = frozenset({
    "ID", "XML_ID", "ACTIVE", "NAME", "LAST_NAME", "SECOND_NAME", "TITLE", "EMAIL", "LAST_LOGIN", "DATE_REGISTER",
    "TIME_ZONE", "TIME_ZONE_OFFSET", "TIMESTAMP_X", "LAST_ACTIVITY_DATE", "PERSONAL_GENDER", "PERSONAL_PROFESSION",
    "PERSONAL_WWW", "PERSONAL_BIRTHDAY", "PERSONAL_PHOTO", "PERSONAL_ICQ", "PERSONAL_PHONE", "PERSONAL_FAX",
    "PERSONAL_MOBILE", "PERSONAL_PAGER", "PERSONAL_STREET", "PERSONAL_CITY", "PERSONAL_STATE", "PERSONAL_ZIP",
    "PERSONAL_COUNTRY", "PERSONAL_MAILBOX", "PERSONAL_NOTES", "WORK_PHONE", "WORK_COMPANY", "WORK_POSITION",
    "WORK_DEPARTMENT", "WORK_WWW", "WORK_FAX", "WORK_PAGER", "WORK_STREET", "WORK_MAILBOX", "WORK_CITY",
    "WORK_STATE", "WORK_ZIP", "WORK_COUNTRY", "WORK_PROFILE", "WORK_LOGO", "WORK_NOTES", "UF_DEPARTMENT",
    "UF_EMPLOYMENT_DATE", "UF_PHONE_INNER", "UF_SKYPE", "UF_INTERESTS", "UF_SKILLS", "UF_WEB_SITES",
    "UF_XING", "UF_LINKEDIN", "UF_FACEBOOK", "UF_TWITTER", "UF_DISTRICT", "UF_SKYPE_LINK", "UF_ZOOM",
    "USER_TYPE", "IS_ONLINE", "NAME_SEARCH",
})  # fmt: skip
SEARCH_EXTRA = frozenset({"UF_DEPARTMENT_NAME", "FIND"})
USER_PARAMS = frozenset({"sort", "order", "SORT", "ORDER", "FILTER", "filter", "ADMIN_MODE", "select",
                         "IMAGE_RESIZE", "start", "FIND"})


def _user_field_ok(name: str, search: bool) -> bool:
    return name in USER_ADD_FIELDS or (search and name in SEARCH_EXTRA)


@deep_check("user.get", "user.search")
def user_filters(call: Call) -> list[Violation]:
    search = call.method.lower() == "user.search"
    known = sorted(USER_ADD_FIELDS | (SEARCH_EXTRA if search else frozenset()))
    problems: list[Violation] = []
    top = {k: v for k, v in call.params.items() if k not in USER_PARAMS and k != "auth"}
    for where, spec in (("params", top), ("FILTER", call.params.get("FILTER")), ("filter", call.params.get("filter"))):
        if where != "params" and not keys_of(spec):
            continue
        for key, name in filter_fields(spec):
            if not _user_field_ok(name, search):
                problems.append(unknown_key(call, where, key, known, "not a user field or parameter (REFERENCE §8.1)"))
    return problems


@deep_check("im.notify", "im.notify.system.add", "im.notify.personal.add")
def notify_client_id(call: Call) -> list[Violation]:
    tagged = any(call.params.get(name) not in (None, "") for name in ("TAG", "SUB_TAG"))
    if call.auth_kind == "webhook" and tagged and call.params.get("CLIENT_ID") in (None, ""):
        return [Violation(call.method, "CLIENT_ID", "parameter 'CLIENT_ID' is required with TAG/SUB_TAG when "
                          "called via a webhook (REFERENCE §8.3)")]
    return []
