"""An end of life's shutdown step is done only once its shutdown tasks are (issue #14: honest states)."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import Decision, ProcessStatus
from domain.updates import DecisionInput, ItemDoneInput
from tests.conftest import Stack
from tests.workflows.helpers import advance_to, events, finished, nine_utc, settled
from tests.workflows.test_eol import LEGAL, VP, approve_notice, finish_tasks, notice_in_review, view_of
from workflows.eol import EolWorkflow

SHUTDOWN_TASKS = ["turn-off", "final-billing", "delete-data"]


async def test_the_shutdown_step_stays_in_progress_until_its_tasks_are_resolved(stack: Stack) -> None:
    today = await stack.today()
    shutdown = today + timedelta(days=20)
    handle = await stack.start_eol(
        announce_date=today + timedelta(days=2),
        end_of_sale=today + timedelta(days=5),
        end_of_support=today + timedelta(days=8),
        shutdown_date=shutdown,
        template={"notice_reminders": {"days_before_shutdown": [7]}},
    )
    await approve_notice(await notice_in_review(stack, handle))
    await finish_tasks(handle)
    await advance_to(stack, nine_utc(shutdown) - timedelta(days=3) + timedelta(hours=1))
    for approver in (VP, LEGAL):
        await handle.execute_update(
            EolWorkflow.decide, DecisionInput(gate="pull-the-plug", approver=approver, decision=Decision.APPROVE)
        )
        await settled(handle)

    await advance_to(stack, nine_utc(shutdown) + timedelta(hours=1))
    filed = await view_of(handle)
    await handle.execute_update(EolWorkflow.mark_item_done, ItemDoneInput(item="turn-off", by="eng@example.com"))
    one_left = await view_of(handle)
    await handle.execute_update(EolWorkflow.mark_item_done, ItemDoneInput(item="final-billing", by="pm@example.com"))
    await handle.execute_update(
        EolWorkflow.mark_item_done,
        ItemDoneInput(item="delete-data", by="eng@example.com", resolution="wont_do", reason="Kept by contract."),
    )
    resolved = await view_of(handle)
    result = await finished(handle)

    steps = {step.key: step.status for step in filed.steps}
    assert steps["shutdown"] == "active", "its tasks were just filed: the service is not off yet"
    assert [i.key for i in filed.items if i.status == "open"] == SHUTDOWN_TASKS
    assert {step.key: step.status for step in one_left.steps}["shutdown"] == "active"
    assert {step.key: step.status for step in resolved.steps}["shutdown"] == "done"
    assert result.status == ProcessStatus.COMPLETED and result.outcome == "retired"
    assert {step.status for step in result.steps} == {"done"}
    [milestone] = events(stack.trail(handle.id), "milestone", milestone="shutdown")
    assert milestone.details["tasks"] == SHUTDOWN_TASKS
