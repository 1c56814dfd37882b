"""Per-person read rights on smart-process items (``b24sandbox.crmaccess``): ``crm.item.get`` of an item
the caller may not read is 400 ``ACCESS_DENIED``, ``crm.item.list`` leaves it out, the administrator and
the default level (``all``) read everything."""

from __future__ import annotations

import pytest

from b24sandbox.clock import SandboxClock
from b24sandbox.crmaccess import CrmAccess
from b24sandbox.state import PortalState
from tests.sandbox.test_crm_items import ADMIN, START, call, error

OWNER, OTHER = 4, 7       # a.ivanova, e.smirnova


@pytest.fixture
def state() -> PortalState:
    return PortalState.from_org_file(clock=SandboxClock(START))


def _setup(state: PortalState) -> tuple[int, int, int]:
    etid = int(call(state, "crm.type.add", {"fields": {"title": "Заявка"}}, ADMIN)["type"]["entityTypeId"])
    mine = call(state, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "mine"}}, OTHER)["item"]["id"]
    theirs = call(state, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "theirs"}}, OWNER)["item"]["id"]
    return etid, int(mine), int(theirs)


def _listed(state: PortalState, etid: int, user: int) -> list[int]:
    return [int(r["id"]) for r in call(state, "crm.item.list", {"entityTypeId": etid, "select": ["id"]}, user)["items"]]


def test_own_reads_only_the_persons_items(state: PortalState) -> None:
    etid, mine, theirs = _setup(state)
    assert _listed(state, etid, OTHER) == [mine, theirs]                  # the default: everything
    CrmAccess(state).set_read("e.smirnova", etid, "own")
    assert _listed(state, etid, OTHER) == [mine]
    denied = error(state, "crm.item.get", {"entityTypeId": etid, "id": theirs}, OTHER)
    assert (denied.error, denied.status) == ("ACCESS_DENIED", 400)
    assert call(state, "crm.item.get", {"entityTypeId": etid, "id": mine}, OTHER)["item"]["id"] == mine
    assert _listed(state, etid, OWNER) == [mine, theirs] and _listed(state, etid, ADMIN) == [mine, theirs]


def test_none_reads_nothing_and_an_unknown_level_is_refused(state: PortalState) -> None:
    etid, mine, _ = _setup(state)
    CrmAccess(state).set_read("e.smirnova", etid, "none")
    assert _listed(state, etid, OTHER) == []
    assert error(state, "crm.item.get", {"entityTypeId": etid, "id": mine}, OTHER).error == "ACCESS_DENIED"
    with pytest.raises(ValueError, match="read level"):
        CrmAccess(state).set_read("e.smirnova", etid, "department")
