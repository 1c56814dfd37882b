"""REST requests of the bank round trip: ``python bench/bench_bank_import.py [LINES]`` (default 50).

Against the sandbox portal over HTTPS (strict mode) with a private ``redis-server``, the app installed and
provisioned. One request is played to the accounting step through the app (head, then finance manager)
with the recipient's bank details in its fields, then cloned to ``LINES`` requests at that step
(``tests/integration/sweep_mix.py``), each with its own invoice number. Measured:

* **orders**: :func:`b24app.bank.service.orders_file` for all of them (one ``crm.item.list`` page per 50);
* **import**: the sandbox bank's statement of that file (``b24sandbox.bank``), ``LINES`` outgoing
  documents, applied by :func:`b24app.bank.service.import_statement`: the list of open requests, the paid
  requests' reads and writes in shared batches (:func:`b24app.pipeline.many.process_many`), the Drive
  folder once, and the statement extracts uploaded and attached in batches of 25;
* **re-import**: the same statement again (changes nothing: the list only).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app.bank import service
from b24sandbox.bank import statement_for_orders
from b24sandbox.crmstore import items_of
from handlers import decisions
from tests.integration.approval_env import PR, Env, bench_env
from tests.integration.sweep_mix import FINANCE, HEAD, Template, clone

T = TypeVar("T")
TZ = ZoneInfo("Europe/Moscow")
START = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
ACCOUNTANT = 11
RECIPIENT = {"RECIPIENT_INN": "7700000016", "RECIPIENT_KPP": "770001001",
             "RECIPIENT_ACCOUNT": "40702810000000012345", "RECIPIENT_BIK": "044030777",
             "RECIPIENT_BANK": "ПАО «ДРУГОЙ БАНК»", "RECIPIENT_BANK_CITY": "г. Санкт-Петербург",
             "RECIPIENT_CORR_ACCOUNT": "30101810800000000777", "INVOICE_NUMBER": "А-1", "INVOICE_DATE": "2026-02-27"}


def at_payment(env: Env, lines: int) -> list[int]:
    """``lines`` requests at the accounting step, each with its own invoice number."""
    item = env.as_user("a.ivanova").create_item(env.names().entity_type_id, env.request_fields(15000, **RECIPIENT))
    first = int(item["id"])
    env.settle()
    for user in (HEAD, FINANCE):
        assert decisions.decide(env.deps, env.member_id, PR, first, user, "approve").ok
        env.settle()
    ids = [first, *clone(env, Template("payment", PR, first), lines - 1)]
    names = env.names()
    with env.sandbox.state.lock:
        items = items_of(env.sandbox.state, names.entity_type_id)
        for item_id in ids:
            items[item_id].values[names.field("INVOICE_NUMBER")] = f"А-{item_id}"
    return ids


def counted(env: Env, run: Callable[[], T]) -> tuple[int, float, T]:
    client = env.deps.bitrix(env.member_id)
    before, wall = client.request_count, time.monotonic()
    result = run()
    return client.request_count - before, time.monotonic() - wall, result


def main(lines: int) -> None:
    with bench_env(START) as env:
        ids = at_payment(env, lines)
        env.deps.bitrix(env.member_id).call("user.current")      # token refresh outside the count
        n_orders, t_orders, orders = counted(env, lambda: service.orders_file(
            env.deps, env.member_id, today=date(2026, 3, 2)))
        assert orders.data is not None
        assert sorted(orders.included) == sorted(ids), orders.missing[:3]
        statement = statement_for_orders(orders.data, debit_date=date(2026, 3, 3))
        n_import, t_import, report = counted(env, lambda: service.import_statement(
            env.deps, env.member_id, statement, user_id=ACCOUNTANT))
        assert len(report.paid) == lines, report
        env.settle()
        n_again, t_again, again = counted(env, lambda: service.import_statement(
            env.deps, env.member_id, statement, user_id=ACCOUNTANT))
        assert len(again.unchanged) == lines
    print(f"\nREST requests of the bank round trip, {lines} statement lines (batch = 1 request)")
    print(f"{'step':>10} {'requests':>9} {'wall s':>8}")
    for name, count, wall in (("orders", n_orders, t_orders), ("import", n_import, t_import),
                              ("re-import", n_again, t_again)):
        print(f"{name:>10} {count:>9} {wall:>8.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
