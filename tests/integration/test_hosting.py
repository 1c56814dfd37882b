"""One deployment hosting two customers' portals, end to end (#19's "Must show"), across processes: two
sandbox portals over HTTPS, each with its own local app (client id and secret registered with the CLI's
``b24app portal add``), the web app over real HTTP, jobs through RQ on the test's private Redis, the CLI
as subprocesses and Telegram through the fake Bot API and the app's webhook.

Both portals install (the administrator's tokens proved by each portal's own OAuth server), run payment
requests at the same time with their own roles (portal B's ``config/portals/<member_id>/roles.yaml``
names another finance manager), ``b24app sweep`` and ``b24app digest`` still cover A while B answers
500s (and exit 1 naming B), a genuine uninstall of B marks it removed and nothing calls B afterwards
while A carries on to «Оплачено», and one person linked in Telegram on both portals hears from both,
each notice naming its company."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.scheduler import RQScheduler

from b24app import queue as queues
from b24app.deps import Deps, set_current
from b24app.escalation.jobs import sweep_job
from b24app.telegram.links import LinkStore
from b24app.web import create_app
from b24app.worker import BurstWorker
from b24sandbox import SandboxPortal, oauth
from b24sandbox.install import frame_pairs
from b24sandbox.telegram_api import FakeBotApi
from tests.fixtures.waits import WAIT, nap_until_next_scheduled
from tests.integration.approval_env import ROOT, Env
from tests.integration.helpers import make_settings
from tests.integration.webserver import serve

SECRET_KEY = "hosting-key-0123456789"
TG_SECRET = "hosting-webhook-secret_7"
HEAD, CHIEF, JUNIOR = 3, 10, 11
FINANCE_A, FINANCE_B = 8, 13          # B's own roles.yaml: its lawyer reviews payments
CHAT = 4242                           # one person's Telegram: A's finance manager and B's reviewer
QUEUES = (queues.EVENTS, queues.DEFAULT, queues.TELEGRAM)


class _Late:
    """The WSGI app, set once the server's address (the app's public URL) is known."""

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class Deployment:
    a: Env
    b: Env
    bot: FakeBotApi
    cli_env: dict[str, str]

    @property
    def deps(self) -> Deps:
        return self.a.deps

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "b24app.cli", *args], env=self.cli_env, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    def settle(self, rounds: int = 80) -> None:
        """Both portals' events, the engine's and Telegram's jobs (scheduled ones when due) until all are done."""
        conn = self.deps.redis
        queue_list = [Queue(name, connection=conn) for name in QUEUES]
        scheduler = RQScheduler(queue_list, connection=conn)
        scheduler.acquire_locks()
        try:
            for _ in range(rounds):
                for env in (self.a, self.b):
                    assert env.sandbox.drain_events(timeout=WAIT), "the portal's event deliveries did not finish"
                scheduler.enqueue_scheduled_jobs()
                if any(q.count for q in queue_list):
                    BurstWorker(queue_list, connection=conn).work(burst=True)
                    continue
                waiting = [q for q in queue_list if q.scheduled_job_registry.count]
                if not waiting:
                    return
                nap_until_next_scheduled(waiting[0])  # a paced Telegram send is not due yet
        finally:
            scheduler.release_locks()
        raise AssertionError("jobs kept coming")

    def failed_jobs(self) -> list[str]:
        return [j for name in QUEUES for j in FailedJobRegistry(name, connection=self.deps.redis).get_job_ids()]

    def install(self, env: Env) -> requests.Response:
        """The portal's administrator installs the app: the install form with their genuine tokens."""
        portal = env.sandbox
        with portal.state.lock:
            tokens = oauth.issue_user_tokens(portal.state, portal.state.user_by_login(portal.state.portal.admin_login).id)
        query = dict(parse_qsl(urlsplit(portal.frame_url("http://x/")).query))
        return requests.post(f"{env.url}/b24/install", params=query, data=frame_pairs(portal, tokens), timeout=30)

    def link(self, env: Env, user_id: int) -> None:
        token = LinkStore(self.deps.redis).issue_token(env.member_id, user_id)
        assert self.bot.send_text(CHAT, f"/start {token}").status == 200
        assert "подключён" in self.bot.last_message(CHAT).text


