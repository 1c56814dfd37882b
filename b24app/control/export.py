"""The control room's rows as CSV that Excel opens as it is: UTF-8 with a BOM, ``;`` between fields."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

BOM = "\ufeff"
COLUMNS = ("col_number", "col_request", "col_process", "col_step", "col_approver", "col_department",
           "col_expense", "col_amount", "col_counterparty", "col_waiting", "col_state", "col_link")


def rows_csv(rows: Iterable[Mapping[str, Any]], t: Mapping[str, str], lang: str) -> str:
    """The rows (already filtered) with a header in the page's language; decimals with a comma for ``ru``."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([t[c] for c in COLUMNS])
    for r in rows:
        state = t["overdue"] if r["overdue"] else t["paused"] if r["paused"] else t["on_time"]
        waiting = f"{r['waiting_hours']:.1f}"
        writer.writerow([r["item_id"], r["title"], r[f"workflow_{lang}"], r[f"step_{lang}"], r["approver_name"],
                         r["department_name"], r["expense_name"], r["amount"], r["counterparty"],
                         waiting.replace(".", ",") if lang == "ru" else waiting, state, r["url"]])
    return BOM + out.getvalue()
