"""The living portal across processes (issue 12): the sandbox over HTTPS, events to the real Flask edge,
jobs through RQ on a real Redis, the sweep as an RQ job — a plan without ``rest_offline_extended``
recovers a dropped event by the sweep's read of changed items; a dismissed approver is re-routed by the
next sweep; a smart process missing is told from an item missing by error codes, with Russian texts."""

from __future__ import annotations

import pytest

from b24app.errors import RestError
from b24app.escalation.people import extended_offline
from b24app.pipeline import read
from handlers.sweep import run_sweep
from tests.integration.approval_env import PR, Env
from tests.integration.test_sweep import create, sweep_via_rq

DIRECTOR = 2


def test_without_extended_offline_events_a_dropped_event_is_recovered_by_the_next_sweep(env: Env) -> None:
    env.sandbox.switches.features["rest_offline_extended"] = "N"
    assert extended_offline(env.deps, env.member_id, refresh=True) is False   # as at install (cached a day)
    [item] = create(env)
    run_sweep(env.deps, env.member_id)                  # the first sweep marks the moment it read up to
    env.sandbox.faults.events(drop=1.0)                 # every online event is lost from now on
    env.as_user("m.orlova").complete_task(int(env.tasks(item)[0]["id"]))
    env.settle()
    assert env.stage(item) == "HEAD_APPROVAL"
    sweep_via_rq(env)                                   # no offline queue: the items changed since the last sweep
    assert env.stage(item) == "FINANCE_REVIEW"
    report = run_sweep(env.deps, env.member_id)
    assert report.offline_requests == 1                 # one paged read of changed items per workflow page
    assert env.stage(item) == "FINANCE_REVIEW" and len(env.tasks(item)) == 2


def test_an_approver_dismissed_mid_way_is_rerouted_by_the_next_sweep(env: Env) -> None:
    [item] = create(env)
    [task] = env.tasks(item)
    env.sandbox.people.deactivate("m.orlova")           # the portal sends no event for a dismissal
    sweep_via_rq(env)
    env.settle()
    [moved] = env.tasks(item)
    assert moved["id"] == task["id"] and int(moved["responsibleId"]) == DIRECTOR
    assert env.stage(item) == "HEAD_APPROVAL"
    sweep_via_rq(env)                                   # the same state again: nothing twice
    env.settle()
    assert len(env.tasks(item)) == 1


def test_a_dismissal_is_seen_through_the_lookup_riding_with_the_first_item_batch(env: Env) -> None:
    [item] = create(env)
    sweep_via_rq(env)                                   # remembers the page totals and the approvers
    env.sandbox.people.deactivate("m.orlova")
    calls_before = len(env.sandbox.calls)
    report = run_sweep(env.deps, env.member_id)         # nothing due: no task batch; the lookup rides along
    env.settle()
    methods = [c.method for c in env.sandbox.calls[calls_before:]]
    first_batch = methods[:methods.index("batch")]       # the sandbox records a batch after its commands
    assert report.dismissed == [(PR, item)] and "im.user.list.get" in first_batch
    assert report.reads == 1 and report.http_requests == report.reads + report.offline_requests
    [moved] = env.tasks(item)
    assert int(moved["responsibleId"]) == DIRECTOR


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_missing_smart_process_is_not_taken_for_a_missing_item(env: Env, language: str) -> None:
    [made] = create(env)                                # display names cached (no name reads in the batch)
    env.sandbox.switches.language = language
    assert read.load(env.deps, env.member_id, PR, 987654) is None        # the item is gone: nothing to do
    names = env.names()
    env.client.call("crm.item.delete", {"entityTypeId": names.entity_type_id, "id": made})
    env.client.call("crm.type.delete", {"id": names.type_id})
    with pytest.raises(RestError) as raised:                             # the type is gone: the job retries
        read.load(env.deps, env.member_id, PR, 987654)
    assert (raised.value.method, raised.value.code) == ("crm.item.get", "NOT_FOUND")
