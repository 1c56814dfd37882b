"""A portal's own configuration: ``config/portals/<member_id or domain>/`` over the shared ``config/``.

A hosted deployment serves several organisations. Each file of ``config/`` (``roles.yaml``,
``calendar.yaml``, ``deadlines.yaml``, ``expense_items.yaml``, ``bank.yaml``) may be given again in the portal's
directory, which then wins for that portal; a file it does not have is the shared one. A ``workflows/``
folder there replaces the shared workflows for that portal. Problems name the file actually read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The folder of ``config/`` that holds one folder per portal.
PORTALS = "portals"
FILES = ("roles.yaml", "calendar.yaml", "deadlines.yaml", "expense_items.yaml", "bank.yaml")


@dataclass(frozen=True)
class ConfigDir:
    """The shared config folder with (optionally) a portal's own folder laid over it, file by file.

    ``config / "roles.yaml"`` is the portal's file when it has one, else the shared file, so the loaders
    that take a config folder take this too."""

    shared: Path
    own: Path | None = None

    def __truediv__(self, name: str) -> Path:
        if self.own is not None and (self.own / name).exists():
            return self.own / name
        return self.shared / name

    def workflows(self, shared: Path) -> Path:
        """The portal's own ``workflows/`` when it has one, else ``shared``."""
        return self.own / "workflows" if self.own is not None and (self.own / "workflows").is_dir() else shared

    def own_files(self) -> list[str]:
        """Which files (and ``workflows/``) the portal overrides."""
        if self.own is None:
            return []
        found = [name for name in FILES if (self.own / name).exists()]
        return found + (["workflows/"] if (self.own / "workflows").is_dir() else [])

    def __str__(self) -> str:
        return str(self.own or self.shared)


def portal_dir(config_dir: Path, member_id: str, domain: str | None = None) -> ConfigDir:
    """The layered config of a portal: its folder named by member id, else by domain, else none."""
    base = Path(config_dir) / PORTALS
    for name in (member_id, domain):
        if name and (base / name).is_dir():
            return ConfigDir(Path(config_dir), base / name)
    return ConfigDir(Path(config_dir))


def portal_dirs(config_dir: Path) -> list[ConfigDir]:
    """Every portal folder of ``config/portals/``, laid over the shared config (for ``check-config``)."""
    base = Path(config_dir) / PORTALS
    if not base.is_dir():
        return []
    return [ConfigDir(Path(config_dir), own) for own in sorted(base.iterdir()) if own.is_dir()]
