"""The browser tests' shared fixtures: Debian's chromium through Playwright, and a stack (sandbox portal
over HTTPS, the app, real Redis) on a frozen clock at :data:`START`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, sync_playwright

from b24app.scenario.stack import Stack
from b24sandbox.clock import SandboxClock
from b24sandbox.tls import SandboxCA

CHROMIUM = "/usr/bin/chromium"
START = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        # The portal page is HTTPS, the app on loopback is plain HTTP (as a dev tunnel would not be).
        launched = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--allow-running-insecure-content", "--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def stack(redis_url: str, sandbox_ca: SandboxCA) -> Iterator[Stack]:
    clock = SandboxClock(START)
    clock.freeze()
    with Stack(redis_url, clock, ca=sandbox_ca) as running:
        yield running
