"""The runtime mapping code -> ids is read from the portal and cached in (a real) Redis."""

from __future__ import annotations

import pytest
import redis

from b24app.provisioning.apply import provision
from b24app.provisioning.install import after_install, on_installed
from b24app.provisioning.mapping import MappingCache, MappingError, PortalMapping, read_mapping
from b24app.workflow.models import Workflow
from tests.provisioning.conftest import PUBLIC_URL, ROOT, Installed


def test_mapping_is_read_from_the_portal(installed: Installed, workflows: list[Workflow]) -> None:
    with pytest.raises(MappingError, match=r"run `b24app provision --apply`"):
        read_mapping(installed.client, workflows)
    assert provision(installed.client, workflows, PUBLIC_URL, apply=True).ok
    mapping = read_mapping(installed.client, workflows)
    pr = mapping.types["payment_requests"]
    type_id = installed.client.call("crm.type.getByEntityTypeId", {"entityTypeId": 1100})["type"]["id"]
    assert (pr.entity_type_id, pr.type_id) == (1100, int(type_id))
    assert pr.stages["PAID"] == f"DT1100_{pr.category_id}:SUCCESS"
    assert pr.stages["HEAD_APPROVAL"] == f"DT1100_{pr.category_id}:HEAD_APPROVAL"
    assert pr.stage_code(f"DT1100_{pr.category_id}:FAIL") == "REJECTED"
    assert pr.fields["AMOUNT"] == f"UF_CRM_{type_id}_AMOUNT"
    assert mapping.by_entity_type(1102) is mapping.types["contracts"]
    assert PortalMapping.from_json(mapping.to_json()) == mapping


def test_cache_serves_the_mapping_without_requests(installed: Installed, workflows: list[Workflow],
                                                   redis_conn: redis.Redis) -> None:
    assert provision(installed.client, workflows, PUBLIC_URL, apply=True).ok
    cache = MappingCache(redis_conn, installed.member_id, ttl=60)
    first = cache.load(installed.client, workflows)
    count = installed.client.request_count
    assert cache.load(installed.client, workflows) == first
    assert installed.client.request_count == count
    assert 0 < redis_conn.ttl(f"b24app:mapping:{installed.member_id}") <= 60
    cache.invalidate()
    assert cache.get() is None


def test_after_install_provisions_when_configured(installed: Installed, workflows: list[Workflow]) -> None:
    report = after_install(installed.client, ROOT / "config", ROOT / "workflows", PUBLIC_URL, provision_too=True)
    assert report.ok and report.applied
    assert provision(installed.client, workflows, PUBLIC_URL).plan.empty


def test_installed_event_handler_rebinds(installed: Installed, workflows: list[Workflow]) -> None:
    from b24app.deps import Deps
    from handlers.events import INSTALLED, Event

    assert provision(installed.client, workflows, PUBLIC_URL, apply=True).ok
    client = installed.client
    client.call("event.unbind", {"event": "ONCRMDYNAMICITEMUPDATE", "handler": PUBLIC_URL + "/b24/events"})
    client.call("placement.unbind", {"PLACEMENT": "CRM_DYNAMIC_1100_DETAIL_TAB"})
    settings = installed.deps.settings.model_copy(update={"public_url": PUBLIC_URL, "config_dir": ROOT / "config",
                                                          "workflows_dir": ROOT / "workflows"})
    on_installed(Deps(settings), Event(installed.member_id, INSTALLED))
    assert provision(client, workflows, PUBLIC_URL).plan.empty
