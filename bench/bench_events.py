"""Benchmark: POST /b24/events next to a bare Flask endpoint, interleaved, over real HTTP on this machine.

    python bench/bench_events.py [--n 2000]

Both apps run at once in the same kind of server (werkzeug, threaded, in this process) and one client
alternates between them request by request (A, B, A, B, ...), each with its own keep-alive session, so
both see the same machine load at the same moments. The event edge does everything it does in
production: PHP-form decoding, the installation lookup and application_token check in Redis, the
coalescing, and the RQ enqueue. Also counts the edge's Redis round trips per accepted event.
Redis: ``B24APP_REDIS_URL`` (a throwaway DB is flushed!) if set, else a private ``redis-server``.
Prints median and p99 in milliseconds and their ratios (goal: both <= 1.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from flask import Flask
from redis.connection import Connection

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app import phpform
from b24app.auth.store import Installation
from b24app.deps import Deps
from b24app.settings import load_settings
from b24app.web import create_app
from tests.fixtures.redis import start_redis_server
from tests.integration.webserver import serve

MEMBER_ID = "bench-member"
APP_TOKEN = "bench-application-token"
HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def bare_app() -> Flask:
    app = Flask("bare")

    @app.post("/b24/events")
    def receive() -> tuple[str, int]:
        return "ok", 200

    return app


def event_body(i: int) -> str:
    return phpform.encode(
        {
            "event": "ONCRMDYNAMICITEMUPDATE",
            "event_handler_id": "5",
            "data": {"FIELDS": {"ID": str(i), "ENTITY_TYPE_ID": "1030"}},
            "ts": str(1_700_000_000 + i),
            "auth": {"domain": "bench.example", "member_id": MEMBER_ID, "application_token": APP_TOKEN},
        }
    )


def post(session: requests.Session, url: str, body: str) -> float:
    start = time.perf_counter()
    response = session.post(f"{url}/b24/events", data=body, headers=HEADERS, timeout=10)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"unexpected HTTP {response.status_code}: {response.text[:200]}")
    return elapsed


def interleaved(bare_url: str, app_url: str, n: int) -> tuple[list[float], list[float]]:
    """A, B, A, B ...: one client, both servers up; the first 50 of each are warm-up."""
    bare, app = requests.Session(), requests.Session()
    bodies = [event_body(i) for i in range(n)]
    bare_times: list[float] = []
    app_times: list[float] = []
    for index, body in enumerate(bodies):
        first, second = ((bare, bare_url, bare_times), (app, app_url, app_times))[:: 1 if index % 2 else -1]
        for session, url, times in (first, second):
            elapsed = post(session, url, body)
            if index >= 50:
                times.append(elapsed)
    return bare_times, app_times


def round_trips(deps: Deps, app_url: str) -> int:
    """Redis round trips the edge makes for one accepted event (commands sent, a pipeline counting once)."""
    calls = 0
    original = Connection.send_packed_command

    def counting(self: Connection, command: object, check_health: bool = True) -> None:
        nonlocal calls
        calls += 1
        original(self, command, check_health)

    Connection.send_packed_command = counting  # type: ignore[method-assign,assignment]
    try:
        post(requests.Session(), app_url, event_body(10_000_000))
    finally:
        Connection.send_packed_command = original  # type: ignore[method-assign]
    return calls


def report(name: str, timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    print(f"{name:<28} n={len(ordered):<6} median={median:7.3f} ms   p99={p99:7.3f} ms")
    return median, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="requests per endpoint (first 50 are warm-up)")
    args = parser.parse_args()
    process = None
    redis_url = os.environ.get("B24APP_REDIS_URL")
    if not redis_url:
        process, redis_url = start_redis_server(tempfile.mkdtemp(prefix="b24app-bench-"))
    try:
        deps = Deps(load_settings(env_file=None, redis_url=redis_url, client_id="local.bench", client_secret="bench-secret"))
        deps.redis.flushdb()
        deps.installations.save(
            Installation(MEMBER_ID, "bench.example", "https://bench.example/rest/", "a" * 32, "r" * 32,
                         time.time() + 3600, APP_TOKEN, ("crm",), time.time())
        )
        with serve(bare_app()) as bare_url, serve(create_app(deps=deps)) as app_url:
            bare_times, app_times = interleaved(bare_url, app_url, args.n)
            trips = round_trips(deps, app_url)
        bare_median, bare_p99 = report("bare Flask endpoint", bare_times)
        app_median, app_p99 = report("POST /b24/events (b24app)", app_times)
        print(f"ratio: median {app_median / bare_median:.2f}x, p99 {app_p99 / bare_p99:.2f}x (goal <= 1.5x); "
              f"Redis round trips per accepted event: {trips} (goal <= 2)")
        print(f"jobs enqueued: {deps.queue('b24app-events').count}")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