def _config(tmp_path: Path, member_b: str) -> Path:
    """The shared config, plus B's own roles: another finance manager (the rest of its config is shared)."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    roles = (config / "roles.yaml").read_text(encoding="utf-8")
    own = roles.replace("finance_manager:    {user_id: 8,", f"finance_manager:    {{user_id: {FINANCE_B},")
    assert own != roles
    (config / "portals" / member_b).mkdir(parents=True)
    (config / "portals" / member_b / "roles.yaml").write_text(own, encoding="utf-8")
    return config


@pytest.fixture
def hosting(sandbox_factory: Callable[..., SandboxPortal], redis_url: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    a, b = sandbox_factory(member_id="a" * 32), sandbox_factory(member_id="b" * 32)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(a.ca_bundle))
    config = _config(tmp_path, b.member_id)
    with FakeBotApi() as bot:
        telegram = {"TOKEN": bot.token, "SECRET": TG_SECRET, "BOT_USERNAME": bot.username,
                    "API_BASE_URL": bot.base_url, "QUEUE": queues.TELEGRAM, "CHAT_INTERVAL": "0.05"}
        for name, value in telegram.items():
            monkeypatch.setenv(f"B24APP_TELEGRAM_{name}", value)
        monkeypatch.delenv("B24APP_TELEGRAM_ACTION_MODULES", raising=False)
        late = _Late()
        with serve(late) as url:
            overrides: dict[str, object] = {
                "client_id": None, "client_secret": None, "secret_key": SECRET_KEY, "public_url": url,
                "retry_base_delay": 0.01, "config_dir": config, "workflows_dir": ROOT / "workflows",
                "provision_on_install": True}
            settings = make_settings(redis_url, **overrides)
            deps = Deps(settings)
            late.app = create_app(deps=deps)
            cli_env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
            cli_env.update({f"B24APP_TELEGRAM_{k}": v for k, v in telegram.items()})
            cli_env.update({"B24APP_REDIS_URL": redis_url, "B24APP_SECRET_KEY": SECRET_KEY, "B24APP_PUBLIC_URL": url,
                            "B24APP_RETRY_BASE_DELAY": "0.01", "B24APP_PROVISION_ON_INSTALL": "true", "B24APP_CONFIG_DIR": str(config),
                            "B24APP_WORKFLOWS_DIR": str(ROOT / "workflows"), "PYTHONPATH": str(ROOT)})
            envs = [Env(portal, deps, Deps(settings), portal.member_id, url) for portal in (a, b)]
            deployment = Deployment(envs[0], envs[1], bot, cli_env)
            bot.call("setWebhook", {"url": f"{url}/telegram/webhook", "secret_token": TG_SECRET})
            set_current(deps)
            try:
                yield deployment
            finally:
                set_current(None)


def _bring_up(d: Deployment) -> None:
    """Each portal's own local app registered with the CLI, installed by its administrator (which provisions
    it: ``B24APP_PROVISION_ON_INSTALL``, through the install hook's RQ job)."""
    for env in (d.a, d.b):
        creds = env.sandbox.install_app(handler_url="http://127.0.0.1:9/unused")
        added = d.cli("portal", "add", "--domain", env.sandbox.domain, "--client-id", creds.client_id,
                      "--client-secret", creds.client_secret, "--oauth-server", env.sandbox.base_url)
        assert added.returncode == 0, added.stdout + added.stderr
        assert creds.client_secret not in added.stdout + added.stderr
    for env in (d.a, d.b):
        answer = d.install(env)
        assert answer.status_code == 200, answer.text
    stored = {i.member_id: i for i in d.deps.installations.active()}
    assert set(stored) == {d.a.member_id, d.b.member_id}
    assert stored[d.a.member_id].client_id != stored[d.b.member_id].client_id
    d.settle()  # the install hooks: each portal provisioned with its own pair
    assert d.failed_jobs() == []


