"""The REST client against the sandbox portal over HTTPS, with a real Redis, across real processes."""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from b24app import phpform
from b24app.auth.store import Installation, InstallationStore
from b24app.deps import Deps
from b24app.errors import OperationTimeLimit, RateLimited, RestError, TransportError
from b24app.log import RedactingFilter, setup_logging
from b24app.rest.client import OAuthAuth, RestClient
from b24app.rest.pacing import Pacer
from b24app.settings import load_settings
from b24sandbox import SandboxPortal, oauth
from b24sandbox.clock import SandboxClock
from tests.integration.helpers import make_settings

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture(autouse=True)
def trust_sandbox(sandbox: SandboxPortal, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK calls https://{domain}/rest/... with requests: trust the sandbox CA, in children too."""
    assert sandbox.ca_bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)


def install_app(sandbox: SandboxPortal, redis_url: str) -> tuple[dict[str, Any], Any]:
    """Install the local app on the sandbox, store the installation; return settings values and credentials."""
    creds = sandbox.install_app(handler_url="http://127.0.0.1:9/unused")
    values = {
        "redis_url": redis_url,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "oauth_server": sandbox.base_url,
        "retry_base_delay": 0.01,
    }
    tokens = creds.tokens
    store = InstallationStore(Deps(load_settings(env_file=None, **values)).redis)
    store.save(
        Installation(
            member_id=creds.member_id,
            domain=creds.domain,
            client_endpoint=creds.client_endpoint,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=time.time() + 3600,
            application_token=creds.application_token,
            scopes=tuple(str(tokens.get("scope", "")).split(",")),
            installed_at=time.time(),
        )
    )
    return values, creds


def webhook_deps(sandbox: SandboxPortal, redis_url: str, **overrides: Any) -> Deps:
    return Deps(make_settings(redis_url, webhook_url=sandbox.webhook_url("admin"), retry_base_delay=0.01, **overrides))


def new_type(client: Any) -> int:
    answer = client.call("crm.type.add", {"fields": {"title": "Client test"}})
    return int(answer["type"]["entityTypeId"])


# --- processes --------------------------------------------------------------------------------------


def call_after_barrier(values: dict[str, Any], member_id: str, barrier: Any, results: Any) -> None:
    deps = Deps(load_settings(env_file=None, **values))
    client = deps.bitrix(member_id)
    barrier.wait(timeout=60)
    try:
        user = client.call("user.current")
        results.put(("ok", str(user["ID"]), client.request_count))
    except Exception as exc:
        results.put(("error", repr(exc), client.request_count))


def quick_calls(values: dict[str, Any], count: int, barrier: Any, results: Any) -> None:
    client = Deps(load_settings(env_file=None, **values)).bitrix()
    barrier.wait(timeout=60)
    done = 0
    try:
        for _ in range(count):
            client.call("user.current")
            done += 1
    finally:
        results.put((done, client.request_count))


def run_processes(target: Any, args_for: Any, n: int) -> list[Any]:
    barrier, results = SPAWN.Barrier(n), SPAWN.Queue()
    processes = [SPAWN.Process(target=target, args=(*args_for(i), barrier, results)) for i in range(n)]
    for process in processes:
        process.start()
    collected = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return collected


# --- OAuth refresh ------------------------------------------------------------------------------------


def test_expired_token_is_refreshed_once_across_four_processes(sandbox: SandboxPortal, redis_url: str) -> None:
    values, creds = install_app(sandbox, redis_url)
    sandbox.expire_tokens()
    outcomes = run_processes(call_after_barrier, lambda i: (values, creds.member_id), 4)
    assert [o[0] for o in outcomes] == ["ok"] * 4, outcomes
    assert sandbox.refresh_count == 1
    deps = Deps(load_settings(env_file=None, **values))
    assert deps.refresher.refresh_count(creds.member_id) == 1
    stored = deps.installations.get(creds.member_id)
    assert stored.refresh_token != creds.tokens["refresh_token"]
    assert deps.bitrix(creds.member_id).call("user.current")["ID"]


