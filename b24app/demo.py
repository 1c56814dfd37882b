"""``b24app demo [--keep]``: the whole job on the embedded sandbox, narrated in Russian.

Starts Redis (``B24APP_REDIS_URL`` when it is an empty database, else a private ``redis-server``),
the sandbox portal with the default organisation, the web app and a worker
(:class:`b24app.scenario.stack.Stack`), installs and provisions the app, then plays both processes on
a fast clock — three payment requests (two reach «Оплачено», one is rejected) and a contract (to
«Подписан») — printing what happened after each move: stages, tasks with deadlines, notifications;
the summary counts how many of each process reached each final stage. ``--keep`` then leaves live
work a person can act on (:mod:`b24app.demo_live`: requests at head approval, at finance, in
accounting, a frozen one, a contract under review, a head with Telegram linked), prints where to
click and whom to act as, and keeps everything running (an RQ worker with its scheduler serves the
app's jobs) until Ctrl+C.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from rq import SimpleWorker

from b24app import queue as queues
from b24app.demo_play import EXPECTED, START, Echo, Narrator
from b24app.scenario.services import RedisUnavailable, redis_for_tools
from b24app.scenario.stack import Stack, StackError
from b24sandbox.clock import SandboxClock

if TYPE_CHECKING:
    from b24app.demo_live import Live

__all__ = ["START", "Narrator", "demo_command", "run_demo"]

Serve = Callable[[Stack, Echo, "Live"], None]

def run_demo(echo: Echo, keep: bool = False, serve: Serve | None = None) -> bool:
    """Play the demo; True when the requests ended as intended (two paid, one rejected, a contract
    signed, a payment under it at «Оплата», a duplicate invoice caught and rejected).

    With ``keep``, then leave live work behind (:func:`b24app.demo_live.build_live`; True also needs each
    item where it should be) and hand the running stack to ``serve`` (default: print the guide and run a
    worker until Ctrl+C; a test passes its own, which looks at the live portal and returns)."""
    clock = SandboxClock(START)
    clock.freeze()
    with redis_for_tools() as url, Stack(url, clock, telegram=keep) as stack:
        echo(f"Портал-песочница: {stack.portal.base_url} (организация «Лаванда Косметикс»)")
        echo(f"Приложение: {stack.web_url}; Redis: {url}")
        echo("Приложение установлено в портал и развернуло смарт-процессы, стадии, поля и виджеты.")
        narrator = Narrator(stack, echo)
        ok = narrator.play() == EXPECTED
        if keep:
            from b24app.demo_live import build_live

            live = build_live(narrator)
            ok = ok and live.ok
            (serve or keep_serving)(stack, echo, live)
        return ok


def keep_serving(stack: Stack, echo: Echo, live: Live) -> None:
    """Print the guide to the live work and serve the app's jobs in real time until Ctrl+C."""
    stack.clock.speed = 1.0
    echo("")
    for line in live.guide():
        echo(line)
    echo(f"  (сертификат выпущен собственным центром песочницы: {stack.portal.ca_bundle})")
    echo("Воркер обрабатывает события и задания приложения. Ctrl+C — выход.")
    worker = SimpleWorker([stack.deps.queue(n) for n in queues.ALL_QUEUES], connection=stack.deps.redis)
    with contextlib.suppress(KeyboardInterrupt):
        worker.work(with_scheduler=True, logging_level="WARNING")


@click.command("demo")
@click.option("--keep", is_flag=True, help="Leave live work, the sandbox, web app and worker running (Ctrl+C stops).")
def demo_command(keep: bool) -> None:
    """Play payment requests and a contract to their ends on the embedded sandbox (--keep: leave live work)."""
    for name in ("werkzeug", "rq.worker", "rq.queue", "rq.job", "rq.scheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        ok = run_demo(click.echo, keep)
    except (RedisUnavailable, StackError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if not ok:
        click.echo("Демо завершилось не так, как задумано: см. шаги выше.", err=True)
    sys.exit(0 if ok else 1)
