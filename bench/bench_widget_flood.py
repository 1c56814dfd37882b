"""Benchmark: a genuine approval tab alone, and while an insider floods the widget with forged POSTs.

    python bench/bench_widget_flood.py [--n 20] [--threads 8] [--rate 25]

The whole stack (``b24app.scenario.stack.Stack``): the sandbox portal over HTTPS with its rate limit on
(the portal's leaky bucket, standard plan), the web app over real HTTP, a private ``redis-server``. The
forged POSTs carry the installation's genuine ``member_id``, ``DOMAIN`` and ``APPLICATION_TOKEN`` (any
employee has them) and a random ``AUTH_ID`` each — the worst case. The genuine person's tab is re-opened
with their current token, as the portal posts it within its hour. The flood is paced at ``--rate`` POSTs
per second in all (the issue's attack: 137 POSTs from 8 threads in a few seconds); everything runs in
this one process, so an unpaced flood measures this machine's CPU and the GIL, not the REST budget. Prints the tab's median latency alone
and during the flood, their ratio (goal <= 2x), how many forged POSTs were sent, and how many portal
requests they caused.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app.scenario.stack import Stack
from b24sandbox import registry
from b24sandbox.actions import widget_form
from b24sandbox.clock import SandboxClock
from tests.fixtures.redis import start_redis_server

ETID = 1100
TAB = f"CRM_DYNAMIC_{ETID}_DETAIL_TAB"
HEAD = 3


def _tab_latency(url: str, form: dict[str, str], n: int, every: float) -> list[float]:
    """``n`` opens of the tab, one every ``every`` seconds (a person re-opening it, not a loop)."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = requests.post(url, data=form, timeout=120)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        time.sleep(max(0.0, every - times[-1]))
    return times


def _drained(stack: Stack) -> None:
    """Wait until the portal's bucket (as the app paces it) is empty, so both phases start alike."""
    client = stack.deps.bitrix(stack.member_id)
    while client.budget_in_use > 1:
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between two opens of the genuine tab")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", type=float, default=25.0, help="forged POSTs per second, all threads together")
    args = parser.parse_args()
    process, redis_url = start_redis_server(tempfile.mkdtemp())
    clock = SandboxClock(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")))
    clock.freeze()
    try:
        with Stack(redis_url, clock, rate_limit=True) as stack:
            # the app paces itself at the standard plan's budget (the stack's default is unthrottled)
            stack.deps.settings = stack.deps.settings.model_copy(update={"rate_drain": None, "rate_burst": None})
            stack.deps._clients.clear()
            item = registry.invoke(stack.portal.state, "crm.item.add", {"entityTypeId": ETID, "fields": {"title": "x"}},
                                   4)["item"]["id"]
            with stack.portal.state.lock:
                url, pairs = widget_form(stack.portal.state, TAB, HEAD, {"ID": str(item)})
            form = dict(pairs)
            _tab_latency(url, form, 1, 0)                        # the person opened the tab before
            calls = len(stack.portal.calls)
            _drained(stack)
            alone = _tab_latency(url, form, args.n, args.every)
            per_open = (len(stack.portal.calls) - calls) / args.n
            _drained(stack)
            stop, sent = threading.Event(), [0]

            pause = args.threads / args.rate

            def flood() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    requests.post(url, data=dict(form, AUTH_ID=secrets.token_hex(16)), timeout=120)
                    sent[0] += 1
                    stop.wait(max(0.0, pause - (time.perf_counter() - started)))

            before = sum(1 for c in stack.portal.calls if c.method == "user.current")
            with ThreadPoolExecutor(args.threads) as pool:
                for _ in range(args.threads):
                    pool.submit(flood)
                time.sleep(0.5)
                during = _tab_latency(url, form, args.n, args.every)
                stop.set()
            caused = sum(1 for c in stack.portal.calls if c.method == "user.current") - before
    finally:
        process.terminate()
    a, d = statistics.median(alone), statistics.median(during)
    print(f"genuine tab alone:        median {a * 1000:.0f} ms (n={args.n}, one open every {args.every:g} s, "
          f"{per_open:.1f} portal requests each)")
    print(f"genuine tab during flood: median {d * 1000:.0f} ms (n={args.n}, {args.threads} threads, "
          f"{args.rate:g} forged POSTs/s)")
    print(f"ratio: {d / a:.2f}x (goal <= 2x)")
    print(f"forged POSTs sent: {sent[0]}; portal requests they caused: {caused}")


if __name__ == "__main__":
    main()
