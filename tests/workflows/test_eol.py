"""The end of life: months of durable timers, a reviewed customer notice, milestones, the last approval."""

from __future__ import annotations

from datetime import date, timedelta

from domain.enums import Decision, ProcessStatus
from domain.updates import CancelInput, DecisionInput, ItemDoneInput
from domain.views import ProcessView
from tests.conftest import Stack
from tests.workflows.helpers import (
    Handle,
    advance_to,
    assert_trail_consistent,
    emails,
    events,
    eventually,
    finished,
    issues,
    nine_utc,
    settled,
)
from workflows.comms import CommsWorkflow
from workflows.eol import EolWorkflow

OWNER, VP, LEGAL = "pm@example.com", "vp@example.com", "legal@example.com"
CUSTOMERS = ["ana@customer.example", "bo@customer.example"]


async def view_of(handle: Handle) -> ProcessView:
    view: ProcessView = await handle.query(EolWorkflow.view)
    return view


async def notice_in_review(stack: Stack, handle: Handle, n: int = 1) -> Handle:
    """The handle of the `n`th customer notice, once its reviewers have been asked."""

    async def started() -> bool:
        return len(events(stack.trail(handle.id), "notice_started")) >= n

    await eventually(started, f"customer notice {n} to start")
    child_id = events(stack.trail(handle.id), "notice_started")[n - 1].details["process"]

    async def asked() -> bool:
        trail = stack.trail(child_id)
        return any(e.action == "review_requested" for e in trail) and len(events(trail, "message_sent")) >= 4

    await eventually(asked, f"the reviewers of {child_id} to be asked")
    return stack.client.get_workflow_handle(child_id, result_type=ProcessView)


async def approve_notice(child: Handle) -> None:
    for reviewer in (VP, LEGAL):
        await child.execute_update(
            CommsWorkflow.decide, DecisionInput(gate="review", approver=reviewer, decision=Decision.APPROVE)
        )
        await settled(child)  # one decision at a time (tests/workflows/helpers.py: decide)


async def finish_tasks(handle: Handle) -> None:
    for item in (await view_of(handle)).items:
        if item.status == "open":
            await handle.execute_update(EolWorkflow.mark_item_done, ItemDoneInput(item=item.key, by=item.owner))


def milestone_date(view: ProcessView, field: str, days: int = 0) -> date:
    return date.fromisoformat(view.params[field]) + timedelta(days=days)


async def test_an_end_of_life_from_kickoff_to_the_deletion_of_its_data(stack: Stack) -> None:
    handle = await stack.start_eol()
    child = await notice_in_review(stack, handle)
    view = await view_of(handle)
    assert len(issues(stack.outbox(handle.id))) == 1 + 8
    contracts = next(i for i in view.items if i.key == "contracts")
    assert contracts.owner == OWNER and contracts.due == milestone_date(view, "announce_date", -21)
    assert next(i for i in view.items if i.key == "stop-selling").due == milestone_date(view, "end_of_sale")
    notice: ProcessView = await child.query(CommsWorkflow.view)
    assert notice.content is not None and notice.content.subject.endswith(
        f"will be retired on {view.params['shutdown_date']}"
    )
    assert "https://docs.example.com/migrate" in notice.content.body
    assert notice.params["audience"] == CUSTOMERS and notice.links.get("parent") is None

    await approve_notice(child)
    await finish_tasks(handle)
    await advance_to(stack, nine_utc(milestone_date(view, "end_of_support")) + timedelta(hours=1))

    sent = [e for e in stack.outbox(child.id) if ":send:" in e.key]
    assert sorted(m.to[0] for m in sent) == CUSTOMERS
    [sale] = emails(stack.outbox(handle.id), "end of sale today")
    assert sale.to == sorted(["sales@example.com", OWNER])
    [support] = emails(stack.outbox(handle.id), "end of support today")
    assert support.to == sorted(["support@example.com", OWNER])

    await advance_to(stack, nine_utc(milestone_date(view, "shutdown_date", -3)) + timedelta(hours=1))
    reminders = events(stack.trail(handle.id), "notice_started")[1:]
    assert len(reminders) == 3, "90, 30 and 7 days before the shutdown"
    for started in reminders:
        trail = stack.trail(started.details["process"])
        [pre] = events(trail, "preapproved")
        assert pre.details["content_hash"] == notice.content.content_hash and sorted(pre.details["approvers"]) == [
            LEGAL,
            VP,
        ]
        assert not events(trail, "review_requested"), "the approval of the notice covers its reminders"
        assert events(trail, "completed")
    requests = emails(stack.outbox(handle.id), "Pull the plug on")
    assert sorted(r.to for r in requests) == [[LEGAL], [VP]]
    assert "Every task so far is done." in requests[0].body
    for approver in (VP, LEGAL):
        await handle.execute_update(
            EolWorkflow.decide, DecisionInput(gate="pull-the-plug", approver=approver, decision=Decision.APPROVE)
        )
        await settled(handle)  # one decision at a time (tests/workflows/helpers.py: decide)

    await advance_to(stack, nine_utc(milestone_date(view, "shutdown_date")) + timedelta(hours=1))
    assert {i.key for i in (await view_of(handle)).items} >= {"turn-off", "final-billing", "delete-data"}
    await finish_tasks(handle)
    result = await finished(handle)

    assert result.status == ProcessStatus.COMPLETED and result.outcome == "retired"
    [retention] = events(stack.trail(handle.id), "milestone", milestone="data-retention")
    assert retention.at.date() == milestone_date(view, "shutdown_date", 30)
    assert {s.key: s.status for s in result.steps} == dict.fromkeys(
        [
            "kickoff",
            "notice",
            "end-of-sale",
            "end-of-support",
            "reminders",
            "pull-the-plug",
            "shutdown",
            "data-retention",
        ],
        "done",
    )
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.COMPLETED)


