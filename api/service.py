"""Processes as the web service sees them: start, read, change, through Temporal.

Every refusal comes back as a domain error (`BadInput`, `NotFound`,
`Conflict`), which the app turns into 422, 404 and 409.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.live import live_view, no_task_pending
from api.starts import StoredViews, clashes_on, prepare_start
from domain.edits import Edited, EditInput
from domain.enums import Channel
from domain.errors import (
    BadInput,
    Conflict,
    NotFound,
    SignoffError,
    Unavailable,
    error_named,
)
from domain.kinds import ProcessTemplate
from domain.postmortem import ActionItemsInput
from domain.updates import (
    CancelInput,
    DecisionInput,
    DelegateInput,
    IssueDoneInput,
    ItemDoneInput,
    RecoverInput,
    Reminded,
    RemindInput,
    ResendInput,
    RevisionInput,
)
from domain.views import Content, ItemState, ProcessView, UndeliveredMessage

LIVE_WITHIN = timedelta(seconds=1.2)
"""How long a page waits for a process's live state before it shows the store's copy instead.

A page must answer within 2 s even when no worker polls (every deploy) or Temporal is down. A
process in a worker's cache answers its query in about 10 ms, one the worker must replay first
(after a deploy, or out of the cache) in well under a second; 0.8 s is left for the store and
the page (half a second was too little on a loaded CI machine: a page once took 2.01 s).
The bound holds for the whole call, not only Temporal's own deadline: with
Temporal down the client tries to connect again for about 10 s, whatever the deadline says."""


class StartedIds(Protocol):
    """Every id a process ever ran under (`integrations.store.Store`): what Temporal forgets, the store keeps."""

    def ever_started(self, process_id: str) -> bool:
        """Whether a process ever ran under `process_id`, however long ago it ended."""
        ...


class Processes:
    """Starts and drives processes on Temporal."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        templates: Callable[[str, str], ProcessTemplate],
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
        patience: timedelta = timedelta(seconds=15),
        live_within: timedelta = LIVE_WITHIN,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        time_zone: str = "",
        records: StartedIds | None = None,
    ) -> None:
        self.client = client
        self.records = records
        """Every id ever used (the store): a start under one is refused even once Temporal has forgotten its run."""
        self.time_zone = time_zone
        """The time zone a start gets when it names none (``SIGNOFF_TIME_ZONE``)."""
        self.task_queue = task_queue
        self.templates = templates
        self.today = today
        self.now = now
        """The time now, for what comes next (`domain.rules.next_up`); `today` is its date but for tests."""
        self.patience = patience
        """How long a person's request waits for a process (its query or update) before it is told to try again."""
        self.live_within = live_within
        """How long a page waits for the live state before it shows the store's copy (`LIVE_WITHIN`)."""

    async def start(
        self,
        kind: str,
        params: dict[str, Any],
        actor: str,
        parent: str | None = None,
        stored: StoredViews | None = None,
        channel: Channel = Channel.SYSTEM,
        today: date | None = None,
    ) -> ProcessView:
        """Start a process of `kind`; its id derives from its business key. With `stored`, a launch is checked
        against the running launches on its day: people they share make a warning (`ProcessView.warnings`,
        and its owner is told at kickoff), never a refusal. With `today`, it is checked and named as of that day,
        not the service's: a schedule's run, whatever the hour its start is tried (api/schedules.py).

        Validating the parameters and the template is CPU work that grows with the
        request (a long list of people), so it runs on a thread: the event loop
        goes on serving other requests meanwhile.

        Raises:
            UnknownKind: no such kind.
            ParamsError: a parameter is missing or malformed, or cannot start (a past date).
            TemplateError: the template named is missing, broken, or of another kind.
            Conflict: a process with that id exists (running or finished), or ever did: Temporal forgets a
                closed run after its namespace's retention (24 h on the dev server), the store (`records`) never,
                and the audit trail, the process list and access all go by the id.
        """
        workflow_input, view = await asyncio.to_thread(
            self._prepare_new, kind, params, actor, parent, stored, channel, today
        )
        try:
            await self.client.start_workflow(
                kind,
                workflow_input,
                id=view.id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                request_eager_start=True,
            )
        except WorkflowAlreadyStartedError:
            raise _taken(view.id) from None
        return view

    async def check(self, kind: str, params: dict[str, Any]) -> None:
        """Check `params` as `start` would, and start nothing: a form with parts it could not read still hears
        everything else that is wrong, in one answer.

        Raises:
            UnknownKind, ParamsError, TemplateError: as `start`.
        """
        await asyncio.to_thread(self._prepare, kind, params, "check", None)

    def _prepare(
        self,
        kind: str,
        params: dict[str, Any],
        actor: str,
        parent: str | None,
        stored: StoredViews | None = None,
        channel: Channel = Channel.SYSTEM,
        today: date | None = None,
    ) -> tuple[BaseModel, ProcessView]:
        """The workflow input of a new process and how it looks before its first step, as of `today` (None: the
        service's today; a schedule's run: its own day, api/schedules.py)."""
        day = today or self.today()
        return prepare_start(kind, params, actor, self.templates, day, parent, stored, channel, self.time_zone)

    def _prepare_new(
        self,
        kind: str,
        params: dict[str, Any],
        actor: str,
        parent: str | None,
        stored: StoredViews | None,
        channel: Channel,
        today: date | None,
    ) -> tuple[BaseModel, ProcessView]:
        """`_prepare`, then refused if the store knows the id from an earlier run (on the same thread: a lookup)."""
        workflow_input, view = self._prepare(kind, params, actor, parent, stored, channel, today)
        if self.records is not None and self.records.ever_started(view.id):
            raise _taken(view.id)
        return workflow_input, view

    def _handle(self, process_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(process_id)

    async def view(self, process_id: str, stored: StoredViews | None = None) -> ProcessView:
        """The live state of a process; with `stored`, the store's copy when the live state cannot be had.

        Without `stored` (an approval page, an access check: they act on the
        live process) it waits up to `patience`. With it (the process's page
        and ``GET /api/processes/{id}``, which only read) it waits `live_within`,
        then answers from `stored`, marked not `live` and saying why: no
        worker answered (none polls, during a deploy, or a backlog), Temporal
        cannot be reached, or Temporal no longer keeps the process (it ended
        longer ago than its namespace's retention).

        Raises:
            NotFound: neither Temporal nor `stored` knows the id.
            Unavailable: the process did not answer and `stored` has no copy of it.
        """
        if stored is None:
            try:
                return await self._live(process_id, self.patience)
            except RPCError as err:
                raise _translate_rpc(err, process_id) from None
        try:
            return await self._live(process_id, self.live_within)
        except (RPCError, TimeoutError, WorkflowQueryFailedError) as err:
            problem = err
        copy = stored.process_view(process_id)
        if copy is None:
            if isinstance(problem, RPCError):
                raise _translate_rpc(problem, process_id) from None
            raise _busy(process_id, "try again") from None
        return copy.model_copy(update={"unavailable": _why_not_live(problem, self.live_within)})

    async def _live(self, process_id: str, within: timedelta) -> ProcessView:
        """The process's answer to its `view` query, in `within` at most (`api.live.live_view`: once no
        workflow task of it is pending)."""
        return await live_view(self._handle(process_id), within)

    async def mark_done(
        self, process_id: str, item: str, by: str, channel: Channel, wont_do: str | None = None
    ) -> ItemState:
        """Mark a checklist item done, or (with the reason in `wont_do`) accept it as won't-do."""
        done = ItemDoneInput(item=item, by=by, channel=channel)
        if wont_do is not None:
            done = done.model_copy(update={"resolution": "wont_do", "reason": wont_do})
        result: ItemState = await self._update(process_id, "mark_item_done", done, ItemState)
        return result

    async def add_action_items(self, process_id: str, items: ActionItemsInput) -> list[ItemState]:
        """File action items on a post-mortem."""
        result: list[ItemState] = await self._update(process_id, "add_action_items", items, list[ItemState])
        return result

    async def issue_done(self, process_id: str, issue: str, by: str) -> ItemState:
        """The tracker says `issue` is done: its checklist item is done."""
        result: ItemState = await self._update(process_id, "issue_done", IssueDoneInput(issue=issue, by=by), ItemState)
        return result

    async def decide(self, process_id: str, decision: DecisionInput) -> ProcessView:
        """Record an approver's decision; returns the process as it is with it."""
        result: ProcessView = await self._update(process_id, "decide", decision, ProcessView)
        return result

    async def edit(self, process_id: str, edit: EditInput, stored: StoredViews | None = None) -> Edited:
        """Change a running process (its launch date, its approvers, its items' owners); answers with what changed,
        the tracker and the people it affects told beside it. With `stored`, a launch moved onto a day with other
        running launches that share its people carries the warning (`EditInput.clashes`), as a start does."""
        if stored is not None and edit.launch_date is not None:
            edit = edit.model_copy(update={"clashes": await asyncio.to_thread(clashes_on, process_id, edit, stored)})
        result: Edited = await self._update(process_id, "edit", edit, Edited)
        return result

    async def delegate(self, process_id: str, hand_over: DelegateInput) -> ProcessView:
        """An approver hands their decision to someone else, who is asked in their place."""
        result: ProcessView = await self._update(process_id, "delegate", hand_over, ProcessView)
        return result

    async def revise(self, process_id: str, revision: RevisionInput) -> Content:
        """A new version of a message under review."""
        result: Content = await self._update(process_id, "revise", revision, Content)
        return result

    async def resend(self, process_id: str, resend: ResendInput) -> UndeliveredMessage:
        """Deliver again a message the process could not deliver; answers once the resend is under way."""
        result: UndeliveredMessage = await self._update(process_id, "resend", resend, UndeliveredMessage)
        return result

    async def remind(self, process_id: str, remind: RemindInput) -> Reminded:
        """Remind now the people the process waits on; answers with who, once the reminders are under way."""
        result: Reminded = await self._update(process_id, "remind_now", remind, Reminded)
        return result

    async def recover(self, process_id: str, word: RecoverInput) -> ProcessView:
        """The owner's word on a held step (`workflows.steps.recovery`): rerun, skip or end, with a reason."""
        result: ProcessView = await self._update(process_id, "recover", word, ProcessView)
        return result

    async def cancel(self, process_id: str, by: str, reason: str, channel: Channel) -> ProcessView:
        """Cancel a running process; returns once its clean-up has run."""
        result: ProcessView = await self._update(
            process_id, "cancel", CancelInput(by=by, reason=reason, channel=channel), ProcessView
        )
        return result

    async def _update(self, process_id: str, update: str, argument: BaseModel, result_type: type[Any]) -> Any:
        """Run the update named `update`; every kind that has it gives it the same name and types."""
        handle, began = self._handle(process_id), asyncio.get_running_loop().time()
        try:
            try:
                async with asyncio.timeout(self.patience.total_seconds()):
                    await no_task_pending(handle, self.patience)  # not with a task stranded on a dead worker (api.live)
            except TimeoutError:
                raise _busy(process_id, "try again") from None
            left = self.patience.total_seconds() - (asyncio.get_running_loop().time() - began)
            return await handle.execute_update(
                update, argument, result_type=result_type, rpc_timeout=timedelta(seconds=max(left, 1.0))
            )  # (one patience for the wait and the update)
        except WorkflowUpdateFailedError as err:
            raise _translate_failure(err.cause) from None
        except RPCTimeoutOrCancelledError:
            raise _busy(process_id, "what you asked may still be done: look again") from None
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise _translate_rpc(err, process_id) from None
            raise await self._missing_or_finished(process_id) from None

    async def _missing_or_finished(self, process_id: str) -> SignoffError:
        """Why Temporal found nothing to update: no such process, or it has ended."""
        try:
            description = await self._handle(process_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return NotFound(f"no process with id {process_id}")
            raise
        if description.status != WorkflowExecutionStatus.RUNNING:
            return Conflict(f"process {process_id} has already finished")
        return NotFound(f"process {process_id} did not accept the change; try again")


def _taken(process_id: str) -> Conflict:
    return Conflict(f"a process with id {process_id} already exists; ids are never reused")


def _translate_failure(cause: BaseException | None) -> Exception:
    """The signoff error a workflow refused an update with (see `workflows.steps.refusal.refuse`)."""
    if isinstance(cause, ApplicationError):
        return error_named(cause.type, cause.message)
    return BadInput(str(cause or "refused"))


BUSY = {RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.RESOURCE_EXHAUSTED}  # fmt: skip
"""What Temporal answers when a process (or Temporal itself) cannot answer now: worth trying again."""


def _busy(process_id: str, then: str) -> Unavailable:
    return Unavailable(f"process {process_id} did not answer in time (it is busy); {then} in a few seconds", 5)


def _why_not_live(problem: Exception, waited: timedelta) -> str:
    """Why the live state could not be had, in a few words for the page."""
    if isinstance(problem, RPCError) and problem.status == RPCStatusCode.NOT_FOUND:
        return "Temporal no longer keeps this process"
    if isinstance(problem, RPCError) and problem.status == RPCStatusCode.UNAVAILABLE:
        return "Temporal cannot be reached"
    if isinstance(problem, WorkflowQueryFailedError):
        return "the process failed to answer"
    return f"the process did not answer within {waited.total_seconds():g} s"


def _translate_rpc(err: RPCError, process_id: str) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND:
        return NotFound(f"no process with id {process_id}")
    if err.status in BUSY:  # (a query's deadline; an update's comes as RPCTimeoutOrCancelledError)
        return _busy(process_id, "try again")
    return err
