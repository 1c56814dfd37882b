"""Log redaction: registered secrets and secret-looking patterns never reach a log line."""

from __future__ import annotations

import logging

import pytest

from b24app.log import RedactingFilter, redact, register_secret


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
