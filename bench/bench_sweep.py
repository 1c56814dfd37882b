"""REST requests and CPU time per escalation sweep: ``python bench/bench_sweep.py [SIZES...]`` (default 100 1000 10000).

Against the sandbox portal over HTTPS (strict mode) with a private ``redis-server`` and the app installed
and provisioned. Open requests are seeded in-process (``tests/integration/sweep_seed.py``: items, the
engine's log entry and the bound approval task, written through ``registry.invoke`` with the portal's
rate limit off and no events), then for each size two sweeps are measured with the portal's rate limit
ON (2 requests/s, burst 50 — the app's shared Redis pacer keeps under it):

* **due**: the sandbox clock at 4 working hours after the start — a reminder is due for every request,
  so the sweep reads everything and sends N notifications (50 to a ``batch``);
* **steady**: the same moment again — everything was sent, so the sweep only reads the items (the tasks
  are read only for requests that could get a new task-dependent reminder): what the 5-minute sweep
  costs almost always.

Reads: ``crm.item.list`` pages of 50 packed 50 to a ``batch`` (≈ N/2500 requests, plus one for page 0 of
each workflow) and the open approval tasks, 16 requests per ``tasks.task.list`` command, 50 commands to
a ``batch`` (≈ N/800), only when needed. "app cpu" is the sweep's own CPU time (its thread: reading the
answers, deciding, sending); "all cpu" is the whole process's, including the in-process sandbox portal
serving the requests (its list filters scan every row per page, so it grows as N²).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app.escalation.sweep import SweepReport
from b24sandbox import SandboxPortal
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA
from handlers.sweep import run_sweep
from tests.fixtures.redis import start_redis_server
from tests.integration.approval_env import Env, approval_env
from tests.integration.sweep_seed import seed_requests

TZ = ZoneInfo("Europe/Moscow")
START = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
DUE = datetime(2026, 3, 2, 13, 31, tzinfo=TZ)          # 4 working hours later: the first reminder of each


def measure(env: Env) -> tuple[SweepReport, int, float, float]:
    portal = env.sandbox
    portal.limits.reset()
    portal.limits.enabled = True
    client = env.deps.bitrix(env.member_id)
    before, rejected = client.request_count, portal.limits.rejected
    wall, process_cpu = time.monotonic(), time.process_time()
    try:
        report = run_sweep(env.deps, env.member_id)
    finally:
        portal.limits.enabled = False
    assert portal.limits.rejected == rejected, "the portal refused requests: the pacer let too many through"
    return report, client.request_count - before, time.process_time() - process_cpu, time.monotonic() - wall


def main(sizes: list[int]) -> None:
    logging.getLogger("rq").setLevel(logging.WARNING)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        process, redis_url = start_redis_server(tmp)
        try:
            clock = SandboxClock(START)
            clock.freeze()
            with SandboxPortal(strict=True, tls=True, ca=SandboxCA(Path(tmp) / "ca"), rate_limit=False,
                               clock=clock) as portal:
                assert portal.ca_bundle
                os.environ["REQUESTS_CA_BUNDLE"] = portal.ca_bundle
                with approval_env(portal, redis_url) as env:
                    seeded = 0
                    for size in sorted(sizes):
                        clock.set(START)
                        seed_requests(portal, env.names(), size - seeded, START,
                                      secret=env.deps.app_secret, member_id=env.member_id)
                        seeded = size
                        env.deps.redis.delete(*env.deps.redis.keys("b24app:esc:*") or ["-"])
                        clock.set(DUE)
                        env.deps.bitrix(env.member_id).call("user.current")     # token refresh outside
                        for kind in ("due", "steady"):
                            report, requests, process_cpu, wall = measure(env)
                            rows.append(f"{size:>7} {kind:>7} {report.open_requests:>7} {report.sent:>6} "
                                        f"{report.reads:>6} {requests:>9} {report.cpu_seconds:>8.2f} "
                                        f"{process_cpu:>9.2f} {wall:>8.1f}")
                            print(rows[-1], flush=True)
                assert not portal.violations, portal.violations[:3]
        finally:
            process.terminate()
            process.wait(timeout=10)
    print("\nREST requests and CPU time per sweep (batch = 1 request; portal rate limit on: 2 req/s, burst 50)")
    print(f"{'open':>7} {'sweep':>7} {'seen':>7} {'sent':>6} {'reads':>6} {'requests':>9} {'app cpu':>8} "
          f"{'all cpu':>9} {'wall s':>8}")
    print("\n".join(rows))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 10000])
