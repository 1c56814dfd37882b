"""Settings: every bad or missing value reported by its variable name, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from b24app.errors import SettingsError
from b24app.settings import load_settings, webhook_parts


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("B24APP_"):
            monkeypatch.delenv(name)


def test_defaults_without_any_variable() -> None:
    settings = load_settings(env_file=None)
    assert settings.portal_mode == "none"
    assert settings.oauth_server == "https://oauth.bitrix.info"
    assert settings.rate == (2.0, 50)
    assert settings.config_dir == Path("config")


def test_every_bad_value_is_reported_by_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B24APP_RATE_PROFILE", "gold")
    monkeypatch.setenv("B24APP_REDIS_URL", "http://localhost")
    monkeypatch.setenv("B24APP_WEBHOOK_URL", "https://portal.example/rest/abc/")
    monkeypatch.setenv("B24APP_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    text = "\n".join(caught.value.problems)
    for name in ("B24APP_RATE_PROFILE", "B24APP_REDIS_URL", "B24APP_WEBHOOK_URL", "B24APP_LOG_LEVEL"):
        assert name in text
    assert len(caught.value.problems) == 4


def test_half_an_oauth_pair_names_the_missing_half(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B24APP_CLIENT_ID", "local.abc")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert "B24APP_CLIENT_SECRET" in str(caught.value)


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("B24APP_RATE_PROFILE=enterprise\nB24APP_CLIENT_ID=local.x\nB24APP_CLIENT_SECRET=sec-ret-1\n")
    settings = load_settings(env_file=env)
    assert settings.rate == (5.0, 250)
    assert settings.portal_mode == "oauth"


def test_webhook_secret_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B24APP_WEBHOOK_URL", "https://portal.example/rest/7/verysecretcode/")
    settings = load_settings(env_file=None)
    assert settings.portal_mode == "webhook"
    assert "verysecretcode" not in repr(settings)
    assert "verysecretcode" in settings.secrets()


def test_redis_is_required_only_when_asked() -> None:
    settings = load_settings(env_file=None)
    with pytest.raises(SettingsError, match="B24APP_REDIS_URL"):
        settings.require_redis()


def test_webhook_parts() -> None:
    assert webhook_parts("https://127.0.0.1:8443/rest/1/abc/") == ("127.0.0.1:8443", 1, "abc")
    with pytest.raises(ValueError):
        webhook_parts("http://portal/rest/1/abc/")
