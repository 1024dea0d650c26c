"""The words people read for signoff's states and counts: one table of status labels, plain plurals.

Every page, email, chat message and CLI line names a state through `label`, never its stored value
(``changes_requested`` is "changes requested", a gate ``open`` is "waiting for decisions"), and counts
things through `count` ("1 action item", "2 action items"). The API's JSON and the command line's
filters keep the stored values: they are what scripts match on.
"""

from __future__ import annotations

from enum import Enum

from domain.enums import Decision, GateStatus, ProcessStatus, StepStatus
from domain.views import GateState

STATUS_LABELS: dict[str, dict[str, str]] = {
    "process": {
        ProcessStatus.RUNNING: "running",
        ProcessStatus.WAITING: "waiting for decisions",
        ProcessStatus.COMPLETED: "completed",
        ProcessStatus.REJECTED: "rejected",
        ProcessStatus.CANCELLED: "cancelled",
        ProcessStatus.FAILED: "failed",
    },
    "step": {
        StepStatus.PENDING: "not started",
        StepStatus.ACTIVE: "in progress",
        StepStatus.DONE: "done",
        StepStatus.SKIPPED: "skipped",
        StepStatus.FAILED: "failed",
        StepStatus.HANDED_OVER: "handed over",
    },
    "gate": {
        GateStatus.PENDING: "not open yet",
        GateStatus.OPEN: "waiting for decisions",
        GateStatus.APPROVED: "approved",
        GateStatus.REJECTED: "rejected",
        GateStatus.EXPIRED: "expired",
        GateStatus.CLOSED: "closed",
        GateStatus.CHANGES_REQUESTED: "changes requested",
    },
    "decision": {
        Decision.APPROVE: "approved",
        Decision.REJECT: "rejected",
        Decision.CHANGES: "changes requested",
    },
    "item": {"open": "open", "done": "done", "wont_do": "won't do"},
    "action": {
        "item_wont_do": "item accepted as won't do",
        "changes_requested": "changes requested",
        "event_refused": "event refused",
    },
}
"""Each kind of state (``process``, ``step``, ``gate``, ``decision``, ``item``) and the audit trail's actions
(``action``; one not listed reads with its underscores as spaces): stored value → what people read."""

_TABLE_OF: dict[type[Enum], str] = {
    ProcessStatus: "process",
    StepStatus: "step",
    GateStatus: "gate",
    Decision: "decision",
}


def label(value: object, of: str | None = None) -> str:
    """How a person reads a state: `value` is one of the enums (its table is its type's) or a stored string,
    whose table `of` names (``process``, ``step``, ``gate``, ``decision``, ``item``, ``action``).

    >>> label(GateStatus.OPEN), label("changes_requested", "gate"), label("wont_do", "item")
    ('waiting for decisions', 'changes requested', "won't do")

    A value no table knows is shown with its underscores as spaces, never raw.
    """
    if isinstance(value, Enum):
        of, value = of or _TABLE_OF.get(type(value), ""), value.value
    table = STATUS_LABELS.get(of or "", {})
    text = str(value)
    return table.get(text, text.replace("_", " "))


def plural(word: str, n: int, many: str | None = None) -> str:
    """`word` as it goes with `n`: ``plural("item", 1)`` is "item", with 2 "items" (`many` when not +s)."""
    return word if n == 1 else many or f"{word}s"


def count(n: int, word: str, many: str | None = None) -> str:
    """`n` and `word` as a person says them.

    >>> count(1, "action item"), count(0, "approval"), count(2, "person", "people")
    ('1 action item', '0 approvals', '2 people')
    """
    return f"{n} {plural(word, n, many)}"


def received(got: int, needed: int, word: str = "approval") -> str:
    """How many of those needed came: "1 of 2 approvals received", "0 of 1 approval received"."""
    return f"{got} of {count(needed, word)} received"


def approvals_of(gate: GateState) -> int:
    """The approvals of the gate's current round."""
    return sum(1 for d in gate.decisions if d.round == gate.round and d.decision == Decision.APPROVE)


def gate_summary(gate: GateState) -> str:
    """Where a gate stands, in words: an open gate says who it waits on and how many approvals came.

    >>> from domain.views import GateState
    >>> gate_summary(GateState(key="g", title="Go", status=GateStatus.OPEN, approvers=["a@x.io", "b@x.io"],
    ...                        policy="all", required=2))
    'waiting on a@x.io, b@x.io (0 of 2 approvals received)'
    """
    if gate.status != GateStatus.OPEN:
        return label(gate.status)
    waiting = ", ".join(gate.waiting_on) or "nobody"
    return f"waiting on {waiting} ({received(approvals_of(gate), gate.required)})"


def listed(words: list[str], last: str = "and") -> str:
    """Words as a sentence lists them: "a", "a and b", "a, b and c"."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
