"""The audit trail: numbered without gaps, hash-chained, statuses consistent with the story."""

from __future__ import annotations

import time
from typing import Any

import pytest

from domain.audit import AuditEvent
from domain.enums import Decision, ProcessStatus
from tests.conftest import Stack
from tests.workflows.helpers import (
    ITEMS,
    LEGAL,
    OWNER,
    VP,
    Launch,
    assert_trail_consistent,
    decide,
    events,
    finished,
    gate_open,
    kicked_off,
    mark_done,
)


async def test_trail_of_a_launch_from_kickoff_to_announcement(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=20)
    await kicked_off(handle)
    await mark_done(handle, *ITEMS, by=OWNER)
    await gate_open(handle, stack)
    await decide(handle, VP, comment="ship it")
    await decide(handle, LEGAL)
    result = await finished(handle)
    trail = stack.trail(handle.id)

    assert result.status == ProcessStatus.COMPLETED
    assert_trail_consistent(trail, ProcessStatus.COMPLETED)
    first_of = {action: next(e.seq for e in trail if e.action == action) for action in {e.action for e in trail}}
    story = ["started", "issue_created", "item_done", "gate_opened", "approval_requested", "decision", "gate_closed"]
    assert sorted(story, key=first_of.__getitem__) == story
    assert trail[-1].action == "completed"
    assert trail[0].actor == OWNER and trail[0].details["params"]["product"] == result.params["product"]
    assert [(e.actor, e.details["decision"], e.details["comment"]) for e in events(trail, "decision")] == [
        (VP, "approve", "ship it"),
        (LEGAL, "approve", ""),
    ]
    assert [e.status for e in events(trail, "item_done")] == ["running"] * 12
    assert [e.status for e in events(trail, "decision")] == ["waiting", "waiting"]
    assert [e.status for e in events(trail, "gate_closed")] == ["running"]


async def test_no_event_claims_the_end_before_the_event_that_ends_it(
    launch: Launch, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    append = stack.store.append

    def slow_append(event: AuditEvent) -> Any:
        if event.action == "gate_closed":
            time.sleep(1.0)  # the audit database is slow for a moment
        return append(event)

    monkeypatch.setattr(stack.store, "append", slow_append)
    handle = await launch(days_ahead=2)
    await kicked_off(handle)
    await gate_open(handle, stack)

    await decide(handle, LEGAL, Decision.REJECT, "not this quarter")
    result = await finished(handle)

    assert result.status == ProcessStatus.REJECTED
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.REJECTED)
