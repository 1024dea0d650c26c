"""Every process kind: its parameters, its template schema, its workflow input and its steps.

The web service starts any kind through this table, and the template loader
picks the schema a YAML file's ``kind:`` names; the workflows register
themselves under the same names (`workflows.WORKFLOWS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.comms import CommsInput, CommsParams
from domain.launch import LaunchInput, LaunchParams
from domain.models import Model, ProcessParams
from domain.templates import CommsTemplate, LaunchTemplate

ProcessTemplate = LaunchTemplate | CommsTemplate
"""Any kind's template."""


@dataclass(frozen=True)
class Kind:
    """What the service needs to know to start a process of one kind."""

    name: str
    params: type[ProcessParams]
    template: type[ProcessTemplate]
    input: type[Model]
    steps: dict[str, str]
    """Step key → title, in order: what a process shows before its workflow has run."""


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "launch",
            LaunchParams,
            LaunchTemplate,
            LaunchInput,
            {"kickoff": "Kickoff", "checklist": "Checklist", "go-no-go": "Go / no-go", "launch-day": "Launch day"},
        ),
        Kind(
            "comms",
            CommsParams,
            CommsTemplate,
            CommsInput,
            {"review": "Review", "scheduled": "Scheduled", "send": "Send"},
        ),
    )
}
