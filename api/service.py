"""Processes as the web service sees them: start, read, change, through Temporal.

Every refusal comes back as a domain error (`BadInput`, `NotFound`,
`Conflict`), which the app turns into 422, 404 and 409.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.enums import Channel, ProcessStatus, StepStatus
from domain.errors import BadInput, Conflict, InvalidField, NotFound, SignoffError, UnknownKind, error_named
from domain.kinds import KINDS, ProcessTemplate
from domain.models import (
    CancelInput,
    Content,
    DecisionInput,
    IssueDoneInput,
    ItemDoneInput,
    ItemState,
    ProcessView,
    RevisionInput,
    StepView,
)
from domain.postmortem import ActionItemsInput


class ParamsError(BadInput):
    """Parameters that do not validate; `errors` names each field."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))


def params_errors(err: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as ``{"loc": ["params", …], "msg", "type"}``, FastAPI's shape."""
    return [
        {"loc": ["params", *e["loc"]], "msg": e["msg"].removeprefix("Value error, "), "type": e["type"]}
        for e in err.errors()
    ]


class Processes:
    """Starts and drives processes on Temporal."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        templates: Callable[[str, str], ProcessTemplate],
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.templates = templates
        self.today = today

    async def start(self, kind: str, params: dict[str, Any], actor: str, parent: str | None = None) -> ProcessView:
        """Start a process of `kind`; its id derives from its business key.

        Validating the parameters and the template is CPU work that grows with the
        request (a long list of people), so it runs on a thread: the event loop
        goes on serving other requests meanwhile.

        Raises:
            UnknownKind: no such kind.
            ParamsError: a parameter is missing or malformed, or cannot start (a past date).
            TemplateError: the template named is missing, broken, or of another kind.
            Conflict: a process with that id exists (running or finished).
        """
        workflow_input, view = await asyncio.to_thread(self._prepare, kind, params, actor, parent)
        try:
            await self.client.start_workflow(
                kind,
                workflow_input,
                id=view.id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            raise Conflict(f"a process with id {view.id} already exists; ids are never reused") from None
        return view

    def _prepare(
        self, kind: str, params: dict[str, Any], actor: str, parent: str | None
    ) -> tuple[BaseModel, ProcessView]:
        """The workflow input of a new process and how it looks before its first step."""
        spec = KINDS.get(kind)
        if spec is None:
            raise UnknownKind(kind, list(KINDS))
        try:
            validated = spec.params.model_validate(params)
        except ValidationError as err:
            raise ParamsError(params_errors(err)) from None
        today = self.today()
        try:
            validated.check_start(today)
            template = self.templates(validated.template or kind, kind)
            validated.check_template(template)
        except InvalidField as err:
            raise ParamsError([{"loc": ["params", err.field], "msg": err.reason, "type": "value_error"}]) from None
        extra: dict[str, Any] = {"parent": parent} if parent else {}
        for name, (child_kind, child_template) in spec.companions(template).items():
            extra[name] = self.templates(child_template, child_kind)
        workflow_input = spec.input.model_validate(
            {"params": validated, "template": template, "requested_by": actor, **extra}
        )
        view = ProcessView(
            id=validated.id(today),
            kind=kind,
            title=validated.heading(),
            status=ProcessStatus.RUNNING,
            owner=validated.owner,
            params=validated.model_dump(mode="json"),
            steps=[StepView(key=key, title=title, status=StepStatus.PENDING) for key, title in spec.steps.items()],
        )
        return workflow_input, view

    def _handle(self, process_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(process_id)

    async def view(self, process_id: str) -> ProcessView:
        """The live state of a process.

        Raises:
            NotFound: no process has that id.
        """
        try:
            view: ProcessView = await self._handle(process_id).query("view", result_type=ProcessView)
        except RPCError as err:
            raise _translate_rpc(err, process_id) from None
        return view

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

    async def revise(self, process_id: str, revision: RevisionInput) -> Content:
        """A new version of a message under review."""
        result: Content = await self._update(process_id, "revise", revision, Content)
        return result

    async def cancel(self, process_id: str, by: str, reason: str, channel: Channel) -> ProcessView:
        """Cancel a running process; returns once its clean-up has run."""
        result: ProcessView = await self._update(
            process_id, "cancel", CancelInput(by=by, reason=reason, channel=channel), ProcessView
        )
        return result

    async def _update(self, process_id: str, update: str, argument: BaseModel, result_type: type[Any]) -> Any:
        """Run the update named `update`; every kind that has it gives it the same name and types."""
        try:
            return await self._handle(process_id).execute_update(update, argument, result_type=result_type)
        except WorkflowUpdateFailedError as err:
            raise _translate_failure(err.cause) from None
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
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


def _translate_failure(cause: BaseException | None) -> Exception:
    """The signoff error a workflow refused an update with (see `workflows.steps.refusal.refuse`)."""
    if isinstance(cause, ApplicationError):
        return error_named(cause.type, cause.message)
    return BadInput(str(cause or "refused"))


def _translate_rpc(err: RPCError, process_id: str) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND:
        return NotFound(f"no process with id {process_id}")
    return err
