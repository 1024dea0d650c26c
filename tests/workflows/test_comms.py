"""The customer message: review bound to a version, revisions, changes requested, the send at its time, batches."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.comms import content_hash
from domain.enums import Decision, ProcessStatus
from domain.errors import Refused, Unavailable
from domain.requests import Delivery
from domain.updates import CancelInput, DecisionInput, RevisionInput
from domain.views import Content, ProcessView
from integrations.outbox import OutboxMailer
from integrations.ports import Email
from integrations.store import Store
from tests.conftest import Stack, running_stack
from tests.workflows.helpers import (
    OWNER,
    Handle,
    approval_links,
    assert_trail_consistent,
    chats,
    emails,
    events,
    eventually,
    finished,
    refusal,
    settled,
)
from workflows.comms import CommsWorkflow

CS, ENG = "cs@example.com", "eng@example.com"
AUDIENCE = ["ana@customer.example", "bo@customer.example", "cy@customer.example"]


async def view_of(handle: Handle) -> ProcessView:
    view: ProcessView = await handle.query(CommsWorkflow.view)
    return view


async def in_review(stack: Stack, handle: Handle, round: int = 1) -> ProcessView:
    """Wait until round `round` of the review has reached both reviewers, by email and in chat."""

    async def asked() -> bool:
        sent = [e for e in stack.trail(handle.id) if e.action == "message_sent"]
        return sum(e.details["template"].startswith("comms_review") for e in sent) >= 4 * round

    await eventually(asked, f"review round {round} to reach the reviewers")
    return await view_of(handle)


async def decide(handle: Handle, reviewer: str, decision: Decision, comment: str = "", **extra: Any) -> None:
    await handle.execute_update(
        CommsWorkflow.decide,
        DecisionInput(gate="review", approver=reviewer, decision=decision, comment=comment, **extra),
    )
    await settled(handle)


async def revise(handle: Handle, body: str, **extra: Any) -> Content:
    result: Content = await handle.execute_update(CommsWorkflow.revise, RevisionInput(body=body, by=OWNER, **extra))
    return result


def sent_to_audience(stack: Stack, handle: Handle) -> list[Any]:
    return [e for e in stack.outbox(handle.id) if e.key.startswith(f"{handle.id}:send:")]


async def test_approved_by_both_it_goes_to_each_recipient_exactly_as_approved(stack: Stack) -> None:
    handle = await stack.start_comms()
    view = await in_review(stack, handle)
    assert view.content is not None and view.content.version == 1
    assert view.gates[0].approvers == [CS, ENG] and view.gates[0].status == "open"
    requests = emails(stack.outbox(handle.id), "Review requested")
    assert sorted(r.to[0] for r in requests) == [CS, ENG]
    assert "(Customer Success)" in next(r.body for r in requests if r.to == [CS])
    assert view.content.body in requests[0].body, "reviewers read the exact text"

    await decide(handle, CS, Decision.APPROVE)
    await decide(handle, ENG, Decision.APPROVE, "Accurate.")
    result = await finished(handle)

    assert result.status == ProcessStatus.COMPLETED and result.outcome == "sent to 3 of 3"
    assert {s.key: s.status for s in result.steps} == {"review": "done", "scheduled": "done", "send": "done"}
    messages = sent_to_audience(stack, handle)
    assert sorted(m.to[0] for m in messages) == AUDIENCE
    approved = view.content
    assert all(m.subject == approved.subject and m.body == approved.body + "\n" for m in messages)
    trail = stack.trail(handle.id)
    assert {(e.actor, e.details["content_hash"]) for e in events(trail, "decision")} == {
        (CS, approved.content_hash),
        (ENG, approved.content_hash),
    }
    [batch] = events(trail, "batch_sent")
    assert batch.details["outcomes"] == dict.fromkeys(AUDIENCE, "sent")
    [done] = events(trail, "completed")
    assert done.details["content_hash"] == approved.content_hash and done.details["sent"] == 3
    [summary] = emails(stack.outbox(handle.id), "was sent to 3 of 3")
    assert summary.to == [OWNER] and f"as approved by {CS}, {ENG}" in summary.body
    assert_trail_consistent(trail, ProcessStatus.COMPLETED)


async def test_a_new_version_voids_approvals_and_old_links_no_longer_count(stack: Stack) -> None:
    handle = await stack.start_comms()
    await in_review(stack, handle)
    first = (await view_of(handle)).content
    assert first is not None
    await decide(handle, CS, Decision.APPROVE, content_hash=first.content_hash)
    old_cs_token, old_eng_token = (
        approval_links(stack.outbox(handle.id), CS),
        approval_links(stack.outbox(handle.id), ENG),
    )
    assert old_cs_token and old_eng_token

    second = await revise(handle, "We upgrade **Acme** on Sunday, 02:00–04:00 UTC.", comment="times added")
    view = await in_review(stack, handle, round=2)

    assert second.version == 2 and second.content_hash == content_hash(first.subject, second.body)
    assert view.content == second
    assert view.gates[0].round == 2 and view.gates[0].waiting_on == [CS, ENG], "the approval of version 1 is void"
    error = await refusal(decide(handle, ENG, Decision.APPROVE, content_hash=first.content_hash))
    assert error.type == "Conflict" and "now at version 2" in error.message
    assert len(emails(stack.outbox(handle.id), "(version 2)")) == 2, "both reviewers are asked about version 2"

    await decide(handle, CS, Decision.APPROVE, content_hash=second.content_hash)
    await decide(handle, ENG, Decision.APPROVE, content_hash=second.content_hash)
    await finished(handle)

    assert {m.body for m in sent_to_audience(stack, handle)} == {second.body + "\n"}
    trail = stack.trail(handle.id)
    [revised] = events(trail, "revised")
    assert revised.details | {"at": None} == {
        "version": 2, "content_hash": second.content_hash, "subject": first.subject, "body": second.body,
        "comment": "times added", "at": None,
    }  # fmt: skip
    approvals = [(e.actor, e.details["version"]) for e in events(trail, "decision")]
    assert approvals == [(CS, 1), (CS, 2), (ENG, 2)]


async def test_changes_requested_waits_for_a_new_version_then_asks_again(stack: Stack) -> None:
    handle = await stack.start_comms()
    await in_review(stack, handle)

    await decide(handle, ENG, Decision.CHANGES, "Say when it ends.")
    view = await view_of(handle)
    assert view.gates[0].status == "changes_requested"
    [told] = emails(stack.outbox(handle.id), f"{ENG} asked for changes to")
    assert told.to == [OWNER] and "Say when it ends." in told.body and "/revisions" in told.body
    error = await refusal(decide(handle, CS, Decision.APPROVE))
    assert error.type == "Conflict", "the round waits for a new version"

    await revise(handle, "We upgrade **Acme** on Sunday, until 04:00 UTC.")
    await in_review(stack, handle, round=2)
    await decide(handle, CS, Decision.APPROVE)
    await decide(handle, ENG, Decision.APPROVE)

    result = await finished(handle)
    assert result.status == ProcessStatus.COMPLETED and result.content is not None and result.content.version == 2


async def test_a_rejection_ends_it_unsent_and_tells_everyone(stack: Stack) -> None:
    handle = await stack.start_comms()
    await in_review(stack, handle)

    await decide(handle, CS, Decision.REJECT, "Not before the renewal calls.")
    result = await finished(handle)

    assert result.status == ProcessStatus.REJECTED
    assert result.outcome == f"{CS}: Not before the renewal calls."
    assert sent_to_audience(stack, handle) == []
    [ended] = emails(stack.outbox(handle.id), "will not be sent: rejected in review")
    assert ended.to == sorted([OWNER, CS, ENG])
    assert_trail_consistent(stack.trail(handle.id), ProcessStatus.REJECTED)


async def test_silent_reviewers_are_reminded_then_the_review_expires(stack: Stack) -> None:
    handle = await stack.start_comms()
    await in_review(stack, handle)

    result = await finished(handle)  # time skips: a reminder a day, expiry after a week

    assert result.status == ProcessStatus.REJECTED
    assert result.outcome == "no decision before the review expired"
    assert result.gates[0].status == "expired"
    reminders = emails(stack.outbox(handle.id), "Reminder: Review requested")
    assert len([r for r in reminders if r.to == [CS]]) == 6  # days 1 to 6; day 7 it expires
    assert sent_to_audience(stack, handle) == []


async def test_it_waits_for_its_send_time_and_a_cancel_before_then_sends_nothing(stack: Stack) -> None:
    now = await stack.env.get_current_time()
    handle = await stack.start_comms(send_at=(now + timedelta(days=10)).astimezone(UTC).isoformat())
    await in_review(stack, handle)
    await decide(handle, CS, Decision.APPROVE)
    await decide(handle, ENG, Decision.APPROVE)

    async def scheduled() -> bool:
        return any(e.action == "scheduled" for e in stack.trail(handle.id))

    await eventually(scheduled, "the send to be scheduled")
    assert {s.key: s.status for s in (await view_of(handle)).steps}["scheduled"] == "active"
    view = await handle.execute_update(CommsWorkflow.cancel, CancelInput(by=OWNER, reason="Maintenance moved."))

    assert view.status == ProcessStatus.CANCELLED
    assert sent_to_audience(stack, handle) == []
    assert emails(stack.outbox(handle.id), "will not be sent: cancelled")


async def test_the_send_waits_for_send_at(stack: Stack) -> None:
    now = await stack.env.get_current_time()
    send_at = now + timedelta(days=3)
    handle = await stack.start_comms(send_at=send_at.isoformat())
    await in_review(stack, handle)
    await decide(handle, CS, Decision.APPROVE)
    await decide(handle, ENG, Decision.APPROVE)

    await finished(handle)

    [batch] = events(stack.trail(handle.id), "batch_sent")
    assert batch.at >= send_at


async def test_after_the_send_nothing_can_change_it(stack: Stack) -> None:
    handle = await stack.start_comms()
    await in_review(stack, handle)
    await decide(handle, CS, Decision.APPROVE)
    await decide(handle, ENG, Decision.APPROVE)
    await finished(handle)

    with pytest.raises(RPCError, match="not found"):  # a closed workflow takes no update (the API says 409)
        await revise(handle, "Too late.")


async def test_an_unchanged_version_is_refused(stack: Stack) -> None:
    handle = await stack.start_comms()
    view = await in_review(stack, handle)
    assert view.content is not None

    error = await refusal(revise(handle, view.content.body))

    assert error.type == "Conflict" and "version 1 unchanged" in error.message


async def test_chat_channels_get_the_message_too(stack: Stack) -> None:
    handle = await stack.start_comms(channels=["email", "#status"])
    await in_review(stack, handle)
    await decide(handle, CS, Decision.APPROVE)
    await decide(handle, ENG, Decision.APPROVE)
    await finished(handle)

    posts = [c for c in chats(stack.outbox(handle.id)) if c.to == ["#status"]]
    assert len(posts) == 1 and "*Maintenance " in posts[0].body


class FlakyMailer(OutboxMailer):
    """Takes each message, but the relay goes away once in the middle of a batch; one address bounces."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.outage_left = 1

    def send(self, email: Email) -> Delivery:
        if ":send:" in email.key and email.to == ["dee@customer.example"]:
            raise Refused("SMTP: the server refused dee@customer.example: 550 no such mailbox")
        if ":send:" in email.key and email.to == ["eve@customer.example"] and self.outage_left:
            self.outage_left -= 1
            raise Unavailable("SMTP: cannot reach the relay")
        return super().send(email)


