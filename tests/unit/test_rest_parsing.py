"""Pure parts of the REST client: batch envelopes, list rows, error mapping."""

from __future__ import annotations

from b24app.errors import AuthError, InsufficientScope, RateLimited, RestError, TokenExpired, rest_error_class
from b24app.rest.wire import batch_params, parse_batch, rows


def test_batch_envelope_with_errors_and_php_empty_arrays() -> None:
    parsed = parse_batch(
        {
            "result": {"a": {"item": {"id": 1}}, "b": [1, 2]},
            "result_error": {"c": {"error": "NOT_FOUND", "error_description": "Not found"}},
            "result_total": {"b": 2},
            "result_next": [],
        }
    )
    assert parsed.results["a"] == {"item": {"id": 1}}
    assert parsed.errors == {"c": {"error": "NOT_FOUND", "error_description": "Not found"}}
    assert parsed.totals == {"b": 2}
    assert parsed.ok("a") and not parsed.ok("c")
    empty = parse_batch({"result": [], "result_error": [], "result_total": []})
    assert empty.results == {} and empty.errors == {}


def test_rows_under_items_key_or_bare() -> None:
    assert rows({"items": [{"id": 1}]}, "items") == [{"id": 1}]
    assert rows([{"ID": "1"}], None) == [{"ID": "1"}]
    assert rows(None, "tasks") == []


def test_batch_params_php_friendly() -> None:
    assert batch_params({"f": {"a": True, "b": None, "c": [False]}}) == {"f": {"a": "Y", "b": "", "c": ["N"]}}


def test_error_classes() -> None:
    assert rest_error_class(401, "expired_token") is TokenExpired
    assert rest_error_class(403, "insufficient_scope") is InsufficientScope
    assert rest_error_class(503, "QUERY_LIMIT_EXCEEDED") is RateLimited
    assert rest_error_class(401, "NO_AUTH_FOUND") is AuthError
    assert rest_error_class(400, "NOT_FOUND") is RestError
    error = RestError("crm.item.get", 400, "NOT_FOUND", "Not found")
    assert (error.method, error.status, error.code) == ("crm.item.get", 400, "NOT_FOUND")
    assert str(error) == "crm.item.get: HTTP 400 NOT_FOUND: Not found"


def test_an_empty_list_is_sent_as_the_documented_clearing_value() -> None:
    from urllib.parse import parse_qsl

    from b24app import phpform

    fields = {"fields": {"UF_CRM_7_TAGS": [], "title": "x"}, "select": ["id"]}
    assert parse_qsl(phpform.encode(fields), keep_blank_values=True) == [
        ("fields[UF_CRM_7_TAGS]", ""), ("fields[title]", "x"), ("select[0]", "id")]
    assert batch_params(fields)["fields"] == {"UF_CRM_7_TAGS": "", "title": "x"}
