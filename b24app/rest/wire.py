"""Translating Bitrix24 answers: SDK errors to typed errors, batch envelopes, list pages."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from b24pysdk.errors import BitrixRequestError, BitrixResponseError

from b24app.errors import OperationTimeLimit, RestError, rest_error_class
from b24app.log import redact
from b24app.rest.protocol import BatchResult


def to_error(method: str, exc: BitrixResponseError) -> RestError:
    status = int(exc.response.status_code)
    body = getattr(exc, "json_response", None)
    body = body if isinstance(body, dict) else {}
    raw_code = body.get("error", "")
    code = str(raw_code.get("code", "")) if isinstance(raw_code, dict) else str(raw_code)
    description = redact(str(body.get("error_description") or ""))
    if not body:
        code, description = "invalid_response", f"non-JSON answer ({exc.response.headers.get('Content-Type', '?')})"
    if status == 429 and code.upper() == "OPERATION_TIME_LIMIT":
        return OperationTimeLimit(method, status, code, description, _reset_at(body))
    return rest_error_class(status, code)(method, status, code, description)


def _reset_at(body: Mapping[str, Any]) -> float:
    time_block = body.get("time") if isinstance(body.get("time"), dict) else {}
    value = (time_block or {}).get("operating_reset_at") or body.get("operating_reset_at")
    try:
        return float(value) if value else time.time() + 60.0
    except (TypeError, ValueError):
        return time.time() + 60.0


def cause(exc: BitrixRequestError) -> str:
    original = exc.args[1] if len(exc.args) > 1 else exc
    return type(original).__name__


#: Last name parts of methods that only read (anything else is taken as a write).
READ_VERBS = frozenset({"get", "list", "fields", "current", "search", "getfields", "gettypes", "getlist", "info",
                        "types", "access"})
READ_METHODS = frozenset({"events", "scope", "methods", "server.time", "profile", "method.get"})
#: 503 answers the portal gives before running anything: safe to repeat even for writes.
REFUSED_BEFORE_RUNNING = frozenset({"QUERY_LIMIT_EXCEEDED", "OVERLOAD_LIMIT"})


def is_read(method: str) -> bool:
    name = method.strip().lower()
    if name.startswith("event.offline."):
        return False                       # ``event.offline.get`` may clear the queue
    return name in READ_METHODS or name.rsplit(".", 1)[-1] in READ_VERBS


def writes(method: str, params: Mapping[str, Any] | None = None) -> bool:
    """Whether a request may change the portal: a writing method, or a ``batch`` holding one."""
    if method.strip().lower() != "batch":
        return not is_read(method)
    cmd = (params or {}).get("cmd")
    values = cmd.values() if isinstance(cmd, Mapping) else cmd if isinstance(cmd, list | tuple) else []
    return any(not is_read(str(v).split("?", 1)[0]) for v in values)


def safe_to_repeat(error: RestError, writing: bool) -> bool:
    """A 502/503/504 is repeated for reads; for writes only when the portal refused before running
    (503 ``QUERY_LIMIT_EXCEEDED``): a gateway error may come after the commands ran."""
    if not writing:
        return True
    return error.status == 503 and error.code.upper() in REFUSED_BEFORE_RUNNING


def batch_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Batch commands travel as PHP query strings: make booleans/None what PHP would expect, and an empty
    list ``""`` — the documented way to clear a field (REFERENCE §6.5); a query string has no empty array."""
    return {k: _php_value(v) for k, v in params.items()}


def _php_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return {k: _php_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_php_value(v) for v in value] if value else ""
    return value


def parse_batch(result: Mapping[str, Any], methods: Mapping[str, str] | None = None,
                time_block: Mapping[str, Any] | None = None) -> BatchResult:
    def as_dict(value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        if isinstance(value, list):
            return {str(i): v for i, v in enumerate(value)}
        return {}

    errors = {k: v if isinstance(v, dict) else {"error": v} for k, v in as_dict(result.get("result_error")).items()}
    totals = {k: int(v) for k, v in as_dict(result.get("result_total")).items()}
    nexts = {k: int(v) for k, v in as_dict(result.get("result_next")).items() if v}
    stamp = dict(time_block or {})
    return BatchResult(results=as_dict(result.get("result")), errors=errors, totals=totals, nexts=nexts,
                       methods=dict(methods or {}), first_time=stamp, last_time=stamp, requests=1)


def rows(result: Any, items_key: str | None) -> list[dict[str, Any]]:
    if items_key is not None:
        result = (result or {}).get(items_key, []) if isinstance(result, dict) else []
    if isinstance(result, dict):
        return list(result.values())
    return list(result or [])


def row_id(row: Mapping[str, Any], key: str) -> Any:
    for candidate in (key, key.lower(), key.upper()):
        if candidate in row:
            return row[candidate]
    raise RestError("list", 0, "no_id", f"row has no {key!r} to page by")
