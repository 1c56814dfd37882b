"""After an installation is stored: re-bind events and widgets (Bitrix24 drops them on app update)."""

from __future__ import annotations

from b24app.provisioning.install import on_installed
from handlers.events import INSTALLED, handles

handles(INSTALLED)(on_installed)
