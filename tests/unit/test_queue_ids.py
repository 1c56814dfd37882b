"""Deterministic, RQ-safe job ids."""

from __future__ import annotations

import re

from b24app.queue import REMOTE_RETRY_INTERVALS, job_id, remote_retry


def test_job_id_is_deterministic_and_rq_safe() -> None:
    first = job_id("event", "member", "ONCRMDYNAMICITEMADD", {"ID": "1"})
    assert first == job_id("event", "member", "ONCRMDYNAMICITEMADD", {"ID": "1"})
    assert first != job_id("event", "member", "ONCRMDYNAMICITEMADD", {"ID": "2"})
    assert re.fullmatch(r"[A-Za-z0-9_-]+", job_id("weird kind/with:chars", "x"))


def test_remote_retry_policy() -> None:
    retry = remote_retry()
    assert retry.max == len(REMOTE_RETRY_INTERVALS)
    assert list(retry.intervals) == REMOTE_RETRY_INTERVALS
