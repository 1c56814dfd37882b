"""What the app does about provisioning when it is installed or updated on a portal.

Bitrix24 drops an app's event bindings and widgets when the app is updated, so the install job calls
:func:`after_install`: it re-binds them and, if the installation is configured to, provisions fully.
:func:`on_installed` is the same as a handler of the synthetic ``INSTALLED`` event.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from b24app.checks import load_definitions
from b24app.errors import B24AppError
from b24app.portal_config import ConfigDir
from b24app.provisioning.apply import Report, provision, rebind
from b24app.rest.protocol import Bitrix24

if TYPE_CHECKING:
    from b24app.deps import Deps

log = logging.getLogger(__name__)


def after_install(client: Bitrix24, config_dir: Path | ConfigDir, workflows_dir: Path, public_url: str,
                  provision_too: bool = False) -> Report:
    """Re-bind events and widgets (always), then provision with ``--apply`` semantics if asked.

    Raises ``ConfigError`` on invalid definitions: nothing is touched on an invalid definition.
    Deletions are never made here; run ``b24app provision --allow-delete`` for those.
    """
    _, workflows = load_definitions(config_dir, workflows_dir)
    if provision_too:
        return provision(client, workflows, public_url, apply=True, allow_delete=False)
    return rebind(client, workflows, public_url)


class InstallEvent(Protocol):
    """What the handler needs of ``handlers.events.Event``."""

    @property
    def member_id(self) -> str: ...


class ProvisioningFailed(B24AppError):
    """Re-binding or provisioning on install did not complete (the job fails, so RQ retries it)."""


def on_installed(deps: Deps, event: InstallEvent) -> None:
    """The handler for the synthetic ``INSTALLED`` event (``handlers.events.INSTALLED``).

    Re-binds events and widgets for the installation; provisions fully when the setting
    ``B24APP_PROVISION_ON_INSTALL`` is true. Without ``B24APP_PUBLIC_URL`` there is nothing to
    bind to: it logs why and returns.
    """
    settings = deps.settings
    if not settings.public_url:
        log.warning("installation %s: B24APP_PUBLIC_URL is not set; events and widgets not bound", event.member_id)
        return
    from b24app.pipeline.definitions import config_for

    report = after_install(deps.bitrix(event.member_id), config_for(deps, event.member_id), settings.workflows_dir,
                           settings.public_url, settings.provision_on_install)
    log.info("installation %s: %s", event.member_id, report.render().replace("\n", " | "))
    if not report.ok:
        raise ProvisioningFailed(f"installation {event.member_id}: re-binding did not complete:\n{report.render()}")
