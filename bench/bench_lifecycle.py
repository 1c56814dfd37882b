"""REST requests per payment-request lifecycle on the happy path: ``python bench/bench_lifecycle.py``.

Runs the whole stack against the sandbox portal (HTTPS, strict mode): a private ``redis-server``, the
web app receiving the sandbox's events over HTTP, an RQ worker, the app provisioned. One request goes
creation -> head approves (completes the task) -> finance approves in the card -> the junior accountant
attaches the payment order and completes the subtask -> the chief accountant completes the payment task
-> «Оплачено». Prints the app's HTTP requests to the portal (a ``batch`` counts as one), by method and
by trigger.

The lower bound
---------------
Bitrix24 pushes only ids (REFERENCE §0.6, §3), so every trigger that can change the route costs one read,
and every transition costs one write. The happy path has 5 triggers that matter (creation, the head's
task completed, the finance decision, the subtask completed, the payment task completed) and 4
transitions (start, approve, approve, complete): the reads and writes of one trigger cannot share a
request, because what to write depends on what was read. So **9 requests** is the floor for an app that
reads the state it acts on, each read packed into one ``batch`` (item + bound tasks + initiator +
departments) and each write packed into one ``batch`` (item update + tasks + notifications + timeline).

On top of the floor come the echoes of the app's own writes: Bitrix24 fires ``ONCRMDYNAMICITEMUPDATE``
for the app's item update and ``ONTASKUPDATE`` for tasks it closes, and the event does not say who made
the change, so each echo costs one read that finds nothing to do (``ONTASKADD`` of the app's own tasks
costs nothing: the app remembers the tasks it created). A task completed by a person fires an
``ONTASKUPDATE`` that is the trigger itself; attaching the payment order to the subtask fires one more
``ONTASKUPDATE`` (one read, nothing to do). The measured count is the floor plus these echo reads plus
the one-time reads (display names of people not seen before, cached in Redis). Dropping the echo reads
would need ``auth_connector`` (offline events, Professional plans) or trusting a Redis note of "my own
write", which a lost event would turn into a missed change.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24sandbox import SandboxPortal
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA
from handlers import decisions
from tests.fixtures.redis import start_redis_server
from tests.integration.approval_env import PR, Env, approval_env

FINANCE = 8


def lifecycle(env: Env) -> tuple[int, Counter[str], list[tuple[str, int]]]:
    client = env.deps.bitrix(env.member_id)
    env.names()                                    # the runtime mapping, read once per portal and cached
    steps: list[tuple[str, int]] = []
    start = client.request_count
    by_method_start = Counter(client.requests_by_method)

    def step(name: str) -> None:
        env.settle()
        steps.append((name, client.request_count - start - sum(n for _, n in steps)))

    item = env.as_user("a.ivanova").create_item(1100, env.request_fields())
    item_id = int(item["id"])
    step("created -> head approval (task, notification)")
    env.as_user("m.orlova").complete_task(int(env.tasks(item_id)[0]["id"]))
    step("head completes the task -> finance review")
    env.sandbox.clock.advance(timedelta(seconds=1))    # a person acts a moment after the app's last write
    decisions.decide(env.deps, env.member_id, PR, item_id, FINANCE, "approve")
    step("finance approves in the card -> payment (task + subtask)")
    tasks = sorted(env.tasks(item_id), key=lambda t: int(t["id"]))
    main, sub = tasks[-2], tasks[-1]
    env.as_user("junior.accountant").attach_file_to_task(int(sub["id"]), "order.pdf", b"%PDF order")
    env.as_user("junior.accountant").complete_task(int(sub["id"]))
    step("junior attaches the order and completes the subtask")
    env.as_user("chief.accountant").complete_task(int(main["id"]))
    step("chief completes the payment task -> paid")
    assert env.stage(item_id) == "PAID", env.stage(item_id)
    total = sum(n for _, n in steps)
    by_method = Counter(client.requests_by_method)
    by_method.subtract(by_method_start)
    return total, +by_method, steps


def main() -> None:
    logging.getLogger("rq").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        process, redis_url = start_redis_server(tmp)
        try:
            ca = SandboxCA(Path(tmp) / "ca")
            clock = SandboxClock(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")))
            clock.freeze()
            with SandboxPortal(strict=True, tls=True, ca=ca, rate_limit=False, clock=clock) as portal:
                assert portal.ca_bundle
                os.environ["REQUESTS_CA_BUNDLE"] = portal.ca_bundle
                with approval_env(portal, redis_url) as env:
                    total, by_method, steps = lifecycle(env)
                assert not portal.violations, portal.violations
        finally:
            process.terminate()
            process.wait(timeout=10)
    print("REST requests per payment-request lifecycle (happy path, batch = 1 request)")
    for name, count in steps:
        print(f"  {count:3d}  {name}")
    print(f"  {total:3d}  total (lower bound argued in the docstring: 9)")
    print("by method:", ", ".join(f"{m} {n}" for m, n in sorted(by_method.items())))


if __name__ == "__main__":
    main()
