"""What a preview checks before it costs anything: the parameters as a start checks them (`api.starts.prepare_start`),
then a preview's own bounds — how many recipients it renders and how many people it plays, each refused naming
what to shorten, and how far ahead it can follow a process in the time it may take (`PATIENCE`): a process whose
last date lies beyond is previewed up to that day (`Reach`), the plan saying where it stopped.

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
class Reach:
    """How far a preview follows a process whose last date lies beyond what it can reach in its time."""

    until: date
    """The last day of the process's time the preview follows."""
    field: str
    """The parameter holding the process's last date."""
    last: date
    """That date."""

    def said(self) -> str:
        """Why the preview stopped before the process's end, in a sentence."""
        return (
            f"A preview follows a process up to {self.until} in the {PATIENCE:.0f} s it may take, so this one stopped "
            f"there, before its {self.field} ({self.last}): what comes after is not shown"
        )


@dataclass(frozen=True)
class Checked:
    """A process ready to preview: parameters checked as a start checks them, into its workflow's input."""

    kind: str
    workflow_input: BaseModel
    view: ProcessView
    """How it looks before its first step: its id, title and owner."""
    reach: Reach | None = None
    """How far the preview follows it, when not to its end."""


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
            `MAX_RECIPIENTS`, and for more approvers than a preview plays (`MAX_DECIDERS`), naming what to shorten:
            a preview's own bounds.
    """
    day = today or datetime.now(UTC).date()
    workflow_input, view = prepare_start(kind, params, actor, templates, day, stored=stored, time_zone=time_zone)
    checked = getattr(workflow_input, "params", None)
    _refuse_crowds(checked)
    return Checked(kind, workflow_input, view, _reach(checked, day))


def _reach(params: object, today: date) -> Reach | None:
    """Refuse, before it costs anything, a preview of more than `MAX_DECIDERS` approvers and reviewers; say how
    far one goes whose last date is so far from `today` that the days it runs (`PER_DAY`, plus `TAIL_DAYS`) and
    the people who decide (`PER_DECIDER`) come to more than `BUDGET` (None: it follows the process to its end)."""
    if not isinstance(params, BaseModel):
        return None
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
        return None
    latest, field = max(days)
    reach = int((BUDGET - PER_DECIDER * count) / PER_DAY)
    if (latest - today).days + TAIL_DAYS <= reach:
        return None
    return Reach(until=today + timedelta(days=reach), field=field, last=latest)


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
