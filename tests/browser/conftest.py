"""The browser tests' shared fixture: Debian's chromium through Playwright (``stack`` is
:mod:`tests.fixtures.stack`'s)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"


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

