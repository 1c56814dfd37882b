"""Jobs over every portal isolate them: a broken portal is logged and named, the others still run; and
the webhook mode's portal (member id "") is swept through the webhook. Real Redis, the sandbox over HTTPS."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from b24app.auth.store import Installation
from b24app.deps import Deps, set_current
from b24app.errors import PortalNotConfigured
from b24app.escalation.jobs import sweep_job
from b24app.portals import PortalJobFailed, member_ids
from b24app.settings import load_settings
from b24app.telegram.links import LinkStore
from b24app.telegram.maintenance import unlink_inactive_everywhere_job
from b24sandbox import SandboxPortal
from tests.fixtures.redis import free_port
from tests.integration.approval_env import ROOT, Env, approval_env

BROKEN = "000broken"  # sorts first: without isolation nothing after it would run


@pytest.fixture
def two_portals(sandbox: SandboxPortal, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The provisioned sandbox portal plus a portal whose server is gone (connection refused)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
    with approval_env(sandbox, redis_url) as env:
        env.deps.installations.save(Installation(
            BROKEN, "gone.example", f"http://127.0.0.1:{free_port()}/rest/", "access-gone-1", "refresh-gone-1",
            time.time() + 3600, "app-token-gone", ("crm", "user"), time.time()))
        set_current(env.deps)
        yield env


def _link(env: Env, member_id: str, user_id: int, chat_id: int) -> None:
    links = LinkStore(env.deps.redis)
    assert links.consume_token(links.issue_token(member_id, user_id), chat_id) is not None


def test_sweep_runs_every_portal_although_one_is_broken(two_portals: Env) -> None:
    env = two_portals
    assert member_ids(env.deps) == sorted([BROKEN, env.member_id])
    before = len(env.sandbox.calls)
    with pytest.raises(PortalJobFailed, match=BROKEN) as failed:
        sweep_job()
    assert env.member_id not in str(failed.value)
    assert len(env.sandbox.calls) > before  # the real portal was swept after the broken one failed


def test_telegram_unlink_runs_every_portal_although_one_is_broken(two_portals: Env) -> None:
    env = two_portals
    with env.sandbox.state.lock:
        admin = env.sandbox.state.user_by_login(env.sandbox.state.portal.admin_login).id
    _link(env, BROKEN, 1, 100)
    _link(env, env.member_id, admin, 101)
    _link(env, env.member_id, 987654, 102)  # a user the portal no longer has
    with pytest.raises(PortalJobFailed, match=BROKEN):
        unlink_inactive_everywhere_job()
    assert LinkStore(env.deps.redis).linked_users(env.member_id) == [admin]


def test_webhook_mode_sweeps_the_webhook_portal(redis_url: str, sandbox: SandboxPortal,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
    with approval_env(sandbox, redis_url):  # the portal provisioned by the app; the webhook app below has no Redis
        pass                                  # data of it (another database): member "" is the webhook's portal
    other_db = redis_url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(other_db).flushdb()
    hook = sandbox.webhook_url(sandbox.state.portal.admin_login)
    deps = Deps(load_settings(env_file=None, redis_url=other_db, webhook_url=hook, retry_base_delay=0.01,
                              config_dir=ROOT / "config", workflows_dir=ROOT / "workflows"))
    assert member_ids(deps) == [""]
    assert deps.bitrix("").call("user.current")["ID"]
    set_current(deps)
    before = len(sandbox.calls)
    try:
        sweep_job()
        failure: BaseException | None = None
    except PortalJobFailed as exc:  # the sweep itself may need more than a webhook gives (see the report)
        failure = exc.__cause__
    finally:
        set_current(None)
    assert not isinstance(failure, PortalNotConfigured)  # it reached the webhook's portal
    swept = sandbox.calls[before:]
    assert swept and {c.auth_kind for c in swept} == {"webhook"}


@pytest.fixture
def revoked_portal(sandbox: SandboxPortal, sandbox_factory: Callable[..., SandboxPortal], redis_url: str,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Env, SandboxPortal]]:
    """The provisioned sandbox portal plus a second sandbox portal that refuses the tokens the app holds."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_bundle))
    other = sandbox_factory()
    creds = other.install_app(handler_url="http://127.0.0.1:9/unused")
    with approval_env(sandbox, redis_url) as env:
        env.deps.installations.save(Installation(
            BROKEN, creds.domain, creds.client_endpoint, "access-revoked", "refresh-revoked", time.time() + 3600,
            creds.application_token, ("crm", "user"), time.time()))
        yield env, other


def _cli(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    s = env.deps.settings
    secret = s.client_secret.get_secret_value() if s.client_secret else ""
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
    process_env.update({
        "B24APP_REDIS_URL": str(s.redis_url), "B24APP_CLIENT_ID": str(s.client_id), "B24APP_CLIENT_SECRET": secret,
        "B24APP_OAUTH_SERVER": str(s.oauth_server), "B24APP_RETRY_BASE_DELAY": "0.01",
        "B24APP_CONFIG_DIR": str(ROOT / "config"), "B24APP_WORKFLOWS_DIR": str(ROOT / "workflows"),
        "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "b24app.cli", *args], env=process_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_sweep_and_digest_commands_run_every_portal_and_report_a_refusing_portal_uninstalled(
    revoked_portal: tuple[Env, SandboxPortal]
) -> None:
    env, other = revoked_portal
    refused_before = len(other.calls)
    swept = _cli(env, "sweep")
    # the broken portal refuses the tokens for good: it is marked removed, an outcome, not a failure (#19)
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert f"sweep {env.member_id} at " in swept.stdout                 # the good portal ran after the broken one
    assert f"sweep {BROKEN}: uninstalled" in swept.stdout and "FAILED" not in swept.stderr
    assert len(other.calls) > refused_before                             # it was asked, and refused the tokens
    digest = _cli(env, "digest", "--force")
    assert digest.returncode == 0, digest.stdout + digest.stderr
    assert f"digest {env.member_id} for " in digest.stdout and BROKEN not in digest.stdout  # removed: not asked
    only_good = _cli(env, "sweep", "--member-id", env.member_id)
    assert only_good.returncode == 0, only_good.stdout + only_good.stderr


def test_sweep_and_digest_commands_exit_1_naming_a_portal_that_is_unreachable(two_portals: Env) -> None:
    env = two_portals  # BROKEN's server is gone (connection refused): trouble, not an uninstall
    for command, line in ((["sweep"], f"sweep {env.member_id} at "), (["digest", "--force"], f"digest {env.member_id} for ")):
        ran = _cli(env, *command)
        assert ran.returncode == 1, ran.stdout + ran.stderr
        assert line in ran.stdout                                       # the good portal ran after the broken one
        assert f"{command[0]} {BROKEN}: FAILED" in ran.stderr and env.member_id not in ran.stderr
        assert "uninstalled" not in ran.stdout
    stored = env.deps.installations.find(BROKEN)
    assert stored is not None and not stored.removed
