"""One file download from a portal link: a crm.item file field's ``urlMachine`` (REFERENCE §6.5).

A file field reads back as ``{id, url, urlMachine}``; ``urlMachine`` is
``https://PORTAL/rest/crm.controller.item.getFile.json?auth=...&token=...`` — the token of the caller
that read the item (``examples/crm.item.file_fields.json``). The access token embedded there may be stale
by the time we download, so the ``auth`` parameter is replaced with the client's current one; the file
``token`` stays. The GET carries ``User-Agent``, ``Accept`` and ``Referer`` (§6.5: "Download with a
separate GET including User-Agent, Accept, Referer").

The body is streamed into SHA-256 and never kept: callers need the hash, the size and the name (from
``Content-Disposition``, RFC 6266 ``filename*`` first). An error answer (a JSON envelope, like every
``/rest/`` path) becomes the typed :class:`~b24app.errors.RestError` its status and code call for, so the
client's refresh and backoff apply. The URL is never put into an error or a log line: it carries tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import requests

from b24app.errors import RestError, TransportError, rest_error_class
from b24app.log import redact

#: Files larger than this are refused (a contract or an invoice is far smaller).
MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024
_HEADERS = {"User-Agent": "b24app", "Accept": "*/*"}


@dataclass(frozen=True)
class Downloaded:
    """What a download yields: the file's name as the portal sends it, its size and SHA-256 (hex)."""

    name: str
    size: int
    sha256: str


def method_of(url: str) -> str:
    """The REST method a file link calls (``crm.controller.item.getFile``): what the download is counted as."""
    path = urlsplit(url).path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    return last[: -len(".json")] if last.lower().endswith(".json") else last or "download"


def with_auth(url: str, access_token: str) -> str:
    """``url`` with its ``auth`` query parameter set to ``access_token`` (dropped when there is none)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "auth"]
    if access_token:
        query.insert(0, ("auth", access_token))
    return urlunsplit(parts._replace(query=urlencode(query)))


def fetch(url: str, access_token: str, timeout: float) -> Downloaded:
    """GET the file at ``url`` with ``access_token``; raises :class:`RestError` subclasses."""
    method = method_of(url)
    parts = urlsplit(url)
    headers = {**_HEADERS, "Referer": f"{parts.scheme}://{parts.netloc}/"}
    try:
        with requests.get(with_auth(url, access_token), headers=headers, timeout=timeout, stream=True,
                          allow_redirects=False) as answer:
            if answer.status_code != 200:
                raise _error(method, answer)
            digest, size = hashlib.sha256(), 0
            for chunk in answer.iter_content(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise RestError(method, 200, "file_too_large", f"the file exceeds {MAX_BYTES} bytes")
                digest.update(chunk)
            return Downloaded(filename(answer.headers.get("Content-Disposition", "")), size, digest.hexdigest())
    except requests.Timeout:
        raise TransportError(method, 0, "timeout", f"no answer within {timeout:g}s") from None
    except requests.RequestException as exc:
        raise TransportError(method, 0, "connection", type(exc).__name__) from None


def filename(disposition: str) -> str:
    """The file name of a ``Content-Disposition`` header: ``filename*`` (RFC 6266/5987) wins over
    ``filename``; "" without either."""
    plain = ""
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        key, value = key.strip().lower(), value.strip()
        if key == "filename*" and "''" in value:
            charset, _, encoded = value.partition("''")
            try:
                return unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                continue
        if key == "filename":
            plain = value.strip('"')
    return plain


def _error(method: str, answer: requests.Response) -> RestError:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return rest_error_class(answer.status_code, "")(
            method, answer.status_code, "invalid_response",
            f"non-JSON answer ({answer.headers.get('Content-Type', '?')})")
    raw = body.get("error", "")
    code = str(raw.get("code", "")) if isinstance(raw, dict) else str(raw)
    description = redact(str(body.get("error_description") or ""))
    return rest_error_class(answer.status_code, code)(method, answer.status_code, code, description)
