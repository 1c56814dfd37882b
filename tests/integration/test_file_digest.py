"""File downloads (``RestClient.download``, ``b24app.pipeline.files``) against the sandbox over HTTPS with a
real Redis: the content's SHA-256, one paced and counted request per file id, a stale token renewed."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from b24app.deps import Deps
from b24app.errors import RestError
from b24app.pipeline import files
from b24app.settings import load_settings
from b24sandbox import SandboxPortal
from tests.integration.test_rest_client import install_app, trust_sandbox  # noqa: F401  (fixture)

CONTENT = "Договор №7 — версия 2".encode()


def _item_with_file(client: Any) -> tuple[dict[str, Any], str]:
    spa = client.call("crm.type.add", {"fields": {"title": "Files"}})["type"]
    field = f"UF_CRM_{spa['id']}_CONTRACT"
    client.call("userfieldconfig.add", {"moduleId": "crm", "field": {
        "entityId": f"CRM_{spa['id']}", "fieldName": field, "userTypeId": "file"}})
    encoded = base64.b64encode(CONTENT).decode()
    item = client.call("crm.item.add", {"entityTypeId": spa["entityTypeId"], "useOriginalUfNames": "Y",
                                        "fields": {field: ["договор v2.pdf", encoded]}})["item"]
    return item, field


def test_a_file_is_hashed_once_per_file_id_with_one_counted_request(sandbox: SandboxPortal, redis_url: str) -> None:
    values, creds = install_app(sandbox, redis_url)
    deps = Deps(load_settings(env_file=None, **values))
    client = deps.bitrix(creds.member_id)
    item, field = _item_with_file(client)
    [ref] = files.refs(item[field])
    before = sandbox.request_count

    first = files.digest(client, deps.redis, creds.member_id, ref)
    again = files.digest(client, deps.redis, creds.member_id, ref)

    assert first == again == files.FileDigest(ref.id, "договор v2.pdf", len(CONTENT),
                                              hashlib.sha256(CONTENT).hexdigest())
    assert sandbox.request_count - before == 1  # the second digest came from Redis
    assert client.requests_by_method["crm.controller.item.getFile"] == 1
    assert [c.method for c in sandbox.calls][-1] == "crm.controller.item.getFile"
    assert files.cached(deps.redis, creds.member_id, ref.id) == first


def test_a_stale_token_in_the_link_is_replaced_and_an_expired_one_renewed(
    sandbox: SandboxPortal, redis_url: str
) -> None:
    values, creds = install_app(sandbox, redis_url)
    deps = Deps(load_settings(env_file=None, **values))
    client = deps.bitrix(creds.member_id)
    item, field = _item_with_file(client)
    [ref] = files.refs(item[field])
    assert "auth=" in ref.url_machine
    sandbox.expire_tokens()  # the token the link embeds is dead now

    found = files.digest(client, deps.redis, creds.member_id, ref)

    assert found.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert sandbox.refresh_count == 1
    assert client.requests_by_method["crm.controller.item.getFile"] == 2  # refused, renewed, replayed


def test_a_missing_file_is_a_typed_error_and_nothing_is_kept(sandbox: SandboxPortal, redis_url: str) -> None:
    values, creds = install_app(sandbox, redis_url)
    deps = Deps(load_settings(env_file=None, **values))
    client = deps.bitrix(creds.member_id)
    item, field = _item_with_file(client)
    [ref] = files.refs(item[field])
    broken = files.FileRef(ref.id, ref.url, ref.url_machine.replace("token=", "token=x"))

    with pytest.raises(RestError) as caught:
        files.digest(client, deps.redis, creds.member_id, broken)

    assert caught.value.status == 404 and caught.value.code == "NOT_FOUND"
    assert "token" not in str(caught.value) and files.cached(deps.redis, creds.member_id, ref.id) is None


def test_a_file_the_app_cannot_download_does_not_stop_the_read(sandbox: SandboxPortal, redis_url: str) -> None:
    from dataclasses import replace

    from b24app.pipeline.read import version_file
    from b24app.workflow.config import load_org_config
    from b24app.workflow.loader import load_workflows
    from b24app.workflow.snapshot import Snapshot
    from tests.workflow.engine_world import ROOT

    values, creds = install_app(sandbox, redis_url)
    deps = Deps(load_settings(env_file=None, **values))
    item, field = _item_with_file(deps.bitrix(creds.member_id))
    [ref] = files.refs(item[field])
    org, _ = load_org_config(ROOT / "config")
    contracts = next(w for w in load_workflows(ROOT / "workflows", org) if w.code == "contracts")
    gone = {"id": ref.id, "url": ref.url, "urlMachine": ref.url_machine.replace("token=", "token=x")}
    snap = Snapshot(item_id=int(item["id"]), title="", stage="NEW", initiator=1, fields={"CONTRACT_FILE": gone})

    assert version_file(deps, creds.member_id, contracts, snap, digest_files=True) is None   # 404: skipped
    found = version_file(deps, creds.member_id, contracts, replace(snap, fields={"CONTRACT_FILE": item[field]}), True)
    assert found is not None and found.sha256 == hashlib.sha256(CONTENT).hexdigest() and found.name == "договор v2.pdf"
    assert "token" not in found.url and "auth" not in found.url and f"fileId={ref.id}" in found.url
    assert version_file(deps, creds.member_id, contracts, replace(snap, fields={"CONTRACT_FILE": item[field]}),
                        False) is None              # the tab's read never downloads
