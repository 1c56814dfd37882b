"""``b24app provision`` as an integrator runs it: settings from the environment, the real client."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from b24app.provisioning.cli import provision_command
from b24app.provisioning.mapping import MappingCache, PortalMapping
from tests.provisioning.conftest import PUBLIC_URL, ROOT, Installed

WRITES = ("add", "update", "delete", "bind", "unbind")


@pytest.fixture
def env(installed: Installed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    settings = installed.deps.settings
    values = {
        "B24APP_PUBLIC_URL": PUBLIC_URL, "B24APP_REDIS_URL": str(settings.redis_url),
        "B24APP_CLIENT_ID": str(settings.client_id), "B24APP_OAUTH_SERVER": str(settings.oauth_server),
        "B24APP_CLIENT_SECRET": settings.client_secret.get_secret_value() if settings.client_secret else "",
        "B24APP_CONFIG_DIR": str(ROOT / "config"), "B24APP_WORKFLOWS_DIR": str(ROOT / "workflows"),
    }
    monkeypatch.chdir(tmp_path)  # no stray .env file
    return values


def test_provision_prints_the_plan_then_applies_it(installed: Installed, env: dict[str, str]) -> None:
    runner = CliRunner()
    shown = runner.invoke(provision_command, [], env=env)
    assert shown.exit_code == 0, shown.output
    assert "+ type payment_requests" in shown.output and "Run again with --apply" in shown.output
    assert not [c for c in installed.portal.calls if c.method.lower().rsplit(".", 1)[-1] in WRITES]

    cache = MappingCache(installed.deps.redis, installed.member_id)
    cache.put(PortalMapping({}))
    applied = runner.invoke(provision_command, ["--apply"], env=env)
    assert applied.exit_code == 0, applied.output
    assert "0 failed, 0 unknown, 0 not done" in applied.output
    assert cache.get() is None  # the cached mapping is dropped after changes

    again = runner.invoke(provision_command, ["--apply"], env=env)
    assert again.exit_code == 0 and "No changes: the portal matches the workflows." in again.output


def test_invalid_definitions_stop_before_any_request(installed: Installed, env: dict[str, str],
                                                     tmp_path: Path) -> None:
    broken = tmp_path / "workflows"
    shutil.copytree(ROOT / "workflows", broken)
    path = broken / "contracts.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('actor: "role:lawyer"', 'actor: "role:notary"'),
                    encoding="utf-8")
    before = len(installed.portal.calls)
    result = CliRunner().invoke(provision_command, ["--apply"], env={**env, "B24APP_WORKFLOWS_DIR": str(broken)})
    assert result.exit_code == 2
    assert f"{path}:" in result.output and "unknown role 'notary'" in result.output
    assert "nothing was sent to the portal" in result.output
    assert len(installed.portal.calls) == before


def test_missing_public_url_is_named(installed: Installed, env: dict[str, str]) -> None:
    result = CliRunner().invoke(provision_command, [], env={**env, "B24APP_PUBLIC_URL": ""})
    assert result.exit_code == 2 and "B24APP_PUBLIC_URL" in result.output
