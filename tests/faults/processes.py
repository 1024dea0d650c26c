"""The four process kinds, started on the real clock and driven to the end the way people would.

Each process has a cast of its own (``vp.l03@example.com``, a Slack channel
``#f-l03``), so every request a server sees names the process it belongs to.
A driver starts its process and plays the people: approves once the requests
have reached the approvers, marks items done once their issues exist, and
waits for the end. Everything it asks of the workflow is retried across a
dead worker or Temporal server (queries fail then; updates are sent again
under the same update id, which Temporal answers once).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from jira import JIRA
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from api.live import live_view, no_task_pending
from config.templates import load_template
from domain.comms import CommsInput, CommsParams, content_hash
from domain.edits import EditInput
from domain.enums import Channel, Decision, GateStatus, StepStatus
from domain.eol import EolInput, EolParams
from domain.launch import LaunchInput, LaunchParams
from domain.postmortem import ActionItemsInput, PostmortemInput, PostmortemParams
from domain.schedules import trail_of
from domain.templates import CommsTemplate, EolTemplate, LaunchTemplate, PostmortemTemplate
from domain.updates import DecisionInput, ItemDoneInput
from domain.views import ProcessView
from tests.faults.rig import PROJECT, TASK_QUEUE, Rig

TEMPLATES = Path(__file__).parent / "templates"
PATIENCE = 300.0
"""Seconds a driver waits for any one thing (a gate to open, the end) before it gives up."""

ASK = timedelta(seconds=20)
"""How long one try at asking the workflow anything may take before `patiently` tries again."""

T = TypeVar("T")
RETRIED = (RPCError, TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowQueryFailedError)
"""What a dead worker or a restarting server answers: ask again."""


def template(kind: str) -> Any:
    return load_template(str(TEMPLATES / f"faults-{kind}.yaml"), kind)


@dataclass
class Cast:
    """The people and channel of one process, named after its tag (``l03``)."""

    tag: str

    def email(self, role: str) -> str:
        return f"{role}.{self.tag}@example.com"

    def user_id(self, role: str) -> str:
        return f"U{self.tag.upper()}{role.upper()}"

    def dm(self, role: str) -> str:
        return "D" + self.user_id(role)[1:]

    @property
    def channel(self) -> str:
        return f"#f-{self.tag}"

    @property
    def channel_id(self) -> str:
        return f"CF{self.tag.upper()}"

    def join(self, rig: Rig) -> None:
        """Make the cast known to Slack (users, the channel) and Jira (assignable people)."""
        for role in ("pm", "vp", "legal", "eng", "docs", "ic", "sre"):
            rig.slack.add_person(self.email(role), self.user_id(role))
            rig.jira.add_person(self.email(role), f"{role.upper()} {self.tag}")
        rig.slack.add_channel(self.channel.removeprefix("#"), self.channel_id)


@dataclass
class Process:
    """One process of a run: its kind, cast, id, and the processes it started (an end of life's notice)."""

    kind: str
    cast: Cast
    id: str
    children: list[str] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0
    status: str = "not started"
    view: ProcessView | None = None
    schedule: str | None = None
    """The Temporal Schedule whose runs start it (`tests.faults.scheduled`); its trail is counted with it."""
    refused: bool = False
    """A schedule's process that its runs must refuse to start (each run tells the schedule's creator why)."""
    paused: bool = False
    """Its schedule is made paused: the scenario unpauses it once its hold is in place (before the first run)."""

    @property
    def ids(self) -> list[str]:
        """Its id, its children's, and its schedule's trail: what the servers' requests of it are named by."""
        return [self.id, *self.children, *([trail_of(self.schedule)] if self.schedule else [])]


# ---- asking the workflow, across restarts ------------------------------------------------

WAITING: ContextVar[list[str] | None] = ContextVar("waiting", default=None)
"""What the drivers of one scenario wait for now (`run_kills` sets a list: a stall's failure names the waits)."""


@contextlib.contextmanager
def waiting(what: str) -> Iterator[None]:
    """Name `what` the current driver waits for while it waits."""
    box = WAITING.get()
    if box is not None:
        box.append(what)
    try:
        yield
    except asyncio.CancelledError:
        raise  # cut by the scenario's time limit: left in the list, for the failure's message
    except BaseException:
        if box is not None:
            box.remove(what)
        raise
    if box is not None:
        box.remove(what)


async def patiently(call: Callable[[], Awaitable[T]], what: str, timeout: float = PATIENCE) -> T:
    """`call` until it answers: a query fails while no worker runs, an RPC while Temporal restarts."""
    deadline = time.monotonic() + timeout
    with waiting(what):
        while True:
            try:
                return await asyncio.wait_for(call(), ASK.total_seconds())
            except RETRIED as err:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{what}: no answer in {timeout:.0f}s ({type(err).__name__}: {err})") from err
            await asyncio.sleep(0.3)


async def view_of(rig: Rig, workflow_id: str) -> ProcessView:
    """The `view` query as the web service asks it (`api.live.live_view`: once no workflow task of the process is
    pending), whenever the driver looks, a worker restarting or not."""
    handle = rig.client.get_workflow_handle(workflow_id)
    return await patiently(lambda: live_view(handle, ASK), f"view {workflow_id}")


async def until(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = PATIENCE) -> T:
    """Poll `check` until it gives something truthy."""
    deadline = time.monotonic() + timeout
    with waiting(what):
        while True:
            found = await check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            await asyncio.sleep(0.3)


async def update(rig: Rig, workflow_id: str, name: str, arg: Any, update_id: str) -> None:
    """Send update `name` until Temporal answers it; the same `update_id` makes a resend the same update."""
    handle: WorkflowHandle[Any, Any] = rig.client.get_workflow_handle(workflow_id)

    async def send() -> None:
        try:
            await no_task_pending(handle, ASK)  # as the web service sends one (api.live)
            await handle.execute_update(name, arg, id=update_id)
        except WorkflowUpdateFailedError as err:
            if "already" not in str(err.cause):  # a resend after the first was recorded ("already decided")
                raise

    await patiently(send, f"update {name} of {workflow_id}")


async def delivered(rig: Rig, keys: list[str]) -> bool:
    """Whether every send in `keys` is recorded as made (email ``sent``, chat ``posted``)."""

    def check() -> bool:
        for key in keys:
            entry = rig.store.recorded(key)
            if entry is None or entry.meta.get("state") not in ("sent", "posted"):
                return False
        return True

    return await asyncio.to_thread(check)


async def gate_open(rig: Rig, workflow_id: str, gate: str) -> ProcessView | None:
    view = await view_of(rig, workflow_id)
    return view if any(g.key == gate and g.status == GateStatus.OPEN for g in view.gates) else None


async def decide_all(rig: Rig, workflow_id: str, gate: str, approvers: list[str], digest: str | None = None) -> None:
    """Once the gate is open and every approver's email and chat request went out, each approves."""
    await until(lambda: gate_open(rig, workflow_id, gate), f"{gate} of {workflow_id} to open")
    keys = [k for who in approvers for k in (
        f"{workflow_id}:approval:{gate}:1:{who}:0", f"{workflow_id}:approval-chat:{gate}:1:{who}")]  # fmt: skip
    await until(lambda: delivered(rig, keys), f"the requests of {workflow_id}")
    for who in approvers:
        decision = DecisionInput(gate=gate, round=1, approver=who, decision=Decision.APPROVE, comment="Go",
                                 content_hash=digest)  # fmt: skip
        await update(rig, workflow_id, "decide", decision, f"decide-{gate}-{who}")


async def mark_done(rig: Rig, workflow_id: str, item: str, by: str) -> None:
    await update(
        rig, workflow_id, "mark_item_done", ItemDoneInput(item=item, by=by, channel=Channel.API), f"done-{item}"
    )


async def issues_filed(rig: Rig, workflow_id: str, *items: str) -> ProcessView | None:
    view = await view_of(rig, workflow_id)
    filed = {i.key for i in view.items if i.issue_key}
    return view if set(items) <= filed else None


async def where(rig: Rig, workflow_id: str) -> str:
    """What a process is doing, for a failure's message: its status and pending activities."""
    try:
        described = await asyncio.wait_for(rig.client.get_workflow_handle(workflow_id).describe(), 20)
    except Exception as err:
        return f"{workflow_id}: cannot describe ({type(err).__name__})"
    raw = described.raw_description
    pending = []
    for a in raw.pending_activities:
        failure = a.last_failure.message[:120] if a.HasField("last_failure") else ""
        pending.append(f"{a.activity_type.name} attempt {a.attempt}: {failure}")
    return f"{workflow_id}: {described.status.name if described.status else '?'}; pending: {pending or 'nothing'}"


async def finished(rig: Rig, process: Process) -> None:
    handle = rig.client.get_workflow_handle(process.id, result_type=ProcessView)

    async def ended() -> bool:
        described = await patiently(handle.describe, f"describe {process.id}")
        return described.status != WorkflowExecutionStatus.RUNNING

    await until(ended, f"{process.id} to end")
    process.view = await patiently(handle.result, f"result of {process.id}")
    process.status = process.view.status.value
    process.ended_at = time.monotonic()


# ---- the four kinds -----------------------------------------------------------------


def today() -> date:
    return datetime.now(UTC).date()


async def start(rig: Rig, process: Process, workflow: str, arg: Any) -> None:
    process.started_at = time.monotonic()
    await patiently(
        lambda: rig.client.start_workflow(workflow, arg, id=process.id, task_queue=TASK_QUEUE), f"start {process.id}"
    )


def launch(cast: Cast) -> tuple[Process, LaunchInput]:
    spec = template("launch")
    assert isinstance(spec, LaunchTemplate)
    params = LaunchParams(
        product=f"Faults {cast.tag}", launch_date=today(), owner=cast.email("pm"),
        approvers=[cast.email("vp"), cast.email("legal")],
        owners={"engineering": cast.email("eng"), "docs": cast.email("docs")},
        stakeholders=[cast.email("all")], channel=cast.channel, jira_project=PROJECT, template="faults-launch",
    )  # fmt: skip
    return Process("launch", cast, params.id()), LaunchInput(params=params, template=spec, requested_by=params.owner)


async def drive_launch(rig: Rig, process: Process, arg: LaunchInput) -> None:
    """Kickoff, items ``a`` and ``b`` done (their issues walked to Done), both approve, launch day, the end (a
    launch with an item still open would go on chasing it after launch day)."""
    cast = process.cast
    await start(rig, process, "launch", arg)
    await until(lambda: issues_filed(rig, process.id, "a", "b"), f"the issues of {process.id}")
    await until(lambda: gate_open(rig, process.id, "go-no-go"), f"the gate of {process.id}")
    await mark_done(rig, process.id, "a", cast.email("eng"))
    await mark_done(rig, process.id, "b", cast.email("docs"))
    await decide_all(rig, process.id, "go-no-go", [cast.email("vp"), cast.email("legal")])
    await finished(rig, process)


async def drive_launch_edited(rig: Rig, process: Process, arg: LaunchInput) -> None:
    """As `drive_launch`, with an edit once it is kicked off: item ``a`` reassigned from ``eng`` to ``sre`` (its
    Jira issue's assignee follows, with a comment saying why: `update_issue`), marked done once that is recorded."""
    cast = process.cast
    await start(rig, process, "launch", arg)
    await until(lambda: issues_filed(rig, process.id, "a", "b"), f"the issues of {process.id}")
    await until(lambda: kicked_off(rig, process.id), f"the kickoff of {process.id}")
    edit = EditInput(owners={"a": cast.email("sre")}, by=cast.email("pm"), reason="Eng is on another launch")
    await update(rig, process.id, "edit", edit, "edit-owners")
    await until(lambda: recorded(rig, process.id, "issue_updated"), f"the reassigned issue of {process.id}")
    await mark_done(rig, process.id, "a", cast.email("sre"))
    await mark_done(rig, process.id, "b", cast.email("docs"))
    await decide_all(rig, process.id, "go-no-go", [cast.email("vp"), cast.email("legal")])
    await finished(rig, process)


RECONCILE_EVERY_HOURS = 1 / 60
"""A reconciled launch asks Jira where its items stand every minute, the least a template may ask."""


def launch_reconciled(cast: Cast) -> tuple[Process, LaunchInput]:
    """A launch as `launch`, reconciled with Jira every minute."""
    process, arg = launch(cast)
    tracker = arg.template.tracker.model_copy(update={"reconcile_every_hours": RECONCILE_EVERY_HOURS})
    return process, arg.model_copy(update={"template": arg.template.model_copy(update={"tracker": tracker})})


async def drive_launch_reconciled(rig: Rig, process: Process, arg: LaunchInput) -> None:
    """As `drive_launch`, but item ``a``'s owner closes its issue in Jira (no webhook: the reconciliation, a minute
    after the kickoff, finds it done and marks the item done: `issue_statuses`)."""
    cast = process.cast
    await start(rig, process, "launch", arg)
    view = await until(lambda: issues_filed(rig, process.id, "a", "b"), f"the issues of {process.id}")
    await until(lambda: gate_open(rig, process.id, "go-no-go"), f"the gate of {process.id}")
    await asyncio.to_thread(close_in_jira, rig, next(i.issue_key for i in view.items if i.key == "a" and i.issue_key))
    await mark_done(rig, process.id, "b", cast.email("docs"))
    await decide_all(rig, process.id, "go-no-go", [cast.email("vp"), cast.email("legal")])
    await finished(rig, process)


def close_in_jira(rig: Rig, key: str) -> None:
    """A person walks issue `key` to a done status on the board, move by move, through Jira's REST API."""
    client = JIRA(rig.jira.url, basic_auth=(rig.jira.user, rig.jira.token), max_retries=0)
    for _ in range(5):
        offered = client.transitions(key)
        done = [t for t in offered if t["to"]["statusCategory"]["key"] == "done"]
        step = done[0] if done else next(t for t in offered if t["to"]["statusCategory"]["key"] == "indeterminate")
        client.transition_issue(key, step["id"])
        if done:
            return
    raise AssertionError(f"{key}: no way to a done status")


async def kicked_off(rig: Rig, workflow_id: str) -> bool:
    view = await view_of(rig, workflow_id)
    return any(step.key == "kickoff" and step.status == StepStatus.DONE for step in view.steps)


async def recorded(rig: Rig, trail: str, action: str) -> bool:
    """Whether `trail` holds an event `action` (read from the store: no query)."""
    return await asyncio.to_thread(lambda: any(e.action == action for e in rig.store.trail(trail)))


def comms(cast: Cast) -> tuple[Process, CommsInput]:
    spec = template("comms")
    assert isinstance(spec, CommsTemplate)
    params = CommsParams(
        subject=f"Faults notice {cast.tag}", body="We upgrade **Acme** on Sunday.",
        audience=[f"c{n}.{cast.tag}@customer.example" for n in (1, 2, 3)], channels=["email", cast.channel],
        reviewers=[f"{cast.email('vp')}:Engineering", f"{cast.email('legal')}:Legal"], owner=cast.email("pm"),
        template="faults-comms",
    )  # fmt: skip
    process = Process("comms", cast, params.id(today()))
    return process, CommsInput(params=params, template=spec, requested_by=params.owner)


async def drive_comms(rig: Rig, process: Process, arg: CommsInput) -> None:
    """Both reviewers approve version 1; it goes out in two batches and to the channel."""
    await start(rig, process, "comms", arg)
    digest = content_hash(arg.params.subject, arg.params.body)
    await decide_all(rig, process.id, "review", [r.email for r in arg.params.reviewers], digest)
    await finished(rig, process)


def postmortem(cast: Cast) -> tuple[Process, PostmortemInput]:
    spec = template("postmortem")
    assert isinstance(spec, PostmortemTemplate)
    params = PostmortemParams(
        incident=f"INC-{cast.tag.upper()}", title="Checkout errors", severity="SEV2", commander=cast.email("ic"),
        participants=[cast.email("sre")], reviewers=[cast.email("vp")],
        resolved_at=datetime.now(UTC) - timedelta(hours=1), channel=cast.channel, jira_project=PROJECT,
        template="faults-postmortem",
    )  # fmt: skip
    process = Process("postmortem", cast, params.id(today()))
    return process, PostmortemInput(params=params, template=spec, requested_by=params.commander)


async def drive_postmortem(rig: Rig, process: Process, arg: PostmortemInput) -> None:
    """An action item filed, the draft done, the review approved, the action item done, the summary."""
    cast = process.cast
    await start(rig, process, "postmortem", arg)
    await until(lambda: issues_filed(rig, process.id, "draft"), f"the post-mortem issue of {process.id}")
    action = ActionItemsInput.model_validate(
        {"items": [{"title": "Alert on checkout errors", "owner": cast.email("eng"), "priority": "P2"}],
         "by": cast.email("ic")}
    )  # fmt: skip
    await update(rig, process.id, "add_action_items", action, "action-items")
    await mark_done(rig, process.id, "draft", cast.email("ic"))
    await decide_all(rig, process.id, "review", [cast.email("vp")])
    await until(lambda: issues_filed(rig, process.id, "action-1"), f"the action item of {process.id}")
    await mark_done(rig, process.id, "action-1", cast.email("eng"))
    await finished(rig, process)


def eol(cast: Cast) -> tuple[Process, EolInput]:
    spec, notice = template("eol"), template("comms")
    assert isinstance(spec, EolTemplate) and isinstance(notice, CommsTemplate)
    day = today() - timedelta(days=2)
    params = EolParams(
        product=f"Faults legacy {cast.tag}", announce_date=day, end_of_sale=day, end_of_support=day, shutdown_date=day,
        customers=[f"c{n}.{cast.tag}@customer.example" for n in (1, 2)], migration_guide="https://docs.example.com/m",
        approvers=[cast.email("vp"), cast.email("legal")], owner=cast.email("pm"),
        owners={"engineering": cast.email("eng")}, channel=cast.channel, jira_project=PROJECT, template="faults-eol",
    )  # fmt: skip
    process = Process("eol", cast, params.id(today()))
    return process, EolInput(params=params, template=spec, requested_by=params.owner, notice=notice)


async def drive_eol(rig: Rig, process: Process, arg: EolInput) -> None:
    """The notice approved and sent (a comms child), the plug pulled, both tasks done, retired."""
    cast = process.cast
    approvers = [cast.email("vp"), cast.email("legal")]
    await start(rig, process, "eol", arg)

    async def notice() -> str | None:
        return (await view_of(rig, process.id)).links.get("notice-1")

    child = await until(notice, f"the notice of {process.id}")
    process.children.append(child)
    await until(lambda: issues_filed(rig, process.id, "export"), f"the issues of {process.id}")
    await mark_done(rig, process.id, "export", cast.email("eng"))
    child_view = await view_of(rig, child)
    digest = child_view.content.content_hash if child_view.content else None
    await decide_all(rig, child, "review", approvers, digest)
    await decide_all(rig, process.id, "pull-the-plug", approvers)
    await until(lambda: issues_filed(rig, process.id, "turn-off"), f"the shutdown task of {process.id}")
    await mark_done(rig, process.id, "turn-off", cast.email("eng"))
    await finished(rig, process)


KINDS: dict[str, tuple[Callable[[Cast], tuple[Process, Any]], Callable[[Rig, Process, Any], Awaitable[None]]]] = {
    "launch": (launch, drive_launch),
    "comms": (comms, drive_comms),
    "postmortem": (postmortem, drive_postmortem),
    "eol": (eol, drive_eol),
}
"""kind → (its process and input for a cast, its driver)."""

DRIVERS: dict[str, tuple[Callable[[Cast], tuple[Process, Any]], Callable[[Rig, Process, Any], Awaitable[None]]]] = {
    "launch-edited": (launch, drive_launch_edited),
    "launch-reconciled": (launch_reconciled, drive_launch_reconciled),
}
"""Other ways to drive a kind's process, by name (`tests.faults.scenarios.Scenario.driver`)."""
