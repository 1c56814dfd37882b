"""One catalogue of staff texts: no Cyrillic string literal in ``b24app/`` or ``handlers/`` outside
``b24app/texts/`` (docstrings aside), except the short allow-list below, each with its reason."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CYRILLIC = re.compile("[А-Яа-яЁё]")
ALLOWED = {
    "b24app/bank": "the 1CClientBankExchange format: its Russian keywords are parsed and written, not shown",
    "b24app/worktime.py": "parses the `holidays` package's Russian names (working Saturdays, days off)",
    "b24app/demo.py": "the demo's sample portal data (departments, people, requests), not app texts",
    "b24app/demo_live.py": "the demo's sample requests and its guide to the sandbox, printed by `b24app demo`",
    "b24app/demo_play.py": "the demo's people, requests and narration, printed by `b24app demo`",
    "b24app/scenario": "scenario test data and matching of what the sandbox shows (ё/е folding, button labels)",
    "b24app/portal_choice.py": "an English operator message that names the sandbox's «Локальное приложение» page",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _cyrillic_literals() -> list[str]:
    hits = []
    for package in ("b24app", "handlers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("b24app/texts/") or any(rel == a or rel.startswith(a + "/") for a in ALLOWED):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docs = _docstrings(tree)
            hits += [f"{rel}:{node.lineno}: {node.value[:60]!r}" for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                     and CYRILLIC.search(node.value)]
    return hits


def test_staff_texts_live_only_in_the_catalogue() -> None:
    assert _cyrillic_literals() == []


def test_the_allow_list_names_only_places_that_exist() -> None:
    assert all((ROOT / place).exists() for place in ALLOWED)
