"""A start made ready: a kind's parameters checked against today and its template, all problems in one answer,
and the workflow input and first view it starts with. Shared by `api.service.Processes` (start and check), a
schedule's run (api/schedules.py) and a preview (workers/preview.py), so each refuses exactly what a start does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from domain.calendar import clashes, launch_clashes, launch_people
from domain.edits import EditInput
from domain.enums import Channel, ProcessStatus, StepStatus
from domain.errors import BadInput, InvalidField, UnknownKind
from domain.horizon import beyond_horizon
from domain.kinds import KINDS, ProcessTemplate
from domain.launch import LaunchParams
from domain.models import ProcessParams
from domain.views import ProcessView, StepView


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


def _problems(check: Callable[[Any], None], against: Any) -> list[InvalidField]:
    """What `check` (a parameters' `check_start` or `check_template`) finds wrong `against` today or a template."""
    try:
        check(against)
    except InvalidField as err:
        return err.each
    return []


def _start_problems(params: ProcessParams, today: date) -> list[InvalidField]:
    """What a start's check finds wrong on `today`, and every date given past the horizon (`domain.horizon`) that
    check has not named already."""
    problems = _problems(params.check_start, today)
    named = {problem.field for problem in problems}
    given = {name: value for name, value in params.__dict__.items() if name not in named}
    return problems + beyond_horizon(given, today)


def _field_errors(problems: list[InvalidField]) -> list[dict[str, Any]]:
    """The checks' findings in `params_errors`' shape."""
    return [{"loc": ["params", e.field], "msg": e.reason, "type": "value_error"} for e in problems]


def _checked_anyway(
    model: type[ProcessParams],
    read: dict[str, Any],
    errors: list[dict[str, Any]],
    templates: Callable[[str, str], ProcessTemplate],
    today: date,
    kind: str,
) -> list[InvalidField]:
    """What a start's checks find in the fields that `read` when others did not (`errors`): a bad address and a
    role's typo are one answer, not two submits. A rule on a field that did not read is skipped; a template
    that does not load is refused once the fields read, as always."""
    unread = {e["loc"][1] for e in errors if len(e["loc"]) > 1}
    if any(len(e["loc"]) < 2 for e in errors):
        return []  # the parameters as a whole did not read: nothing to check
    partial = model.partial({name: value for name, value in read.items() if name not in unread})
    problems = _start_problems(partial, today)
    if "template" in unread:
        return problems
    try:
        template = templates(partial.template or kind, kind)
    except BadInput:
        return problems
    return problems + _problems(partial.check_template, template)


MAX_INPUT_BYTES = 1536 * 1024
"""The most a process's input (parameters and template) may weigh as JSON. Temporal refuses a payload over
2 MiB by default, and only after the work is done; the body cap (1 MiB) keeps an API request well under this,
and this guard holds for every way in (a webhook's rule, a parent process)."""


def clashes_on(process_id: str, edit: EditInput, stored: StoredViews) -> list[str]:
    """The running launches on a moved launch's new day that share its people, in words (from the store's
    copies; `Processes.edit`)."""
    mine = stored.process_view(process_id)
    if mine is None or mine.kind != "launch" or edit.launch_date is None:
        return []
    people = launch_people(mine.params, (item.owner for item in mine.items))
    others = stored.process_views(kind="launch", running=True)
    return [clash.sentence for clash in clashes(process_id, edit.launch_date, people, others)]


def time_zone_of(process_id: str, stored: StoredViews) -> str:
    """A process's time zone (its parameters', fixed at its start) from the store's copy, for an edit's times
    (`domain.edits.EditChanges.taken`); empty (UTC) when the store has no copy."""
    view = stored.process_view(process_id)
    return str(view.params.get("time_zone") or "") if view else ""


def _check_size(workflow_input: BaseModel) -> None:
    """Refuse an input that fits every field's limit but not, all together, in one Temporal payload.

    Raises:
        ParamsError: naming ``params`` and the size.
    """
    size = len(workflow_input.model_dump_json())
    if size > MAX_INPUT_BYTES:
        reason = (
            f"the process's input comes to {size:,} bytes, over the {MAX_INPUT_BYTES:,} one process can carry: "
            "send fewer or shorter addresses, or a shorter body"
        )
        raise ParamsError([{"loc": ["params"], "msg": reason, "type": "too_long"}])


class StoredViews(Protocol):
    """Where a process's page is kept while it runs (`integrations.store.Store`)."""

    def process_view(self, process_id: str) -> ProcessView | None:
        """The kept copy of a process's page (not live), if the process ever started."""
        ...

    def process_views(self, kind: str | None = None, running: bool = False) -> list[ProcessView]:
        """The kept copies of every process's page (of one kind; only running ones)."""
        ...


def prepare_start(
    kind: str,
    params: dict[str, Any],
    actor: str,
    templates: Callable[[str, str], ProcessTemplate],
    today: date,
    parent: str | None = None,
    stored: StoredViews | None = None,
    channel: Channel = Channel.SYSTEM,
    time_zone: str = "",
) -> tuple[BaseModel, ProcessView]:
    """A start prepared without a Temporal client (`Processes.start` and `check`, a schedule's run, a
    preview): every check of a start, as of `today`, with `templates`, the
    process in `time_zone` when its parameters name none (the deployment's ``SIGNOFF_TIME_ZONE``).

    `signoff plan` and ``POST /api/plans`` check a preview's parameters with it (workers/preview.py),
    so a preview refuses exactly what a start refuses.
    """
    if time_zone and not params.get("time_zone"):
        params = {**params, "time_zone": time_zone}
    spec = KINDS.get(kind)
    if spec is None:
        raise UnknownKind(kind, list(KINDS))
    read: dict[str, Any] = {}
    try:
        validated = spec.params.model_validate(params, context={"read": read})
    except ValidationError as err:
        errors = params_errors(err)
        problems = _checked_anyway(spec.params, read, errors, templates, today, kind)
        raise ParamsError(errors + _field_errors(problems)) from None
    problems = _start_problems(validated, today)  # and the template's, all in one answer
    template = templates(validated.template or kind, kind)
    problems += _problems(validated.check_template, template)
    if problems:
        raise ParamsError(_field_errors(problems))
    template = validated.resolved(template)  # a gate's backup role → the person the process names for it
    extra: dict[str, Any] = {"parent": parent} if parent else {}
    for name, (child_kind, child_template) in spec.companions(template).items():
        extra[name] = templates(child_template, child_kind)
    if stored is not None and isinstance(validated, LaunchParams):
        found = launch_clashes(validated, today, stored.process_views(kind=kind, running=True))
        extra["clashes"] = [clash.sentence for clash in found]
    workflow_input = spec.input.model_validate(
        {"params": validated, "template": template, "requested_by": actor, "requested_via": channel, **extra}
    )
    _check_size(workflow_input)
    view = ProcessView(
        id=validated.id(today),
        kind=kind,
        title=validated.heading(),
        status=ProcessStatus.RUNNING,
        owner=validated.owner,
        params=validated.model_dump(mode="json"),
        steps=[StepView(key=key, title=title, status=StepStatus.PENDING) for key, title in spec.steps.items()],
        warnings=extra.get("clashes", []),
    )
    return workflow_input, view
