"""Where the official Bitrix24 material lives: ``../shared/bitrix24`` beside the checkout.

The sandbox reads the method schemas (``spec/methods``) and documented examples (``examples``) from
there at run time; they are never copied into this repository. ``B24SANDBOX_SHARED_DIR`` (or the
older ``B24APP_SHARED_DIR``) overrides the search (point it at the folder that contains ``bitrix24/``).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any


class SharedMaterialMissing(RuntimeError):
    pass


@cache
def shared_dir() -> Path | None:
    """The ``shared`` folder holding ``bitrix24/REFERENCE.md``, or ``None`` when there is none."""
    override = os.environ.get("B24SANDBOX_SHARED_DIR") or os.environ.get("B24APP_SHARED_DIR")
    candidates = [Path(override)] if override else []
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        candidates.extend(parent / "shared" for parent in start.parents)
    for candidate in candidates:
        if (candidate / "bitrix24" / "REFERENCE.md").is_file():
            return candidate
    return None


def bitrix24_dir() -> Path:
    base = shared_dir()
    if base is None:
        raise SharedMaterialMissing(
            "the official Bitrix24 material (shared/bitrix24) was not found beside the checkout; "
            "set B24SANDBOX_SHARED_DIR to the folder that contains bitrix24/"
        )
    return base / "bitrix24"


@cache
def load_spec(method: str) -> dict[str, Any] | None:
    """The official schema of ``method`` (case-insensitive), or ``None`` when the spec has none."""
    folder = bitrix24_dir() / "spec" / "methods"
    for path in folder.glob("*.json"):
        if path.stem.lower() == method.lower():
            spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return spec
    return None


@cache
def load_example(name: str) -> dict[str, Any]:
    """A documented example by file stem, e.g. ``crm.item.add`` or ``event.ONTASKADD``."""
    path = bitrix24_dir() / "examples" / f"{name}.json"
    example: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return example
