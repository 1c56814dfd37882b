"""Logging: registered secrets and secret-looking patterns never reach a log line, in text or JSON lines;
JSON lines carry the portal, job, workflow and item the entry points know."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from b24app.log import JsonFormatter, RedactingFilter, log_context, redact, register_secret, setup_logging


def test_registered_secret_is_masked() -> None:
    register_secret("tok-abcdef123456")
    assert redact("calling with tok-abcdef123456 now") == "calling with *** now"


def test_webhook_path_and_auth_params_are_masked() -> None:
    text = redact("POST https://p.example/rest/1/qwertyuiop/crm.item.get.json?auth=zzzz9999&x=1")
    assert "qwertyuiop" not in text and "zzzz9999" not in text
    assert "/rest/1/***" in text and "x=1" in text


def test_filter_masks_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("refresh-secret-777")
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    try:
        try:
            raise ValueError("boom refresh-secret-777")
        except ValueError:
            with caplog.at_level(logging.INFO, logger="test.redaction"):
                logger.exception("failed with %s", "refresh-secret-777")
    finally:
        logger.filters.clear()
    assert "refresh-secret-777" not in caplog.text
    assert "failed with ***" in caplog.text


# --- JSON lines -----------------------------------------------------------------------------------


def json_record(logger_name: str, emit: Callable[[logging.Logger], None]) -> dict[str, Any]:
    """What the production JSON handler writes for one record, parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    parsed = json.loads(line)
    assert isinstance(parsed, dict)
    return parsed


def test_json_line_has_time_level_logger_message() -> None:
    line = json_record("b24app.test.plain", lambda log: log.warning("portal %s is slow", "p1"))
    assert set(line) == {"time", "level", "logger", "message"}      # no context outside an entry point
    assert line["level"] == "WARNING" and line["logger"] == "b24app.test.plain"
    assert line["message"] == "portal p1 is slow"
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)


@log_context(member_id="member_id", workflow="workflow_code", item_id="item_id")
def _pipeline(member_id: str, workflow_code: str, item_id: int, log: logging.Logger) -> None:
    log.info("acting on the item")


@log_context(member_id="member_id")
def _job(member_id: str, log: logging.Logger, item_id: int) -> None:
    log.info("job starts")
    _pipeline(member_id, "payment_requests", item_id, log)
    log.info("job ends")


def test_entry_points_put_portal_workflow_and_item_on_the_lines_inside_them() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("b24app.test.context")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        _job("a1b2c3", log, item_id=7)
        log.info("after the job")
    finally:
        log.removeHandler(handler)
    start, inside, end, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (start["member_id"], "item_id" in start) == ("a1b2c3", False)
    assert (inside["member_id"], inside["workflow"], inside["item_id"]) == ("a1b2c3", "payment_requests", 7)
    assert "workflow" not in end and end["member_id"] == "a1b2c3"     # the inner context was restored
    assert "member_id" not in after


def test_extra_fields_of_a_record_win() -> None:
    line = json_record("b24app.test.extra", lambda log: log.warning("x", extra={"item_id": 12, "job_id": "j-1"}))
    assert (line["item_id"], line["job_id"]) == (12, "j-1")


def test_json_lines_are_redacted_including_the_exception_text() -> None:
    register_secret("json-secret-4242")

    def fail(log: logging.Logger) -> None:
        try:
            raise RuntimeError("refresh failed for json-secret-4242 at /rest/1/hookcode77/x?auth=abc123")
        except RuntimeError:
            log.exception("call with %s failed", "json-secret-4242")

    line = json_record("b24app.test.secret", fail)
    text = json.dumps(line)
    for secret in ("json-secret-4242", "hookcode77", "abc123"):
        assert secret not in text
    assert line["message"] == "call with *** failed"
    assert "RuntimeError: refresh failed for *** at /rest/1/***/x?auth=***" in line["exc"]


def test_the_formatter_redacts_without_the_filter_too() -> None:
    register_secret("bare-secret-999")
    record = logging.LogRecord("b24app.x", logging.INFO, __file__, 1, "token %s", ("bare-secret-999",), None)
    assert "bare-secret-999" not in JsonFormatter().format(record)


def test_setup_logging_switches_our_handler_between_text_and_json() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        setup_logging("INFO", "json")
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
        setup_logging("INFO", "text")
        assert [h for h in root.handlers if h not in before] == ours          # still one handler
        assert not isinstance(ours[0].formatter, JsonFormatter)
        assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)
    finally:
        for handler in list(root.handlers):
            handler.filters = [f for f in handler.filters if not isinstance(f, RedactingFilter)]
            if handler not in before:
                root.removeHandler(handler)
