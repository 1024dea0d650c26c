"""An end of life's last approval after a rejection, as its template's ``on_reject`` says (`decide_gate`, shared
with the launch's go / no-go): held for the owner, asked again at once, and each new round expires as the plan
stands then (an edit may have moved the shutdown)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from config.templates import load_template
from domain.edits import EditInput
from domain.enums import Decision, ProcessStatus
from domain.templates import EolTemplate
from domain.updates import DecisionInput, RecoverInput
from tests.conftest import Stack
from tests.workflows.helpers import Handle, advance_to, eventually, gate_open, nine_utc, settled
from tests.workflows.test_eol import LEGAL, OWNER, VP, approve_notice, finish_tasks, notice_in_review, view_of
from workflows.eol import EolWorkflow

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
GATE = "pull-the-plug"
NO = "Two customers have not moved yet."


def gate(on_reject: str) -> dict[str, Any]:
    loaded = load_template("eol", "eol")
    assert isinstance(loaded, EolTemplate)
    return loaded.gate.model_dump() | {"on_reject": on_reject}


async def rejected(stack: Stack, on_reject: str) -> tuple[Handle, date, int]:
    """An end of life shut down in 20 days, its notice approved and tasks done, its last approval (open 3 days
    before) rejected: (it, today, the gate's hold in days)."""
    today = await stack.today()
    rules = gate(on_reject)
    handle = await stack.start_eol(
        announce_date=today + 2 * DAY,
        end_of_sale=today + 5 * DAY,
        end_of_support=today + 8 * DAY,
        shutdown_date=today + 20 * DAY,
        template={
            "notice_reminders": {"days_before_shutdown": []},
            "min_notice_days": {"end_of_sale": 2, "end_of_support": 2, "shutdown": 5},
            "gate": rules,
        },
    )
    await approve_notice(await notice_in_review(stack, handle))
    await finish_tasks(handle)
    await advance_to(stack, nine_utc(today + 17 * DAY) + HOUR)
    await decide(handle, VP, Decision.REJECT, NO)
    return handle, today, rules["hold_days"]


async def decide(handle: Handle, approver: str, decision: Decision = Decision.APPROVE, comment: str = "") -> None:
    input = DecisionInput(gate=GATE, approver=approver, decision=decision, comment=comment)
    await handle.execute_update(EolWorkflow.decide, input)
    await settled(handle)


async def test_a_held_last_approval_asked_again_expires_as_the_moved_shutdown_says(stack: Stack) -> None:
    handle, today, hold = await rejected(stack, "owner")

    async def held() -> bool:
        return (await view_of(handle)).held is not None

    await eventually(held, "the rejected last approval held for the owner")
    await handle.execute_update(EolWorkflow.edit, EditInput(by=OWNER, shutdown_date=today + 27 * DAY))
    await handle.execute_update(
        EolWorkflow.recover, RecoverInput(step=GATE, action="rerun", reason="They have moved now.", by=OWNER)
    )
    second = await gate_open(handle, stack, round=2)
    for approver in (VP, LEGAL):
        await decide(handle, approver)
    await advance_to(stack, nine_utc(today + 27 * DAY) + HOUR)
    after = await view_of(handle)

    assert second.gates[0].expires_at == nine_utc(today + (27 + hold) * DAY), "the moved shutdown's, not the first's"
    assert after.status != ProcessStatus.REJECTED
    assert next(s.status for s in after.steps if s.key == "shutdown") == "active"


async def test_a_last_approval_that_reopens_asks_again_at_once_and_goes_on_when_approved(stack: Stack) -> None:
    handle, today, hold = await rejected(stack, "reopen")

    second = await gate_open(handle, stack, round=2)
    for approver in (VP, LEGAL):
        await decide(handle, approver)
    await advance_to(stack, nine_utc(today + 20 * DAY) + HOUR)
    after = await view_of(handle)

    assert second.held is None and second.gates[0].expires_at == nine_utc(today + (20 + hold) * DAY)
    assert after.status != ProcessStatus.REJECTED
    assert next(s.status for s in after.steps if s.key == "shutdown") == "active"
