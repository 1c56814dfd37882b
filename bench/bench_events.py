"""Benchmark: POST /b24/events next to a bare Flask endpoint, over real HTTP on this machine.

    python bench/bench_events.py [--n 2000]

Both apps run in the same kind of server (werkzeug, threaded, in this process) and are hit by the same
keep-alive client. The event edge does everything it does in production: PHP-form decoding, the
installation lookup and application_token check in Redis, the duplicate guard, and the RQ enqueue.
Redis: ``B24APP_REDIS_URL`` (a throwaway DB is flushed!) if set, else a private ``redis-server``.
Prints median and p99 in milliseconds.
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


def measure(url: str, n: int) -> list[float]:
    session = requests.Session()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    bodies = [event_body(i) for i in range(n)]
    for body in bodies[:50]:  # warm-up (also fills the duplicate guard for those ids)
        session.post(f"{url}/b24/events", data=body, headers=headers, timeout=10)
    timings = []
    for body in bodies[50:]:
        start = time.perf_counter()
        response = session.post(f"{url}/b24/events", data=body, headers=headers, timeout=10)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"unexpected HTTP {response.status_code}: {response.text[:200]}")
    return timings


def report(name: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<28} n={len(ordered):<6} median={statistics.median(ordered):7.3f} ms   p99={p99:7.3f} ms")


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
        with serve(bare_app()) as bare_url:
            report("bare Flask endpoint", measure(bare_url, args.n))
        with serve(create_app(deps=deps)) as app_url:
            report("POST /b24/events (b24app)", measure(app_url, args.n))
        print(f"jobs enqueued: {deps.queue('b24app-events').count}")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
