"""Helpers for the launch workflow tests: people, moments, updates, trail and outbox look-ups.

Times in the audit trail are workflow time (`workflow.now()`), so they move
with the time-skipping server; the outbox's own `at` is wall-clock time and is
never used to check *when* something happened.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from config.templates import load_template
from domain.audit import StoredAuditEvent
from domain.enums import Decision, ProcessStatus
from domain.updates import DecisionInput, ItemDoneInput
from domain.views import GateState, ItemState, ProcessView
from integrations.outbox_records import OutboxEntry
from tests.clock import skip_to
from tests.conftest import PUBLIC_URL, Stack
from workflows.launch import LaunchWorkflow

Handle = WorkflowHandle[Any, Any]
Launch = Callable[..., Awaitable[Handle]]
"""The `launch` fixture: `await launch(days_ahead=…, **params, gate={…})`."""

# The people `Stack.start_launch` puts in every launch unless a test says otherwise.
OWNER = "pm@example.com"
VP = "vp@example.com"
LEGAL = "legal@example.com"
DOCS = "docs@example.com"
SUPPORT = "support@example.com"
STAKEHOLDER = "all@example.com"
CHANNEL = "#launches"
GATE = "go-no-go"

TEMPLATE = load_template("launch")
ITEMS = {item.key: item for item in TEMPLATE.items}
"""The default template's checklist, by key, in template order."""

GENESIS = "0" * 64
FINISHED = {ProcessStatus.COMPLETED, ProcessStatus.REJECTED, ProcessStatus.CANCELLED, ProcessStatus.FAILED}
APPROVAL_LINK = re.compile(re.escape(PUBLIC_URL) + r"/approve/([A-Za-z0-9_.\-]+)")


# ---- moments -----------------------------------------------------------------


def nine_utc(day: date) -> datetime:
    """The moment signoff acts on `day` (the template's notify hour, 09:00 UTC)."""
    return datetime.combine(day, time(TEMPLATE.notify_hour_utc), tzinfo=UTC)


def launch_date(view: ProcessView) -> date:
    """The launch date of the process shown by `view`."""
    return date.fromisoformat(view.params["launch_date"])


def launch_moment(view: ProcessView) -> datetime:
    """Launch day, 09:00 UTC: announcement, hold, and the end of reminders."""
    return nine_utc(launch_date(view))


def gate_moment(view: ProcessView) -> datetime:
    """When the go/no-go gate of the process shown by `view` opens (see `gate_opens`)."""
    return gate_opens(launch_date(view))


def gate_opens(launch_day: date) -> datetime:
    """When the go/no-go gate of a launch on `launch_day` opens, unless every item is done before:
    the template's days before launch day's moment."""
    return nine_utc(launch_day) - timedelta(days=TEMPLATE.gate.offset_days)


def due_moment(view: ProcessView, item: str) -> datetime:
    """When checklist item `item` falls due (its due date at 09:00 UTC)."""
    return nine_utc(launch_date(view) + timedelta(days=ITEMS[item].due_offset_days))


def at_moment(at: datetime, moment: datetime, slack: timedelta = timedelta(minutes=1)) -> bool:
    """Whether an event recorded at `at` belongs to the timer that fired at `moment`.

    An event is written after the activity before it ran, so it lands a few
    (real) milliseconds after its moment, never before it.
    """
    return moment <= at < moment + slack


async def advance_to(stack: Stack, moment: datetime) -> None:
    """Skip time to `moment`; everything due before it has run when this returns."""
    await skip_to(stack.env, moment)


