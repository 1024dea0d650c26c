"""What the launch does when a tracker or a mailbox refuses: it goes on, records why, and tells its owner once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.errors import Refused
from domain.requests import Delivery, IssueRef, IssueRequest
from domain.updates import ResendInput
from domain.views import UndeliveredMessage
from integrations.outbox import OutboxMailer, OutboxTracker
from integrations.ports import Email
from integrations.store import Store
from tests.conftest import PUBLIC_URL, Stack, running_stack
from tests.workflows.helpers import DOCS, OWNER, emails, events, eventually, issues, kicked_off, view_of

NO_PERMISSION = "Jira: the account may not create issues in LAUNCH: grant it 'Create Issues' in the project"
NO_MAILBOX = "SMTP: the server refused docs@example.com: 550 5.1.1 no such mailbox here"


class NoPermissionTracker(OutboxTracker):
    """A tracker whose account may not create issues (Jira's 403)."""

    def create_issue(self, request: IssueRequest) -> IssueRef:
        raise Refused(NO_PERMISSION)


class BouncingMailer(OutboxMailer):
    """A mail relay that refuses one address (550) and takes the rest."""

    def __init__(self, store: Store, bounces: str) -> None:
        super().__init__(store)
        self.bounces = bounces

    def send(self, email: Email) -> Delivery:
        if self.bounces in email.to:
            raise Refused(NO_MAILBOX if self.bounces == DOCS else f"SMTP: the server refused {self.bounces}")
        return super().send(email)


async def written(stack: Stack, handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether every event the process recorded is in the store."""
    return len(stack.trail(handle.id)) == (await view_of(handle)).recorded_events


@pytest.fixture
async def no_tracker(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(env, tmp_path, tracker=lambda store: NoPermissionTracker(store, PUBLIC_URL)) as stack:
        yield stack


async def test_a_refused_tracker_fails_every_issue_and_the_owner_hears_of_it_once(no_tracker: Stack) -> None:
    handle = await no_tracker.start_launch(days_ahead=30)

    view = await kicked_off(handle)

    assert all(item.issue_key is None for item in view.items), "no issue could be made"
    assert view.links["epic"] == ""
    trail = no_tracker.trail(handle.id)
    failures = events(trail, "delivery_failed", via="tracker")
    assert len(failures) == 13 and {f.step for f in failures} == {"kickoff"}
    assert {f.details["error"] for f in failures} == {NO_PERMISSION}
    outbox = no_tracker.outbox(handle.id)
    assert issues(outbox) == []
    [told] = emails(outbox, "signoff could not create the tracker issue")
    assert told.to == [OWNER]
    product, launch_date = view.params["product"], view.params["launch_date"]
    assert told.subject == (
        f'signoff could not create the tracker issue "{view.title}" for the launch of {product} on {launch_date}'
    )
    assert NO_PERMISSION in told.body
    assert len(emails(outbox, "your checklist items")) == 3, "the kickoff goes on without the tracker"
    assert (await view_of(handle)).status == "running"


async def test_a_bounced_owner_email_is_recorded_and_told_to_the_process_owner(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_stack(env, tmp_path, mailer=lambda store: BouncingMailer(store, DOCS)) as stack:
        handle = await stack.start_launch(days_ahead=30)
        await kicked_off(handle)

        trail = stack.trail(handle.id)
        [failure] = events(trail, "delivery_failed", via="email")
        assert failure.step == "kickoff"
        assert failure.details == {"via": "email", "to": [DOCS], "template": "kickoff_owner", "error": NO_MAILBOX}
        [told] = emails(stack.outbox(handle.id), "signoff could not email docs@example.com (kickoff owner)")
        assert told.to == [OWNER] and NO_MAILBOX in told.body


async def test_when_the_owners_own_mailbox_bounces_nobody_is_emailed_about_it(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_stack(env, tmp_path, mailer=lambda store: BouncingMailer(store, OWNER)) as stack:
        handle = await stack.start_launch(days_ahead=30)
        await kicked_off(handle)

        trail = stack.trail(handle.id)
        assert [f.details["to"] for f in events(trail, "delivery_failed")] == [[OWNER]]
        assert emails(stack.outbox(handle.id), "signoff could not") == []


async def test_an_undelivered_email_shows_on_the_process_and_a_resend_delivers_it_once_fixed(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    mailer: list[BouncingMailer] = []

    def bouncing(store: Store) -> BouncingMailer:
        mailer.append(BouncingMailer(store, DOCS))
        return mailer[0]

    async with running_stack(env, tmp_path, mailer=bouncing) as stack:
        handle = await stack.start_launch(days_ahead=30)
        view = await kicked_off(handle)

        [undelivered] = view.undelivered
        assert (undelivered.via, undelivered.to, undelivered.step) == ("email", [DOCS], "kickoff")
        assert undelivered.error == NO_MAILBOX and not undelivered.resending
        with pytest.raises(WorkflowUpdateFailedError) as unknown:
            await handle.execute_update("resend", ResendInput(key="no-such-message", by=OWNER))
        assert isinstance(unknown.value.cause, ApplicationError) and unknown.value.cause.type == "NotFound"

        mailer[0].bounces = "nobody@example.com"  # the mailbox exists now
        answer = await handle.execute_update(
            "resend", ResendInput(key=undelivered.key, by=OWNER), result_type=UndeliveredMessage
        )
        assert answer.resending

        async def delivered() -> bool:
            return not (await view_of(handle)).undelivered and bool(events(stack.trail(handle.id), "resend_requested"))

        await eventually(delivered, "the resend to go out")
        await eventually(lambda: written(stack, handle), "the trail to be written")
        trail = stack.trail(handle.id)
        [asked] = events(trail, "resend_requested")
        assert asked.actor == OWNER and asked.details["key"] == undelivered.key
        sent = [e for e in events(trail, "message_sent", via="email") if e.details["to"] == [DOCS]]
        assert len(sent) == 1 and sent[0].seq > asked.seq
        assert len([e for e in stack.outbox(handle.id) if e.to == [DOCS] and "your checklist items" in e.subject]) == 1


async def test_a_resend_that_fails_again_stays_undelivered_and_can_be_tried_again(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_stack(env, tmp_path, mailer=lambda store: BouncingMailer(store, DOCS)) as stack:
        handle = await stack.start_launch(days_ahead=30)
        [undelivered] = (await kicked_off(handle)).undelivered

        await handle.execute_update("resend", ResendInput(key=undelivered.key, by=OWNER))

        async def tried() -> bool:
            return not (await view_of(handle)).undelivered[0].resending

        await eventually(tried, "the resend to fail")
        await eventually(lambda: written(stack, handle), "the trail to be written")
        [again] = (await view_of(handle)).undelivered
        assert again.key == undelivered.key and again.at >= undelivered.at
        assert len(events(stack.trail(handle.id), "delivery_failed", via="email")) == 2
        told = emails(stack.outbox(handle.id), "signoff could not email docs@example.com (kickoff owner)")
        assert len(told) == 1, "the owner is told once per step and error, not once per try"
