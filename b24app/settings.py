"""Typed settings read from ``B24APP_*`` environment variables and an optional ``.env`` file.

``load_settings()`` reports every bad or missing value at once, by variable name, as a
:class:`b24app.errors.SettingsError`. Secrets are ``SecretStr`` so they never print.

Two ways to reach a portal:

* ``B24APP_WEBHOOK_URL`` — an incoming webhook (one portal, simplest for integrators);
* ``B24APP_CLIENT_ID`` + ``B24APP_CLIENT_SECRET`` — a local application; its tokens arrive with the
  install callback and live in the installation store (Redis).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from b24app.errors import SettingsError

ENV_PREFIX = "B24APP_"

#: Leaky-bucket budgets per plan (drain per second, burst), REFERENCE §1.7.
RATE_PROFILES: dict[str, tuple[float, int]] = {"standard": (2.0, 50), "enterprise": (5.0, 250)}


class Settings(BaseSettings):
    """Everything the app reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    webhook_url: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    oauth_server: str = "https://oauth.bitrix.info"
    redis_url: str | None = None
    public_url: str | None = None
    rate_profile: Literal["standard", "enterprise"] = "standard"
    rate_drain: float | None = Field(default=None, gt=0)
    rate_burst: int | None = Field(default=None, gt=0)
    retry_base_delay: float = Field(default=1.0, ge=0)
    config_dir: Path = Path("config")
    workflows_dir: Path = Path("workflows")
    telegram_token: SecretStr | None = None
    telegram_secret: SecretStr | None = None
    secret_key: SecretStr | None = None
    provision_on_install: bool = False
    max_request_bytes: int = Field(default=256 * 1024, ge=1024)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("webhook_url")
    @classmethod
    def _webhook_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        webhook_parts(value.get_secret_value())
        return value

    @field_validator("oauth_server", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis:// (or rediss://, unix://) URL")
        return value

    @model_validator(mode="after")
    def _oauth_pair(self) -> Settings:
        if bool(self.client_id) != bool(self.client_secret):
            missing = "B24APP_CLIENT_SECRET" if self.client_id else "B24APP_CLIENT_ID"
            raise ValueError(f"{missing} is required when the other half of the OAuth pair is set")
        return self

    @property
    def portal_mode(self) -> Literal["webhook", "oauth", "none"]:
        if self.webhook_url is not None:
            return "webhook"
        if self.client_id:
            return "oauth"
        return "none"

    @property
    def rate(self) -> tuple[float, int]:
        """The portal's leaky bucket: (drain per second, burst)."""
        drain, burst = RATE_PROFILES[self.rate_profile]
        return (self.rate_drain or drain, self.rate_burst or burst)

    def secrets(self) -> list[str]:
        """Secret values that must never reach a log line."""
        values = [self.client_secret, self.telegram_token, self.telegram_secret, self.secret_key]
        found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        if self.webhook_url is not None:
            found.append(webhook_parts(self.webhook_url.get_secret_value())[2])
        return found

    def require_redis(self) -> str:
        """The Redis URL, or a SettingsError naming the variable (serve and worker need it)."""
        if not self.redis_url:
            raise SettingsError([f"{ENV_PREFIX}REDIS_URL: required (e.g. redis://127.0.0.1:6379/0)"])
        return self.redis_url


def webhook_parts(url: str) -> tuple[str, int, str]:
    """Split ``https://host/rest/{user_id}/{code}/`` into (host, user id, code); ValueError if malformed."""
    parts = urlsplit(url.strip())
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError("must be an https:// incoming webhook URL like https://PORTAL/rest/1/CODE/")
    if len(segments) != 3 or segments[0] != "rest" or not segments[1].isdigit():
        raise ValueError("must look like https://PORTAL/rest/{user_id}/{code}/")
    return parts.netloc, int(segments[1]), segments[2]


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read settings; raise SettingsError listing every bad value by its variable name."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError([_describe(err) for err in exc.errors()]) from None


def _describe(err: Any) -> str:
    loc = [str(part) for part in err.get("loc", ()) if part != "__root__"]
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if not loc:
        return message
    return f"{ENV_PREFIX}{loc[0].upper()}: {message}"
