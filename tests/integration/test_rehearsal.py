"""The rehearsal of docs/deploy.md, step by step, across processes: the standalone sandbox registers a local
app, the integrator exports its credentials and starts ``b24app serve`` and ``worker``, the administrator
opens the app in the sandbox (install frame POST, ``installFinish``), ``provision --apply`` and ``doctor``
succeed, and a request a person creates in the sandbox UI's card goes through to «Оплачено» by what people do
in the sandbox UI (completing tasks, attaching the payment order). Each step is the documented command.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
import requests

from b24app.checks import load_definitions
from b24app.provisioning.desired import stage_suffixes
from tests.fixtures.redis import free_port, start_redis_server

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

pytestmark = pytest.mark.timeout(300)


def wait_for(what: str, probe: Callable[[], T | None], seconds: float = 60, shell: Rehearsal | None = None) -> T:
    """Poll until ``probe`` gives something; fail naming ``what`` (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}" + (f"\n{shell.tails()}" if shell else ""))
        time.sleep(0.2)


class Rehearsal:
    """The integrator's shell: an environment, the commands of docs/deploy.md, the processes they start."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("B24APP_", "REQUESTS_CA"))}
        self.env["PYTHONPATH"] = str(ROOT) + os.pathsep + self.env.get("PYTHONPATH", "")
        self.env["PYTHONUNBUFFERED"] = "1"
        self.env["B24APP_CONFIG_DIR"], self.env["B24APP_WORKFLOWS_DIR"] = str(ROOT / "config"), str(ROOT / "workflows")
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, *args: str) -> subprocess.Popen[str]:
        log = open(self.workdir / f"{args[0]}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([sys.executable, "-m", "b24app.cli", *args], cwd=self.workdir, env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT, text=True)
        self.processes.append(process)
        return process

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "b24app.cli", *args], cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def output(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text()

    def source(self, env_file: Path) -> None:
        for line in env_file.read_text().splitlines():
            key, _, value = line.partition("=")
            self.env[key] = value

    def tails(self) -> str:
        """The last lines each process printed (for a failure message)."""
        return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-25:])
                         for log in sorted(self.workdir.glob("*.log")))

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Rehearsal]:
    rehearsal = Rehearsal(tmp_path)
    try:
        yield rehearsal
    finally:
        rehearsal.stop()


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[str]:
    """A private redis-server with the persistence docs/deploy.md asks for (appendonly yes)."""
    process, url = start_redis_server(str(tmp_path))
    redis.Redis.from_url(url).config_set("appendonly", "yes")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_rehearsal_of_docs_deploy_md_works_across_processes(shell: Rehearsal, aof_redis: str, tmp_path: Path) -> None:
    app_port = free_port()
    public = f"http://127.0.0.1:{app_port}"
    # 1. the sandbox portal, with the local app registered (Developer resources → Other → Local application)
    shell.start("sandbox", "--port", "0", "--ca-dir", str(tmp_path / "ca"), "--app-handler-url", f"{public}/b24/install",
                "--env-file", str(tmp_path / "sandbox.env"))
    wait_for("the sandbox to start", lambda: "Press Ctrl+C" in shell.output("sandbox"))
    printed = shell.output("sandbox")
    base_match = re.search(r"Sandbox portal:\s+(\S+)", printed)
    webhook_match = re.search(r"Webhook \(admin\): (\S+)", printed)
    assert base_match is not None and webhook_match is not None, printed
    base, webhook = base_match[1], webhook_match[1]
    assert re.search(r"export B24APP_CLIENT_ID=local\.\S+", printed) and "B24APP_CLIENT_SECRET=" in printed

    # 2. export what it printed, plus Redis and the app's address; check, then start web and worker
    shell.source(tmp_path / "sandbox.env")
    shell.env |= {"B24APP_REDIS_URL": aof_redis, "B24APP_PUBLIC_URL": public}
    checked = shell.run("check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shell.start("serve", "--host", "127.0.0.1", "--port", str(app_port), "--workers", "1")
    shell.start("worker")
    wait_for("b24app serve", lambda: _answers(f"{public}/healthz"))

    portal = requests.Session()
    portal.verify = shell.env["REQUESTS_CA_BUNDLE"]
    portal.trust_env = False

    # 3. the administrator opens the app in the sandbox: install frame POST, proved, installFinish
    opened = portal.post(f"{base}/sandbox/app/open?format=json", timeout=60)
    assert opened.json() == {"app_status": 200, "installed": True}, opened.text
    assert "да" in portal.get(f"{base}/sandbox/app", timeout=10).text.split('class="installed">')[1][:4]

    # 4. provision: the plan, then --apply; then doctor
    plan = shell.run("provision")
    assert plan.returncode == 0 and "create" in plan.stdout.lower(), plan.stdout + plan.stderr
    applied = shell.run("provision", "--apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    doctor = shell.run("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "proved" in doctor.stdout and "scopes missing: none" in doctor.stdout

    # 5. a person creates a request in the sandbox UI's card; people in the sandbox UI take it to «Оплачено»
    rest = Rest(webhook, shell.env["REQUESTS_CA_BUNDLE"])
    etid = 1100                                   # workflows/payment_requests.yaml, type.entity_type_id
    fields = {d["upperName"].split("_", 3)[-1]: name for name, d in
              rest.call("crm.item.fields", entityTypeId=etid)["fields"].items() if d["isDynamic"]}
    ivanova = as_person(portal, base, "a.ivanova")
    card = html.unescape(ivanova.get(f"{base}/sandbox/kanban/{etid}/new", timeout=10).text)
    expense = re.search(rf'name="{fields["EXPENSE_ITEM"]}".*?<option value="(\d+)"[^>]*>Маркетинг', card, re.S)[1]  # type: ignore[index]
    created = ivanova.post(f"{base}/sandbox/kanban/{etid}/new", allow_redirects=False, timeout=30, data={
        "title": "Реклама у блогеров", "assignedById": "4", fields["COUNTERPARTY_NAME"]: "ООО «Блог»",
        fields["AMOUNT"]: "95000", f"{fields['AMOUNT']}__currency": "RUB",
        fields["EXPENSE_ITEM"]: expense},
        files={fields["INVOICE"]: ("invoice.pdf", b"%PDF-1.4 invoice")})
    assert created.status_code == 302, created.text
    item = int(created.headers["Location"].rsplit("created=", 1)[1])

    for login, stage, title in (("m.orlova", "HEAD_APPROVAL", "Согласовать"), ("finance.manager", "FINANCE_REVIEW", "Проверить"),
                                ("junior.accountant", "PAYMENT", "Прикрепить"), ("chief.accountant", "PAYMENT", "Выполнить")):
        wait_for(f"stage {stage}", lambda s=stage: rest.stage(etid, item).endswith(f":{s}"), shell=shell)  # type: ignore[misc]
        person = as_person(portal, base, login)
        task = wait_for(f"the task of {login}", lambda t=title, p=person, who=login: open_task(p, base, who, item, t))  # type: ignore[misc]
        if title == "Прикрепить":
            attached = person.post(f"{base}/sandbox/task/{task}/attach", files={"file": ("order.pdf", b"%PDF order")},
                                   allow_redirects=False, timeout=30)
            assert attached.status_code == 302 and "error=" not in attached.headers["Location"]
        done = person.post(f"{base}/sandbox/task/{task}/complete", allow_redirects=False, timeout=30)
        assert done.status_code == 302 and "error=" not in done.headers["Location"], done.headers["Location"]
    workflows = load_definitions(ROOT / "config", ROOT / "workflows")[1]
    paid = ":" + stage_suffixes(next(w for w in workflows if w.code == "payment_requests"))["PAID"]
    wait_for("«Оплачено»", lambda: rest.stage(etid, item).endswith(paid), shell=shell)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def as_person(portal: requests.Session, base: str, login: str) -> requests.Session:
    session = requests.Session()
    session.verify, session.trust_env = portal.verify, False
    session.post(f"{base}/sandbox/act-as", data={"login": login, "next": "/sandbox/"}, timeout=10)
    return session


class Rest:
    """The integrator looking at the portal with the sandbox's admin webhook."""

    def __init__(self, webhook: str, ca: str) -> None:
        self.webhook, self.ca = webhook, ca

    def call(self, method: str, **params: Any) -> Any:
        answer = requests.post(f"{self.webhook}{method}", json=params, verify=self.ca, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]

    def stage(self, etid: int, item: int) -> str:
        """The item's stage; "" while the portal's bucket is full (the app shares it)."""
        time.sleep(1)
        answer = requests.post(f"{self.webhook}crm.item.get", json={"entityTypeId": etid, "id": item}, verify=self.ca,
                               timeout=30)
        return "" if answer.status_code == 503 else str(answer.json()["result"]["item"]["stageId"])



def open_task(person: requests.Session, base: str, login: str, item: int, title: str) -> int | None:
    """The task the person can complete on their page in the sandbox UI, by the start of its title (the
    request's number in it, except for the payment order subtask, whose title has none)."""
    page = html.unescape(person.get(f"{base}/sandbox/user/{login}", timeout=10).text)
    rows = re.findall(r"<td>(\d+)(?: <span[^>]*>[^<]*</span>)?</td>\s*<td>([^<]*)</td>", page)
    for task_id, task_title in rows:
        if task_title.startswith(title) and (f"№{item}" in task_title or "№" not in task_title) \
                and f"/task/{task_id}/complete" in page:
            return int(task_id)
    return None
