"""The generic prefix-operator filter engine (REFERENCE §6.3): every operator, OR groups, types."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b24sandbox.filters import compile_filter, compile_order, sort_rows, split_key
from b24sandbox.registry import RestError

MSK = ZoneInfo("Europe/Moscow")
ROWS: list[dict[str, Any]] = [
    {"id": 1, "title": "Invoice for paper", "stageId": "DT1030_1:NEW", "amount": 100.5,
     "created": datetime(2026, 3, 1, 9, 0, tzinfo=MSK), "flag": 1, "tags": [3, 4], "name": None},
    {"id": 2, "title": "Contract with Acme", "stageId": "DT1030_1:SUCCESS", "amount": 2000.0,
     "created": datetime(2026, 3, 2, 12, 0, tzinfo=MSK), "flag": 0, "tags": [], "name": "Anna"},
    {"id": 10, "title": "invoice for ink", "stageId": "DT1030_1:FAIL", "amount": 50.0,
     "created": datetime(2026, 3, 3, 18, 30, tzinfo=MSK), "flag": 1, "tags": [4], "name": ""},
]  # fmt: skip
KNOWN = {"id", "title", "stageId", "amount", "created", "flag", "tags", "name"}


def resolve(name: str) -> str:
    if name not in KNOWN:
        raise RestError("INVALID_ARG_VALUE", f"Invalid filter: field '{name}' is not allowed in filter", 400)
    return name


def ids(spec: Any) -> list[int]:
    matches = compile_filter(spec, resolve)
    return [row["id"] for row in ROWS if matches(row)]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, [1, 2, 10]),
        ({"id": 2}, [2]),
        ({"=id": "2"}, [2]),
        ({"!id": 2}, [1, 10]),
        ({"!=id": "2"}, [1, 10]),
        ({">id": 1}, [2, 10]),
        ({">=id": "2"}, [2, 10]),
        ({"<id": 10}, [1, 2]),
        ({"<=id": 2}, [1, 2]),
        ({">id": "9"}, [10]),  # numbers compare as numbers, not strings
        ({"@stageId": ["DT1030_1:NEW", "DT1030_1:FAIL"]}, [1, 10]),
        ({"@stageId": {"0": "DT1030_1:NEW", "1": "DT1030_1:FAIL"}}, [1, 10]),  # form-encoded array
        ({"!@stageId": ["DT1030_1:NEW"]}, [2, 10]),
        ({"stageId": ["DT1030_1:SUCCESS", "DT1030_1:FAIL"]}, [2, 10]),  # array value means IN
        ({"%title": "invoice"}, [1, 10]),  # substring, case-insensitive
        ({"=%title": "invoice%"}, [1, 10]),
        ({"%=title": "%paper"}, [1]),
        ({"=%title": "invoice"}, []),  # no % given: the whole value must match
        ({"!%title": "invoice"}, [2]),
        ({"!=%title": "contract%"}, [1, 10]),
        ({"!%=title": "%ink"}, [1, 2]),
        ({">=amount": 100}, [1, 2]),
        ({"<amount": "100.5"}, [10]),
        ({">=created": "2026-03-02T00:00:00+03:00"}, [2, 10]),
        ({"<created": "2026-03-02T12:00:00+03:00"}, [1]),
        ({"<created": "2026-03-02T09:00:00+00:00"}, [1]),  # offsets honoured
        ({">=created": "2026-03-03"}, [10]),  # date only: midnight in the row's time zone
        ({">created": "02.03.2026"}, [2, 10]),
        ({"flag": 1}, [1, 10]),
        ({"flag": "0"}, [2]),
        ({"tags": 4}, [1, 10]),  # multiple field: any element
        ({"!tags": 4}, [2]),
        ({"name": ""}, [1, 10]),  # empty means null or empty
        ({"!=name": ""}, [2]),
        ({"!name": "Anna"}, [1, 10]),  # not-equal includes nulls
    ],
)
def test_operators(spec: dict[str, Any], expected: list[int]) -> None:
    assert ids(spec) == expected


def test_or_group_as_documented() -> None:
    spec = {"0": {"logic": "OR", "0": {"stageId": "DT1030_1:NEW"}, "1": {">amount": 1000}}}
    assert ids(spec) == [1, 2]


def test_or_group_combined_with_and_conditions() -> None:
    spec = {"0": {"logic": "OR", "0": {"%title": "ink"}, "1": {"%title": "paper"}}, ">id": 1}
    assert ids(spec) == [10]


def test_groups_nest_and_default_to_and() -> None:
    spec = {"0": {"logic": "OR", "0": {"id": 1}, "1": {"0": {">id": 1}, "1": {"flag": 1}}}}
    assert ids(spec) == [1, 10]


def test_date_ranges_inside_or_groups() -> None:
    spec = {"0": {"logic": "OR",
                  "0": {">=created": "2026-03-01T00:00:00+03:00", "<created": "2026-03-02T00:00:00+03:00"},
                  "1": {">=created": "2026-03-03T00:00:00+03:00", "<created": "2026-03-04T00:00:00+03:00"}}}  # fmt: skip
    assert ids(spec) == [1, 10]


def test_list_shaped_filters_from_form_encoding() -> None:
    assert ids([{"logic": "OR", "0": {"id": 1}, "1": {"id": 2}}]) == [1, 2]


def test_unknown_field_is_refused_at_compile_time() -> None:
    with pytest.raises(RestError) as caught:
        compile_filter({">=bogus": 1}, resolve)
    assert caught.value.error == "INVALID_ARG_VALUE"
    assert "'bogus'" in caught.value.description


def test_known_kinds_reject_bad_values() -> None:
    with pytest.raises(RestError) as caught:
        compile_filter({"flag": "Y"}, resolve, kinds=lambda name: "int")
    assert caught.value.description == "Invalid filter: field 'flag' has invalid value"


def test_unconvertible_value_without_kinds_matches_nothing() -> None:
    assert ids({"flag": "Y"}) == []


@pytest.mark.parametrize(("key", "split"), [("!=%title", ("!=%", "title")), ("!%=t", ("!%=", "t")),
                                             ("%=t", ("%=", "t")), ("!@t", ("!@", "t")), ("t", ("=", "t"))])
def test_split_key(key: str, split: tuple[str, str]) -> None:
    assert split_key(key) == split


def test_order_multi_key_and_direction() -> None:
    keys = compile_order({"flag": "DESC", "id": "asc"}, resolve)
    assert [row["id"] for row in sort_rows(ROWS, keys)] == [1, 10, 2]


def test_order_refuses_bad_direction() -> None:
    with pytest.raises(RestError) as caught:
        compile_order({"id": "UP"}, resolve)
    assert "allowed sort directions are ASC, DESC" in caught.value.description
