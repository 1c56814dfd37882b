"""The sandbox Bitrix24 portal: a faithful local portal for tests, benchmarks and the demo."""

from b24app.sandbox.portal import AppCredentials, SandboxPortal

__all__ = ["AppCredentials", "SandboxPortal"]