async def test_batches_send_each_recipient_once_through_an_outage(env: WorkflowEnvironment, tmp_path: Path) -> None:
    audience = [f"{name}@customer.example" for name in ("ana", "bo", "cy", "dee", "eve", "fay", "gus")]
    async with running_stack(env, tmp_path, mailer=FlakyMailer) as stack:
        handle = await stack.start_comms(audience=audience, template={"batch_size": 3})
        await in_review(stack, handle)
        await decide(handle, CS, Decision.APPROVE)
        await decide(handle, ENG, Decision.APPROVE)
        result = await finished(handle)

        assert result.outcome == "sent to 6 of 7"
        messages = sent_to_audience(stack, handle)
        assert sorted(m.to[0] for m in messages) == sorted(set(audience) - {"dee@customer.example"})
        batches = events(stack.trail(handle.id), "batch_sent")
        assert [sorted(b.details["outcomes"]) for b in batches] == [sorted(audience[i : i + 3]) for i in (0, 3, 6)]
        assert batches[1].details["outcomes"]["dee@customer.example"].startswith("refused: SMTP: the server refused")
        [summary] = emails(stack.outbox(handle.id), "was sent to 6 of 7")
        assert "dee@customer.example: refused" in summary.body


class RefusingMailer(OutboxMailer):
    """A relay that refuses every customer address (the reviewers' mail goes through)."""

    def send(self, email: Email) -> Delivery:
        if ":send:" in email.key:
            raise Refused(f"SMTP: the server refused {email.to[0]}: 550 relaying denied")
        return super().send(email)


async def test_a_message_nobody_received_ends_failed_not_completed(env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with running_stack(env, tmp_path, mailer=RefusingMailer) as stack:
        handle = await stack.start_comms()
        await in_review(stack, handle)
        await decide(handle, CS, Decision.APPROVE)
        await decide(handle, ENG, Decision.APPROVE)

        result = await finished(handle)

        assert result.status == ProcessStatus.FAILED and result.outcome == "sent to 0 of 3"
        assert [e.action for e in stack.trail(handle.id)][-1] == "failed"
