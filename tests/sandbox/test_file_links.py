"""File field links (REFERENCE §6.5) answer with the stored bytes over HTTP, only with a valid token."""

from __future__ import annotations

import base64

import pytest
import requests

from b24sandbox import SandboxPortal


def _item_with_file(sandbox: SandboxPortal, hook: str) -> dict:
    def rest(method: str, params: dict) -> dict:
        answer = requests.post(hook + method, json=params, verify=sandbox.ca_bundle, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]

    spa = rest("crm.type.add", {"fields": {"title": "Files", "isStagesEnabled": "Y"}})["type"]
    rest("userfieldconfig.add", {"moduleId": "crm", "field": {
        "entityId": f"CRM_{spa['id']}", "fieldName": f"UF_CRM_{spa['id']}_INVOICE", "userTypeId": "file"}})
    content = base64.b64encode(b"%PDF-1.4 invoice").decode()
    item = rest("crm.item.add", {"entityTypeId": spa["entityTypeId"], "useOriginalUfNames": "Y",
                                 "fields": {f"UF_CRM_{spa['id']}_INVOICE": ["invoice.pdf", content]}})["item"]
    return item[f"UF_CRM_{spa['id']}_INVOICE"]


def test_file_links_serve_the_stored_bytes_to_a_valid_token(sandbox: SandboxPortal, tmp_path) -> None:
    app = sandbox.install_app(handler_url="https://127.0.0.1:9/app")
    token = app.tokens["access_token"]
    link = _item_with_file(sandbox, sandbox.webhook_url("admin"))

    machine = requests.get(link["urlMachine"], params={"auth": token}, verify=sandbox.ca_bundle, timeout=10)
    browser = requests.get(link["url"], params={"auth": token}, verify=sandbox.ca_bundle, timeout=10)

    assert machine.status_code == 200 and machine.content == b"%PDF-1.4 invoice"
    assert browser.status_code == 200 and browser.content == b"%PDF-1.4 invoice"
    assert 'filename="invoice.pdf"' in machine.headers["Content-Disposition"]


def test_file_links_refuse_without_a_valid_token(sandbox: SandboxPortal) -> None:
    sandbox.install_app(handler_url="https://127.0.0.1:9/app")
    link = _item_with_file(sandbox, sandbox.webhook_url("admin"))

    anonymous = requests.get(link["urlMachine"], verify=sandbox.ca_bundle, timeout=10)
    forged = requests.get(link["urlMachine"], params={"auth": "nope"}, verify=sandbox.ca_bundle, timeout=10)

    assert anonymous.status_code == 401 and anonymous.json()["error"] == "NO_AUTH_FOUND"
    assert forged.status_code == 401 and b"PDF" not in forged.content


def test_url_machine_embeds_the_oauth_callers_token(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="https://127.0.0.1:9/app")
    token = app.tokens["access_token"]
    webhook_link = _item_with_file(sandbox, sandbox.webhook_url("admin"))
    assert "auth=" not in webhook_link["urlMachine"]  # a webhook caller has no token to embed

    item_id = webhook_link["url"].split("&id=")[1].split("&")[0]
    etid = webhook_link["url"].split("entityTypeId=")[1].split("&")[0]
    answer = requests.post(f"{sandbox.base_url}/rest/crm.item.get.json", verify=sandbox.ca_bundle, timeout=10,
                           json={"auth": token, "entityTypeId": etid, "id": item_id}).json()["result"]["item"]
    link = next(v for k, v in answer.items() if k.startswith("ufCrm"))
    assert f"auth={token}" in link["urlMachine"]
    machine = requests.get(link["urlMachine"], verify=sandbox.ca_bundle, timeout=10)
    assert machine.status_code == 200 and machine.content == b"%PDF-1.4 invoice"


def test_a_url_machine_download_is_a_counted_rest_request(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="https://127.0.0.1:9/app")
    link = _item_with_file(sandbox, sandbox.webhook_url("admin"))
    before = sandbox.request_count

    requests.get(link["urlMachine"], params={"auth": app.tokens["access_token"]}, verify=sandbox.ca_bundle,
                 timeout=10)
    requests.get(link["url"], params={"auth": app.tokens["access_token"]}, verify=sandbox.ca_bundle, timeout=10)

    assert sandbox.request_count - before == 1  # the browser link is not a REST request
    record = sandbox.calls[-1]
    assert record.method == "crm.controller.item.getFile" and record.status == 200 and record.auth_kind == "oauth"


def test_the_browser_link_opens_for_an_active_persons_portal_session(sandbox: SandboxPortal) -> None:
    sandbox.install_app(handler_url="https://127.0.0.1:9/app")
    link = _item_with_file(sandbox, sandbox.webhook_url("admin"))
    person = next(u for u in sandbox.state.users.values() if u.active and u.login != sandbox.state.portal.admin_login)

    signed_in = requests.get(link["url"], cookies={"sandbox_as": person.login}, verify=sandbox.ca_bundle,
                             timeout=10)
    stranger = requests.get(link["url"], cookies={"sandbox_as": "nobody"}, verify=sandbox.ca_bundle, timeout=10)
    person.active = False
    gone = requests.get(link["url"], cookies={"sandbox_as": person.login}, verify=sandbox.ca_bundle, timeout=10)

    assert signed_in.status_code == 200 and signed_in.content == b"%PDF-1.4 invoice"
    assert stranger.status_code == 403 and gone.status_code == 403 and b"PDF" not in gone.content


@pytest.mark.sandbox_options(rate_limit=True)
def test_url_machine_downloads_share_the_rest_bucket(sandbox: SandboxPortal) -> None:
    app = sandbox.install_app(handler_url="https://127.0.0.1:9/app")
    link = _item_with_file(sandbox, sandbox.webhook_url("admin"))
    filled = 0
    while sandbox.limits.hit("127.0.0.1") and filled < 1000:    # fill the bucket (burst 50 on standard)
        filled += 1
    assert filled < 1000

    refused = requests.get(link["urlMachine"], params={"auth": app.tokens["access_token"]},
                           verify=sandbox.ca_bundle, timeout=10)

    assert refused.status_code == 503 and refused.json()["error"] == "QUERY_LIMIT_EXCEEDED"
    assert b"PDF" not in refused.content
