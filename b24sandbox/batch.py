"""``batch``: up to 50 commands in one HTTP request (REFERENCE §1.6, examples/batch.json).

Each command is ``"method?query"``; the query is parsed like a request query string (PHP bracket
keys). Values may reference earlier answers: ``$result[cmd][FIELD]``, ``$result[cmd][0][ID]``
(also ``$total``, ``$next``, ``$error``, ``$time``). Commands run in order through the same checks as
plain calls (each is validated in strict mode and recorded), ``halt`` stops at the first failing
command, and empty collections in the answer are ``[]`` as PHP's ``json_encode`` prints them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from b24sandbox import phpquery
from b24sandbox.dispatch import execute, time_block
from b24sandbox.oauth import Principal
from b24sandbox.registry import RestError

if TYPE_CHECKING:
    from b24sandbox.portal import SandboxPortal

MAX_COMMANDS = 50
_REF = re.compile(r"\$(result|total|next|error|time)\[([^\[\]]+)\]((?:\[[^\[\]]*\])*)")
_TIME_KEYS = ("start", "finish", "duration", "processing", "date_start", "date_finish")


def run_batch(portal: SandboxPortal, who: Principal, params: dict[str, Any]) -> dict[str, Any]:
    commands, as_list = _commands(params.get("cmd"))
    if len(commands) > MAX_COMMANDS:
        raise RestError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded", 400)
    halt = str(params.get("halt", "0")).strip().lower() in ("1", "true", "y")
    answers: dict[str, dict[str, Any]] = {"result": {}, "error": {}, "total": {}, "next": {}, "time": {}}
    for key, command in commands:
        method, _, query = str(command).partition("?")
        inner = phpquery.decode(parse_qsl(query, keep_blank_values=True))
        inner = _substitute(inner, answers)
        inner.pop("auth", None)
        outcome = execute(portal, who, method.strip(), inner, in_batch=True)
        if outcome.error is not None:
            answers["error"][key] = outcome.error
            if halt:
                break
            continue
        answers["result"][key] = outcome.result
        if outcome.total is not None:
            answers["total"][key] = outcome.total
        if outcome.next is not None:
            answers["next"][key] = outcome.next
        full = time_block(portal, outcome)
        answers["time"][key] = {k: full[k] for k in _TIME_KEYS}
    return {f"result_{name}" if name != "result" else "result": _php(values, as_list)
            for name, values in answers.items()}


def _commands(cmd: Any) -> tuple[list[tuple[str, Any]], bool]:
    if isinstance(cmd, list):
        return [(str(i), c) for i, c in enumerate(cmd)], True
    if isinstance(cmd, dict):
        return [(str(k), v) for k, v in cmd.items()], False
    raise RestError("INVALID_ARG_VALUE", "cmd must be an array of commands", 400)


def _php(values: dict[str, Any], as_list: bool) -> Any:
    """PHP ``json_encode`` of an array: ``[]`` when empty, a list when keyed 0..n-1."""
    if not values:
        return []
    if as_list and list(values) == [str(i) for i in range(len(values))]:
        return list(values.values())
    return values


def _substitute(value: Any, answers: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, answers) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, answers) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _REF.fullmatch(value)
    if whole:
        found = _lookup(whole, answers)
        return value if found is _MISSING else _scalar(found)
    return _REF.sub(lambda m: value_text(_lookup(m, answers), m.group(0)), value)


_MISSING = object()


def _lookup(match: re.Match[str], answers: dict[str, dict[str, Any]]) -> Any:
    kind, key, rest = match.group(1), match.group(2), match.group(3)
    node: Any = answers[kind].get(key, _MISSING)
    for part in re.findall(r"\[([^\[\]]*)\]", rest):
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _scalar(found: Any) -> Any:
    if isinstance(found, dict | list):
        return found
    if isinstance(found, bool):
        return "1" if found else ""
    return "" if found is None else str(found)


def value_text(found: Any, original: str) -> str:
    if found is _MISSING or isinstance(found, dict | list):
        return original
    return str(_scalar(found))
