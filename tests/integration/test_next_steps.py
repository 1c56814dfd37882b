"""Every refusal of provision, doctor, serve and worker names the one thing to do next (issue #14's circle:
webhook → ``--member-id`` → "set B24APP_CLIENT_ID… (or B24APP_WEBHOOK_URL)" → "0 active installations"),
run as the real ``b24app`` command against a real sandbox portal and Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from b24app.deps import Deps
from b24app.web import create_app
from b24sandbox import SandboxPortal, install
from tests.integration.install_env import install_settings
from tests.integration.test_cli import ROOT, SHIPPED, run_cli
from tests.integration.webserver import serve


def oauth_env(redis_url: str, sandbox: SandboxPortal, client_id: str, secret: str) -> dict[str, str]:
    return {**SHIPPED, "B24APP_REDIS_URL": redis_url, "B24APP_PUBLIC_URL": "http://127.0.0.1:9",
            "B24APP_CLIENT_ID": client_id, "B24APP_CLIENT_SECRET": secret, "B24APP_OAUTH_SERVER": sandbox.base_url,
            "REQUESTS_CA_BUNDLE": str(sandbox.ca_bundle)}


def test_provision_with_a_webhook_says_to_register_the_local_app_not_to_pass_a_member_id(
        tmp_path: Path, redis_url: str, sandbox: Any) -> None:
    env = {**SHIPPED, "B24APP_REDIS_URL": redis_url, "B24APP_PUBLIC_URL": "https://app.example",
           "B24APP_WEBHOOK_URL": sandbox.webhook_url("admin"), "REQUESTS_CA_BUNDLE": str(sandbox.ca_bundle)}
    result = run_cli("provision", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "an incoming webhook cannot bind events or widgets: register the local app" in result.stderr
    assert "--member-id" not in result.stderr and "B24APP_CLIENT_ID" in result.stderr
    assert sandbox.request_count == 0                                     # refused before asking the portal


def test_with_credentials_and_no_install_provision_and_doctor_say_the_administrator_opens_the_app(
        tmp_path: Path, redis_url: str, sandbox: Any) -> None:
    app = install.register(sandbox, "http://127.0.0.1:9/b24/install", None, None, "ui")
    env = oauth_env(redis_url, sandbox, app.client_id, app.client_secret)
    for command in ("provision", "doctor"):
        result = run_cli(command, cwd=tmp_path, env=env)
        said = result.stdout + result.stderr
        assert result.returncode != 0
        assert "no installation yet: a portal administrator opens the app" in said, said
        assert "B24APP_WEBHOOK_URL" not in said and "member_id" not in said


def test_a_held_install_is_listed_by_doctor_and_proved_by_it_once_credentials_are_set(
        tmp_path: Path, redis_url: str, sandbox: Any) -> None:
    deps = Deps(install_settings(redis_url, sandbox, None))         # the app runs before it has client credentials
    with serve(create_app(deps=deps)) as url:
        app = install.register(sandbox, f"{url}/b24/install", None, None, "ui")
        assert install.open_app(sandbox) == 200                    # held, not stored
    assert deps.installations.active() == []
    env = oauth_env(redis_url, sandbox, app.client_id, app.client_secret)
    result = run_cli("doctor", "--member-id", sandbox.member_id, cwd=tmp_path, env=env)
    assert f"installation {sandbox.domain} ({sandbox.member_id}): held, NOT proved" in result.stdout, result.stdout
    assert "scopes missing: none" in result.stdout                  # proved on the way, then checked
    again = run_cli("doctor", cwd=tmp_path, env=env)
    assert f"({sandbox.member_id}): proved" in again.stdout and "held" not in again.stdout, again.stdout
    plan = run_cli("provision", cwd=tmp_path, env=env)
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_an_unknown_member_id_lists_the_known_installations(tmp_path: Path, redis_url: str, sandbox: Any) -> None:
    app = install.register(sandbox, "http://127.0.0.1:9/b24/install", None, None, "ui")
    env = oauth_env(redis_url, sandbox, app.client_id, app.client_secret)
    for command in (("doctor", "--member-id", "nope"), ("provision", "--member-id", "nope")):
        said = (result := run_cli(*command, cwd=tmp_path, env=env)).stdout + result.stderr
        assert "no installation of member_id 'nope' (known: none): a portal administrator opens the app" in said


def test_a_tls_failure_names_the_ca_variable(tmp_path: Path, redis_url: str, sandbox: Any) -> None:
    result = run_cli("doctor", cwd=tmp_path, env={**SHIPPED, "B24APP_WEBHOOK_URL": sandbox.webhook_url("admin")})
    assert result.returncode == 1
    assert "SSLError" in result.stdout and "set REQUESTS_CA_BUNDLE to the CA bundle" in result.stdout, result.stdout


def test_check_config_says_what_serve_worker_and_cron_still_need(tmp_path: Path, redis_url: str) -> None:
    bare = run_cli("check-config", cwd=ROOT)
    assert bare.returncode == 0
    assert "serve: needs B24APP_REDIS_URL, B24APP_PUBLIC_URL, B24APP_CLIENT_ID/B24APP_CLIENT_SECRET — missing: " \
           "B24APP_REDIS_URL (required)" in bare.stdout
    assert "cron: needs B24APP_REDIS_URL — missing: B24APP_REDIS_URL (required)" in bare.stdout
    ready = run_cli("check-config", cwd=ROOT, env={"B24APP_REDIS_URL": redis_url, "B24APP_PUBLIC_URL": "https://a.example",
                                                   "B24APP_CLIENT_ID": "local.x", "B24APP_CLIENT_SECRET": "s"})
    assert [line for line in ready.stdout.splitlines() if line.endswith("all set")] == [
        line for line in ready.stdout.splitlines() if line.startswith(("serve:", "worker:", "cron:"))]
    assert "missing" not in ready.stdout
