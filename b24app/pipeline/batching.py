"""Several items' batch commands in shared ``batch`` requests, and each item's answer taken back out.

A ``batch`` request holds at most 50 commands, and ``$result[key]`` references work only inside one
request (REFERENCE §1.6). Each part (one item's commands, keyed as the single-item path keys them) gets
its keys prefixed and its references rewritten to the prefixed keys; its commands are never split
between two requests. A command that references nothing and that no command of its part references
(the department list, the role holders' states, ...) may go into any request; equal ones (for reads)
are sent once and their answer shared. :func:`answer_of` gives a part the answer it would have had alone, under its own keys.

Pure: no I/O (the caller sends the requests).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from b24app.rest.protocol import BatchResult, Command

#: Commands per ``batch`` request (REFERENCE §1.6).
BATCH_SIZE = 50
REFERENCE = re.compile(r"\$result\[([^\]]+)\]")


@dataclass
class Packed:
    """The requests to send (each at most :data:`BATCH_SIZE` commands) and, per part, its keys there."""

    requests: list[dict[str, Command]] = field(default_factory=list)
    keys: dict[int, dict[str, str]] = field(default_factory=dict)
    #: Parts too large for one request: the caller sends them alone.
    alone: list[int] = field(default_factory=list)


def pack(parts: Sequence[tuple[int, Mapping[str, Command]]], *, share: bool = True,
         size: int = BATCH_SIZE) -> Packed:
    """The parts' commands in as few requests as keep each part's own commands in one request; with
    ``share`` (reads only: two equal writes are two writes) equal independent commands are sent once."""
    packed = Packed()
    shared: dict[str, str] = {}
    shared_commands: dict[str, Command] = {}
    own: list[tuple[int, dict[str, Command]]] = []
    for index, (part, commands) in enumerate(parts):
        keys: dict[str, str] = {}
        new: dict[str, Command] = {}
        referenced = {name for _, params in commands.values() for name in references(params)}
        for key, command in commands.items():
            if share and key not in referenced and not references(command[1]):
                identity = _identity(command)
                if identity not in shared:
                    shared[identity] = f"s{len(shared)}"
                    new[shared[identity]] = command
                keys[key] = shared[identity]
            else:
                keys[key] = f"p{index}_{key}"
        renamed = {keys[k]: (method, _rewrite(params, keys)) for k, (method, params) in commands.items()
                   if keys[k] not in shared.values()}
        if len(renamed) > size:
            packed.alone.append(part)
            for key in new:                      # its own shared reads are not needed
                del shared[_identity(new[key])]
            continue
        shared_commands.update(new)
        packed.keys[part] = keys
        own.append((part, renamed))
    for _, mine in own:                  # an item's commands together, in the last request if they fit
        if not packed.requests or len(packed.requests[-1]) + len(mine) > size:
            packed.requests.append({})
        packed.requests[-1].update(mine)
    for key, command in shared_commands.items():    # independent: any request with room
        room = next((r for r in packed.requests if len(r) < size), None)
        if room is None:
            room = {}
            packed.requests.append(room)
        room[key] = command
    return packed


def answer_of(answer: BatchResult, keys: Mapping[str, str]) -> BatchResult:
    """One part's view of the shared answer, under the part's own keys (the clock of all the requests)."""
    back = {actual: own for own, actual in keys.items()}
    return BatchResult(
        results={back[k]: v for k, v in answer.results.items() if k in back},
        errors={back[k]: v for k, v in answer.errors.items() if k in back},
        totals={back[k]: v for k, v in answer.totals.items() if k in back},
        nexts={back[k]: v for k, v in answer.nexts.items() if k in back},
        methods={back[k]: v for k, v in answer.methods.items() if k in back},
        first_time=answer.first_time, last_time=answer.last_time, requests=answer.requests)


def references(value: Any) -> set[str]:
    """The command keys a command's parameters reference (``$result[key]...``)."""
    if isinstance(value, str):
        return set(REFERENCE.findall(value))
    if isinstance(value, Mapping):
        return {name for v in value.values() for name in references(v)}
    if isinstance(value, list | tuple):
        return {name for v in value for name in references(v)}
    return set()


def _rewrite(value: Any, keys: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return REFERENCE.sub(lambda m: f"$result[{keys.get(m.group(1), m.group(1))}]", value)
    if isinstance(value, Mapping):
        return {k: _rewrite(v, keys) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rewrite(v, keys) for v in value]
    return value


def _identity(command: Command) -> str:
    method, params = command
    return json.dumps([method, params], sort_keys=True, default=str, ensure_ascii=False)
