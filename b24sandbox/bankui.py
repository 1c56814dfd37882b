"""The sandbox bank over HTTP (``/sandbox/bank``): payment orders in, the statement out.

* ``POST /sandbox/bank/statement?date=YYYY-MM-DD`` — the body is the orders file (raw bytes, or a
  multipart form field ``orders`` as the «Банк» page sends it); the answer is the statement's bytes
  (``text/plain`` in the statement's charset, as an attachment). Options, in the query or the form:
  ``encoding=DOS`` (cp866; default ``Windows``), ``unknown_keys=1``, ``unmatched=AMOUNT`` (an extra
  outgoing payment to a supplier outside the process, number ``unmatched_number``, default 9001),
  ``incoming=AMOUNT`` (a customer's payment to us, number ``incoming_number``, default 7001),
  ``opening=AMOUNT`` (the opening balance). No ``date``: the portal's today. A file the bank cannot
  read answers 400 with one ``line N: message`` per line.
* ``GET /sandbox/bank`` — the «Банк» page: upload an orders file, pick the date and options, download
  the statement.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from flask import Flask, render_template, request
from werkzeug.wrappers import Response

from b24sandbox import bank

if TYPE_CHECKING:
    from b24sandbox.ui import SandboxUI


class _BadRequest(ValueError):
    pass


def _amount(name: str) -> Decimal | None:
    text = (request.values.get(name) or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise _BadRequest(f"{name}: {text!r} is not an amount") from None
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        raise _BadRequest(f"{name}: {text!r} must be positive with at most two decimals")
    return value


def _extras() -> list[bank.ExtraDocument]:
    extras = []
    unmatched = _amount("unmatched")
    if unmatched is not None:
        extras.append(bank.ExtraDocument(request.values.get("unmatched_number") or "9001", unmatched,
                                         "Оплата по договору 15/2026 (вне заявок)"))
    incoming = _amount("incoming")
    if incoming is not None:
        extras.append(bank.ExtraDocument(request.values.get("incoming_number") or "7001", incoming,
                                         "Оплата за косметику по счёту 310", incoming=True,
                                         counterparty=bank.CUSTOMER))
    return extras


def _orders() -> bytes:
    upload = request.files.get("orders")
    return upload.read() if upload is not None else request.get_data()


def add_routes(app: Flask, ui: SandboxUI) -> None:
    @app.get("/bank")
    def bank_page() -> str:
        return render_template("bank.html", today=ui.state.now().date().isoformat())

    @app.post("/bank/statement")
    def bank_statement() -> Response:
        try:
            day_text = request.values.get("date") or ui.state.now().date().isoformat()
            try:
                debit_date = date.fromisoformat(day_text)
            except ValueError:
                raise _BadRequest(f"date: {day_text!r} is not YYYY-MM-DD") from None
            encoding = request.values.get("encoding") or "Windows"
            if encoding not in bank.OUTPUT_CHARSETS:
                raise _BadRequest(f"encoding: {encoding!r} is not one of {', '.join(bank.OUTPUT_CHARSETS)}")
            content = bank.statement_for_orders(
                _orders(), debit_date=debit_date, extra=_extras(), encoding=encoding,
                unknown_keys=request.values.get("unknown_keys") in ("1", "on", "true", "Y"),
                opening_balance=_amount("opening") or Decimal("1000000.00"))
        except bank.OrdersFileError as error:
            return Response("\n".join(error.problems) + "\n", 400, content_type="text/plain; charset=utf-8")
        except _BadRequest as error:
            return Response(f"{error}\n", 400, content_type="text/plain; charset=utf-8")
        charset = "windows-1251" if encoding == "Windows" else "cp866"
        name = f"kl_to_1c_{debit_date:%Y%m%d}.txt"
        return Response(content, 200, content_type=f"text/plain; charset={charset}",
                        headers={"Content-Disposition": f"attachment; filename={name}"})
