"""b24pysdk, unmodified, against the sandbox over HTTPS: webhook and local-app OAuth with refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from b24pysdk import BitrixAppLocal, BitrixTokenLocal, BitrixWebhook, Client
from b24pysdk.api.requesters import BitrixOAuthRequester
from b24pysdk.errors import BitrixAPIError

from b24sandbox import SandboxPortal


@pytest.fixture
def sdk_trusts_sandbox(sandbox: SandboxPortal, monkeypatch: pytest.MonkeyPatch) -> SandboxPortal:
    """The SDK calls requests without verify=, so requests reads REQUESTS_CA_BUNDLE; its OAuth server
    URL is a class attribute (https://oauth.bitrix24.tech/oauth/token/), pointed at the sandbox."""
    assert sandbox.ca_bundle
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sandbox.ca_bundle)
    monkeypatch.setattr(BitrixOAuthRequester, "_OAUTH_TOKEN_URL", sandbox.oauth_url)
    return sandbox


def webhook_client(portal: SandboxPortal, login: str) -> Client:
    user_id, code = portal.webhook_url(login).rstrip("/").split("/")[-2:]
    return Client(BitrixWebhook(domain=portal.domain, webhook_token=f"{user_id}/{code}"))


def test_webhook_client_calls_and_batches(sdk_trusts_sandbox: SandboxPortal) -> None:
    portal = sdk_trusts_sandbox
    client = webhook_client(portal, "m.orlova")
    token = client.get_token()

    me = client.user.current().response.result
    batch = token.call_batch({"me": ("user.current", {}), "same": ("user.get", {"ID": "$result[me][ID]"})})

    assert me["ID"] == str(portal.state.user_by_login("m.orlova").id)
    assert batch["result"]["result"]["same"][0]["ID"] == me["ID"]
    assert ("batch", 200) in [(c.method, c.status) for c in portal.calls]


def test_sdk_mixed_case_method_names_resolve(sdk_trusts_sandbox: SandboxPortal) -> None:
    portal = sdk_trusts_sandbox
    client = webhook_client(portal, "admin")

    created = client.crm.type.add(fields={"title": "Заявка на оплату"}).response.result["type"]
    items = client.crm.item.list(entity_type_id=created["entityTypeId"]).response.result

    assert items == {"items": []}
    assert [c.method for c in portal.calls] == ["crm.type.add", "crm.item.list"]  # the SDK sends crm.type.Add


def test_sdk_errors_map_to_its_exceptions(sdk_trusts_sandbox: SandboxPortal) -> None:
    client = webhook_client(sdk_trusts_sandbox, "admin")

    with pytest.raises(BitrixAPIError) as caught:
        client.app.info().response  # noqa: B018 - reading the response sends the call

    assert caught.value.status_code == 400
    assert caught.value.error == "ACCESS_DENIED"


def test_local_app_refreshes_once_on_expired_token(sdk_trusts_sandbox: SandboxPortal) -> None:
    portal = sdk_trusts_sandbox
    app = portal.install_app(handler_url="http://127.0.0.1:9/app")
    bitrix_app = BitrixAppLocal(domain=portal.domain, client_id=app.client_id, client_secret=app.client_secret)
    # expires=None: the SDK would otherwise compare it with the machine's clock, not the portal's
    token = BitrixTokenLocal(auth_token=app.tokens["access_token"], refresh_token=app.tokens["refresh_token"],
                             bitrix_app=bitrix_app)
    client = Client(token)
    assert client.app.info().response.result["CODE"] == app.client_id

    portal.clock.advance(timedelta(minutes=61))
    info = client.app.info().response.result

    assert info["INSTALLED"] is True
    assert portal.refresh_count == 1
    assert token.refresh_token != app.tokens["refresh_token"]
    assert [(c.method, c.status, c.error) for c in portal.calls] == [
        ("app.info", 200, None), ("app.info", 401, "expired_token"), ("app.info", 200, None)]
