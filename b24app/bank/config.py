"""``config/bank.yaml``: our payer details, the exchange format version and the accountant roles.

Validated with ``file:line`` for every problem, all reported at once (like the other config files):
unknown keys, a version other than 1.02/1.03, a payer detail that fails the writer's checks (ИНН, КПП,
БИК, account control keys, cp1251), a role that ``config/roles.yaml`` does not define.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from b24app.bank import codec
from b24app.bank.write import WRITE_VERSIONS, BankDetails, party_problems
from b24app.workflow.schema import Reader
from b24app.yamlio import ConfigError, LocatedDict, Problem, load

BANK_FILE = "bank.yaml"
_PAYER_KEYS = tuple(f.name for f in fields(BankDetails))


@dataclass(frozen=True)
class BankConfig:
    """What ``config/bank.yaml`` sets."""

    payer: BankDetails
    version: str
    roles: tuple[str, ...]


def load_bank_config(path: str | Path, known_roles: Collection[str] | None = None) -> BankConfig:
    """Read and validate the file; ``known_roles`` (from ``roles.yaml``), when given, must hold every role."""
    problems = check_bank_config(path, known_roles)
    if problems:
        raise ConfigError(problems)
    return _parse(load(path), Reader(str(path)), known_roles)


#: path -> (its mtime in ns, the roles it was checked against, the config): one read per change of the file.
_CACHE: dict[str, tuple[int, frozenset[str], BankConfig]] = {}


def cached_bank_config(path: str | Path, known_roles: Collection[str]) -> BankConfig:
    """:func:`load_bank_config`, kept per process until the file's mtime (or the set of known roles)
    changes: every control-room and accounting view asks for it, and it is read and validated once."""
    key, roles = str(Path(path)), frozenset(known_roles)
    mtime = Path(path).stat().st_mtime_ns
    kept = _CACHE.get(key)
    if kept is not None and kept[0] == mtime and kept[1] == roles:
        return kept[2]
    config = load_bank_config(path, roles)
    _CACHE[key] = (mtime, roles, config)
    return config


def check_bank_config(path: str | Path, known_roles: Collection[str] | None = None) -> list[Problem]:
    """Every problem of the file (empty when it is valid)."""
    try:
        data = load(path)
    except ConfigError as exc:
        return exc.problems
    except ValueError as exc:
        return [Problem(str(path), 0, f"invalid value: {exc}")]
    reader = Reader(str(path))
    _parse(data, reader, known_roles)
    return sorted(reader.problems)


def _parse(data: Any, reader: Reader, known_roles: Collection[str] | None) -> BankConfig:
    empty = BankConfig(BankDetails(), "1.03", ())
    if not isinstance(data, LocatedDict):
        reader.add(None, "bank.yaml must be a mapping with 'payer', 'format_version' and 'roles'")
        return empty
    reader.keys(data, "bank.yaml", ("payer", "format_version", "roles"), ())
    version = str(data.get("format_version", ""))
    if "format_version" in data and version not in WRITE_VERSIONS:
        reader.add(data, f"format_version {version!r}: write one of {', '.join(WRITE_VERSIONS)} "
                         "(in quotes, e.g. \"1.03\")", "format_version")
    payer = _payer(data, reader)
    roles = tuple(reader.strings(data, "roles", "bank.yaml")) if "roles" in data else ()
    if "roles" in data and not roles:
        reader.add(data, "roles: name at least one role of roles.yaml (e.g. [chief_accountant])", "roles")
    for role in roles:
        if known_roles is not None and role not in known_roles:
            reader.add(data, f"role {role!r} is not in roles.yaml; known: {', '.join(sorted(known_roles))}", "roles")
    return BankConfig(payer, version, roles)


def _payer(data: LocatedDict, reader: Reader) -> BankDetails:
    table = reader.mapping(data.get("payer"), data, "payer", "'payer'") if "payer" in data else None
    if table is None:
        return BankDetails()
    before = len(reader.problems)
    reader.keys(table, "payer", tuple(k for k in _PAYER_KEYS if k != "kpp"), ("kpp",))
    values: dict[str, str | None] = {}
    for key in _PAYER_KEYS:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            reader.add(table, f"payer: {key!r} must be a text in quotes (leading zeros matter), not {value!r}", key)
            value = str(value)
        values[key] = value
    payer = BankDetails(**values)
    if len(reader.problems) == before:
        for problem in party_problems(payer, codec.PAYER):
            reader.add(table, f"payer: {problem}", _key_of(problem.key))
    return payer


def _key_of(file_key: str) -> str | None:
    """The YAML key of the file's key a writer's problem is about (``ПлательщикИНН`` -> ``inn``), for its line."""
    suffix = file_key.removeprefix(codec.PAYER)
    for name, known in codec.PARTY_SUFFIXES.items():
        if suffix == known:
            return name
    return "name" if suffix == "1" else None
