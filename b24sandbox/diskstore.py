"""Drive (disk) of the sandbox portal: storages, folders and files with their bytes (REFERENCE §10).

Each installed app gets one storage (``disk.storage.getForApp`` creates it on first use) and each
user a personal storage that the UI-like actions upload to. Files keep their content so tests and
the demo can read back what was attached. Folder and file ids share one counter, as Drive objects do.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from b24sandbox.registry import RestError

if TYPE_CHECKING:
    from b24sandbox.state import PortalState


@dataclass
class Storage:
    id: int
    name: str
    entity_type: str
    entity_id: str
    root_id: int


@dataclass
class DiskFile:
    id: int
    name: str
    storage_id: int
    parent_id: int
    content: bytes
    created_by: int
    created: datetime
    file_id: int
    version: int = 1


@dataclass
class DiskStore:
    storages: dict[int, Storage] = field(default_factory=dict)
    folders: dict[int, int] = field(default_factory=dict)  # folder id -> storage id
    files: dict[int, DiskFile] = field(default_factory=dict)
    by_owner: dict[str, int] = field(default_factory=dict)  # "app:<key>" / "user:<id>" -> storage id


def store(state: PortalState) -> DiskStore:
    return state.area("disk", DiskStore)


def _storage(state: PortalState, owner: str, name: str, entity_type: str, entity_id: str) -> Storage:
    disk = store(state)
    if owner in disk.by_owner:
        return disk.storages[disk.by_owner[owner]]
    storage_id = state.next_id("disk.storage", 1)
    root_id = state.next_id("disk.object", 1)
    disk.storages[storage_id] = Storage(storage_id, name, entity_type, entity_id, root_id)
    disk.folders[root_id] = storage_id
    disk.by_owner[owner] = storage_id
    return disk.storages[storage_id]


def app_storage(state: PortalState, app_key: str) -> Storage:
    """The storage of an application (created on first use)."""
    known = sum(1 for key in store(state).by_owner if key.startswith("app:"))
    return _storage(state, f"app:{app_key}", app_key, "restapp", str(known + 1))


def user_storage(state: PortalState, user_id: int) -> Storage:
    """A user's personal Drive."""
    return _storage(state, f"user:{user_id}", state.users[user_id].full_name, "user", str(user_id))


def get_file(state: PortalState, file_id: int) -> DiskFile | None:
    return store(state).files.get(file_id)


def decode_content(value: Any) -> tuple[str, bytes]:
    """``fileContent``: ``["name.pdf", "<base64>"]`` (a numbered map from form encodings too)."""
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, list) or len(items) < 2:
        raise RestError("ERROR_COULD_NOT_SAVE_FILE", "Could not save file")
    try:
        return str(items[0]), base64.b64decode(str(items[1]), validate=False)
    except (binascii.Error, ValueError):
        raise RestError("ERROR_COULD_NOT_SAVE_FILE", "Could not save file") from None


def upload(state: PortalState, folder_id: int, name: str, content: bytes, user_id: int, unique: bool) -> DiskFile:
    """Put a file into a folder; a clashing name gets `` (1)`` etc. when ``unique``, else is refused."""
    disk = store(state)
    storage_id = disk.folders.get(folder_id)
    if storage_id is None:
        raise RestError("ERROR_NOT_FOUND", f"Could not find entity with id `{folder_id}`")
    taken = {f.name for f in disk.files.values() if f.parent_id == folder_id}
    final = name
    if final in taken:
        if not unique:
            raise RestError("DISK_OBJ_22000", f"A file with the name '{name}' already exists")
        stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
        counter = 1
        while final in taken:
            final = f"{stem} ({counter}){dot}{ext}"
            counter += 1
    file_id = state.next_id("disk.object", 1)
    disk.files[file_id] = DiskFile(
        file_id, final, storage_id, folder_id, content, user_id, state.now(), state.next_id("b_file", 1)
    )
    return disk.files[file_id]


DOWNLOAD_PATH = "/rest/download.json"


def download_url(state: PortalState, file: DiskFile, auth: str | None = None) -> str:
    """``BASE/rest/download.json?auth=<caller's token>&token=disk|<id>`` as in the documented
    ``DOWNLOAD_URL`` (examples/disk.folder.uploadFile.json); served by the sandbox's transport.
    Webhook callers get the link without ``auth`` (the download then needs an app token)."""
    from b24sandbox.crmstore import base_url

    query = urlencode({**({"auth": auth} if auth else {}), "token": f"disk|{file.id}"})
    return f"{base_url(state)}{DOWNLOAD_PATH}?{query}"


def file_by_token(state: PortalState, token: str) -> DiskFile | None:
    """The file a ``DOWNLOAD_URL`` token names (``disk|<id>``)."""
    kind, _, ident = token.partition("|")
    return get_file(state, int(ident)) if kind == "disk" and ident.isdigit() else None


def file_row(state: PortalState, file: DiskFile, uploaded: bool, auth: str | None = None) -> dict[str, Any]:
    """The Drive file object. ``uploaded`` gives the ``disk.folder.uploadFile`` typing (some ints),
    otherwise the ``disk.file.get`` typing (all strings), as the two documented examples differ.
    ``auth`` is the caller's OAuth token, embedded in ``DOWNLOAD_URL``."""
    user = str(file.created_by)
    created = state.iso(file.created)
    row: dict[str, Any] = {
        "ID": file.id if uploaded else str(file.id),
        "NAME": file.name,
        "CODE": None,
        "STORAGE_ID": str(file.storage_id),
        "TYPE": "file",
        "PARENT_ID": str(file.parent_id),
        "DELETED_TYPE": 0 if uploaded else "0",
        "GLOBAL_CONTENT_VERSION": file.version if uploaded else str(file.version),
        "FILE_ID": file.file_id if uploaded else str(file.file_id),
        "SIZE": str(len(file.content)),
        "CREATE_TIME": created,
        "UPDATE_TIME": created,
        "DELETE_TIME": None,
        "CREATED_BY": user,
        "UPDATED_BY": user,
        "DELETED_BY": None if uploaded else "0",
        "DOWNLOAD_URL": download_url(state, file, auth),
        "DETAIL_URL": f"https://{state.portal.domain}/company/personal/user/{user}/disk/file/{file.name}",
    }
    return row
