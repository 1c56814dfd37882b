"""The stack scenarios and the demo run on: the app installed into the sandbox, provisioned, and
jobs run until everything settled — a failing job is reported, not swallowed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Retry

from b24app import queue as queues
from b24app.scenario.stack import Stack, StackError
from b24sandbox.methods import placement


def test_the_app_is_installed_and_provisioned(stack: Stack) -> None:
    stored = stack.deps.installations.get(stack.member_id)
    assert stored.domain == stack.portal.domain
    with stack.portal.state.lock:
        bound = {b.placement: b.handler for b in placement.store(stack.portal.state).bindings}
    assert bound["CRM_DYNAMIC_1100_DETAIL_TAB"] == f"{stack.web_url}/b24/placement"
    assert bound["TASK_VIEW_TAB"] == f"{stack.web_url}/b24/placement"


@pytest.mark.parametrize("retry", [None, Retry(max=2, interval=[600])])
def test_a_failing_job_stops_the_run_with_its_error(stack: Stack, retry: Retry | None) -> None:
    stack.deps.queue(queues.DEFAULT).enqueue("builtins.int", "not a number", retry=retry)
    with pytest.raises(StackError, match=r"builtins\.int.*ValueError: invalid literal"):
        stack.settle()
    assert stack.settle() == 0  # reported once, then cleared


def test_a_job_scheduled_on_purpose_is_not_a_failure(stack: Stack) -> None:
    stack.deps.queue(queues.DEFAULT).enqueue_in(timedelta(hours=1), "builtins.int", "1")
    assert stack.settle() == 0
