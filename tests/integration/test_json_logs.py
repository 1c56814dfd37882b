"""``B24APP_LOG_FORMAT=json`` in real ``b24app worker`` and ``serve`` (gunicorn) processes: every line it writes is one JSON object;
lines written while an item is handled name the portal, the RQ job, the workflow and the item; secrets
(the client secret, the portal's tokens) are masked in messages and in exception text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis
import requests
from rq import Queue

from b24app import queue as queues
from tests.fixtures.redis import free_port
from tests.integration.approval_env import ROOT, Env
from tests.integration.test_approval_flow import worker_env
from tests.integration.test_cli import SHIPPED, wait_for_health

ETID = 1100


def run_worker(env: dict[str, str]) -> list[dict[str, Any]]:
    """``b24app worker --burst`` as a subprocess; every line of its output parsed as JSON (or the test fails)."""
    done = subprocess.run([sys.executable, "-m", "b24app.cli", "worker", "--burst"], cwd=ROOT, timeout=180,
                          env={**env, "B24APP_LOG_FORMAT": "json", "B24APP_LOG_LEVEL": "DEBUG"},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert lines
    parsed = [json.loads(line) for line in lines]       # raises on any line that is not JSON
    assert all(isinstance(p, dict) and {"time", "level", "logger", "message"} <= set(p) for p in parsed)
    return parsed


def test_worker_lines_name_portal_job_workflow_and_item(env: Env) -> None:
    item = env.as_user("a.ivanova").create_item(ETID, env.request_fields())
    env.sandbox.drain_events(timeout=10)
    [job] = env.deps.queue(queues.EVENTS).jobs
    before = env.deps.installations.get(env.member_id)
    lines = run_worker(worker_env(env))
    env.settle()
    assert env.stage(int(item["id"])) == "HEAD_APPROVAL"            # the worker did the work it logged
    ours = [p for p in lines if p.get("job_id") == job.id]
    assert ours, lines
    assert all(p["member_id"] == env.member_id for p in ours)
    assert any(p.get("workflow") == "payment_requests" and p.get("item_id") == int(item["id"]) for p in ours)
    after = env.deps.installations.get(env.member_id)
    text = json.dumps(lines)
    for installation in (before, after):
        assert installation is not None
        for secret in (installation.access_token, installation.refresh_token, installation.application_token):
            assert secret not in text
    assert str(worker_env(env)["B24APP_CLIENT_SECRET"]) not in text


def test_worker_masks_secrets_in_messages_and_tracebacks(redis_url: str) -> None:
    secret = "client-secret-for-json-logs-5150"
    env = {**os.environ, "B24APP_REDIS_URL": redis_url, "B24APP_CLIENT_ID": "local.json.test",
           "B24APP_CLIENT_SECRET": secret}
    queue = Queue(queues.DEFAULT, connection=redis.Redis.from_url(redis_url))
    said = queue.enqueue("logging.warning", "refreshing with %s", secret, job_id="says-a-secret")
    failed = queue.enqueue("builtins.int", secret, job_id="fails-with-a-secret")   # ValueError naming it
    lines = run_worker(env)
    assert secret not in json.dumps(lines)
    [warning] = [p for p in lines if p["logger"] == "root"]
    assert (warning["message"], warning["job_id"]) == ("refreshing with ***", said.id)
    errors = [p for p in lines if p["level"] == "ERROR" and "ValueError" in p["message"] + p.get("exc", "")]
    assert errors and all("***" in p["message"] + p.get("exc", "") for p in errors)
    assert failed.id in json.dumps(errors)


def test_gunicorn_access_and_error_lines_are_json_and_redacted(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
    env.update({"PYTHONPATH": str(ROOT), "B24APP_REDIS_URL": redis_url, "B24APP_LOG_FORMAT": "json", **SHIPPED})
    args = [sys.executable, "-m", "b24app.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(args, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_for_health(url, process) == 200
        assert requests.get(f"{url}/healthz?auth=widget-token-31337", timeout=10).status_code == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    parsed = [json.loads(line) for line in (out + err).splitlines() if line.strip()]
    access = [p for p in parsed if p["logger"] == "gunicorn.access"]
    assert any("/healthz?auth=***" in p["message"] for p in access), parsed
    assert any(p["logger"] == "gunicorn.error" and "Listening at" in p["message"] for p in parsed)
    assert "widget-token-31337" not in out + err
