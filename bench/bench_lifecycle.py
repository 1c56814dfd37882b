"""REST requests per lifecycle, on four routes, with the next sweep's share: ``python bench/bench_lifecycle.py``.

Runs the whole stack against the sandbox portal (HTTPS, strict mode): a private ``redis-server``, the
web app receiving the sandbox's events over HTTP, an RQ worker, the app provisioned. Routes:

* **payment, happy path**: creation -> head completes the task -> finance approves in the card -> the junior
  accountant attaches the payment order and completes the subtask -> the chief completes the payment task;
* **contract, 4 approvals**: creation -> head, lawyer, finance, director approve in the card -> «Подписан»;
* **payment with one rejection and resubmission**: the happy path with finance rejecting (with a reason)
  and the initiator resubmitting before the second round;
* **payment with one freeze and unfreeze**: the happy path with the head freezing and unfreezing first;
* **payment linked to the contract**: the happy path of a request linked to the signed contract (its
  ``parentId1102``), with a counterparty and amount seen before — so the finance review shows the contract's
  standing and a duplicate warning.

Every payment route runs the finance review's checks (#16): one download of the invoice file (its SHA-256;
once per file id, then from Redis) at submission, when the links batch — the contract, its payments and the
one filtered ``crm.item.list`` of duplicate candidates — is planned; those commands ride the item's read
batches until the read that finds the request entering the finance review, whose answers are used (no
separate batch while nothing they depend on changed). ``checks`` in each route's lines below counts the
lists and how many rode a read.

After each route one sweep runs (``handlers.sweep.run_sweep``: the offline queue, then escalation); its
share is the refreshes of the route's item plus the ``event.offline.clear`` its rows cost. A person's
action reaches the app a moment later (the portal delivers events through its queue server, §3.2): the
bench advances the sandbox clock by a second after each, so the app's read falls in a later second than
the change (a change in the same second as the read is refreshed once more by the sweep — the safe side).

The floor (docs/performance.md): events carry ids only (REFERENCE §0.6, §3), so every trigger carrying
information the app cannot know costs one read, every visible transition one write batch, and a read and
the write that depends on it cannot share a batch. The app's own writes come back as events (echoes):
they are recognised (``b24app.pipeline.echo``) and cost nothing; so does the display-name lookup (folded
into the first read). Capacity: a standard portal allows about 2 requests a second (7200 an hour) shared
with everything; lifecycles/hour = (7200 - sweep requests per hour) / requests per lifecycle.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app.escalation.sweep import sweep
from handlers import decisions
from handlers.offline import catch_up
from handlers.sweep import run_sweep
from tests.integration.approval_env import PR, Env, bench_env

ETID, CONTRACTS = 1100, 1102
HEAD, LAWYER, FINANCE, DIRECTOR, INITIATOR = 3, 13, 8, 2, 4
SWEEPS_PER_HOUR = 12
#: The floors before the checks (#16) and the checks' share: +1 download per invoice file (at submission); the
#: links batch rides the read that finds the request entering the finance review (planned ahead, #13 — 11, 18,
#: 15 and 11 while it was a separate batch); the contract's +1 is its file's download (its version's content
#: hash, #16), once per file id (docs/performance.md).
FLOORS = {"payment, happy path": 9 + 1, "contract, 4 approvals": 10 + 1, "payment, rejection + resubmission": 15 + 1,
          "payment, freeze + unfreeze": 13 + 1, "payment linked to the contract": 9 + 1}
SIGNED: list[int] = []


class Route:
    """Counts the app's requests per step; ``person`` lets a moment pass after a person's action."""

    def __init__(self, env: Env) -> None:
        self.env, self.client = env, env.deps.bitrix(env.member_id)
        self.start = self.client.request_count
        self.steps: list[tuple[str, int]] = []
        self.first_call = self.last_call = len(env.sandbox.calls)

    def step(self, name: str) -> None:
        self.env.settle()
        self.steps.append((name, self.client.request_count - self.start - sum(n for _, n in self.steps)))
        self.last_call = len(self.env.sandbox.calls)

    def person(self) -> None:
        self.env.sandbox.clock.advance(timedelta(seconds=1))

    def decide(self, workflow: str, item_id: int, user: int, decision: str, comment: str = "") -> None:
        self.person()
        assert decisions.decide(self.env.deps, self.env.member_id, workflow, item_id, user, decision, comment).ok

    def complete(self, login: str, task_id: int) -> None:
        self.env.as_user(login).complete_task(task_id)
        self.person()

    def total(self) -> int:
        return sum(n for _, n in self.steps)

    def checks(self) -> tuple[int, int, int]:
        """(duplicate-candidate lists, those riding the item's read batch, invoice downloads) the route cost:
        the lists are the filtered ``crm.item.list`` commands with the duplicate filter's ``!=id``; one rides
        the read when its batch (recorded after its commands) also reads the item's tasks."""
        calls = self.env.sandbox.calls[self.first_call:self.last_call]
        lists = riding = 0
        for index, call in enumerate(calls):
            if call.method == "crm.item.list" and "!=id" in (call.params.get("filter") or {}):
                lists += 1
                batch = next((c for c in calls[index + 1:] if c.method == "batch"), None)
                cmd = (batch.params.get("cmd") or {}) if batch is not None else {}
                riding += any("tasks.task.list" in str(v) for v in cmd.values())
        downloads = sum(1 for c in calls if "getFile" in c.method)
        return lists, riding, downloads


def created(route: Route, etid: int, fields: dict[str, object]) -> int:
    item = route.env.as_user("a.ivanova").create_item(etid, fields)
    route.person()
    route.step("created -> first approval (task, notification)")
    return int(item["id"])


def head_task(route: Route, item_id: int) -> None:
    open_tasks = [t for t in route.env.tasks(item_id) if int(t["status"]) not in (4, 5)]
    route.complete("m.orlova", int(open_tasks[0]["id"]))
    route.step("head completes the task -> finance review (checks riding the read)")


def payment_tail(route: Route, item_id: int) -> None:
    route.decide(PR, item_id, FINANCE, "approve")
    route.step("finance approves in the card -> payment (task + subtask)")
    tasks = sorted(route.env.tasks(item_id), key=lambda t: int(t["id"]))
    main, sub = tasks[-2], tasks[-1]
    route.env.as_user("junior.accountant").attach_file_to_task(int(sub["id"]), "order.pdf", b"%PDF order")
    route.complete("junior.accountant", int(sub["id"]))
    route.step("junior attaches the order and completes the subtask")
    route.complete("chief.accountant", int(main["id"]))
    route.step("chief completes the payment task -> paid")
    assert route.env.stage(item_id) == "PAID", route.env.stage(item_id)


def happy(route: Route) -> int:
    item_id = created(route, ETID, route.env.request_fields())
    head_task(route, item_id)
    payment_tail(route, item_id)
    return item_id


def rejected(route: Route) -> int:
    item_id = created(route, ETID, route.env.request_fields())
    head_task(route, item_id)
    route.decide(PR, item_id, FINANCE, "reject", "Нет бюджета")
    route.step("finance rejects with a reason -> rejected")
    route.decide(PR, item_id, INITIATOR, "resubmit")
    route.step("the initiator resubmits -> head approval")
    head_task(route, item_id)
    payment_tail(route, item_id)
    return item_id


def frozen(route: Route) -> int:
    item_id = created(route, ETID, route.env.request_fields())
    route.decide(PR, item_id, HEAD, "freeze", "Ждём бюджет")
    route.step("head freezes -> frozen")
    route.decide(PR, item_id, HEAD, "unfreeze")
    route.step("head unfreezes -> head approval (task renewed)")
    head_task(route, item_id)
    payment_tail(route, item_id)
    return item_id


def contract(route: Route) -> int:
    fields = route.env.ui_fields({"title": "Договор поставки", "SUBJECT": "Поставка флаконов",
                                  "AMOUNT": "500000|RUB", "CONTRACT_FILE": ["contract.pdf", "JVBERi0="]}, "contracts")
    item_id = created(route, CONTRACTS, fields)
    for user in (HEAD, LAWYER, FINANCE, DIRECTOR):
        route.decide("contracts", item_id, user, "approve")
        route.step(f"user {user} approves in the card")
    assert route.env.stage(item_id, "contracts") == "SIGNED"
    SIGNED.append(item_id)
    return item_id


def linked(route: Route) -> int:
    """The happy path of a payment linked to the signed contract of the contract route."""
    item_id = created(route, ETID, route.env.request_fields(120000, **{f"parentId{CONTRACTS}": SIGNED[-1]}))
    head_task(route, item_id)
    payment_tail(route, item_id)
    return item_id


def sweep_share(env: Env, item_id: int) -> tuple[int, int, int]:
    """One sweep after the route: (its requests, refreshes of the route's item, offline requests)."""
    client = env.deps.bitrix(env.member_id)
    before = client.request_count
    caught = catch_up(env.deps, env.member_id)
    sweep(env.deps, env.member_id, None, False, offline=(caught.requests, len(caught.targets)))
    refreshed = sum(1 for target in caught.targets if target[1] == item_id)
    return client.request_count - before, refreshed, caught.requests


def main() -> None:
    routes = {"payment, happy path": happy, "contract, 4 approvals": contract,
              "payment, rejection + resubmission": rejected, "payment, freeze + unfreeze": frozen,
              "payment linked to the contract": linked}
    results: list[tuple[str, Route, tuple[int, int, int]]] = []
    with bench_env(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))) as env:
        env.names()                  # the runtime mapping, read once per portal and cached
        env.names("contracts")
        run_sweep(env.deps, env.member_id)      # the offline rows of provisioning
        for name, run in routes.items():
            route = Route(env)
            item_id = run(route)
            results.append((name, route, sweep_share(env, item_id)))
    report(results)


