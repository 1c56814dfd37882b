"""The escalation sweep when Redis forgets or a sweep dies (sandbox over HTTPS, strict mode, a real Redis).

* Losing Redis: the app's Redis is flushed between two sweeps at the same portal moment (a restart
  without persistence); the operator re-opens the app's install page (the installation lived in
  Redis) and the app's processes restart. The repeat costs at most one more ``im.notify.system.add``
  per request and recipient, replacing the earlier notification (same ``TAG``); the sweep after that
  sends nothing.
* A restart: a sweep process killed after it claimed its notices but before it sent them leaves
  "pending" claims; they hold off other sweeps until they expire, then the next sweep sends each
  notice exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from b24app import keys
from b24app.deps import Deps, set_current
from b24app.escalation.sweep import CLAIM_TTL
from b24sandbox import oauth as sandbox_oauth
from b24sandbox.install import frame_pairs
from handlers.sweep import run_sweep
from tests.fixtures.waits import WAIT, wait_until
from tests.integration.approval_env import ROOT, Env

ETID = 1100
TZ = ZoneInfo("Europe/Moscow")
HEAD = 3


def create(env: Env, count: int) -> list[int]:
    ids = [int(env.as_user("a.ivanova").create_item(ETID, env.request_fields())["id"]) for _ in range(count)]
    env.settle()
    return ids


def at(env: Env, day: int, hour: int, minute: int = 0) -> None:
    env.sandbox.clock.set(datetime(2026, 3, day, hour, minute, tzinfo=TZ))


def sent_escalations(env: Env) -> Counter[tuple[int, str]]:
    """Every accepted ``im.notify.system.add`` of an escalation, by (recipient, TAG) — repeats included."""
    return Counter((int(c.params["USER_ID"]), str(c.params["TAG"])) for c in env.sandbox.calls
                   if c.method == "im.notify.system.add" and c.status == 200 and c.error is None
                   and str(c.params.get("TAG", "")).startswith("b24app:esc:"))


def shown(env: Env, login: str) -> list[str]:
    """The escalation notifications a person has in the portal now (a repeated TAG replaced the older one)."""
    return [n.tag for n in env.sandbox.as_user(login).notifications() if n.tag.startswith("b24app:esc:")]


def esc_markers(env: Env) -> list[bytes]:
    return sorted(env.deps.redis.scan_iter(f"b24app:esc:{env.member_id}:*"))


def reopen_install_page(env: Env) -> None:
    """What the administrator does when the app lost its installation: open the app's install page again."""
    state = env.sandbox.state
    with state.lock:
        tokens = sandbox_oauth.issue_user_tokens(state, state.user_by_login(state.portal.admin_login).id)
    status = env.sandbox.post_form(env.sandbox.frame_url(f"{env.url}/b24/install"), frame_pairs(env.sandbox, tokens))
    assert status == 200
    env.settle()                                                # the after-install job re-binds events


def restarted(env: Env) -> Env:
    """The app's processes after the restart: nothing cached in memory from before."""
    deps = Deps(env.deps.settings)
    set_current(deps)
    return Env(env.sandbox, deps, Deps(env.deps.settings), env.member_id, env.url)


def test_losing_redis_costs_at_most_one_repeated_reminder_per_request(env: Env) -> None:
    items = create(env, 3)                                      # Mon 2026-03-02 10:00, head: m.orlova
    at(env, 2, 14, 5)                                           # 4 working hours: the first reminder
    first = run_sweep(env.deps, env.member_id)
    assert (first.open_requests, first.sent) == (3, 3)
    before = sent_escalations(env)
    assert len(before) == 3 and set(before.values()) == {1} and {user for user, _ in before} == {HEAD}
    assert len(esc_markers(env)) == 3

    env.deps.redis.flushdb()                                    # Redis restarted without persistence
    since_loss = len(env.sandbox.calls)
    assert env.deps.installations.find(env.member_id) is None
    reopen_install_page(env)
    app = restarted(env)
    assert app.deps.installations.find(env.member_id) is not None
    # the signing key comes from the local app's client secret, so the signed approval logs stay valid
    assert app.deps.app_secret == env.deps.app_secret and not app.deps.redis.exists(keys.APP_SECRET)

    again = run_sweep(app.deps, app.member_id)                  # the same portal moment
    assert again.open_requests == 3
    after = sent_escalations(app)
    assert set(after) == set(before)                            # the same notices, nothing new
    assert all(after[key] - before[key] <= 1 for key in after)  # at most one repeat per request
    assert sum(after.values()) - sum(before.values()) == again.sent <= len(items)
    reminders = shown(app, "m.orlova")                          # the repeat replaced the earlier one
    assert sorted(reminders) == sorted(tag for _, tag in before)

    idle = run_sweep(app.deps, app.member_id)                   # and the next sweep: nothing at all
    assert (idle.due, idle.sent) == (0, 0)
    assert sent_escalations(app) == after and sorted(shown(app, "m.orlova")) == sorted(reminders)

    at(env, 4, 11, 5)                                           # Wed: the later rules go on as before, once
    later = [run_sweep(app.deps, app.member_id) for _ in range(2)]
    assert [r.sent for r in later] == [2 * len(items), 0]
    assert len(shown(app, "ops.manager")) == len(items) and len(shown(app, "m.orlova")) == 2 * len(items)
    assert set(sent_escalations(app).values()) <= {1, 2} and sum(sent_escalations(app).values()) == \
        sum(after.values()) + 2 * len(items)
    # the app's own signed approval log is still trusted after the loss: no "foreign entries" alarm
    assert not [c for c in env.sandbox.calls[since_loss:] if c.method == "crm.timeline.logmessage.add"]