# ---- waiting for the workflow -------------------------------------------------


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    """Poll `check` in real time (no time is skipped) until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def view_of(handle: Handle) -> ProcessView:
    """The `view` query."""
    view: ProcessView = await handle.query(LaunchWorkflow.view)
    return view


async def kicked_off(handle: Handle) -> ProcessView:
    """Wait until the kickoff (issues, chat post, owner emails) is done."""

    async def done() -> bool:
        return any(s.key == "kickoff" and s.status == "done" for s in (await view_of(handle)).steps)

    await eventually(done, "the kickoff to finish")
    await settled(handle)
    return await view_of(handle)


async def gate_open(handle: Handle, stack: Stack, round: int = 1) -> ProcessView:
    """Wait until round `round` of the gate is open and its approval requests have gone out."""

    async def requested() -> bool:
        return any(e.action == "approval_requested" and e.details.get("round") == round for e in stack.trail(handle.id))

    await eventually(requested, f"round {round} of the gate to ask the approvers")
    view = await view_of(handle)
    assert view.gates[0].round == round and view.gates[0].status == "open"
    return view


async def finished(handle: Handle, timeout: float = 60.0) -> ProcessView:
    """The workflow's result, skipping time; fails instead of hanging."""
    result: ProcessView = await asyncio.wait_for(handle.result(), timeout)
    return result


# ---- updates ------------------------------------------------------------------


async def decide(
    handle: Handle, approver: str, decision: Decision = Decision.APPROVE, comment: str = "", round: int | None = None
) -> GateState:
    """An approver's decision at the go/no-go gate, and its follow-ups (audit row, owner told, chat) done.

    Waiting for the follow-ups before the next decision also keeps clear of a bug of the time-skipping
    test server: an update answered in the same workflow task as the commands it set going, while
    another update arrives, can fail that task with "invalid history builder state for action" and
    wedge the run (seen once in a CI run; the Go dev server takes the same runs by the thousand).
    """
    view: ProcessView = await handle.execute_update(
        LaunchWorkflow.decide,
        DecisionInput(gate=GATE, approver=approver, decision=decision, comment=comment, round=round),
    )
    await settled(handle)
    return view.gates[0]


async def settled(handle: Handle) -> None:
    """Wait until what runs beside the story is done: decisions' follow-ups, the audit trail's writes."""

    async def quiet() -> bool:
        return await handle.query(LaunchWorkflow.settling) == 0

    await eventually(quiet, "the follow-ups and the audit trail")


async def mark_done(handle: Handle, *items: str, by: str = OWNER) -> list[ItemState]:
    """Mark checklist items done, one update each, and wait until what they set going beside the story (the issue
    closed, the trail written) is done: the update answers before that."""
    states = [await handle.execute_update(LaunchWorkflow.mark_item_done, ItemDoneInput(item=i, by=by)) for i in items]

    async def settled() -> bool:
        return await handle.query("settling", result_type=int) == 0

    await eventually(settled, "the items' follow-ups")
    return states


