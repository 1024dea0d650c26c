"""What a process's page offers the person reading it: the forms their rules let them use, and what came of the
last one.

A form is shown only to those its route lets in: `lets_in` asks the route's own rule in `api.access.ROUTES`
(the one `api.access.authorize` holds the post to), so the page and the route cannot disagree. The routes
are `api.routes.process_actions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

from fastapi import Request

from api.access import ROUTES
from domain.access import Caller, refusal
from domain.enums import StepStatus
from domain.templates import Priority
from domain.views import ItemState, ProcessView

FLASH = "said"
"""The session's key for what the last change from a page did, shown once by the process page it came back to."""


@dataclass(frozen=True)
class Actions:
    """The forms a process page shows its caller: each only if its route would let them in."""

    remind: bool = False
    cancel: bool = False
    revise: bool = False
    file_action_items: bool = False
    edit: bool = False
    """Change the process: its launch date, who decides at its gate, who owns its open items."""
    recover: bool = False
    """Give the word on the held step (`ProcessView.held`): re-run it, skip it, or end the process."""
    items: frozenset[str] = frozenset()
    """The open items the caller may mark done or won't-do."""
    priorities: tuple[str, ...] = get_args(Priority)


@dataclass(frozen=True)
class Problem:
    """A form the process refused: which one (its route's last part, or an item's key), why, and what was typed."""

    form: str
    message: str
    values: dict[str, str] = field(default_factory=dict)


def lets_in(caller: Caller | None, route: str, view: ProcessView, item: ItemState | None = None) -> bool:
    """Whether ``POST route`` would let `caller` in on this process: `api.access.authorize`'s own rule."""
    if caller is None:
        return False
    return refusal(caller, ROUTES[("POST", route)], view.owner, item.owner if item else None) is None


def page_actions(request: Request, view: ProcessView) -> dict[str, Any]:
    """The process page's forms for its caller (`act`), what their last change did (`said`, shown once) and the
    problem of a form the process refused (`problem`).

    Forms show on a live, running process only. Besides its rule, a form shows when the process can take it
    (a message not yet sent, a post-mortem still taking action items); the process itself has the last word.
    """
    caller: Caller | None = getattr(request.state, "caller", None)
    said = request.session.pop(FLASH, None) if "session" in request.scope else None
    context: dict[str, Any] = {
        "said": said["text"] if isinstance(said, dict) and said.get("process") == view.id else None,
        "problem": getattr(request.state, "problem", None),
        "act": Actions(),
    }
    if not view.live or view.status.finished:
        return context
    steps = {step.key: step.status for step in view.steps}
    open_items = [item for item in view.items if item.status == "open"]
    context["act"] = Actions(
        remind=bool(view.pending or open_items) and lets_in(caller, "/processes/{process_id}/remind", view),
        cancel=lets_in(caller, "/processes/{process_id}/cancel", view),
        revise=view.content is not None and steps.get("send") == StepStatus.PENDING
        and lets_in(caller, "/processes/{process_id}/revisions", view),
        file_action_items=view.kind == "postmortem" and steps.get("actions") != StepStatus.DONE
        and lets_in(caller, "/processes/{process_id}/action-items", view),
        edit=steps.get("kickoff") in (None, StepStatus.DONE) and lets_in(caller, "/processes/{process_id}/edits", view),
        recover=view.held is not None and lets_in(caller, "/processes/{process_id}/steps/{step}/recover", view),
        items=frozenset(
            item.key for item in open_items if lets_in(caller, "/processes/{process_id}/items/{item}/done", view, item)
        ),
    )  # fmt: skip
    return context