async def reminder_in_review(stack: Stack) -> tuple[Handle, ProcessView, Handle]:
    """An end of life whose template reviews its reminder (7 days before the shutdown, a week's lead), its
    notice sent and its tasks done, at the day the reminder's review opens: (it, its view, the reminder)."""
    handle = await stack.start_eol(
        template={"notice_reminders": {"days_before_shutdown": [7], "approval": "review", "lead_days": 7,
                                       "text": {"subject": "Reminder: {product} shuts down in {days_left} days",
                                                "body": "{days_left} days left. Export: {migration_guide}"}}},
    )  # fmt: skip
    await approve_notice(await notice_in_review(stack, handle))
    await finish_tasks(handle)
    view = await view_of(handle)
    await advance_to(stack, nine_utc(milestone_date(view, "shutdown_date", -14)) + timedelta(hours=1))
    return handle, view, await notice_in_review(stack, handle, n=2)


async def test_reminders_reviewed_again_when_the_template_says_so(stack: Stack) -> None:
    handle, view, reminder = await reminder_in_review(stack)

    content = (await reminder.query(CommsWorkflow.view)).content
    assert (
        content is not None
        and content.subject.endswith("shuts down in 7 days")
        and content.body.startswith("7 days left")
    )
    await approve_notice(reminder)
    await advance_to(stack, nine_utc(milestone_date(view, "shutdown_date", -7)) + timedelta(hours=1))
    assert events(stack.trail(reminder.id), "completed")
    await handle.execute_update(EolWorkflow.cancel, CancelInput(by=OWNER))


async def test_a_reminder_still_unsent_when_the_last_approval_opens_is_withdrawn(stack: Stack) -> None:
    handle, view, reminder = await reminder_in_review(stack)
    await advance_to(stack, nine_utc(milestone_date(view, "shutdown_date", -8)) + timedelta(hours=1))
    await reminder.execute_update(  # late in its round: the text waits a week for a revision nobody makes
        CommsWorkflow.decide, DecisionInput(gate="review", approver=LEGAL, decision=Decision.CHANGES, comment="Shorter")
    )

    await advance_to(stack, nine_utc(milestone_date(view, "shutdown_date", -3)) + timedelta(hours=1))

    async def gate_open() -> bool:
        return bool(events(stack.trail(handle.id), "gate_opened"))

    await eventually(gate_open, "the last approval to open on its day")
    assert (await reminder.result()).status == ProcessStatus.CANCELLED
    assert [e.details["process"] for e in events(stack.trail(handle.id), "reminder_withdrawn")] == [reminder.id]
    steps = {s.key: s.status for s in (await view_of(handle)).steps}
    assert steps["reminders"] == "failed" and steps["pull-the-plug"] == "active"
    assert emails(stack.outbox(handle.id), "send every customer reminder")
    await handle.execute_update(EolWorkflow.cancel, CancelInput(by=OWNER))


async def test_a_rejected_notice_ends_the_end_of_life_before_customers_hear(stack: Stack) -> None:
    handle = await stack.start_eol(template={"notice_hold_days": 0})  # (held for the owner: test_eol_recovery.py)
    child = await notice_in_review(stack, handle)

    await child.execute_update(
        CommsWorkflow.decide, DecisionInput(gate="review", approver=LEGAL, decision=Decision.REJECT, comment="Not yet.")
    )
    result = await finished(handle)

    assert result.status == ProcessStatus.REJECTED
    assert "the customer notice" in (result.outcome or "") and "rejected" in (result.outcome or "")
    assert emails(stack.outbox(handle.id), "was rejected")
    assert not [e for e in stack.outbox(child.id) if ":send:" in e.key]


async def test_cancel_cancels_the_unsent_notice_too(stack: Stack) -> None:
    handle = await stack.start_eol()
    child = await notice_in_review(stack, handle)

    view = await handle.execute_update(EolWorkflow.cancel, CancelInput(by=OWNER, reason="Product stays."))

    assert view.status == ProcessStatus.CANCELLED
    notice: ProcessView = await child.result()
    assert notice.status == ProcessStatus.CANCELLED
    assert emails(stack.outbox(child.id), "will not be sent: cancelled")
    await handle.result()  # (the trail's last rows are written after the answer)
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.CANCELLED)


async def test_a_cancel_through_temporal_ends_it_cancelled_not_rejected(stack: Stack) -> None:
    """`temporal workflow cancel` (not the `cancel` update): the notice ends cancelled first, then the end of life."""
    handle = await stack.start_eol()
    child = await notice_in_review(stack, handle)

    await handle.cancel()

    view: ProcessView = await handle.result()
    assert view.status == ProcessStatus.CANCELLED
    assert (await child.result()).status == ProcessStatus.CANCELLED
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.CANCELLED)


async def test_a_no_at_the_last_approval_stops_the_shutdown(stack: Stack) -> None:
    handle = await stack.start_eol(
        template={"notice_reminders": {"days_before_shutdown": []}},
    )
    await approve_notice(await notice_in_review(stack, handle))
    await finish_tasks(handle)
    view = await view_of(handle)
    await advance_to(stack, nine_utc(milestone_date(view, "shutdown_date", -3)) + timedelta(hours=1))

    await handle.execute_update(
        EolWorkflow.decide,
        DecisionInput(gate="pull-the-plug", approver=VP, decision=Decision.REJECT, comment="Two customers left."),
    )
    result = await finished(handle)

    assert result.status == ProcessStatus.REJECTED and result.outcome == f"{VP}: Two customers left."
    assert not [i for i in result.items if i.key == "turn-off"], "no shutdown tasks without the last approval"
