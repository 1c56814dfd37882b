"""REST requests per control-room view: ``python bench/bench_control_room.py [SIZES...]`` (default 100 1000 5000).

Against the sandbox portal over HTTPS (strict mode) with a private ``redis-server``, the app installed and
provisioned, and open requests at every step cloned from requests played through the app
(``tests/integration/sweep_mix.py``, as ``bench/bench_sweep.py``), plus a request paid and one rejected
(the 30-day history and the weekly chart read their logs). For each size, after a sweep (whose page totals
the view's first batch uses, as every 5 minutes in production):

* **cold**: the first view of the hour — the people, departments and list values are read too;
* **warm**: a view a minute later — those are kept (an hour, a day);
* **cached**: a view within the minute — the whole view comes from Redis.

Goal (#15): requests <= ceil(N/2500) + 2 per view, the person's sign-in check (``user.current``, cached 5
minutes, counted here as 1) included. The portal's rate limit is ON (2 requests/s, burst 50).
"""

from __future__ import annotations

import math
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app import keys
from b24app.control import read as control
from b24app.escalation.read import collect
from handlers import decisions
from handlers.offline import catch_up
from tests.integration.approval_env import PR, Env, bench_env
from tests.integration.sweep_mix import FINANCE, HEAD, clone, play_templates

TZ = ZoneInfo("Europe/Moscow")
START = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
NOW = datetime(2026, 3, 2, 12, 30, tzinfo=TZ)
IDENTITY = 1          # user.current of the person opening the page (cached 5 minutes; asked once here)


def view_requests(env: Env, kind: str) -> tuple[int, int]:
    """(REST requests of one view, open requests shown)."""
    portal, client = env.sandbox, env.deps.bitrix(env.member_id)
    if kind == "cold":
        env.deps.redis.delete(keys.control_people(env.member_id), keys.control_view(env.member_id))
    elif kind == "warm":
        env.deps.redis.delete(keys.control_view(env.member_id))
    portal.limits.reset()
    portal.limits.enabled = True
    before, rejected = client.request_count, portal.limits.rejected
    try:
        data = control.view(env.deps, env.member_id)
    finally:
        portal.limits.enabled = False
    assert portal.limits.rejected == rejected, "the portal refused requests: the pacer let too many through"
    return client.request_count - before, len(data["rows"])


def closed_history(env: Env) -> None:
    """One request rejected at the head's step and one paid-ready (at payment): logs with done steps."""
    from tests.integration.sweep_mix import _create

    rejected = _create(env, PR, 120000)
    env.settle()
    assert decisions.decide(env.deps, env.member_id, PR, rejected, HEAD, "reject", "no budget").ok
    env.settle()
    later = _create(env, PR, 90000)
    env.settle()
    for user in (HEAD, FINANCE):
        assert decisions.decide(env.deps, env.member_id, PR, later, user, "approve").ok
        env.settle()


def main(sizes: list[int]) -> None:
    rows: list[str] = []
    with bench_env(START) as env:
        clock = env.sandbox.clock
        templates = play_templates(env)
        closed_history(env)
        catch_up(env.deps, env.member_id)
        seeded = len(templates) + 1
        # The sandbox's clock is not ours: the first view ever learns the skew (and reads its
        # windows once more); a real portal's clock is ours within seconds.
        clock.set(NOW)
        control.view(env.deps, env.member_id, fresh=True)
        for size in sorted(sizes):
            more = max(size - seeded, 0)
            for index, template in enumerate(templates):
                clone(env, template, more // len(templates) + (1 if index < more % len(templates) else 0))
            seeded = max(size, seeded)
            clock.set(NOW)
            env.deps.bitrix(env.member_id).call("user.current")     # token refresh outside
            collect(env.deps, env.member_id)       # the last sweep's read (its page totals)
            for kind in ("cold", "warm", "cached"):
                wall = time.monotonic()
                requests, shown = view_requests(env, kind)
                requests += IDENTITY
                goal = math.ceil(size / 2500) + 2
                rows.append(f"{size:>7} {kind:>7} {shown:>7} {requests:>9} {goal:>5} "
                            f"{time.monotonic() - wall:>8.1f}")
                print(rows[-1], flush=True)
    print("\nREST requests per control-room view (batch = 1 request; sign-in check included; rate limit on)")
    print(f"{'open':>7} {'view':>7} {'shown':>7} {'requests':>9} {'goal':>5} {'wall s':>8}")
    print("\n".join(rows))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 5000])
