"""Trigger rules (``config/triggers.yaml``): incoming events that start or move processes.

A rule names a source (``jira`` or ``events``) and an event type, a condition
on the payload, and an action: start a process of a kind with parameters
mapped from the payload, or mark a checklist item done. Paths into the
payload are dotted (``issue.fields.status.name``); a parameter value is a
template whose ``{path}`` parts are filled from the payload.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.errors import BadInput

TRIGGERS = Path(__file__).parent / "triggers.yaml"
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")


class TriggerError(BadInput):
    """A triggers file that cannot be read or does not match the schema."""


class Condition(BaseModel):
    """Every `equals` path has its value, and every `in` path one of its values."""

    model_config = ConfigDict(extra="forbid")

    equals: dict[str, str] = {}
    one_of: dict[str, list[str]] = Field(default_factory=dict, alias="in")


class StartAction(BaseModel):
    """Start a process; its id derives from `key` (the event's business key)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    key: str = Field(description="template of the business key, e.g. '{issue.key}'")
    params: dict[str, Any]


class ItemDoneAction(BaseModel):
    """Mark a checklist item done in the process that owns the issue."""

    model_config = ConfigDict(extra="forbid")

    issue: str = "{issue.key}"


class Rule(BaseModel):
    """One trigger rule."""

    model_config = ConfigDict(extra="forbid")

    name: str
    source: Literal["jira", "events"]
    event: str = Field(description="Jira webhookEvent (e.g. jira:issue_updated) or the event's `type`")
    when: Condition = Condition()
    start: StartAction | None = None
    item_done: ItemDoneAction | None = None


class Triggers(BaseModel):
    """Every rule, in file order."""

    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = []

    def matching(self, source: str, event: str, payload: dict[str, Any]) -> list[Rule]:
        """The rules that fire for this event."""
        return [r for r in self.rules if r.source == source and r.event == event and holds(r.when, payload)]


def lookup(payload: Any, path: str) -> Any:
    """The value at a dotted `path` in `payload`, or None."""
    node = payload
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def holds(condition: Condition, payload: dict[str, Any]) -> bool:
    """Whether `payload` meets `condition` (comparisons are on strings, case-insensitive)."""

    def same(value: Any, wanted: str) -> bool:
        return value is not None and str(value).casefold() == wanted.casefold()

    return all(same(lookup(payload, p), v) for p, v in condition.equals.items()) and all(
        any(same(lookup(payload, p), v) for v in values) for p, values in condition.one_of.items()
    )


def fill(template: Any, payload: dict[str, Any]) -> Any:
    """`template` with each ``{path}`` replaced from `payload` (recursively in lists and maps).

    A template that is exactly one placeholder keeps the value's type (a list stays a list).
    """
    if isinstance(template, dict):
        return {k: fill(v, payload) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, payload) for v in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template)
    if whole:
        return lookup(payload, whole.group(1))
    return _PLACEHOLDER.sub(lambda m: "" if (v := lookup(payload, m.group(1))) is None else str(v), template)


def load_triggers(path: Path = TRIGGERS) -> Triggers:
    """Read and validate the trigger rules.

    Raises:
        TriggerError: naming the file, the rule and the field.
    """
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        return Triggers()
    except yaml.YAMLError as err:
        raise TriggerError(f"{path}: not valid YAML: {err}") from None
    try:
        return Triggers.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise TriggerError(f"{path}: {problems}") from None
