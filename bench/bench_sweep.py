"""REST requests and CPU time per escalation sweep: ``python bench/bench_sweep.py [SIZES...]`` (default 100 1000 10000).

Against the sandbox portal over HTTPS (strict mode) with a private ``redis-server`` and the app installed
and provisioned. Open requests at **every step** (``tests/integration/sweep_mix.py``): one real request
is played to each step through the sandbox and the app — payment requests at head approval, finance
review, director approval, payment (accounting task and subtask, the app's deadline record), frozen,
documents requested; contracts at head approval, legal review, finance review, signing — then its state is
cloned in the sandbox store (item, tasks, the log signed for the new item, the app's log copy and
last-processing record). 95% of the requests are cloned from templates played at the measured moment's
morning (nothing due), 5% from templates played a week earlier (their reminders, alerts and overdue
accounting tasks are due; the paused ones stay quiet). For each size two sweeps run with the portal's
rate limit ON (2 requests/s, burst 50 — the app's shared Redis pacer keeps under it):

* **5% due**: the first sweep at the moment — it sends what the 5% are due;
* **nothing**: the same moment again — everything was sent: what the 5-minute sweep costs almost always.

Goal (#13): requests <= ceil(N/2500) + 2 reading, plus ceil(due/50) sending. "app cpu" is the sweep's own
CPU time (its thread: reading the answers, deciding, sending); "all cpu" is the whole process's, including
the in-process sandbox portal serving the requests (its list filters scan every row per page: grows as N²).
"""

from __future__ import annotations

import cProfile
import math
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app.escalation.read import collect
from b24app.escalation.sweep import SweepReport
from handlers.offline import catch_up
from handlers.sweep import run_sweep
from tests.integration.approval_env import Env, bench_env
from tests.integration.sweep_mix import Template, clone, play_templates

TZ = ZoneInfo("Europe/Moscow")
OLD = datetime(2026, 2, 24, 9, 30, tzinfo=TZ)          # a week before: every rule of theirs is past
START = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=TZ)          # an hour in: nothing of the fresh ones is due
DUE_SHARE = 0.05


def seed(env: Env, fresh: list[Template], old: list[Template], count: int) -> None:
    """``count`` more requests: 95% cloned from ``fresh``, 5% from ``old``, spread over the steps."""
    due = round(count * DUE_SHARE)
    for templates, total in ((old, due), (fresh, count - due)):
        for index, template in enumerate(templates):
            clone(env, template, total // len(templates) + (1 if index < total % len(templates) else 0))


PROFILE = os.environ.get("BENCH_PROFILE", "")      # a directory: one cProfile dump per sweep measured


def measure(env: Env, name: str = "") -> tuple[SweepReport, int, float, float]:
    portal = env.sandbox
    portal.limits.reset()
    portal.limits.enabled = True
    client = env.deps.bitrix(env.member_id)
    before, rejected = client.request_count, portal.limits.rejected
    wall, process_cpu = time.monotonic(), time.process_time()
    profiler = cProfile.Profile() if PROFILE else None
    try:
        if profiler is not None:
            profiler.enable()
        report = run_sweep(env.deps, env.member_id)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(Path(PROFILE) / f"sweep-{name}.prof"))
        portal.limits.enabled = False
    assert portal.limits.rejected == rejected, "the portal refused requests: the pacer let too many through"
    return report, client.request_count - before, time.process_time() - process_cpu, time.monotonic() - wall


def main(sizes: list[int]) -> None:
    rows: list[str] = []
    with bench_env(START) as env:
        clock = env.sandbox.clock
        clock.set(OLD)
        old = play_templates(env)
        clock.set(START)
        fresh = play_templates(env)
        catch_up(env.deps, env.member_id)          # the templates' offline rows: handled online
        seeded = len(old) + len(fresh)
        for size in sorted(sizes):
            seed(env, fresh, old, max(size - seeded, 0))
            seeded = max(size, seeded)
            sent = list(env.deps.redis.keys("b24app:esc:*"))
            env.deps.redis.delete(*sent or ["-"])          # the notices of the smaller size
            clock.set(NOW)
            env.deps.bitrix(env.member_id).call("user.current")     # token refresh outside
            collect(env.deps, env.member_id, skip_sent_tasks=True, approvers=True)   # the last sweep's read
            for kind in ("5% due", "nothing"):
                report, requests, process_cpu, wall = measure(env, f"{size}-{kind[0]}")
                goal = math.ceil(size / 2500) + 2 + math.ceil(report.due / 50)
                rows.append(f"{size:>7} {kind:>7} {report.open_requests:>7} {report.due:>5} "
                            f"{report.sent:>6} {report.reads:>6} {requests:>9} {goal:>5} "
                            f"{report.cpu_seconds:>8.2f} {process_cpu:>9.2f} {wall:>8.1f}")
                print(rows[-1], flush=True)
    print("\nREST requests and CPU time per sweep (batch = 1 request; portal rate limit on: 2 req/s, burst 50)")
    print(f"{'open':>7} {'sweep':>7} {'seen':>7} {'due':>5} {'sent':>6} {'reads':>6} {'requests':>9} {'goal':>5} "
          f"{'app cpu':>8} "
          f"{'all cpu':>9} {'wall s':>8}")
    print("\n".join(rows))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 10000])
