"""Request limits (the leaky bucket, the operating budget) and injected REST faults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests

from b24sandbox import SandboxPortal
from b24sandbox.limits import LeakyBucket
from tests.fixtures.sandbox import frozen_clock


def post(portal: SandboxPortal, url: str, **kwargs: Any) -> requests.Response:
    return requests.post(url, verify=portal.ca_bundle, timeout=10, **kwargs)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("profile", "rate", "burst"), [("standard", 2, 50), ("enterprise", 5, 250)])
def test_bucket_refuses_beyond_the_burst_and_drains_at_the_rate(profile: str, rate: int, burst: int) -> None:
    real = FakeMonotonic()
    clock = frozen_clock()
    bucket = LeakyBucket(clock, profile, monotonic=real)

    assert all(bucket.hit("10.0.0.1") for _ in range(burst))
    assert not bucket.hit("10.0.0.1")
    assert bucket.hit("10.0.0.2")  # per source IP

    real.now += 1.0  # real time drains...
    assert [bucket.hit("10.0.0.1") for _ in range(rate + 1)] == [True] * rate + [False]
    clock.advance(timedelta(seconds=10))  # ...and so does sandbox time
    assert sum(bucket.hit("10.0.0.1") for _ in range(10 * rate + 5)) == 10 * rate


@pytest.mark.sandbox_options(rate_limit=True)
def test_portal_answers_503_beyond_the_burst_and_recovers(sandbox: SandboxPortal) -> None:
    # real time stands still: how fast this machine sends the requests decides nothing (draining in
    # real time is the unit test's above)
    sandbox.limits = LeakyBucket(sandbox.clock, sandbox.profile, monotonic=FakeMonotonic())
    url = sandbox.webhook_url("admin") + "scope"
    statuses = []
    for _ in range(80):
        statuses.append(post(sandbox, url, json={}).status_code)
        if statuses[-1] != 200:
            break

    assert statuses[-1] == 503
    assert statuses.count(200) == 50  # the burst
    refused = post(sandbox, url, json={})
    assert refused.json() == {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}

    sandbox.clock.advance(timedelta(seconds=30))
    assert post(sandbox, url, json={}).status_code == 200


@pytest.mark.sandbox_options(rate_limit=True)
def test_a_batch_is_one_request(sandbox: SandboxPortal) -> None:
    url = sandbox.webhook_url("admin") + "batch"

    answer = post(sandbox, url, json={"cmd": ["scope"] * 50})

    assert answer.status_code == 200
    assert sandbox.request_count == 1
    assert sandbox.limits.level("127.0.0.1") <= 1.0


def test_fail_next_injects_documented_errors(sandbox: SandboxPortal) -> None:
    url = sandbox.webhook_url("admin") + "scope"
    sandbox.faults.fail_next(2, status=503).fail_next(1, status=500)

    answers = [post(sandbox, url, json={}) for _ in range(4)]

    assert [a.status_code for a in answers] == [503, 503, 500, 200]
    assert answers[0].json()["error"] == "QUERY_LIMIT_EXCEEDED"
    assert answers[2].json() == {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}
    assert [c.status for c in sandbox.calls] == [503, 503, 500, 200]


def test_gateway_errors_are_not_json(sandbox: SandboxPortal) -> None:
    sandbox.faults.fail_next(1, status=502)

    answer = post(sandbox, sandbox.webhook_url("admin") + "scope", json={})

    assert answer.status_code == 502
    assert answer.headers["Content-Type"].startswith("text/html")


def test_fail_next_can_target_one_method(sandbox: SandboxPortal) -> None:
    hook = sandbox.webhook_url("admin")
    sandbox.faults.fail_next(1, status=500, method="user.current")

    assert post(sandbox, hook + "scope", json={}).status_code == 200
    assert post(sandbox, hook + "user.current", json={}).status_code == 500
    assert post(sandbox, hook + "user.current", json={}).status_code == 200


def test_error_share_is_reproducible_by_seed(sandbox_factory: Any) -> None:
    def run() -> list[int]:
        portal = sandbox_factory(seed=3)
        portal.faults.error_share(0.3)
        url = portal.webhook_url("admin") + "scope"
        return [post(portal, url, json={}).status_code for _ in range(30)]

    first, second = run(), run()

    assert first == second
    assert set(first) == {200, 500}


def test_delay_makes_a_client_time_out(sandbox: SandboxPortal) -> None:
    sandbox.faults.delay(1.0, method="scope")

    with pytest.raises(requests.Timeout):
        requests.post(sandbox.webhook_url("admin") + "scope", json={}, verify=sandbox.ca_bundle, timeout=0.2)


def test_operating_limit_blocks_one_method_until_reset(sandbox: SandboxPortal) -> None:
    hook = sandbox.webhook_url("admin")
    first_call = sandbox.clock.timestamp()
    reset_at = first_call + 60
    sandbox.faults.operating_limit("user.current", reset_at)

    blocked = post(sandbox, hook + "user.current", json={})
    other = post(sandbox, hook + "scope", json={})
    sandbox.clock.advance(timedelta(seconds=61))
    after = post(sandbox, hook + "user.current", json={})

    assert (blocked.status_code, blocked.json()["error"]) == (429, "OPERATION_TIME_LIMIT")
    assert other.status_code == 200
    assert after.status_code == 200
    time = after.json()["time"]
    # the ten-minute window started with the first user.current call
    assert time["operating"] > 0 and time["operating_reset_at"] == int(first_call) + 600
