"""The sandbox portal's transport over real HTTPS: routes, encodings, envelopes, auth errors, batch."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from b24sandbox import SandboxPortal, registry
from b24sandbox.registry import Call, Page, RestError
from b24sandbox.shared import load_example

ECHO = "sandbox.test.echo"
FAIL = "sandbox.test.fail"
LIST = "sandbox.test.list"


@pytest.fixture
def test_methods() -> Iterator[None]:
    """Three test-only methods, removed from the registry afterwards."""

    @registry.method(ECHO, scope=None)
    def echo(call: Call) -> dict[str, Any]:
        return {"params": call.params, "user": call.user_id, "kind": call.auth_kind}

    @registry.method(FAIL, scope=None)
    def fail(call: Call) -> Any:
        raise RestError("NOT_FOUND", f"nothing for {call.param('id')}", 400)

    @registry.method(LIST, scope=None)
    def listing(call: Call) -> Page:
        start = int(call.param("start") or 0)
        rows = [{"ID": str(i)} for i in range(1, 121)]
        more = start + 50 < len(rows)
        return Page(rows[start:start + 50], total=len(rows), next=start + 50 if more else None)

    yield
    for name in (ECHO, FAIL, LIST):
        registry.METHODS.pop(name.lower(), None)


def post(portal: SandboxPortal, url: str, **kwargs: Any) -> requests.Response:
    return requests.post(url, verify=portal.ca_bundle, timeout=10, **kwargs)


def test_success_envelope_has_the_full_time_block(sandbox: SandboxPortal) -> None:
    answer = post(sandbox, sandbox.webhook_url("admin") + "scope.json", json={})

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"result", "time"}
    documented = {"start", "finish", "duration", "processing", "date_start", "date_finish",
                  "operating_reset_at", "operating"}
    assert set(body["time"]) == documented
    assert body["time"]["date_start"] == "2026-03-02T10:00:00+03:00"  # the fixture's frozen clock
    assert body["time"]["start"] == pytest.approx(sandbox.clock.timestamp())


def test_list_answers_carry_total_and_next_only_while_rows_remain(sandbox: SandboxPortal, test_methods: None) -> None:
    hook = sandbox.webhook_url("admin")

    first = post(sandbox, hook + LIST, json={}).json()
    last = post(sandbox, hook + LIST, json={"start": 100}).json()

    assert (first["total"], first["next"], len(first["result"])) == (120, 50, 50)
    assert last["total"] == 120 and "next" not in last and len(last["result"]) == 20
    assert list(first) == ["result", "total", "next", "time"]


def test_error_envelope_is_error_and_description(sandbox: SandboxPortal, test_methods: None) -> None:
    answer = post(sandbox, sandbox.webhook_url("admin") + FAIL, json={"id": 7})

    assert answer.status_code == 400
    assert answer.json() == {"error": "NOT_FOUND", "error_description": "nothing for 7"}


def test_webhook_route_acts_as_the_webhook_user(sandbox: SandboxPortal, test_methods: None) -> None:
    marina = sandbox.state.user_by_login("m.orlova")

    result = post(sandbox, sandbox.webhook_url("m.orlova") + ECHO + ".json", json={}).json()["result"]

    assert (result["user"], result["kind"]) == (marina.id, "webhook")
    assert sandbox.calls[-1].user_id == marina.id


def test_oauth_route_takes_auth_from_body_or_query(sandbox: SandboxPortal, test_methods: None) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/app")
    token = app.tokens["access_token"]

    from_body = post(sandbox, f"{sandbox.base_url}/rest/{ECHO}", json={"auth": token, "x": 1}).json()["result"]
    from_query = requests.get(f"{sandbox.base_url}/rest/{ECHO}.json", params={"auth": token},
                              verify=sandbox.ca_bundle, timeout=10).json()["result"]

    assert from_body == {"params": {"x": 1}, "user": 1, "kind": "oauth"}  # auth never reaches the method
    assert from_query["kind"] == "oauth"
    assert all("auth" not in c.params for c in sandbox.calls)


def test_method_names_are_case_insensitive(sandbox: SandboxPortal, test_methods: None) -> None:
    hook = sandbox.webhook_url("admin")

    assert post(sandbox, hook + "SCOPE", json={}).status_code == 200
    assert post(sandbox, hook + "Sandbox.Test.ECHO.json", json={}).status_code == 200


def test_params_from_json_form_multipart_and_query(sandbox: SandboxPortal, test_methods: None) -> None:
    url = sandbox.webhook_url("admin") + ECHO

    as_json = post(sandbox, url, json={"fields": {"TITLE": "A", "IDS": [1, 2]}}).json()["result"]["params"]
    as_form = post(sandbox, url, data=[("fields[TITLE]", "A"), ("fields[IDS][]", "1"), ("fields[IDS][]", "2")])
    as_query = requests.get(url + "?fields[TITLE]=A&fields[IDS][0]=1&fields[IDS][1]=2",
                            verify=sandbox.ca_bundle, timeout=10)
    as_multipart = post(sandbox, url, files={"fields[TITLE]": (None, "A"), "doc": ("a.txt", b"hi")})

    assert as_json == {"fields": {"TITLE": "A", "IDS": [1, 2]}}
    assert as_form.json()["result"]["params"] == {"fields": {"TITLE": "A", "IDS": ["1", "2"]}}
    assert as_query.json()["result"]["params"] == {"fields": {"TITLE": "A", "IDS": ["1", "2"]}}
    assert as_multipart.json()["result"]["params"] == {"fields": {"TITLE": "A"}, "doc": ["a.txt", "aGk="]}


def test_unknown_method_is_404_method_not_found(sandbox: SandboxPortal) -> None:
    answer = post(sandbox, sandbox.webhook_url("admin") + "crm.itme.list", json={})

    assert answer.status_code == 404
    assert answer.json() == {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
    assert sandbox.calls[-1].method == "crm.itme.list"
    assert [v.problem for v in sandbox.violations] == ["unknown method 'crm.itme.list'"]
    sandbox.violations.clear()


def test_bad_webhook_code_and_unknown_token_are_no_auth_found(sandbox: SandboxPortal) -> None:
    sandbox.webhook_url("admin")
    wrong_code = post(sandbox, f"{sandbox.base_url}/rest/1/notthecode/scope", json={})
    unknown_token = post(sandbox, f"{sandbox.base_url}/rest/scope", json={"auth": "nosuchtoken"})
    no_auth = post(sandbox, f"{sandbox.base_url}/rest/scope", json={})

    for answer in (wrong_code, unknown_token, no_auth):
        assert answer.status_code == 401
        assert answer.json() == {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}


def test_access_token_expires_after_an_hour_of_sandbox_time(sandbox: SandboxPortal) -> None:
    token = sandbox.install_app(handler_url="http://127.0.0.1:9/app").tokens["access_token"]
    assert post(sandbox, f"{sandbox.base_url}/rest/app.info", json={"auth": token}).status_code == 200

    sandbox.clock.advance(timedelta(minutes=61))
    answer = post(sandbox, f"{sandbox.base_url}/rest/app.info", json={"auth": token})

    assert answer.status_code == 401
    assert answer.json() == {"error": "expired_token", "error_description": "The access token provided has expired"}


def test_missing_scope_is_403_insufficient_scope(sandbox: SandboxPortal) -> None:
    hook = sandbox.webhook_url("admin", scopes=["crm"])

    answer = post(sandbox, hook + "user.current", json={})

    assert answer.status_code == 403
    assert answer.json()["error"] == "insufficient_scope"


def test_missing_scope_inside_batch_has_an_empty_description(sandbox: SandboxPortal) -> None:
    hook = sandbox.webhook_url("admin", scopes=["crm"])

    body = post(sandbox, hook + "batch", json={"halt": 0, "cmd": {"get_user": "user.current"}}).json()

    documented = load_example("batch")["error"]["bodies"][1]["result"]
    assert body["result"] == documented


def test_app_only_method_with_a_webhook_is_wrong_auth_type(sandbox: SandboxPortal) -> None:
    answer = post(sandbox, sandbox.webhook_url("admin") + "event.bind",
                  json={"event": "ONCRMDYNAMICITEMADD", "handler": "https://example.com/h"})

    assert answer.status_code == 403
    assert answer.json()["error"] == "WRONG_AUTH_TYPE"


def test_app_info_with_a_webhook_is_400_access_denied(sandbox: SandboxPortal) -> None:
    answer = post(sandbox, sandbox.webhook_url("admin") + "app.info", json={})

    assert answer.status_code == 400
    assert answer.json() == {"error": "ACCESS_DENIED", "error_description": "Access denied! Application context required"}


def test_app_info_keys_match_the_documented_example(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/app")

    result = post(sandbox, f"{sandbox.base_url}/rest/app.info", json={"auth": app.tokens["access_token"]}).json()

    documented = load_example("app.info")["response"]["bodies"][0]["result"]
    assert set(result["result"]) == set(documented)
    assert result["result"]["INSTALLED"] is True and result["result"]["CODE"] == app.client_id


def test_requests_are_counted_and_calls_recorded(sandbox: SandboxPortal, test_methods: None) -> None:
    hook = sandbox.webhook_url("a.ivanova")
    post(sandbox, hook + ECHO, json={"a": 1})
    post(sandbox, hook + "batch", json={"cmd": {"x": ECHO + "?b=2", "y": ECHO}})

    assert sandbox.request_count == 2
    rows = [(c.method, c.params, c.user_id, c.auth_kind, c.status, c.in_batch) for c in sandbox.calls]
    uid = sandbox.state.user_by_login("a.ivanova").id
    assert rows == [
        (ECHO, {"a": 1}, uid, "webhook", 200, False),
        (ECHO, {"b": "2"}, uid, "webhook", 200, True),
        (ECHO, {}, uid, "webhook", 200, True),
        ("batch", {"cmd": {"x": ECHO + "?b=2", "y": ECHO}}, uid, "webhook", 200, False),
    ]
    assert all(c.at == sandbox.clock.timestamp() for c in sandbox.calls)


# --- batch ------------------------------------------------------------------------------------


def test_batch_resolves_result_references(sandbox: SandboxPortal, test_methods: None) -> None:
    cmd = {
        "first": f"{LIST}",
        "second": f"{ECHO}?id=$result[first][1][ID]&nested[user]=$result[first][0][ID]&text=n$result[first][2][ID]",
    }

    body = post(sandbox, sandbox.webhook_url("admin") + "batch", json={"halt": 0, "cmd": cmd}).json()

    assert set(body) == {"result", "time"}
    result = body["result"]
    assert set(result) == {"result", "result_error", "result_total", "result_next", "result_time"}
    assert result["result"]["second"]["params"] == {"id": "2", "nested": {"user": "1"}, "text": "n3"}
    assert result["result_error"] == []
    assert result["result_total"] == {"first": 120}
    assert result["result_next"] == {"first": 50}
    assert set(result["result_time"]["first"]) == {"start", "finish", "duration", "processing", "date_start", "date_finish"}


def test_batch_without_halt_runs_every_command(sandbox: SandboxPortal, test_methods: None) -> None:
    cmd = [f"{FAIL}?id=1", ECHO]

    result = post(sandbox, sandbox.webhook_url("admin") + "batch", json={"cmd": cmd}).json()["result"]

    # PHP json_encode: keys 0..n-1 print as a list, anything else as an object
    assert result["result_error"] == [{"error": "NOT_FOUND", "error_description": "nothing for 1"}]
    assert result["result"] == {"1": {"params": {}, "user": 1, "kind": "webhook"}}
    assert result["result_total"] == [] and result["result_next"] == []


def test_batch_with_halt_stops_at_the_first_error(sandbox: SandboxPortal, test_methods: None) -> None:
    cmd = {"a": ECHO, "b": f"{FAIL}?id=2", "c": ECHO}

    answer = post(sandbox, sandbox.webhook_url("admin") + "batch", json={"halt": 1, "cmd": cmd})

    assert answer.status_code == 200
    result = answer.json()["result"]
    assert list(result["result"]) == ["a"]
    assert list(result["result_error"]) == ["b"]
    assert [c.method for c in sandbox.calls if c.in_batch] == [ECHO, FAIL]


def test_batch_form_encoded_like_php_clients_send_it(sandbox: SandboxPortal, test_methods: None) -> None:
    pairs = [("cmd[a]", f"{ECHO}?fields[TITLE]=x y"), ("halt", "0")]

    result = post(sandbox, sandbox.webhook_url("admin") + "batch", data=pairs).json()["result"]

    assert result["result"]["a"]["params"] == {"fields": {"TITLE": "x y"}}


def test_batch_limits(sandbox: SandboxPortal, test_methods: None) -> None:
    hook = sandbox.webhook_url("admin")

    too_long = post(sandbox, hook + "batch", json={"cmd": [ECHO] * 51})
    nested = post(sandbox, hook + "batch", json={"cmd": {"inner": "batch?cmd[a]=scope"}}).json()["result"]
    app_only = post(sandbox, hook + "batch", json={"cmd": {"x": "event.get"}}).json()["result"]

    assert too_long.status_code == 400
    assert too_long.json() == {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"}
    assert nested["result_error"]["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert app_only["result_error"]["x"]["error"] == "WRONG_AUTH_TYPE"


# --- plain HTTP and the standalone command ---------------------------------------------------------


def test_plain_http_portal_and_the_https_required_switch(sandbox_factory: Any) -> None:
    plain = sandbox_factory(tls=False)
    strict_https = sandbox_factory(tls=False, https_required=True)

    answer = requests.post(plain.webhook_url("admin") + "scope", json={}, timeout=10)
    refused = requests.post(strict_https.webhook_url("admin") + "scope", json={}, timeout=10)

    assert plain.base_url.startswith("http://") and plain.ca_bundle is None
    assert answer.status_code == 200
    assert refused.status_code == 400
    assert refused.json() == {"error": "INVALID_REQUEST", "error_description": "Https required"}


def test_sandbox_command_runs_a_portal_in_another_process(tmp_path: Any) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", "from b24sandbox.cli import sandbox_command; sandbox_command()",
               "--port", "0", "--ca-dir", str(tmp_path)]
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        printed = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines}
        ca_bundle = printed["CA bundle"].split()[0]
        hook = printed["Webhook (admin)"]

        answer = requests.post(hook + "user.current", json={}, verify=ca_bundle, timeout=10)

        assert ca_bundle.startswith(str(tmp_path))
        assert printed["Web UI"].endswith("/sandbox/")
        assert answer.json()["result"]["ID"] == "1"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_moved_portal_redirects_rest_calls_and_names_its_new_endpoint(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="http://127.0.0.1:9/unused")
    old_base = sandbox.base_url
    new_base = sandbox.move_domain("localhost")
    assert new_base == f"https://localhost:{sandbox.port}" and sandbox.domain == f"localhost:{sandbox.port}"

    url = f"{old_base}/rest/user.current.json?auth={app.tokens['access_token']}"
    answer = requests.get(url, verify=sandbox.ca_bundle, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"] == url.replace(old_base, new_base)
    assert "json" not in answer.headers["Content-Type"]
    assert not [c for c in sandbox.calls if c.method == "user.current"]  # the old address runs nothing

    moved = requests.post(f"{new_base}/rest/user.current", json={"auth": app.tokens["access_token"]},
                          verify=sandbox.ca_bundle, timeout=10)
    assert moved.status_code == 200 and moved.json()["result"]["ID"]
    refreshed = requests.get(sandbox.oauth_url, verify=sandbox.ca_bundle, timeout=10, params={
        "grant_type": "refresh_token", "client_id": app.client_id, "client_secret": app.client_secret,
        "refresh_token": app.tokens["refresh_token"]}).json()
    assert sandbox.oauth_url.startswith(old_base)  # the OAuth server stays where it was
    assert refreshed["client_endpoint"] == f"{new_base}/rest/"


def test_the_sandbox_command_refuses_to_serve_without_the_official_material(tmp_path: Any) -> None:
    # A checkout without shared/bitrix24 beside it: strict mode would answer every call with a 500, so the
    # command says at once what to set, instead of serving.
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "b24sandbox", tmp_path / "b24sandbox", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("B24SANDBOX_SHARED_DIR", "B24APP_SHARED_DIR")}
    env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-c", "from b24sandbox.cli import main; main()", "--port", "0"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "B24SANDBOX_SHARED_DIR" in result.stderr and "--no-strict" in result.stderr