DYING_SWEEP = """
import sys, time
import redis
import b24app.escalation.sweep as sweep
from handlers.sweep import run_sweep
from b24app.deps import Deps
from b24app.settings import load_settings
deps = Deps(load_settings(env_file=None))
r = redis.Redis.from_url(deps.settings.redis_url)

def die_before_sending(batcher, deliveries):
    # the claims are in Redis; the process is killed before the notifications leave
    r.set("test:claimed", len(deliveries))
    time.sleep(600)
    raise AssertionError("should have been killed")

sweep._to_bitrix = die_before_sending
run_sweep(deps, sys.argv[1])
"""

def _process_env(env: Env) -> dict[str, str]:
    s = env.deps.settings
    secret = s.client_secret.get_secret_value() if s.client_secret else ""
    return {**os.environ, "B24APP_REDIS_URL": str(s.redis_url), "B24APP_CLIENT_ID": str(s.client_id),
            "B24APP_CLIENT_SECRET": secret, "B24APP_OAUTH_SERVER": str(s.oauth_server),
            "B24APP_CONFIG_DIR": str(ROOT / "config"), "B24APP_WORKFLOWS_DIR": str(ROOT / "workflows"),
            "PYTHONPATH": str(ROOT)}


def test_a_sweep_killed_between_claiming_and_sending_loses_nothing(env: Env) -> None:
    items = create(env, 2)
    at(env, 2, 14, 5)
    proc = subprocess.Popen([sys.executable, "-c", DYING_SWEEP, env.member_id], cwd=ROOT,
                            env=_process_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: env.deps.redis.exists("test:claimed") or proc.poll() is not None, WAIT, "the claims")
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert int(env.deps.redis.get("test:claimed") or 0) == len(items)
    claims = esc_markers(env)
    assert len(claims) == len(items)
    assert all(env.deps.redis.get(k) == b"pending" and 0 < env.deps.redis.ttl(k) <= CLAIM_TTL for k in claims)
    assert not sent_escalations(env) and shown(env, "m.orlova") == []

    at(env, 2, 14, 6)                                           # the claims still stand: another sweep waits
    meanwhile = run_sweep(env.deps, env.member_id)
    assert (meanwhile.due, meanwhile.sent) == (0, 0) and not sent_escalations(env)
    assert esc_markers(env) == claims

    for key in claims:                                          # ten minutes later in Redis: the claims expire
        env.deps.redis.pexpire(key, 1)
    wait_until(lambda: not esc_markers(env), WAIT, "the claims to expire")
    at(env, 2, 14, 16)                                          # the next periodic sweep
    recovered = run_sweep(env.deps, env.member_id)
    assert (recovered.sent, recovered.skipped) == (len(items), 0)
    sent = sent_escalations(env)
    assert len(sent) == len(items) and set(sent.values()) == {1}
    reminders = [m for m in (n.message for n in env.sandbox.as_user("m.orlova").notifications())
                 if m.startswith("Напоминание")]
    assert len(reminders) == len(items) and all(any(f"/details/{i}/" in m for m in reminders) for i in items)
    assert all(env.deps.redis.get(k) == b"sent" for k in esc_markers(env))

    at(env, 2, 14, 21)
    assert run_sweep(env.deps, env.member_id).sent == 0         # and never again
    assert sent_escalations(env) == sent
