"""Sandbox Drive: disk.storage.getForApp, disk.folder.uploadFile (bytes kept), disk.file.get (§10)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from b24sandbox import diskstore, registry
from b24sandbox.registry import Call, RestError
from b24sandbox.shared import load_example
from b24sandbox.state import PortalState

PDF = b"%PDF-1.4 payment order"


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file()


def call(state: PortalState, method: str, params: dict[str, Any], user: int = 1, kind: str = "oauth") -> Any:
    spec = registry.find(method)
    assert spec is not None
    with state.lock:
        return spec.func(Call(state, spec.name, params, user, kind, "local.app.1"))  # type: ignore[arg-type]


def documented(name: str) -> dict[str, Any]:
    return dict(load_example(name)["response"]["bodies"][0]["result"])


def upload(state: PortalState, folder: int, name: str = "счёт.pdf", **extra: Any) -> dict[str, Any]:
    content = [name, base64.b64encode(PDF).decode()]
    return dict(call(state, "disk.folder.uploadFile", {"id": folder, "data": {"NAME": name}, "fileContent": content,
                                                       **extra}))


def test_app_storage_has_the_documented_shape_and_is_stable(state: PortalState) -> None:
    storage = call(state, "disk.storage.getForApp", {})
    assert set(storage) == set(documented("disk.storage.getForApp"))
    assert storage["ENTITY_TYPE"] == "restapp" and storage["MODULE_ID"] == "disk"
    assert call(state, "disk.storage.getForApp", {}) == storage


def test_app_storage_needs_app_context_and_admin(state: PortalState) -> None:
    with pytest.raises(RestError) as caught:
        call(state, "disk.storage.getForApp", {}, kind="webhook")
    assert caught.value.body() == {"error": "ACCESS_DENIED", "error_description": "Access denied! Application context required"}
    with pytest.raises(RestError):
        call(state, "disk.storage.getForApp", {}, user=4)


def test_upload_keeps_bytes_and_get_reads_them_back(state: PortalState) -> None:
    root = int(call(state, "disk.storage.getForApp", {})["ROOT_OBJECT_ID"])
    uploaded = upload(state, root)
    assert set(uploaded) == set(documented("disk.folder.uploadFile"))
    assert isinstance(uploaded["ID"], int) and uploaded["SIZE"] == str(len(PDF)) and uploaded["PARENT_ID"] == str(root)
    got = call(state, "disk.file.get", {"id": str(uploaded["ID"])})
    assert set(got) == set(documented("disk.file.get"))
    assert got["ID"] == str(uploaded["ID"]) and got["NAME"] == "счёт.pdf"
    assert diskstore.get_file(state, uploaded["ID"]).content == PDF  # type: ignore[union-attr]


def test_unique_names_on_request_else_refused(state: PortalState) -> None:
    root = int(call(state, "disk.storage.getForApp", {})["ROOT_OBJECT_ID"])
    upload(state, root)
    assert upload(state, root, generateUniqueName=True)["NAME"] == "счёт (1).pdf"
    with pytest.raises(RestError):
        upload(state, root)


def test_without_content_the_two_step_upload_url_is_answered(state: PortalState) -> None:
    root = int(call(state, "disk.storage.getForApp", {})["ROOT_OBJECT_ID"])
    answer = call(state, "disk.folder.uploadFile", {"id": root})
    assert answer["field"] == "file" and answer["uploadUrl"].startswith("https://")


@pytest.mark.parametrize("method, params, code", [
    ("disk.folder.uploadFile", {"data": {"NAME": "a"}}, "ERROR_ARGUMENT"),
    ("disk.folder.uploadFile", {"id": 999, "data": {"NAME": "a"}, "fileContent": ["a", "YQ=="]}, "ERROR_NOT_FOUND"),
    ("disk.file.get", {}, "ERROR_ARGUMENT"),
    ("disk.file.get", {"id": 999}, "ERROR_NOT_FOUND"),
])
def test_documented_errors(state: PortalState, method: str, params: dict[str, Any], code: str) -> None:
    with pytest.raises(RestError) as caught:
        call(state, method, params)
    assert caught.value.error == code


def test_name_is_required(state: PortalState) -> None:
    root = int(call(state, "disk.storage.getForApp", {})["ROOT_OBJECT_ID"])
    with pytest.raises(RestError) as caught:
        call(state, "disk.folder.uploadFile", {"id": root, "data": {}, "fileContent": ["a", "YQ=="]})
    assert caught.value.error == "DISK_BASE_SERVICE_22001"


def test_uploaded_file_attaches_to_a_task(state: PortalState) -> None:
    root = int(call(state, "disk.storage.getForApp", {})["ROOT_OBJECT_ID"])
    file_id = upload(state, root)["ID"]
    task = call(state, "tasks.task.add", {"fields": {"TITLE": "Оплата", "RESPONSIBLE_ID": 11,
                                                     "UF_TASK_WEBDAV_FILES": [f"n{file_id}"]}})["task"]
    read = call(state, "tasks.task.get", {"taskId": task["id"], "select": ["UF_TASK_WEBDAV_FILES"]})["task"]
    assert len(read["ufTaskWebdavFiles"]) == 1


def test_over_http_upload_and_read_back(sandbox: Any) -> None:
    import requests

    token = sandbox.install_app(handler_url="https://app.example/").tokens["access_token"]

    def rest(method: str, params: dict[str, Any]) -> Any:
        return requests.post(f"{sandbox.base_url}/rest/{method}.json", json={**params, "auth": token},
                             verify=sandbox.ca_bundle, timeout=10).json()["result"]

    root = rest("disk.storage.getForApp", {})["ROOT_OBJECT_ID"]
    uploaded = rest("disk.folder.uploadFile", {"id": root, "data": {"NAME": "п-п.pdf"},
                                               "fileContent": ["п-п.pdf", base64.b64encode(PDF).decode()]})
    assert rest("disk.file.get", {"id": uploaded["ID"]})["SIZE"] == str(len(PDF))
    assert diskstore.get_file(sandbox.state, uploaded["ID"]).content == PDF  # type: ignore[union-attr]


def test_two_step_form_with_only_id_passes_strict_mode(sandbox: Any) -> None:
    import requests

    token = sandbox.install_app(handler_url="https://app.example/").tokens["access_token"]
    root = requests.post(f"{sandbox.base_url}/rest/disk.storage.getForApp.json", json={"auth": token},
                         verify=sandbox.ca_bundle, timeout=10).json()["result"]["ROOT_OBJECT_ID"]
    answer = requests.post(f"{sandbox.base_url}/rest/disk.folder.uploadFile.json", json={"id": root, "auth": token},
                           verify=sandbox.ca_bundle, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["field"] == "file"
    assert sandbox.violations == []


def test_download_url_serves_the_bytes_with_the_embedded_token(sandbox: Any) -> None:
    import requests

    token = sandbox.install_app(handler_url="https://app.example/").tokens["access_token"]

    def rest(method: str, params: dict[str, Any]) -> Any:
        return requests.post(f"{sandbox.base_url}/rest/{method}.json", json={**params, "auth": token},
                             verify=sandbox.ca_bundle, timeout=10).json()["result"]

    root = rest("disk.storage.getForApp", {})["ROOT_OBJECT_ID"]
    uploaded = rest("disk.folder.uploadFile", {"id": root, "data": {"NAME": "п-п.pdf"},
                                               "fileContent": ["п-п.pdf", base64.b64encode(PDF).decode()]})
    link = uploaded["DOWNLOAD_URL"]
    assert link.startswith(f"{sandbox.base_url}/rest/download.json?auth=")
    got = requests.get(link, verify=sandbox.ca_bundle, timeout=10)
    assert got.status_code == 200 and got.content == PDF
    again = requests.get(rest("disk.file.get", {"id": uploaded["ID"]})["DOWNLOAD_URL"], verify=sandbox.ca_bundle,
                         timeout=10)
    assert again.content == PDF
    assert "filename*=UTF-8''" in got.headers["Content-Disposition"]
    forged = requests.get(link.replace(f"auth={token}", "auth=nope"), verify=sandbox.ca_bundle, timeout=10)
    assert forged.status_code == 401 and forged.content != PDF


def test_download_url_for_a_webhook_caller_has_no_auth(sandbox: Any) -> None:
    import requests

    token = sandbox.install_app(handler_url="https://app.example/").tokens["access_token"]
    root = requests.post(f"{sandbox.base_url}/rest/disk.storage.getForApp.json", json={"auth": token},
                         verify=sandbox.ca_bundle, timeout=10).json()["result"]["ROOT_OBJECT_ID"]
    uploaded = requests.post(f"{sandbox.webhook_url('admin')}disk.folder.uploadFile.json", verify=sandbox.ca_bundle,
                             timeout=10, json={"id": root, "data": {"NAME": "a.pdf"},
                                               "fileContent": ["a.pdf", base64.b64encode(PDF).decode()]}).json()
    link = uploaded["result"]["DOWNLOAD_URL"]
    assert "auth=" not in link
    assert requests.get(link, verify=sandbox.ca_bundle, timeout=10).status_code == 401
    assert requests.get(link, params={"auth": token}, verify=sandbox.ca_bundle, timeout=10).content == PDF
