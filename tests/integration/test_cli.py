"""The ``b24app`` command, run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"B24APP_CONFIG_DIR": str(ROOT / "config"), "B24APP_WORKFLOWS_DIR": str(ROOT / "workflows")}


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
    clean["PYTHONPATH"] = str(ROOT) + os.pathsep + clean.get("PYTHONPATH", "")
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "b24app.cli", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_the_working_commands_only(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""     # no settings are needed to get help
    commands = result.stdout.split("Commands:")[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.startswith("  ")}
    assert listed == {"check-config", "serve", "worker", "doctor", "sandbox", "provision", "telegram", "scenario", "demo", "sweep", "digest", "portal", "bank"}
    assert not listed & {"run", "shell", "routes"}


def test_check_config_names_file_and_line_of_broken_yaml(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "workflows").mkdir()
    (tmp_path / "config" / "roles.yaml").write_text("roles:\n  head: [1, 2\n  finance: 3\n")
    result = run_cli("check-config", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "config/roles.yaml:3: invalid YAML" in result.stdout


def test_check_config_reports_bad_settings_by_variable(tmp_path: Path) -> None:
    result = run_cli(
        "check-config",
        cwd=ROOT,
        env={"B24APP_RATE_PROFILE": "gold", "B24APP_REDIS_URL": "http://nope"},
    )
    assert result.returncode == 2
    assert "B24APP_RATE_PROFILE" in result.stdout and "B24APP_REDIS_URL" in result.stdout


def test_check_config_is_clean_on_the_shipped_definitions() -> None:
    result = run_cli("check-config", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_require_redis(tmp_path: Path, command: str) -> None:
    result = run_cli(command, cwd=tmp_path)
    assert result.returncode == 2
    assert "B24APP_REDIS_URL" in result.stderr


def test_worker_runs_jobs_from_the_app_queues(tmp_path: Path, redis_url: str) -> None:
    import redis
    from rq import Queue

    from b24app import queue as queues

    conn = redis.Redis.from_url(redis_url)
    job = Queue(queues.EVENTS, connection=conn).enqueue("b24app.jobs.handle_event", "m", "ONUNKNOWN", {}, "1")
    result = run_cli("worker", "--burst", cwd=tmp_path, env={"B24APP_REDIS_URL": redis_url, **SHIPPED})
    assert result.returncode == 0, result.stderr
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == 0


def test_worker_refuses_to_start_on_invalid_definitions(tmp_path: Path, redis_url: str) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "roles.yaml").write_text("roles: [\n")
    result = run_cli("worker", "--burst", cwd=tmp_path, env={"B24APP_REDIS_URL": redis_url})
    assert result.returncode == 2
    assert "config/roles.yaml:" in result.stderr and "refusing to start" in result.stderr


def test_doctor_without_a_portal_says_what_to_set(tmp_path: Path, redis_url: str) -> None:
    result = run_cli("doctor", cwd=tmp_path, env={"B24APP_REDIS_URL": redis_url})
    assert result.returncode == 1
    assert "redis: ok" in result.stdout
    assert "no installation and no client credentials: register the local app" in result.stdout
    assert "B24APP_CLIENT_ID" in result.stdout and "--app-handler-url" in result.stdout   # the one next step


def wait_for_health(url: str, process: subprocess.Popen[str]) -> int:
    import time

    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.communicate()}")
        try:
            return requests.get(f"{url}/healthz", timeout=2).status_code
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("server did not answer")


@pytest.mark.parametrize("dev", [True, False], ids=["dev", "gunicorn"])
def test_serve_answers_healthz(tmp_path: Path, redis_url: str, dev: bool) -> None:
    from tests.fixtures.redis import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
    env.update({"PYTHONPATH": str(ROOT), "B24APP_REDIS_URL": redis_url, **SHIPPED})
    args = [sys.executable, "-m", "b24app.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen([*args, *(["--dev"] if dev else [])], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}", process) == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def aof_on(redis_url: str) -> Iterator[None]:
    """The test Redis with an append-only file for one test (the session default is no persistence)."""
    conn = redis.Redis.from_url(redis_url)
    conn.config_set("appendonly", "yes")
    conn.config_set("appendfsync", "everysec")
    try:
        yield
    finally:
        conn.config_set("appendonly", "no")
        conn.close()


def test_doctor_names_the_fix_when_redis_has_no_append_only_file(tmp_path: Path, redis_url: str, sandbox: Any) -> None:
    env = {"B24APP_REDIS_URL": redis_url, "B24APP_WEBHOOK_URL": sandbox.webhook_url("admin"),
           "REQUESTS_CA_BUNDLE": sandbox.ca_bundle}
    result = run_cli("doctor", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "appendonly is OFF" in result.stdout
    assert "redis-cli CONFIG SET appendonly yes && redis-cli CONFIG SET appendfsync everysec" in result.stdout
    assert "acting as user #1" in result.stdout  # the rest of the report is still there


def test_doctor_reports_identity_scopes_and_budget(tmp_path: Path, redis_url: str, sandbox: Any,
                                                   aof_on: None) -> None:
    env = {
        "B24APP_REDIS_URL": redis_url,
        "B24APP_WEBHOOK_URL": sandbox.webhook_url("admin"),
        "REQUESTS_CA_BUNDLE": sandbox.ca_bundle,
    }
    result = run_cli("doctor", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "redis persistence: appendonly yes, appendfsync everysec" in result.stdout
    assert "acting as user #1" in result.stdout
    assert "scopes missing: none" in result.stdout
    assert "REST budget in use: " in result.stdout

    env["B24APP_WEBHOOK_URL"] = sandbox.webhook_url("admin", scopes=["crm", "user"])
    limited = run_cli("doctor", cwd=tmp_path, env=env)
    assert limited.returncode == 1
    assert "scopes missing: task, department, im, placement, disk, userfieldconfig" in limited.stdout