async def refusal(update: Awaitable[object]) -> ApplicationError:
    """The ApplicationError with which the update's validator refused it."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await update
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError), f"expected a validator refusal, got {cause!r}"
    return cause


# ---- the audit trail ----------------------------------------------------------


def events(trail: Iterable[StoredAuditEvent], action: str, **details: Any) -> list[StoredAuditEvent]:
    """The events of `action` whose details include `details`."""
    return [e for e in trail if e.action == action and all(e.details.get(k) == v for k, v in details.items())]


def sent(trail: Iterable[StoredAuditEvent], template: str) -> list[StoredAuditEvent]:
    """`message_sent` events of one message template."""
    return events(trail, "message_sent", template=template)


def naming(trail: Iterable[StoredAuditEvent], action: str, item: str) -> list[StoredAuditEvent]:
    """`reminder` or `escalation` events that name checklist item `item`."""
    return [e for e in trail if e.action == action and item in e.details.get("items", [])]


def assert_trail_consistent(trail: list[StoredAuditEvent], final: ProcessStatus, strict: bool = True) -> None:
    """The trail is a gap-free hash chain whose statuses tell the process's story.

    Statuses move between running and waiting (waiting while a gate is open);
    the event that ends the process (`completed`, `rejected`, `cancelled`)
    carries the final status, and so does every event after it. With
    `strict`, no event before it claims the process had already ended.
    """
    assert trail, "no audit events"
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    assert trail[0].prev_hash == GENESIS
    for before, after in pairwise(trail):
        assert after.prev_hash == before.hash, f"event {after.seq} is not chained to event {before.seq}"
        assert after.at >= before.at, f"event {after.seq} is dated before event {before.seq}"
    assert len({e.hash for e in trail}) == len(trail)
    assert {e.status for e in trail} <= {s.value for s in ProcessStatus}
    assert trail[0].action == "started" and trail[0].status == ProcessStatus.RUNNING
    assert all(e.status == ProcessStatus.WAITING for e in events(trail, "gate_opened"))
    enders = [e for e in trail if e.action in ("completed", "rejected", "cancelled")]
    assert [e.action for e in enders] == [final.value], f"expected one {final.value!r} event"
    ender = trail.index(enders[0])
    assert all(e.status == final for e in trail[ender:]), "an event after the end has another status"
    assert trail[-1].status == final
    if strict:
        early = [(e.seq, e.action, e.status) for e in trail[:ender] if e.status in FINISHED]
        assert not early, f"events before the {final.value!r} event (seq {enders[0].seq}) claim it ended: {early}"


# ---- the outbox ------------------------------------------------------------------


def emails(outbox: Iterable[OutboxEntry], subject: str = "") -> list[OutboxEntry]:
    """Emails whose subject contains `subject`."""
    return [o for o in outbox if o.channel == "email" and subject in o.subject]


def chats(outbox: Iterable[OutboxEntry]) -> list[OutboxEntry]:
    """Chat posts."""
    return [o for o in outbox if o.channel == "chat"]


def issues(outbox: Iterable[OutboxEntry]) -> list[OutboxEntry]:
    """Tracker issues created (not transitions)."""
    return [o for o in outbox if o.channel == "tracker" and " → " not in o.subject]


def transitioned(outbox: Iterable[OutboxEntry], status: str = "Done") -> list[str]:
    """Keys of the tracker issues moved to `status`, in order (a key twice means moved twice)."""
    suffix = f" → {status}"
    return [o.subject.removesuffix(suffix) for o in outbox if o.channel == "tracker" and o.subject.endswith(suffix)]


def issue_keys(view: ProcessView) -> list[str]:
    """The keys of the launch's epic and of every item's issue, sorted."""
    keys = [i.issue_key for i in view.items if i.issue_key]
    assert len(keys) == len(view.items), "an item has no issue"
    return sorted([view.links["epic"], *keys])


def approval_links(outbox: Iterable[OutboxEntry], approver: str) -> list[str]:
    """The tokens of the approval links emailed to `approver`, oldest first."""
    return [m.group(1) for o in emails(outbox) if o.to == [approver] for m in APPROVAL_LINK.finditer(o.body)]


# ---- fault injection -------------------------------------------------------------


class HeldWrite:
    """The first outbox write matching a condition, held until the test lets it go:
    a Jira, SMTP relay or Slack that is slow to answer, for exactly as long as a test needs."""

    def __init__(self) -> None:
        self.begun = threading.Event()
        self.released = threading.Event()

    async def has_begun(self, what: str, timeout: float = 15.0) -> None:
        """Wait (in real time) until the held write has started."""

        async def begun() -> bool:
            return self.begun.is_set()

        await eventually(begun, what, timeout)

    def release(self) -> None:
        """Let the held write finish."""
        self.released.set()


def hold_outbox(stack: Stack, monkeypatch: pytest.MonkeyPatch, when: Callable[[str, str], bool]) -> HeldWrite:
    """Hold the first outbox write for which `when(channel, subject)` holds (at most 10 s)."""
    held = HeldWrite()
    record = stack.store.record

    def held_record(key: str, process_id: str, channel: str, to: list[str], subject: str, *rest: Any) -> Any:
        if not held.begun.is_set() and when(channel, subject):
            held.begun.set()
            held.released.wait(timeout=10)
        return record(key, process_id, channel, to, subject, *rest)

    monkeypatch.setattr(stack.store, "record", held_record)
    return held
