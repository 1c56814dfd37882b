"""``b24app bank``: the bank round trip for scripts — ``orders OUT``, ``import FILE``, ``pending``, ``resolve``.

Each command acts on one portal (``--member-id``, or the only installation) through
:mod:`b24app.bank.service`, the calls the accounting view makes. ``import`` and ``resolve`` are recorded
in the name of ``--user-id``; ``orders`` is written only for such a ``--user-id`` too; who must hold one of the roles of ``config/bank.yaml`` or stand in for a
holder today (:func:`b24app.web.access.may_exchange`, the accounting view's rule). Exit status: 0 done,
1 nothing done (no file written, a statement refused, a choice that cannot be applied), 2 a usage or
configuration problem. The problems and reasons staff read (what keeps a request out of the file, why a
line is left for the accountant) are in Russian, or English with ``--lang en`` (``b24app/texts/bank.py``);
a refused statement's ``line N:`` errors are the parser's own.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from b24app.deps import Deps


def _portal(member_id: str | None) -> tuple[Deps, str]:
    """The portal to act on, with its ``bank.yaml`` read: a missing or invalid one exits 2 with every problem."""
    from b24app.bank.service import BankNotConfigured, bank_config
    from b24app.cliutil import settings_or_exit
    from b24app.deps import Deps, set_current
    from b24app.errors import PortalNotConfigured
    from b24app.portal_choice import choose
    from b24app.yamlio import ConfigError

    deps = Deps(settings_or_exit())
    set_current(deps)
    try:
        target = choose(deps, member_id)
        bank_config(deps, target)
    except (PortalNotConfigured, BankNotConfigured, ConfigError) as exc:
        click.echo(f"bank: {exc}", err=True)
        sys.exit(2)
    return deps, target


def _accountant(deps: Deps, member_id: str, user_id: int) -> None:
    from b24app.bank.service import bank_config
    from b24app.web.access import may_exchange

    if not may_exchange(deps, member_id, user_id, None):
        roles = ", ".join(bank_config(deps, member_id).roles)
        click.echo(f"bank: user {user_id} holds none of the roles of bank.yaml ({roles}) and stands in for none "
                   "of their holders today; pass --user-id of an accountant (a portal administrator outside "
                   "these roles can be recognised only in the accounting view, with their own sign-in)", err=True)
        sys.exit(2)


LANG = click.option("--lang", type=click.Choice(["ru", "en"]), default="ru", show_default=True,
                    help="The language of the problems and reasons shown.")


@click.group("bank")
def bank_group() -> None:
    """Payment orders to the bank and statements back (1CClientBankExchange, docs/bank.md)."""


@bank_group.command("orders")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user-id", type=int, required=True, help="The accountant downloading the file.")
@click.option("--member-id", default=None, help="The portal (default: the only installation).")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The orders' date (default: the portal's today).")
@LANG
def orders_command(out: Path, user_id: int, member_id: str | None, day: datetime | None, lang: str) -> None:
    """Write the payment-order file for the requests at the accounting step to OUT; list what keeps
    the others out."""
    from b24app.bank.service import orders_file
    from b24app.texts.bank import missing_text

    deps, target = _portal(member_id)
    _accountant(deps, target, user_id)
    from b24app.web.access import portal_now

    today = day.date() if day is not None else portal_now(deps, target).date()   # the portal's day, not UTC's
    result = orders_file(deps, target, today=today)
    for item_id, problems in result.missing:
        click.echo(f"request №{item_id} left out: " + "; ".join(missing_text(p, lang) for p in problems), err=True)
    if result.data is None:
        click.echo("bank: no request could be written: nothing saved", err=True)
        sys.exit(1)
    out.write_bytes(result.data)
    click.echo(f"{out}: {len(result.included)} payment orders (requests "
               + ", ".join(f"№{i}" for i in result.included) + ")")


@bank_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user-id", type=int, required=True, help="The accountant the upload is recorded for.")
@click.option("--member-id", default=None, help="The portal (default: the only installation).")
@LANG
def import_command(file: Path, user_id: int, member_id: str | None, lang: str) -> None:
    """Apply the bank statement FILE: clear matches become «Оплачено», the rest is listed."""
    from b24app.bank.service import BankFileError, import_statement
    from b24app.texts.bank import issue_text

    deps, target = _portal(member_id)
    _accountant(deps, target, user_id)
    try:
        report = import_statement(deps, target, file.read_bytes(), user_id=user_id, filename=file.name)
    except BankFileError as exc:
        click.echo(f"bank: {file} refused, nothing changed:\n{exc}", err=True)
        sys.exit(1)
    for title, lines in (("paid", report.paid), ("ambiguous (for the accountant)", report.ambiguous),
                         ("unmatched", report.unmatched), ("unchanged (applied before)", report.unchanged)):
        click.echo(f"{title}: {len(lines)}")
        for line in lines:
            target_text = f" -> request №{line.item_id}" if line.item_id else ""
            click.echo(f"  №{line.number} of {line.date:%d.%m.%Y}, {line.amount:.2f}{target_text}: "
                       f"{issue_text(line.reason, lang)}")
    click.echo(f"sha256 {report.sha256}")


@bank_group.command("pending")
@click.option("--member-id", default=None, help="The portal (default: the only installation).")
@LANG
def pending_command(member_id: str | None, lang: str) -> None:
    """The statement lines waiting for the accountant's choice."""
    from b24app.bank.service import pending
    from b24app.texts.bank import issue_text

    deps, target = _portal(member_id)
    for line in pending(deps, target):
        candidates = ", ".join(f"№{c}" for c in line.candidates)
        click.echo(f"{line.key}\t№{line.number} of {line.date:%d.%m.%Y}, {line.amount:.2f}: {issue_text(line.reason, lang)} "
                   f"(candidates: {candidates})")


@bank_group.command("resolve")
@click.argument("document_key")
@click.argument("item_id", type=int)
@click.option("--user-id", type=int, required=True, help="The accountant making the choice.")
@click.option("--member-id", default=None, help="The portal (default: the only installation).")
@LANG
def resolve_command(document_key: str, item_id: int, user_id: int, member_id: str | None, lang: str) -> None:
    """Say that the pending bank document DOCUMENT_KEY paid request ITEM_ID."""
    from b24app.bank.service import ResolveError, resolve
    from b24app.texts.bank import issue_text

    deps, target = _portal(member_id)
    _accountant(deps, target, user_id)
    try:
        line = resolve(deps, target, document_key, item_id, user_id=user_id)
    except ResolveError as exc:
        click.echo(f"bank: {issue_text(exc.issue, lang)}", err=True)
        sys.exit(1)
    click.echo(f"request №{line.item_id} paid by document №{line.number} of {line.date:%d.%m.%Y}")
