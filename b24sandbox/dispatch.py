"""One REST method call through the portal's checks, shared by plain requests and ``batch`` commands.

Order of checks for an authenticated caller: method exists (404 ``ERROR_METHOD_NOT_FOUND``), auth type
(403 ``WRONG_AUTH_TYPE`` for app-only methods called with a webhook), scope (403
``insufficient_scope``), batch eligibility (405), strict schema (400 ``STRICT_SCHEMA_VIOLATION``),
the operating budget (429), then the method itself under ``state.lock``. Every call is recorded.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from b24sandbox import deepcheck, registry
from b24sandbox.localise import localise
from b24sandbox.oauth import Principal, scope_allows
from b24sandbox.registry import Call, Page, RestError
from b24sandbox.strict import STRICT_ERROR, Violation

if TYPE_CHECKING:
    from b24sandbox.portal import SandboxPortal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallRecord:
    method: str
    params: dict[str, Any]
    user_id: int | None
    auth_kind: str | None
    at: float  # sandbox unix time
    status: int
    error: str | int | None
    in_batch: bool = False


@dataclass
class Outcome:
    status: int
    result: Any = None
    total: int | None = None
    next: int | None = None
    error: dict[str, Any] | None = None
    start: float = 0.0
    duration: float = 0.0
    operating: float = 0.0
    operating_reset_at: int = 0
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


class Recorder:
    """The portal's call log and strict-mode violations (thread-safe appends)."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []
        self.violations: list[Violation] = []
        self.request_count = 0
        self._lock = threading.Lock()

    def count_request(self) -> None:
        with self._lock:
            self.request_count += 1

    def record(self, rec: CallRecord) -> None:
        with self._lock:
            self.calls.append(rec)


def time_block(portal: SandboxPortal, outcome: Outcome) -> dict[str, Any]:
    """The documented ``time`` block; ``start``/``finish`` are sandbox-clock time."""
    start, finish = outcome.start, outcome.start + outcome.duration
    state = portal.state
    return {
        "start": round(start, 6),
        "finish": round(finish, 6),
        "duration": outcome.duration,
        "processing": outcome.duration,
        "date_start": state.iso(datetime.fromtimestamp(start, UTC)),
        "date_finish": state.iso(datetime.fromtimestamp(finish, UTC)),
        "operating_reset_at": outcome.operating_reset_at,
        "operating": outcome.operating,
    }


def execute(portal: SandboxPortal, who: Principal, method: str, params: dict[str, Any], in_batch: bool = False) -> Outcome:
    """Run ``method`` for ``who``; never raises for documented errors. Records the documented name."""
    spec = registry.find(method)
    method = spec.name if spec is not None else "batch" if method.lower() == "batch" else method
    recorded = copy.deepcopy(_public_params(params))  # as received, before the method touches them
    start, t0 = portal.clock.timestamp(), time.perf_counter()
    try:
        outcome = _execute(portal, who, method, params, in_batch)
    except RestError as exc:
        outcome = Outcome(exc.status, error=exc.body())
    except Exception:  # a bug in a sandbox method: answer as the portal's 500 and keep serving
        log.exception("sandbox method %s failed", method)
        outcome = Outcome(500, error={"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"})
    if outcome.error is not None:
        outcome.error = localise(portal.state, outcome.error)
    outcome.start, outcome.duration = start, time.perf_counter() - t0
    caller = who.client_id or f"webhook:{who.user_id}"
    outcome.operating, outcome.operating_reset_at = portal.operating.add(method, caller, start, outcome.duration)
    portal.recorder.record(CallRecord(
        method, recorded, who.user_id, who.kind, start, outcome.status,
        outcome.error.get("error") if outcome.error else None, in_batch))
    return outcome


def _execute(portal: SandboxPortal, who: Principal, method: str, params: dict[str, Any], in_batch: bool) -> Outcome:
    if method.lower() == "batch":
        if in_batch:
            raise RestError("ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 405)
        _strict(portal, "batch", params)
        from b24sandbox.batch import run_batch

        return Outcome(200, result=run_batch(portal, who, params))
    spec = registry.find(method)
    if spec is None:
        if portal.strict.enabled:
            portal.recorder.violations.append(Violation(method, None, f"unknown method '{method}'"))
        raise RestError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
    if spec.app_only and who.kind == "webhook":
        raise RestError("WRONG_AUTH_TYPE",
                        "Current authorization type is denied for this method Application context required", 403)
    if not scope_allows(who, spec.scope):
        # inside batch the portal leaves the description empty (examples/batch.json error bodies, §1.6)
        raise RestError("insufficient_scope", "" if in_batch else
                        "The request requires higher privileges than provided by the webhook token", 403)
    if in_batch and not spec.batchable:
        raise RestError("ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 405)
    _strict(portal, spec.name, params)
    if portal.faults.blocked_until(spec.name, portal.clock.timestamp()) is not None:
        # the description text is UNVERIFIED (REFERENCE §1.5 lists the code and status only)
        raise RestError("OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", 429)
    pause = portal.faults.delay_for(spec.name)
    if pause:
        time.sleep(pause)
    call = Call(portal.state, spec.name, params, who.user_id, who.kind,  # type: ignore[arg-type]
                who.client_id, who.scopes, who.token)
    with portal.state.lock:
        _deep_strict(portal, call)
        answer = spec.func(call)
    if isinstance(answer, Page):
        return Outcome(200, result=answer.result, total=answer.total, next=answer.next)
    return Outcome(200, result=answer)


def _strict(portal: SandboxPortal, method: str, params: dict[str, Any]) -> None:
    problems = portal.strict.validate(method, params)
    if problems:
        portal.recorder.violations.extend(problems)
        raise RestError(STRICT_ERROR, "Sandbox strict mode: " + "; ".join(str(p) for p in problems), 400)


def _deep_strict(portal: SandboxPortal, call: Call) -> None:
    """Keys inside fields/filter/select/order (``b24sandbox.deepcheck``), strict mode only."""
    if not portal.strict.enabled:
        return
    problems = deepcheck.run(call)
    if problems:
        portal.recorder.violations.extend(problems)
        raise RestError(STRICT_ERROR, "Sandbox strict mode: " + "; ".join(str(p) for p in problems), 400)


def _public_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "auth"}
