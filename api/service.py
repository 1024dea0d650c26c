"""Processes as the web service sees them: start, read, change, through Temporal.

Every refusal comes back as a domain error (`BadInput`, `NotFound`,
`Conflict`), which the app turns into 422, 404 and 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.enums import Channel, ProcessStatus, StepStatus
from domain.errors import BadInput, Conflict, InvalidField, NotFound, SignoffError, UnknownKind
from domain.launch import LaunchInput, LaunchParams
from domain.models import (
    CancelInput,
    DecisionInput,
    GateState,
    IssueDoneInput,
    ItemDoneInput,
    ItemState,
    ProcessView,
    StepView,
)
from domain.templates import LaunchTemplate
from workflows import WORKFLOWS
from workflows.launch import STEPS, LaunchWorkflow

KINDS = tuple(WORKFLOWS)


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
        templates: Callable[[str], LaunchTemplate],
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.templates = templates
        self.today = today

    async def start(self, kind: str, params: dict[str, Any], actor: str) -> ProcessView:
        """Start a process of `kind`; its id derives from its business key.

        Raises:
            UnknownKind: no such kind.
            ParamsError: a parameter is missing or malformed.
            BadInput: the parameters are well-formed but cannot start (a past date).
            Conflict: a process with that id exists (running or finished).
        """
        if kind not in KINDS:
            raise UnknownKind(kind, list(KINDS))
        try:
            launch = LaunchParams.model_validate(params)
        except ValidationError as err:
            raise ParamsError(params_errors(err)) from None
        try:
            launch.check_start(self.today())
        except InvalidField as err:
            raise ParamsError([{"loc": ["params", err.field], "msg": err.reason, "type": "value_error"}]) from None
        template = self.templates(launch.template)
        if launch.owner in launch.approvers and not template.gate.allow_owner_approval:
            raise ParamsError(
                [
                    {
                        "loc": ["params", "approvers"],
                        "msg": f"the owner {launch.owner} cannot approve their own launch "
                        f"(template {launch.template!r} does not allow it)",
                        "type": "value_error",
                    }
                ]
            )
        workflow_input = LaunchInput(params=launch, template=template, requested_by=actor)
        try:
            await self.client.start_workflow(
                LaunchWorkflow.run,
                workflow_input,
                id=launch.id(),
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            raise Conflict(f"a process with id {launch.id()} already exists; ids are never reused") from None
        return ProcessView(
            id=launch.id(),
            kind=kind,
            title=f"Launch: {launch.product} on {launch.launch_date}",
            status=ProcessStatus.RUNNING,
            owner=launch.owner,
            params=launch.model_dump(mode="json"),
            steps=[StepView(key=key, title=title, status=StepStatus.PENDING) for key, title in STEPS.items()],
        )

    def _handle(self, process_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(process_id)

    async def view(self, process_id: str) -> ProcessView:
        """The live state of a process.

        Raises:
            NotFound: no process has that id.
        """
        try:
            view: ProcessView = await self._handle(process_id).query(LaunchWorkflow.view)
        except RPCError as err:
            raise _translate_rpc(err, process_id) from None
        return view

    async def mark_done(self, process_id: str, item: str, by: str, channel: Channel) -> ItemState:
        """Mark a checklist item done."""
        result: ItemState = await self._update(
            process_id, LaunchWorkflow.mark_item_done, ItemDoneInput(item=item, by=by, channel=channel)
        )
        return result

    async def issue_done(self, process_id: str, issue: str, by: str) -> ItemState:
        """The tracker says `issue` is done: its checklist item is done."""
        result: ItemState = await self._update(
            process_id, LaunchWorkflow.issue_done, IssueDoneInput(issue=issue, by=by)
        )
        return result

    async def decide(self, process_id: str, decision: DecisionInput) -> GateState:
        """Record an approver's decision."""
        result: GateState = await self._update(process_id, LaunchWorkflow.decide, decision)
        return result

    async def cancel(self, process_id: str, by: str, reason: str, channel: Channel) -> ProcessView:
        """Cancel a running process; returns once its clean-up has run."""
        result: ProcessView = await self._update(
            process_id, LaunchWorkflow.cancel, CancelInput(by=by, reason=reason, channel=channel)
        )
        return result

    async def _update(self, process_id: str, update: Any, argument: BaseModel) -> Any:
        try:
            return await self._handle(process_id).execute_update(update, argument)
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
    if isinstance(cause, ApplicationError):
        message, kind = cause.message, cause.type
    else:
        message, kind = str(cause or "refused"), None
    if kind == "NotFound":
        return NotFound(message)
    if kind == "Conflict":
        return Conflict(message)
    return BadInput(message)


def _translate_rpc(err: RPCError, process_id: str) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND:
        return NotFound(f"no process with id {process_id}")
    return err
