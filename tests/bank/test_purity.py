"""The bank core stays pure, and the fixture generator stays independent of it.

Checked on the sources, the way it would break: an import of an I/O layer, of the rest of the app, or
a call that reads the clock.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IO_LAYERS = {"requests", "redis", "flask", "rq", "werkzeug", "b24pysdk", "telegram", "b24sandbox"}
CLOCK = {"now", "today", "utcnow"}   # datetime.now(), date.today(), ...
#: The wired shell around the core: it reads config and talks to the portal and Redis.
WIRED = {"config.py", "service.py", "store.py", "portal.py", "cli.py"}


def _core() -> list[Path]:
    return sorted(p for p in (ROOT / "b24app" / "bank").glob("*.py") if p.name not in WIRED)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def _clock_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.name}:{node.lineno}" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK]


def test_the_bank_core_imports_no_io_layer_and_nothing_else_of_the_app() -> None:
    sources = _core()
    assert len(sources) >= 6
    offending = [(p.name, name) for p in sources for name in _imports(p)
                 if name.split(".")[0] in IO_LAYERS or (name.startswith("b24app") and not name.startswith("b24app.bank"))]
    assert offending == []


def test_the_bank_core_never_reads_the_clock() -> None:
    sources = _core()
    assert [call for p in sources for call in _clock_calls(p)] == []
    assert [p.name for p in sources if "time" in _imports(p)] == []


def test_the_fixture_generator_shares_no_code_with_the_bank_core() -> None:
    assert [n for n in _imports(ROOT / "tests" / "bank" / "fixtures.py") if not n.startswith("__future__")] == []