def test_refresh_stores_the_rotated_pair_and_no_secret_reaches_logs_or_errors(
    sandbox: SandboxPortal, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    values, creds = install_app(sandbox, redis_url)
    deps = Deps(load_settings(env_file=None, **values))
    client = deps.bitrix(creds.member_id)
    sandbox.expire_tokens()
    errors: list[str] = []
    with caplog.at_level(logging.DEBUG), app_logging():
        client.call("user.current")
        try:
            client.call("crm.item.get", {"entityTypeId": 4242, "id": 1})
        except RestError as exc:
            errors += [str(exc), repr(exc)]
        hook = webhook_deps(sandbox, redis_url).bitrix()
        try:
            hook.call("crm.item.get", {"entityTypeId": 4242, "id": 1})
        except RestError as exc:
            errors += [str(exc), repr(exc)]
    assert client.requests_by_method["user.current"] == 2
    stored = deps.installations.get(creds.member_id)
    secrets = [
        creds.tokens["access_token"],
        creds.tokens["refresh_token"],
        stored.access_token,
        stored.refresh_token,
        creds.client_secret,
        hook_code(hook),
    ]
    text = caplog.text + "\n".join(errors)
    assert "refreshed OAuth tokens" in caplog.text
    assert len(errors) == 4
    for secret in secrets:
        assert secret and secret not in text


@contextmanager
def app_logging() -> Iterator[None]:
    """The production logging setup (redaction on every root handler, pytest's capture included)."""
    root = logging.getLogger()
    before = list(root.handlers)
    setup_logging("DEBUG")
    try:
        yield
    finally:
        for handler in list(root.handlers):
            handler.filters = [f for f in handler.filters if not isinstance(f, RedactingFilter)]
            if handler not in before:
                root.removeHandler(handler)


def hook_code(client: Any) -> str:
    token, _ = client._auth.token()
    return str(token.webhook_key)


# --- pacing and faults --------------------------------------------------------------------------------


@pytest.mark.sandbox_options(rate_limit=True)
def test_200_quick_calls_from_four_processes_never_exceed_the_bucket(sandbox: SandboxPortal, redis_url: str) -> None:
    # A smaller, faster bucket than the real 2/s burst 50 so the test takes seconds: same algorithm.
    sandbox.limits.rate, sandbox.limits.burst = 40.0, 20
    values = {
        "redis_url": redis_url,
        "webhook_url": sandbox.webhook_url("admin"),
        "rate_drain": 40.0,
        "rate_burst": 20,
        "retry_base_delay": 0.01,
    }
    outcomes = run_processes(quick_calls, lambda i: (values, 50), 4)
    assert [done for done, _ in outcomes] == [50] * 4
    assert [sent for _, sent in outcomes] == [50] * 4, "a 503 forced a retry"
    assert sandbox.limits.rejected == 0
    assert not [c for c in sandbox.calls if c.status == 503]


def test_a_503_burst_is_absorbed(sandbox: SandboxPortal, redis_url: str) -> None:
    client = webhook_deps(sandbox, redis_url).bitrix()
    sandbox.faults.fail_next(3, status=503)
    sandbox.faults.fail_next(1, status=502)
    assert client.call("user.current")["ID"]
    assert client.requests_by_method == {"user.current": 5}


def test_a_gateway_error_on_a_write_is_not_repeated_but_a_limit_refusal_is(
    sandbox: SandboxPortal, redis_url: str
) -> None:
    client = webhook_deps(sandbox, redis_url).bitrix()
    etid = new_type(client)
    add = {"add": ("crm.item.add", {"entityTypeId": etid, "fields": {"title": "Once"}})}
    sandbox.faults.fail_next(1, status=502)               # the commands may have run behind the gateway
    with pytest.raises(RestError) as caught:
        client.batch(add)
    assert caught.value.status == 502 and client.requests_by_method["batch"] == 1
    sandbox.faults.fail_next(1, status=504)
    with pytest.raises(RestError):
        client.call("crm.item.add", {"entityTypeId": etid, "fields": {"title": "Once"}})
    assert client.requests_by_method["crm.item.add"] == 1
    sandbox.faults.fail_next(2, status=503)               # QUERY_LIMIT_EXCEEDED: refused before running
    assert client.batch(add).ok("add") and client.requests_by_method["batch"] == 4
    sandbox.faults.fail_next(1, status=502)               # a read is repeated
    read = {"get": ("crm.item.list", {"entityTypeId": etid})}
    assert client.batch(read).ok("get") and client.requests_by_method["batch"] == 6


def test_503_beyond_the_retries_is_a_typed_error(sandbox: SandboxPortal, redis_url: str) -> None:
    client = webhook_deps(sandbox, redis_url).bitrix()
    sandbox.faults.fail_next(10, status=503)
    with pytest.raises(RateLimited) as caught:
        client.call("user.current")
    error = caught.value
    assert (error.method, error.status, error.code) == ("user.current", 503, "QUERY_LIMIT_EXCEEDED")
    assert error.description == "Too many requests"
    assert client.request_count == 6


@pytest.mark.sandbox_options(clock=SandboxClock())
def test_operation_time_limit_pauses_only_that_method(sandbox: SandboxPortal, redis_url: str) -> None:
    client = webhook_deps(sandbox, redis_url).bitrix()
    sandbox.faults.operating_limit("crm.type.list", reset_at=time.time() + 300)
    with pytest.raises(OperationTimeLimit) as caught:
        client.call("crm.type.list")
    assert (caught.value.status, caught.value.code) == (429, "OPERATION_TIME_LIMIT")
    other = webhook_deps(sandbox, redis_url).bitrix()
    with pytest.raises(OperationTimeLimit):
        other.call("crm.type.list")
    assert other.request_count == 0, "the pause is shared through Redis"
    assert other.call("user.current")["ID"]


# --- batch and lists ------------------------------------------------------------------------------------


def test_batch_packs_120_commands_into_3_requests_with_per_command_errors(
    sandbox: SandboxPortal, redis_url: str
) -> None:
    client = webhook_deps(sandbox, redis_url).bitrix()
    etid = new_type(client)
    commands: dict[str, tuple[str, dict[str, Any]]] = {
        f"add{i}": ("crm.item.add", {"entityTypeId": etid, "fields": {"title": f"Item {i}"}}) for i in range(118)
    }
    commands["missing1"] = ("crm.item.get", {"entityTypeId": etid, "id": 99999})
    commands["missing2"] = ("crm.item.get", {"entityTypeId": etid, "id": 99998})
    result = client.batch(commands)
    assert client.requests_by_method["batch"] == 3
    assert len(result.results) == 118 and all(result.ok(f"add{i}") for i in range(118))
    assert set(result.errors) == {"missing1", "missing2"}
    assert result.errors["missing1"]["error"] == "NOT_FOUND"


def test_batch_halt_stops_at_the_first_error(sandbox: SandboxPortal, redis_url: str) -> None:
    client = webhook_deps(sandbox, redis_url).bitrix()
    etid = new_type(client)
    commands: dict[str, tuple[str, dict[str, Any]]] = {"bad": ("crm.item.get", {"entityTypeId": etid, "id": 1})}
    commands.update({f"add{i}": ("crm.item.add", {"entityTypeId": etid, "fields": {"title": "x"}}) for i in range(60)})
    result = client.batch(commands, halt=True)
    assert set(result.errors) == {"bad"}
    assert not result.results
    assert client.requests_by_method["batch"] == 1


def test_list_all_pages_by_id(sandbox: SandboxPortal, redis_url: str) -> None:
    client = webhook_deps(sandbox, redis_url).bitrix()
    etid = new_type(client)
    client.batch({f"a{i}": ("crm.item.add", {"entityTypeId": etid, "fields": {"title": f"t{i}"}}) for i in range(120)})
    rows = list(client.list_all("crm.item.list", {"entityTypeId": etid, "select": ["id", "title"]}, items_key="items"))
    assert [row["title"] for row in rows] == [f"t{i}" for i in range(120)]
    assert client.requests_by_method["crm.item.list"] == 3
    pages = [c.params for c in sandbox.calls if c.method.lower() == "crm.item.list"]
    assert all(str(p.get("start")) == "-1" for p in pages)
    by_next = list(client.list_all("crm.item.list", {"entityTypeId": etid, "order": {"id": "DESC"}}, items_key="items"))
    assert len(by_next) == 120 and by_next[0]["title"] == "t119"


# --- a portal that moved to a new domain ------------------------------------------------------------


class CountingPacer(Pacer):
    """The portal's shared bucket, counting the slots taken (every paced HTTP request)."""

    taken = 0

    def acquire(self) -> float:
        self.taken += 1
        return super().acquire()


def test_a_moved_portal_is_proved_once_then_called_directly_one_request_each(
    sandbox: SandboxPortal, redis_url: str
) -> None:
    values, creds = install_app(sandbox, redis_url)
    deps = Deps(load_settings(env_file=None, **values))
    pacer = CountingPacer(deps.redis, sandbox.domain, drain=2, burst=50)
    client = RestClient(OAuthAuth(deps.installations, deps.refresher, creds.member_id, deps.credentials), pacer)
    client.call("user.current")
    new_base = sandbox.move_domain("localhost")
    portal_before, app_before, refreshes = sandbox.request_count, client.request_count, sandbox.refresh_count

    client.call("user.current")  # 302 from the old address, refresh proves the move, the call again
    assert sandbox.request_count - portal_before == client.request_count - app_before == pacer.taken - 1 == 2
    assert sandbox.refresh_count == refreshes + 1
    stored = deps.installations.get(creds.member_id)
    assert stored.client_endpoint == new_base + "/rest/" and stored.rest_host == sandbox.domain

    for _ in range(3):
        client.call("user.current")
    assert sandbox.request_count - portal_before == client.request_count - app_before == pacer.taken - 1 == 5
    assert sandbox.refresh_count == refreshes + 1

    other_process = Deps(load_settings(env_file=None, **values)).bitrix(creds.member_id)
    before = sandbox.request_count
    other_process.call("user.current")
    assert sandbox.request_count - before == other_process.request_count == 1


def test_a_redirect_the_oauth_server_does_not_confirm_is_not_followed(sandbox: SandboxPortal, redis_url: str) -> None:
    values, creds = install_app(sandbox, redis_url)
    deps = Deps(load_settings(env_file=None, **values))
    client = deps.bitrix(creds.member_id)
    sandbox.move_domain("localhost")
    oauth.store(sandbox.state).endpoints.client_endpoint = f"https://127.0.0.1:{sandbox.port}/rest/"  # not told
    with pytest.raises(TransportError) as caught:
        client.call("user.current")
    assert caught.value.code == "portal_moved" and f"localhost:{sandbox.port}" in str(caught.value)
    assert deps.installations.get(creds.member_id).rest_host == f"127.0.0.1:{sandbox.port}"


def test_a_webhook_client_of_a_moved_portal_names_the_new_address(sandbox: SandboxPortal, redis_url: str) -> None:
    client = webhook_deps(sandbox, redis_url).bitrix()
    sandbox.move_domain("localhost")
    before = sandbox.request_count
    with pytest.raises(TransportError) as caught:
        client.call("user.current")
    assert caught.value.code == "portal_moved" and f"localhost:{sandbox.port}" in str(caught.value)
    assert sandbox.request_count - before == client.request_count == 1


def test_an_empty_list_inside_a_batch_clears_a_multiple_field(sandbox: SandboxPortal, redis_url: str) -> None:
    """A query string has no empty array: both batch paths (the client's and the documented ``cmd``
    strings from ``b24app.phpform``) send ``""``, the documented way to clear a field."""
    client = webhook_deps(sandbox, redis_url).bitrix()
    created = client.call("crm.type.add", {"fields": {"title": "Tags"}})["type"]
    etid, name = int(created["entityTypeId"]), f"UF_CRM_{created['id']}_TAGS"
    client.call("userfieldconfig.add", {"moduleId": "crm", "field": {
        "entityId": f"CRM_{created['id']}", "fieldName": name, "userTypeId": "string", "multiple": "Y"}})

    def add() -> int:
        item = client.call("crm.item.add", {"entityTypeId": etid, "useOriginalUfNames": "Y",
                                            "fields": {"title": "t", name: ["a", "b"]}})["item"]
        return int(item["id"])

    def tags(item_id: int) -> Any:
        return client.call("crm.item.get", {"entityTypeId": etid, "id": item_id, "useOriginalUfNames": "Y"})["item"][name]

    cleared = {"entityTypeId": etid, "useOriginalUfNames": "Y", "fields": {name: []}}
    first, second = add(), add()
    assert tags(first) == ["a", "b"]
    result = client.batch({"clear": ("crm.item.update", {**cleared, "id": first})})
    assert result.ok("clear") and tags(first) == []
    command = f"crm.item.update?{phpform.encode({**cleared, 'id': second})}"
    assert client.envelope("batch", {"halt": 0, "cmd": {"clear": command}})["result"]["result_error"] == []
    assert tags(second) == []