def report(results: list[tuple[str, Route, tuple[int, int, int]]]) -> None:
    print("REST requests per lifecycle (batch = 1 request), then the next sweep's share")
    idle_sweep = min(total - refreshed for _, _, (total, refreshed, _) in results)
    for name, route, (sweep_total, refreshed, offline) in results:
        print(f"\n{name}")
        for step, count in route.steps:
            print(f"  {count:3d}  {step}")
        print(f"  {route.total():3d}  total (floor {FLOORS[name]})")
        lists, riding, downloads = route.checks()
        if name.startswith("payment"):
            print(f"       duplicate check: {lists} filtered crm.item.list ({riding} riding the item's read, "
                  f"{lists - riding} in a separate links batch), {downloads} invoice download(s)")
        print(f"  {refreshed:3d}  added to the next sweep (refreshes of this item; that sweep made {sweep_total} "
              f"requests, {offline} of them reading and clearing the offline queue)")
    per_hour = SWEEPS_PER_HOUR * idle_sweep
    print(f"\ncapacity of a standard portal (7200 requests/hour; sweeps {SWEEPS_PER_HOUR}/hour x {idle_sweep} = "
          f"{per_hour} requests/hour)")
    for name, route, (_, refreshed, _) in results:
        each = route.total() + refreshed
        print(f"  {name:<36} {(7200 - per_hour) / each:7.0f} lifecycles/hour ({each} requests each)")


if __name__ == "__main__":
    main()
