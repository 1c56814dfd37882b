"""``phpform.decode``: numbered maps become lists only for the keys ``0..n-1``; the top level is a mapping."""

from __future__ import annotations

import pytest

from b24app import phpform


@pytest.mark.parametrize(("pairs", "decoded"), [
    ([("a[0]", "x"), ("a[1]", "y")], {"a": ["x", "y"]}),
    ([("a[]", "x"), ("a[]", "y")], {"a": ["x", "y"]}),
    ([("a[1]", "x"), ("a[0]", "y")], {"a": ["y", "x"]}),
    ([("a[1]", "x")], {"a": {"1": "x"}}),
    ([("a[00]", "x")], {"a": {"00": "x"}}),                 # was a KeyError (a 500 at the edge)
    ([("a[0]", "x"), ("a[00]", "y")], {"a": {"0": "x", "00": "y"}}),
    ([("a[²]", "x")], {"a": {"²": "x"}}),                   # a digit to str.isdigit, not to int(): was a 500
    ([("00", "x")], {"00": "x"}),
    ([("0", "x")], {"0": "x"}),                             # the form itself was turned into a list
    ([("event", "ONX"), ("data[FIELDS][ID]", "22")], {"event": "ONX", "data": {"FIELDS": {"ID": "22"}}}),
])
def test_decode(pairs: list[tuple[str, str]], decoded: dict[str, object]) -> None:
    assert phpform.decode(pairs) == decoded
