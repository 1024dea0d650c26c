"""Backups per approver, or by role: asked in a silent approver's place after the template's days, and one
person never counted twice (`domain.backups`, `GateHandOvers.ask_backup`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.starts import prepare_start
from config.templates import load_template
from domain.enums import Decision, GateStatus
from domain.launch import LaunchInput
from domain.templates import LaunchTemplate
from tests.conftest import Stack
from tests.workflows.helpers import (
    LEGAL,
    OWNER,
    SUPPORT,
    VP,
    Launch,
    advance_to,
    at_moment,
    decide,
    emails,
    events,
    gate_open,
    view_of,
)
from tests.workflows.test_comms import CS, ENG, in_review
from tests.workflows.test_comms import decide as comms_decide
from tests.workflows.test_comms import view_of as comms_view
from tests.workflows.test_delegation import BACKUP, DAY, DEPUTY, decide_for
from workflows.launch import LaunchWorkflow


async def test_an_approvers_own_backup_is_asked_after_the_days_and_the_other_approver_is_not(
    launch: Launch, stack: Stack
) -> None:
    handle = await launch(days_ahead=3, backups={LEGAL: DEPUTY}, gate={"escalate_after_days": 1})
    view = await gate_open(handle, stack)
    opened = view.gates[0].opened_at
    assert opened is not None

    await advance_to(stack, opened + DAY - timedelta(hours=1))
    before = events(stack.trail(handle.id), "delegated")
    await advance_to(stack, opened + DAY + timedelta(hours=1))
    trail, outbox = stack.trail(handle.id), stack.outbox(handle.id)
    gate = (await view_of(handle)).gates[0]

    assert before == [], "nobody is asked in anyone's place before the template's days"
    [delegated] = events(trail, "delegated")
    assert at_moment(delegated.at, opened + DAY)
    assert (delegated.actor, delegated.details["approvers"], delegated.details["to"]) == ("signoff", [LEGAL], DEPUTY)
    assert gate.delegates == {LEGAL: DEPUTY}, "the VP has no backup of their own and the gate none: not asked for"
    [asked] = [e for e in emails(outbox, "Go / no-go") if e.to == [DEPUTY]]
    assert f"{LEGAL} handed this decision to you" in asked.body
    assert not [e for e in emails(outbox) if e.to == [DEPUTY] and VP in e.body]

    await decide(handle, VP)
    gate = await decide_for(handle, DEPUTY, LEGAL)
    assert gate.status == GateStatus.APPROVED
    assert [(d.approver, d.on_behalf_of) for d in gate.decisions] == [(VP, None), (DEPUTY, LEGAL)]
    [decision] = events(stack.trail(handle.id), "decision", on_behalf_of=LEGAL)
    assert decision.actor == DEPUTY


async def test_an_approvers_own_backup_wins_over_the_gates(launch: Launch, stack: Stack) -> None:
    handle = await launch(days_ahead=3, backups={LEGAL: DEPUTY}, gate={"backup": BACKUP, "escalate_after_days": 1})
    view = await gate_open(handle, stack)
    opened = view.gates[0].opened_at
    assert opened is not None

    await advance_to(stack, opened + DAY + timedelta(hours=1))
    trail = stack.trail(handle.id)
    gate = (await view_of(handle)).gates[0]

    assert gate.delegates == {VP: BACKUP, LEGAL: DEPUTY}
    assert sorted((e.details["to"], tuple(e.details["approvers"])) for e in events(trail, "delegated")) == [
        (BACKUP, (VP,)),
        (DEPUTY, (LEGAL,)),
    ]


async def test_a_backup_who_is_an_approver_is_not_asked_for_another_one_person_one_decision(
    launch: Launch, stack: Stack
) -> None:
    """The gate's backup is the VP, an approver: the VP decides once, as themselves, and is not asked for the
    silent legal counsel, whose approval the gate (policy ``all``) still waits for."""
    handle = await launch(days_ahead=3, gate={"backup": VP, "escalate_after_days": 1})
    view = await gate_open(handle, stack)
    opened = view.gates[0].opened_at
    assert opened is not None

    await advance_to(stack, opened + DAY + timedelta(hours=1))
    trail = stack.trail(handle.id)
    gate = await decide(handle, VP)

    assert events(trail, "delegated") == []
    [passed] = events(trail, "backup_passed_over")
    assert at_moment(passed.at, opened + DAY)
    assert passed.details["approvers"] == {LEGAL: f"{VP} is an approver of this gate: one person, one decision"}
    assert gate.delegates == {}
    assert gate.status == GateStatus.OPEN and gate.waiting_on == [LEGAL], "the VP's one approval counts once"
    assert not [e for e in emails(stack.outbox(handle.id), "Go / no-go") if e.to == [VP] and LEGAL in e.body]


async def test_a_gate_backup_named_by_role_is_the_person_the_launch_names_for_it(stack: Stack) -> None:
    """The template names the ``support`` role as the gate's backup; the start resolves it to the launch's
    support owner, who is asked for the silent approvers."""
    template = load_template("launch", "launch")
    assert isinstance(template, LaunchTemplate)
    gate = template.gate.model_copy(update={"backup_role": "support", "escalate_after_days": 1})
    template = template.model_copy(update={"gate": gate})
    today = await stack.today()
    params: dict[str, Any] = {
        "product": "Acme Roles",
        "launch_date": (today + timedelta(days=3)).isoformat(),
        "owner": OWNER,
        "approvers": [VP, LEGAL],
        "owners": {"support": SUPPORT},
    }

    def templates(name: str, kind: str) -> Any:
        return template if kind == "launch" else load_template(name, kind)

    start, _ = prepare_start("launch", params, OWNER, templates, today)
    assert isinstance(start, LaunchInput)
    assert (start.template.gate.backup, start.template.gate.backup_role) == (SUPPORT, "support")
    handle = await stack.client.start_workflow(
        LaunchWorkflow.run, start, id=start.params.id(), task_queue=stack.task_queue
    )
    view = await gate_open(handle, stack)
    opened = view.gates[0].opened_at
    assert opened is not None
    await decide(handle, VP, Decision.APPROVE)

    await advance_to(stack, opened + DAY + timedelta(hours=1))
    [delegated] = events(stack.trail(handle.id), "delegated")
    gate_state = await decide_for(handle, SUPPORT, LEGAL)

    assert (delegated.details["approvers"], delegated.details["to"]) == ([LEGAL], SUPPORT)
    assert gate_state.status == GateStatus.APPROVED


async def test_a_reviewers_own_backup_reviews_a_message_on_their_behalf(stack: Stack) -> None:
    handle = await stack.start_comms(
        backups={ENG: "eng-lead@example.com"}, template={"review": {"escalate_after_days": 1}}
    )
    view = await in_review(stack, handle)
    opened = view.gates[0].opened_at
    assert opened is not None
    await comms_decide(handle, CS, Decision.APPROVE)

    await advance_to(stack, opened + DAY + timedelta(hours=1))
    [delegated] = events(stack.trail(handle.id), "delegated")
    await comms_decide(handle, "eng-lead@example.com", Decision.APPROVE, on_behalf_of=ENG)
    gate = (await comms_view(handle)).gates[0]

    assert (delegated.details["approvers"], delegated.details["to"]) == ([ENG], "eng-lead@example.com")
    assert gate.status == GateStatus.APPROVED
    assert [(d.approver, d.on_behalf_of) for d in gate.decisions] == [(CS, None), ("eng-lead@example.com", ENG)]
