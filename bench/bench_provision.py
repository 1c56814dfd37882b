"""Benchmark: REST requests for provisioning both processes on a fresh sandbox portal.

    python bench/bench_provision.py

Starts a sandbox portal (strict mode, HTTPS) and a private ``redis-server`` from PATH, installs the
app, then runs ``provision`` three times with the real REST client: the plan alone, the full apply,
and the no-op re-run. Prints the request count of each (and the methods sent, from the portal's call
log) and the number of strict-mode violations (expected: 0).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from b24app.auth.store import Installation, InstallationStore
from b24app.checks import load_definitions
from b24app.deps import Deps
from b24app.provisioning.apply import provision
from b24app.rest.client import RestClient
from b24app.settings import load_settings
from b24sandbox import SandboxPortal
from tests.fixtures.redis import start_redis_server

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_URL = "https://app.example.test"


def main() -> int:
    _, workflows = load_definitions(ROOT / "config", ROOT / "workflows")
    with tempfile.TemporaryDirectory() as tmp:
        redis_process, redis_url = start_redis_server(tmp)
        try:
            with SandboxPortal(strict=True, rate_limit=False) as portal:
                assert portal.ca_bundle
                os.environ["REQUESTS_CA_BUNDLE"] = portal.ca_bundle
                client = _installed_client(portal, redis_url)
                for label, apply in (("plan only (fresh portal)", False), ("full apply (fresh portal)", True),
                                     ("no-op re-run", True)):
                    start = len(portal.calls)
                    report = provision(client, workflows, PUBLIC_URL, apply=apply)
                    sent = Counter(c.method for c in portal.calls[start:] if c.in_batch)
                    print(f"{label:28} {report.requests:3} REST requests "
                          f"({len(report.plan.changes)} changes planned; inside batches: {dict(sent)})")
                print(f"strict-mode violations: {len(portal.violations)}")
                return 0 if not portal.violations else 1
        finally:
            redis_process.terminate()
            redis_process.wait(timeout=10)


def _installed_client(portal: SandboxPortal, redis_url: str) -> RestClient:
    creds = portal.install_app(handler_url="http://127.0.0.1:9/unused")
    deps = Deps(load_settings(env_file=None, redis_url=redis_url, client_id=creds.client_id,
                              client_secret=creds.client_secret, oauth_server=portal.base_url))
    tokens = creds.tokens
    InstallationStore(deps.redis).save(Installation(
        member_id=creds.member_id, domain=creds.domain, client_endpoint=creds.client_endpoint,
        access_token=tokens["access_token"], refresh_token=tokens["refresh_token"], expires_at=time.time() + 3600,
        application_token=creds.application_token, scopes=tuple(str(tokens.get("scope", "")).split(",")),
        installed_at=time.time(),
    ))
    return deps.bitrix(creds.member_id)


if __name__ == "__main__":
    sys.exit(main())
