"""``disk.storage.getForApp``, ``disk.folder.uploadFile``, ``disk.file.get`` (REFERENCE §10).

``disk.folder.uploadFile`` without ``fileContent`` answers the documented two-step shape
(``{"field": "file", "uploadUrl": ...}``); the sandbox does not serve that upload URL. ``DOWNLOAD_URL``
is served (``/rest/download.json``, needs a valid OAuth token in ``auth``; embedded for OAuth callers).
"""

from __future__ import annotations

from typing import Any

from b24sandbox import diskstore
from b24sandbox.registry import Call, RestError, method


def _object_id(call: Call) -> int:
    raw = call.param("id")
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise RestError("ERROR_ARGUMENT", "Invalid value of parameter {Parameter #0}") from None
    if value <= 0:
        raise RestError("ERROR_ARGUMENT", "Invalid value of parameter {Parameter #0}")
    return value


@method("disk.storage.getForApp", scope="disk")
def storage_get_for_app(call: Call) -> dict[str, Any]:
    if call.auth_kind != "oauth":
        raise RestError("ACCESS_DENIED", "Access denied! Application context required")
    if not call.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied")
    storage = diskstore.app_storage(call.state, call.app_client_id or "app")
    return {
        "ID": str(storage.id),
        "NAME": storage.name,
        "CODE": None,
        "MODULE_ID": "disk",
        "ENTITY_TYPE": storage.entity_type,
        "ENTITY_ID": storage.entity_id,
        "ROOT_OBJECT_ID": str(storage.root_id),
    }


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "y")


@method("disk.folder.uploadFile", scope="disk")
def folder_upload_file(call: Call) -> dict[str, Any]:
    folder_id = _object_id(call)
    if folder_id not in diskstore.store(call.state).folders:
        raise RestError("ERROR_NOT_FOUND", f"Could not find entity with id `{folder_id}`")
    content = call.param("fileContent")
    if content is None:
        token = f"disk%7C{folder_id}"
        return {"field": "file", "uploadUrl": f"https://{call.state.portal.domain}/rest/upload.json?token={token}"}
    data = call.param("data") or {}
    name = str(data.get("NAME") or "") if isinstance(data, dict) else ""
    if not name:
        raise RestError("DISK_BASE_SERVICE_22001", "Error: required parameter NAME (DISK_BASE_SERVICE_22001)")
    _, payload = diskstore.decode_content(content)
    unique = _flag(call.param("generateUniqueName", False))
    file = diskstore.upload(call.state, folder_id, name, payload, call.user_id, unique)
    return diskstore.file_row(call.state, file, uploaded=True, auth=call.access_token)


@method("disk.file.get", scope="disk")
def file_get(call: Call) -> dict[str, Any]:
    file = diskstore.get_file(call.state, _object_id(call))
    if file is None:
        raise RestError("ERROR_NOT_FOUND", f"Could not find entity with id `{call.param('id')}`")
    return diskstore.file_row(call.state, file, uploaded=False, auth=call.access_token)
