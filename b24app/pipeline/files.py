"""Files in crm.item file fields: what they are and the SHA-256 of their content.

A file field reads back as ``{"id": 30577, "url": ..., "urlMachine": ...}`` (an array of these for a
multiple field; REFERENCE §6.5, ``examples/crm.item.file_fields.json``). ``url`` is the browser link
(``/bitrix/services/main/ajax.php?action=crm.controller.item.getFile&...``) — the person's own portal session
decides whether it opens, so it is what staff are shown; ``urlMachine``
(``/rest/crm.controller.item.getFile.json?auth=...&token=...``) is the app's link: it is downloaded with the
app's current token (``b24app.rest.download``). A file id never changes content — an update uploads a new
file with a new id (§6.5: omitted ids are deleted, a new ``["name", "<base64>"]`` pair is added) — so a
file's digest is computed once per file id and kept in Redis (:func:`b24app.keys.file_digest`); later
reads cost nothing. Each download is one request in the portal's REST budget (see docs/performance.md).

The read side of the value carries no file name (§6.5 shows only ``id``, ``url``, ``urlMachine``): the name
comes from the download's ``Content-Disposition``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from b24app import keys
from b24app.rest.download import Downloaded

#: Query parameters never kept in a link the app writes down.
_SECRET_PARAMS = frozenset({"auth", "token", "access_token", "refresh_token"})


@dataclass(frozen=True)
class FileRef:
    """One file of a file field as ``crm.item.get`` shows it."""

    id: int
    url: str
    url_machine: str


@dataclass(frozen=True)
class FileDigest:
    """A file's identity for versions and duplicate checks: id, name, size and SHA-256 (hex)."""

    id: int
    name: str
    size: int
    sha256: str


class Downloader(Protocol):
    """Downloads a ``urlMachine`` with the app's auth (:meth:`b24app.rest.client.RestClient.download`)."""

    def download(self, url: str) -> Downloaded:
        ...


def refs(value: Any) -> list[FileRef]:
    """The files of a file field's value (single or multiple); anything unreadable is left out."""
    entries = value if isinstance(value, list) else [value]
    found: list[FileRef] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        try:
            file_id = int(entry.get("id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        found.append(FileRef(file_id, str(entry.get("url") or ""), str(entry.get("urlMachine") or "")))
    return found


def latest(value: Any) -> FileRef | None:
    """The newest file of a field: the one with the highest id (inferred: a portal's file ids grow with each
    upload; for a single file field there is only one)."""
    files = refs(value)
    return max(files, key=lambda ref: ref.id) if files else None


def browser_url(ref: FileRef) -> str:
    """The file's browser link (``url``) to show people, without any token-like parameter (the portal's
    ``url`` carries none, §6.5; dropped all the same in case one ever does: links are written to the log)."""
    parts = urlsplit(ref.url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in _SECRET_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(query)))


def cached(store: redis.Redis, member_id: str, file_id: int) -> FileDigest | None:
    """The digest kept for ``file_id``, without downloading; None when it was never computed."""
    raw = store.get(keys.file_digest(member_id, file_id))
    if raw is None:
        return None
    data = json.loads(raw)
    return FileDigest(int(data["id"]), str(data["name"]), int(data["size"]), str(data["sha256"]))


def digest(rest: Downloader, store: redis.Redis, member_id: str, ref: FileRef) -> FileDigest:
    """The file's digest: from Redis when this file id was seen before, else downloaded once and kept.

    Raises :class:`b24app.errors.RestError` subclasses when the download fails (nothing is kept then).
    """
    known = cached(store, member_id, ref.id)
    if known is not None:
        return known
    fetched = rest.download(ref.url_machine)
    found = FileDigest(ref.id, fetched.name, fetched.size, fetched.sha256)
    store.set(keys.file_digest(member_id, ref.id), json.dumps(asdict(found), ensure_ascii=False),
              ex=keys.FILE_DIGEST_TTL)
    return found
