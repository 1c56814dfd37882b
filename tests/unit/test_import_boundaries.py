"""The production processes carry no sandbox, and the sandbox knows nothing of the app.

Both are checked the way they would break: a subprocess imports the production entry points (and
renders ``b24app worker --help``) and reports which modules were loaded; the sandbox's sources are read
for any import of ``b24app``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENTRY_POINTS = (
    "b24app.web", "b24app.jobs", "b24app.cron", "b24app.cli", "b24app.deps", "b24app.doctor",
    "b24app.provisioning.cli", "b24app.provisioning.apply", "b24app.escalation.cli", "b24app.escalation.jobs",
    "b24app.escalation.sweep", "b24app.escalation.digest", "b24app.pipeline.process", "b24app.portals",
    "b24app.notify.deliver", "b24app.telegram.cli", "handlers.events", "handlers.sweep", "handlers.items",
    "handlers.tasks", "handlers.decisions", "handlers.offline",
)

PROBE = """
import importlib, json, sys, contextlib, io
for name in sys.argv[1:]:
    importlib.import_module(name)
from b24app.cli import cli
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    cli.main(["worker", "--help"], prog_name="b24app")
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    cli.main(["--help"], prog_name="b24app")
print(json.dumps({"modules": sorted(sys.modules), "help": out.getvalue()}))
"""


def _loaded_by(*modules: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", PROBE, *modules], capture_output=True, text=True,
                            cwd=ROOT, check=True, timeout=120)
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_production_entry_points_load_neither_the_sandbox_nor_trustme() -> None:
    probe = _loaded_by(*PRODUCTION_ENTRY_POINTS)
    modules = probe["modules"]
    assert isinstance(modules, list)
    offending = [m for m in modules if m.split(".")[0] in ("b24sandbox", "trustme") or m.startswith("b24app.scenario")
                 or m == "b24app.demo"]
    assert offending == []
    # the help lists the lazily imported subcommands without importing them
    assert "sandbox" in str(probe["help"]) and "scenario" in str(probe["help"])
    assert "--burst" in str(probe["help"])


def test_the_sandbox_imports_nothing_from_the_app() -> None:
    importers = []
    for path in sorted((ROOT / "b24sandbox").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            importers += [f"{path.relative_to(ROOT)}:{node.lineno}" for name in names
                          if name.split(".")[0] in ("b24app", "handlers")]
    assert importers == []


def test_a_lazy_subcommand_still_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "b24app.cli", "sandbox", "--help"], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--webhook-user" in result.stdout
