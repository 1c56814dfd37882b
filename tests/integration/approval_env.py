"""The whole approval stack against the sandbox: the web app over HTTP in a thread, events delivered by
the sandbox to ``/b24/events``, jobs run by an RQ worker on a real Redis, the app installed and
provisioned with its own OAuth authorisation. Used by the approval flow tests and the lifecycle bench.
"""

from __future__ import annotations

import base64
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from b24app import queue as queues
from b24app.auth.store import Installation, InstallationStore
from b24app.checks import load_definitions
from b24app.deps import Deps, set_current
from b24app.pipeline.definitions import item_names
from b24app.provisioning.apply import provision
from b24app.provisioning.install import learn_portal
from b24app.settings import load_settings
from b24app.web import create_app
from b24app.worker import BurstWorker
from b24app.workflow.snapshot import ItemNames
from b24sandbox import SandboxPortal
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA
from b24sandbox.ufnames import to_camel
from tests.fixtures.redis import start_redis_server
from tests.fixtures.waits import WAIT
from tests.integration.webserver import serve

ROOT = Path(__file__).resolve().parents[2]
PR = "payment_requests"


@dataclass
class Env:
    sandbox: SandboxPortal
    deps: Deps              # the app's (web edge, jobs, decisions)
    inspector: Deps         # the test's own reads, counted apart from the app's requests
    member_id: str
    url: str

    @property
    def client(self) -> Any:
        """A client for the test's own reads (not the app's: its requests are not counted as the app's)."""
        return self.inspector.bitrix(self.member_id)

    @property
    def app_requests(self) -> int:
        return int(self.deps.bitrix(self.member_id).request_count)

    def names(self, workflow: str = PR) -> ItemNames:
        return item_names(self.deps, self.member_id, workflow)

    # -- running everything the portal's events cause ------------------------------------------
    def settle(self, rounds: int = 50) -> int:
        """Deliver events and run jobs until nothing is left; returns how many jobs ran.

        Waits for conditions, never for time: every delivery the portal queued has been answered by the
        app's edge (which enqueues before it answers), then the queues are empty. Jobs run here, in this
        process, so nothing else can add work once both hold."""
        conn = self.deps.redis
        queue_list = [Queue(name, connection=conn) for name in (queues.EVENTS, queues.DEFAULT)]
        ran = 0
        for _ in range(rounds):
            assert self.sandbox.drain_events(timeout=WAIT), "the portal's event deliveries did not finish"
            pending = sum(q.count for q in queue_list)
            if pending == 0:
                return ran
            BurstWorker(queue_list, connection=conn).work(burst=True)
            ran += pending
        raise AssertionError("events kept coming: the handlers loop")

    def failed_jobs(self) -> list[str]:
        conn = self.deps.redis
        found: list[str] = []
        for name in (queues.EVENTS, queues.DEFAULT):
            found += FailedJobRegistry(name, connection=conn).get_job_ids()
            found += ScheduledJobRegistry(name, connection=conn).get_job_ids()
        return found

    # -- people ---------------------------------------------------------------------------------
    def as_user(self, login: str) -> Any:
        """A person acting in the portal's UI (the clock stays frozen: events may share a ``ts``)."""
        return self.sandbox.as_user(login)

    def ui_fields(self, values: dict[str, Any], workflow: str = PR) -> dict[str, Any]:
        """YAML field codes -> the camelCase names the card (crm.item.* without original names) uses."""
        names = self.names(workflow)
        return {to_camel(names.field(code)) if code.isupper() else code: v for code, v in values.items()}

    def enum_id(self, code: str, workflow: str = PR) -> int:
        name = self.names(workflow).field(code)
        rows = self.client.call("userfieldconfig.list", {"moduleId": "crm", "filter": {"fieldName": name}})
        field = self.client.call("userfieldconfig.get", {"moduleId": "crm", "id": rows["fields"][0]["id"]})["field"]
        return int(field["enum"][0]["id"])

    def request_fields(self, amount: int = 150000, **extra: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "title": "Оплата упаковки", "AMOUNT": f"{amount}|RUB", "EXPENSE_ITEM": self.enum_id("EXPENSE_ITEM"),
            "INVOICE": ["invoice.pdf", base64.b64encode(b"%PDF-1.4 invoice").decode()],
            "COUNTERPARTY_NAME": "ООО «Упаковка»",
        }
        values.update(extra)
        return self.ui_fields(values)

    def item(self, item_id: int, workflow: str = PR) -> dict[str, Any]:
        names = self.names(workflow)
        raw = self.client.call("crm.item.get", {"entityTypeId": names.entity_type_id, "id": item_id,
                                                "useOriginalUfNames": "Y"})["item"]
        return dict(raw)

    def stage(self, item_id: int, workflow: str = PR) -> str:
        return self.names(workflow).stage_code(str(self.item(item_id, workflow)["stageId"]))

    def tasks(self, item_id: int, workflow: str = PR) -> list[dict[str, Any]]:
        names = self.names(workflow)
        answer = self.client.call("tasks.task.list", {
            "filter": {"UF_CRM_TASK": names.binding_for(item_id)},
            "select": ["ID", "TITLE", "STATUS", "RESPONSIBLE_ID", "PARENT_ID", "DESCRIPTION", "DEADLINE"]})
        return list(answer["tasks"])


