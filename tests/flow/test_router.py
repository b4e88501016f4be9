"""Each stage registers the events it handles; bot.events only combines the stages' routers."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.events import ROUTER
from bot.flow import approve, draft, pr_check, status
from bot.flow.router import Router


def test_each_event_reaches_the_stage_that_registered_it() -> None:
    assert ROUTER.handler_for("pull_request", {"action": "opened"}) is pr_check.on_pull_request
    assert ROUTER.handler_for("push", {}) is draft.on_push
    assert ROUTER.handler_for("issue_comment", {"action": "created"}) is approve.on_issue_comment
    assert ROUTER.handler_for("schedule", {}) is status.on_schedule
    dispatched = {a: ROUTER.handler_for("workflow_dispatch", {"inputs": {"action": a}})
                  for a in ("draft", "publish", "status")}
    assert dispatched == {"draft": draft.on_dispatch_draft, "publish": approve.on_dispatch_publish,
                          "status": status.on_status}
    assert ROUTER.handler_for("workflow_dispatch", {}) is status.on_status  # the workflow's default


def test_actions_no_stage_registered_are_ignored_but_unknown_events_are_errors() -> None:
    assert ROUTER.handler_for("issue_comment", {"action": "deleted"}) is None
    with pytest.raises(UsageError, match="no handler for the event 'release'"):
        ROUTER.handler_for("release", {})
    with pytest.raises(UsageError, match="unknown action 'nuke'"):
        ROUTER.handler_for("workflow_dispatch", {"inputs": {"action": "nuke"}})


def test_two_stages_cannot_claim_the_same_event() -> None:
    one, two = Router(), Router()
    one.register("push")(lambda ctx, payload: 0)
    two.register("push")(lambda ctx, payload: 0)
    with pytest.raises(ValueError, match="two handlers for push"):
        Router(one, two)
