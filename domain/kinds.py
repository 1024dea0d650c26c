"""Every process kind: its parameters, its template schema, its workflow input and its steps.

The web service starts any kind through this table, and the template loader
picks the schema a YAML file's ``kind:`` names; the workflows register
themselves under the same names (`workflows.WORKFLOWS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from domain.comms import CommsInput, CommsParams
from domain.eol import EolInput, EolParams
from domain.launch import LaunchInput, LaunchParams
from domain.models import Model, ProcessParams
from domain.postmortem import PostmortemInput, PostmortemParams
from domain.templates import CommsTemplate, EolTemplate, LaunchTemplate, PostmortemTemplate

ProcessTemplate = LaunchTemplate | CommsTemplate | PostmortemTemplate | EolTemplate
"""Any kind's template."""

Companions = Callable[[ProcessTemplate], dict[str, tuple[str, str]]]
"""The templates of the child processes a template calls for: input field → (kind, template name)."""


def _no_companions(template: ProcessTemplate) -> dict[str, tuple[str, str]]:
    return {}


def _notice(template: ProcessTemplate) -> dict[str, tuple[str, str]]:
    """The comms template an end-of-life's customer notices go out with."""
    if isinstance(template, EolTemplate):
        return {"notice": ("comms", template.notice_template)}
    return {}


def _retrospective(template: ProcessTemplate) -> dict[str, tuple[str, str]]:
    """A launch's retrospective, if its template schedules one."""
    if isinstance(template, LaunchTemplate) and template.retrospective_after_days:
        return {"retrospective": ("postmortem", template.retrospective_template)}
    return {}


@dataclass(frozen=True)
class Kind:
    """What the service needs to know to start a process of one kind."""

    name: str
    params: type[ProcessParams]
    template: type[ProcessTemplate]
    input: type[Model]
    steps: dict[str, str]
    """Step key → title, in order: what a process shows before its workflow has run."""
    companions: Companions = field(default=_no_companions)
    """Child processes' templates, loaded when the process starts so it never reads a file later."""


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "launch",
            LaunchParams,
            LaunchTemplate,
            LaunchInput,
            {"kickoff": "Kickoff", "checklist": "Checklist", "go-no-go": "Go / no-go", "launch-day": "Launch day"},
            _retrospective,
        ),
        Kind(
            "comms",
            CommsParams,
            CommsTemplate,
            CommsInput,
            {"review": "Review", "scheduled": "Scheduled", "send": "Send"},
        ),
        Kind(
            "postmortem",
            PostmortemParams,
            PostmortemTemplate,
            PostmortemInput,
            {"draft": "Draft", "review": "Review", "actions": "Action items", "published": "Published"},
        ),
        Kind(
            "eol",
            EolParams,
            EolTemplate,
            EolInput,
            {
                "kickoff": "Kickoff",
                "notice": "Customer notice",
                "end-of-sale": "End of sale",
                "end-of-support": "End of support",
                "reminders": "Customer reminders",
                "pull-the-plug": "Pull the plug",
                "shutdown": "Shutdown",
                "data-retention": "Data retention",
            },
            _notice,
        ),
    )
}
