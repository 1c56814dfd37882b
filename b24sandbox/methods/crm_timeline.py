"""crm.timeline.comment.add / list and crm.timeline.logmessage.add on smart-process items (REFERENCE §8.4).

``ENTITY_TYPE`` for a smart process is ``dynamic_{ETID}``, matched case-insensitively and stored (and
listed) in lower case. Since crm 23.100.0 only the lower-case ``fields`` key is accepted. Comment files
come as ``[["name", "<base64>"], ...]`` and are kept like item files.

UNVERIFIED, chosen here: a list ``filter`` without ``ENTITY_ID``/``ENTITY_TYPE`` answers ``100``
"Required fields are not provided"; listed comment files have ``type: "file"`` and no ``image`` block.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlencode

from b24sandbox import crmstore as cs
from b24sandbox.crmparams import as_int, as_list, as_mapping, page
from b24sandbox.filters import compile_filter, compile_order, sort_rows
from b24sandbox.registry import Call, Page, RestError, method

_DYNAMIC = re.compile(r"^dynamic_(\d+)$", re.IGNORECASE)
COMMENT_KEYS = ("ID", "ENTITY_ID", "ENTITY_TYPE", "CREATED", "COMMENT", "AUTHOR_ID", "FILES")


def _required() -> RestError:
    return RestError("100", "Required fields are not provided", 400)


def _active(call: Call) -> None:
    if call.user_id not in call.state.users or not call.user.active:
        raise RestError("ACCESS_DENIED", "Insufficient permissions", 400)


def _owner(call: Call, entity_type: str, entity_id: Any) -> tuple[int, int]:
    match = _DYNAMIC.match(entity_type.strip())
    item_id = as_int(entity_id)
    if match is None or item_id is None or not cs.item_exists(call.state, int(match.group(1)), item_id):
        raise RestError("OWNER_NOT_FOUND", "Owner of the item not found", 400)
    return int(match.group(1)), item_id


def _store_files(call: Call, raw: Any) -> list[int]:
    stored: list[int] = []
    for pair in as_list(raw):
        parts = as_list(pair)
        if len(parts) != 2 or not all(isinstance(p, str) for p in parts):
            raise RestError("INVALID_ARG_VALUE", "Invalid value for field FILES", 400)
        try:
            content = base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError):
            raise RestError("INVALID_ARG_VALUE", "Invalid value for field FILES", 400) from None
        stored.append(cs.store_file(call.state, parts[0], content).id)
    return stored


@method("crm.timeline.comment.add", scope="crm")
def comment_add(call: Call) -> int:
    _active(call)
    fields = {str(k).upper(): v for k, v in as_mapping(call.params.get("fields")).items()}
    if not fields.get("ENTITY_ID") or not fields.get("ENTITY_TYPE"):
        raise _required()
    if not str(fields.get("COMMENT") or "").strip():
        raise RestError("INVALID_ARG_VALUE", "Empty comment", 400)
    etid, item_id = _owner(call, str(fields["ENTITY_TYPE"]), fields["ENTITY_ID"])
    comment = cs.TimelineComment(
        id=call.state.next_id("crm.timeline", 1), entity_type=f"dynamic_{etid}", entity_id=item_id,
        created=call.now, comment=str(fields["COMMENT"]), author_id=call.user_id,
        files=_store_files(call, fields.get("FILES")),
    )  # fmt: skip
    cs.crm_store(call.state).comments[comment.id] = comment
    return comment.id


def _file_entry(call: Call, comment: cs.TimelineComment, file_id: int) -> dict[str, Any]:
    stored = cs.file_by_id(call.state, file_id)
    author = call.state.users.get(comment.author_id)
    link = f"{cs.base_url(call.state)}/rest/crm.controller.item.getFile.json?"
    token = urlencode({"token": stored.token if stored else ""})
    return {
        "id": file_id, "date": call.state.iso(comment.created), "type": "file",
        "name": stored.name if stored else "", "size": len(stored.content) if stored else 0,
        "authorId": comment.author_id, "authorName": author.full_name if author else "",
        "urlPreview": link + token, "urlShow": link + token, "urlDownload": link + token,
    }  # fmt: skip


def comment_row(call: Call, comment: cs.TimelineComment) -> dict[str, Any]:
    return {
        "ID": str(comment.id),
        "ENTITY_ID": str(comment.entity_id),
        "ENTITY_TYPE": comment.entity_type,
        "CREATED": call.state.iso(comment.created),
        "COMMENT": comment.comment,
        "AUTHOR_ID": str(comment.author_id),
        # PHP json_encode prints an empty array as [] (§1.6), a keyed one as an object.
        "FILES": {str(i): _file_entry(call, comment, f) for i, f in enumerate(comment.files, start=1)} or [],
    }


def _key(name: str) -> str:
    if name.upper() not in COMMENT_KEYS:
        raise RestError("INVALID_ARG_VALUE", f"Invalid filter: field '{name}' is not allowed in filter", 400)
    return name.upper()


@method("crm.timeline.comment.list", scope="crm")
def comment_list(call: Call) -> Page:
    _active(call)
    spec = {str(k).upper(): v for k, v in as_mapping(call.param("filter")).items()}
    if not spec.get("ENTITY_ID") or not spec.get("ENTITY_TYPE"):
        raise _required()
    spec["ENTITY_TYPE"] = str(spec["ENTITY_TYPE"]).lower()
    matches = compile_filter(spec, _key)
    order = compile_order(as_mapping(call.param("order")) or {"ID": "ASC"}, _key)
    rows: list[dict[str, Any]] = [
        {"ID": c.id, "ENTITY_ID": c.entity_id, "ENTITY_TYPE": c.entity_type, "CREATED": c.created,
         "COMMENT": c.comment, "AUTHOR_ID": c.author_id}
        for c in cs.crm_store(call.state).comments.values()
    ]  # fmt: skip
    rows = sort_rows([row for row in rows if matches(row)], order)
    comments = cs.crm_store(call.state).comments
    chunk, total, following = page([comment_row(call, comments[r["ID"]]) for r in rows], call.param("start"))
    select = {str(n).upper() for n in as_list(call.param("select"))}
    if select:
        chunk = [{k: v for k, v in row.items() if k in select} for row in chunk]
    return Page(chunk, total, following)


@method("crm.timeline.logmessage.add", scope="crm")
def logmessage_add(call: Call) -> dict[str, Any]:
    _active(call)
    fields = as_mapping(call.params.get("fields"))
    wanted = ("entityTypeId", "entityId", "title", "text", "iconCode")
    if any(not str(fields.get(name) or "").strip() for name in wanted):
        raise _required()
    etid, item_id = as_int(fields["entityTypeId"]), as_int(fields["entityId"])
    if etid is None or item_id is None or not cs.item_exists(call.state, etid, item_id):
        message = "The CRM object with the specified entityTypeId and entityId does not exist"
        raise RestError("OWNER_NOT_FOUND", message, 400)
    entry = cs.LogMessage(
        id=call.state.next_id("crm.timeline", 1), entity_type_id=etid, entity_id=item_id, created=call.now,
        author_id=call.user_id, title=str(fields["title"]), text=str(fields["text"]),
        icon_code=str(fields["iconCode"]),
    )  # fmt: skip
    cs.crm_store(call.state).log_messages[entry.id] = entry
    view = {
        "id": entry.id, "created": call.state.iso(entry.created), "authorId": entry.author_id,
        "title": entry.title, "text": entry.text, "iconCode": entry.icon_code,
    }  # fmt: skip
    return {"logMessage": view}