def _create(env: Env) -> int:
    item = env.as_user("a.ivanova").create_item(env.names().entity_type_id, env.request_fields())
    return int(item["id"])


def _open_task(env: Env, item_id: int) -> dict[str, Any]:
    [task] = [t for t in env.tasks(item_id) if int(t["status"]) not in (4, 5)]
    return task


def test_one_deployment_hosts_two_portals_through_an_uninstall(hosting: Deployment) -> None:
    d = hosting
    _bring_up(d)
    d.link(d.a, FINANCE_A)
    d.link(d.b, FINANCE_B)  # the same person, on the second customer's portal

    # both portals' requests in flight at once: their events and jobs share the queues
    item_a, item_b = _create(d.a), _create(d.b)
    d.settle()
    for env, item_id in ((d.a, item_a), (d.b, item_b)):
        assert env.stage(item_id) == "HEAD_APPROVAL"
        env.as_user("m.orlova").complete_task(int(_open_task(env, item_id)["id"]))
    d.settle()
    # each portal's finance review goes to its own finance manager
    assert [d.a.stage(item_a), d.b.stage(item_b)] == ["FINANCE_REVIEW", "FINANCE_REVIEW"]
    assert int(_open_task(d.a, item_a)["responsibleId"]) == FINANCE_A
    assert int(_open_task(d.b, item_b)["responsibleId"]) == FINANCE_B
    # ... and the person linked on both hears about both, each notice naming its company
    labels = [m.text.split("\n", 1)[0] for m in d.bot.messages(CHAT) if m.buttons()]
    assert sorted(labels) == sorted(f"🏢 {env.sandbox.domain}" for env in (d.a, d.b))

    # B answers 500s: the CLI's sweep and digest still cover A, and exit 1 naming B
    d.b.sandbox.faults.error_share(1.0, status=500)
    for command in (["sweep"], ["digest", "--force"]):
        ran = d.cli(*command)
        assert ran.returncode == 1, ran.stdout + ran.stderr
        assert f"{command[0]} {d.a.member_id} " in ran.stdout
        assert f"{command[0]} {d.b.member_id}: FAILED" in ran.stderr and d.a.member_id not in ran.stderr
    d.b.sandbox.faults.clear()
    assert not d.deps.installations.get(d.b.member_id).removed  # a portal in trouble is not uninstalled

    # a genuine uninstall of B (the portal's own action): B is marked removed, nothing calls it afterwards
    d.b.sandbox.uninstall_app()
    d.settle()
    stored_b = d.deps.installations.find(d.b.member_id)
    assert stored_b is not None and stored_b.removed
    assert [i.member_id for i in d.deps.installations.active()] == [d.a.member_id]
    calls_b = len(d.b.sandbox.calls)

    # A carries on to «Оплачено»
    d.a.as_user("finance.manager").complete_task(int(_open_task(d.a, item_a)["id"]))
    d.settle()
    assert d.a.stage(item_a) == "PAYMENT"
    main, sub = sorted((t for t in d.a.tasks(item_a) if int(t["status"]) not in (4, 5)), key=lambda t: int(t["id"]))
    assert (int(main["responsibleId"]), int(sub["responsibleId"])) == (CHIEF, JUNIOR)
    junior = d.a.as_user("junior.accountant")
    junior.attach_file_to_task(int(sub["id"]), "order.pdf", b"%PDF payment order")
    junior.complete_task(int(sub["id"]))
    d.a.as_user("chief.accountant").complete_task(int(main["id"]))
    d.settle()
    assert d.a.stage(item_a) == "PAID"
    assert any("Оплачено" in n.message for n in d.a.as_user("a.ivanova").notifications())

    # the periodic sweep and the CLI cover A only now, and succeed
    assert sweep_job() is not None
    for command in (["sweep"], ["digest", "--force"]):
        ran = d.cli(*command)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert f"{command[0]} {d.a.member_id} " in ran.stdout and d.b.member_id not in ran.stdout + ran.stderr
    d.settle()
    assert len(d.b.sandbox.calls) == calls_b  # no REST call reached the uninstalled portal
    assert d.failed_jobs() == []