@contextmanager
def approval_env(sandbox: SandboxPortal, redis_url: str, config_dir: Path = ROOT / "config",
                 paced: bool | None = None) -> Iterator[Env]:
    """The app installed and provisioned on ``sandbox``. ``paced``: the app keeps the plan's rate (default:
    when the sandbox limits). A sandbox that does not limit (the tests' default) needs no pacing by the app
    either — its bucket would only wait in real time; pacing is tested with a limiting sandbox or a Pacer of
    its own (tests/integration/test_pacing.py, test_rest_client.py). The benchmarks pace, as in production."""
    creds = sandbox.install_app(handler_url="http://127.0.0.1:9/unused")
    paced = sandbox.limits.enabled if paced is None else paced
    pace = {} if paced else {"rate_drain": 1000.0, "rate_burst": 10000}
    settings = load_settings(env_file=None, redis_url=redis_url, client_id=creds.client_id,
                             client_secret=creds.client_secret, oauth_server=sandbox.base_url, retry_base_delay=0.01,
                             config_dir=config_dir, workflows_dir=ROOT / "workflows", **pace)
    deps = Deps(settings)
    _store(deps, creds)
    with serve(create_app(deps=deps)) as url:
        _, workflows = load_definitions(config_dir, ROOT / "workflows")
        report = provision(deps.bitrix(creds.member_id), workflows, url, apply=True)
        assert report.ok, report.render()
        learn_portal(deps, creds.member_id)         # as the install hook does: the plan, the heads
        env = Env(sandbox, deps, Deps(settings), creds.member_id, url)
        env.settle()
        try:
            yield env
        finally:
            set_current(None)


def _store(deps: Deps, creds: Any) -> None:
    tokens = creds.tokens
    InstallationStore(deps.redis).save(Installation(
        member_id=creds.member_id, domain=creds.domain, client_endpoint=creds.client_endpoint,
        access_token=tokens["access_token"], refresh_token=tokens["refresh_token"], expires_at=time.time() + 3600,
        application_token=creds.application_token, scopes=tuple(str(tokens.get("scope", "")).split(",")),
        installed_at=time.time(),
    ))


@contextmanager
def bench_env(start: datetime) -> Iterator[Env]:
    """A benchmark's world: a private ``redis-server``, the sandbox portal (HTTPS, strict, its clock frozen
    at ``start``, its rate limit off until a measurement turns it on) and the app on it, paced as in
    production (its clock: ``env.sandbox.clock``); the sandbox must have seen no protocol violation."""
    logging.getLogger("rq").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        process, redis_url = start_redis_server(tmp)
        try:
            clock = SandboxClock(start)
            clock.freeze()
            with SandboxPortal(strict=True, tls=True, ca=SandboxCA(Path(tmp) / "ca"), rate_limit=False,
                               clock=clock) as portal:
                assert portal.ca_bundle
                os.environ["REQUESTS_CA_BUNDLE"] = portal.ca_bundle
                with approval_env(portal, redis_url, paced=True) as env:
                    yield env
                assert not portal.violations, portal.violations[:3]
        finally:
            process.terminate()
            process.wait(timeout=10)
