"""What a preview checks before it costs anything: the parameters as a start checks them (`api.starts.prepare_start`),
then a preview's own bounds — how many recipients it renders, how many people it plays, how far ahead it can
follow a process in the time it may take (`PATIENCE`) — each refused naming what to shorten.

`workers.preview` runs what passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from api.starts import ParamsError, StoredViews, prepare_start
from domain.kinds import ProcessTemplate
from domain.views import ProcessView

PATIENCE = 120.0
"""Seconds of real time a preview may take before it gives up (a time-skipping server that stalls)."""
MAX_RECIPIENTS = 500
"""The most recipients one list of a previewed process may have (a customer audience may have 10,000). The
preview renders and stores every message to each of them: 10,000 recipients of a 100,000-character message took
27 s, wrote about 1 GB to its folder and answered 20 MB, while no other preview could run."""

# What a preview costs, measured on two loaded cores (load 14, other test suites running): an end of life whose
# shutdown is 150 days away (194 days of the process's time with its data retention and the horizon) took 42 s,
# one 240 days away took 95 s to reach its shutdown (0.4 s a day: its overdue tasks' reminders add up), one 365
# days away did not finish in 120 s, nor did one two years away; a launch 30 days out (58 days of its time)
# took 14 s with 2 approvers, 27 s with 10, 21 s with 15. The cost grows with the days the process runs (each
# day's reminders and escalations) and with the people who decide (each decision is played in turn); the
# estimate below (0.3 s a day) is held to three quarters of `PATIENCE`: the quarter left is the margin for a
# machine busier still (at 0.4 s a day the longest allowed would just finish). On a quieter machine (load 5-10)
# an end of life 13 months out took 47 s: what is refused here might have finished there, not the other way.
PER_DAY = 0.3
"""Seconds of real time a day of the process's time costs a preview (measured on the loaded machine: 0.22 to
0.4; 0.11 on a quieter one)."""
PER_DECIDER = 1.5
"""Seconds of real time each approver or reviewer costs a preview (measured: 1.6 s each from 2 to 10)."""
TAIL_DAYS = 45
"""Days a preview runs past the last date in the parameters: a shutdown's data retention (30 days), a
launch's retrospective (14), then `HORIZON_AFTER` (measured: 28 days past a launch, 44 past a shutdown)."""
BUDGET = 0.75 * PATIENCE
"""The real time a preview is allowed to be expected to take: the rest of `PATIENCE` is the machine's margin."""
MAX_DECIDERS = 10
"""The most approvers and reviewers one preview plays. A launch with 10 approvers was previewed in 27 s and one
with 15 in 21 s, but with 17, 20 and 25 the time-skipping test server stopped answering at the go/no-go gate
("Timeout expired", "h2 protocol error"): while the decisions are played in turn the clock is held, and the
server gives up on a skip held that long. How many it takes depends on the machine's load; 10 keeps a margin."""
DECIDERS = ("approvers", "reviewers")


@dataclass(frozen=True)
class Checked:
    """A process ready to preview: parameters checked as a start checks them, into its workflow's input."""

    kind: str
    workflow_input: BaseModel
    view: ProcessView
    """How it looks before its first step: its id, title and owner."""


def check(
    kind: str,
    params: dict[str, Any],
    *,
    templates: Callable[[str, str], ProcessTemplate],
    actor: str,
    today: date | None = None,
    stored: StoredViews | None = None,
    time_zone: str = "",
) -> Checked:
    """`params` checked exactly as a start checks them (`prepare_start`), as of `today` (default: the
    real today, UTC); with `stored` (the running processes), a launch's clashes found as a start finds them;
    in `time_zone` (the deployment's) when they name none.

    Raises:
        UnknownKind, ParamsError, TemplateError: as a start; ParamsError too for a list of more than
            `MAX_RECIPIENTS`, and for a process that could not be previewed within `PATIENCE` (too far away,
            too many approvers: `_refuse_the_costly`), naming what to shorten: a preview's own bounds.
    """
    day = today or datetime.now(UTC).date()
    workflow_input, view = prepare_start(kind, params, actor, templates, day, stored=stored, time_zone=time_zone)
    checked = getattr(workflow_input, "params", None)
    _refuse_crowds(checked)
    _refuse_the_costly(checked, day)
    return Checked(kind, workflow_input, view)


def _refuse_the_costly(params: object, today: date) -> None:
    """Refuse, before it costs anything, a preview that would not finish in its time: more than `MAX_DECIDERS`
    approvers and reviewers, or a last date so far from `today` that the days it runs (`PER_DAY`, plus
    `TAIL_DAYS`) and the people who decide (`PER_DECIDER`) come to more than `BUDGET`."""
    if not isinstance(params, BaseModel):
        return
    deciders = [(name, len(value)) for name, value in params if name in DECIDERS and isinstance(value, list)]
    count = sum(n for _, n in deciders)
    if count > MAX_DECIDERS:
        raise ParamsError([
            {"loc": ["params", name], "type": "value_error",
             "msg": f"a preview plays up to {MAX_DECIDERS} approvers and reviewers; this one has {count} — "
                    "preview with fewer, or start it without a preview"}
            for name, n in deciders if n
        ])  # fmt: skip
    dated = [(value.date() if isinstance(value, datetime) else value, name) for name, value in params]
    days = [(day, name) for day, name in dated if isinstance(day, date)]
    if not days:
        return
    latest, field = max(days)
    ahead = (latest - today).days
    reach = int((BUDGET - PER_DECIDER * count) / PER_DAY) - TAIL_DAYS
    if ahead > reach:
        raise ParamsError([
            {"loc": ["params", field], "type": "value_error",
             "msg": f"a preview follows a process up to {reach} days ahead in the {PATIENCE:.0f} s it may take; "
                    f"this {field} is {ahead:,} days away — preview with a {field} by {today + timedelta(reach)}, "
                    "or start it without a preview"}
        ])  # fmt: skip


def _refuse_crowds(params: object) -> None:
    """Refuse a preview of a message to more than `MAX_RECIPIENTS` (a customer audience: no other list of a
    process's parameters is that long), naming each such list as a start names a wrong field."""
    if not isinstance(params, BaseModel):
        return
    crowds = [(name, len(value)) for name, value in params if isinstance(value, list) and len(value) > MAX_RECIPIENTS]
    if crowds:
        raise ParamsError([
            {"loc": ["params", name], "type": "value_error",
             "msg": f"a preview shows up to {MAX_RECIPIENTS:,} recipients; this one has {count:,} — start it, "
                    "or preview with fewer"}
            for name, count in crowds
        ])  # fmt: skip
