"""Pure rules: quorum, gate outcome, due dates and the reminder schedule; what is late, who a process waits on
and what it does next."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, computed_field

from domain.enums import Decision, GateStatus, StepStatus
from domain.models import Policy
from domain.views import ApprovalRecord, GateState, ItemState, ProcessView


def required_approvals(policy: Policy, approvers: int) -> int:
    """How many approvals a gate with `approvers` people needs under `policy`.

    Raises:
        ValueError: a quorum larger than the number of approvers.
    """
    if policy == "all":
        return approvers
    if policy == "any":
        return 1
    if policy > approvers:
        raise ValueError(f"a quorum of {policy} cannot be met by {approvers} approver(s)")
    return policy


def gate_outcome(policy: Policy, approvers: list[str], decisions: Iterable[ApprovalRecord]) -> GateStatus:
    """Whether a gate is approved, rejected, or still open.

    Approved once the quorum approves; rejected as soon as the quorum can no
    longer be met (under `all` the first rejection, under `any` only when every
    approver has said no). A request for changes counts as not approving.
    """
    required = required_approvals(policy, len(approvers))
    latest = {d.for_whom: d.decision for d in decisions if d.for_whom in approvers}  # a delegate's counts for whom
    approvals = sum(1 for d in latest.values() if d == Decision.APPROVE)
    refusals = len(latest) - approvals
    if approvals >= required:
        return GateStatus.APPROVED
    if len(approvers) - refusals < required:
        return GateStatus.REJECTED
    return GateStatus.OPEN


def at_hour(day: date, hour: int, zone: str = "") -> datetime:
    """`day` at `hour`:00 in the time `zone` (an IANA name; empty: UTC), the moment signoff acts on a date,
    in UTC."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone or "UTC")).astimezone(UTC)


def local_time(moment: datetime, zone: str = "", seconds: bool = False) -> str:
    """`moment` as a person reads it in the time `zone` (empty: UTC), the zone named: ``2026-12-15 09:00 CET``."""
    shown = moment.astimezone(ZoneInfo(zone or "UTC"))
    return shown.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def due_date(anchor: date, offset_days: int) -> date:
    """The due date of an item `offset_days` from `anchor` (negative is before)."""
    return anchor + timedelta(days=offset_days)


NoticeKind = Literal["reminder", "overdue", "escalation"]


class Notice(BaseModel):
    """One reminder or escalation about one item, due at `at`."""

    item: str
    kind: NoticeKind
    at: datetime
    tag: str


def item_notices(
    item: str,
    due_at: datetime,
    before_days: Iterable[int],
    overdue_every_days: int | None,
    escalate_after_days: int | None,
    until: datetime,
) -> list[Notice]:
    """Every notice about one item from now until `until`, in time order.

    Reminders go `before_days` ahead of `due_at`; once overdue the owner is
    reminded every `overdue_every_days`; the process owner hears once the
    item is `escalate_after_days` late.
    """
    notices = [
        Notice(item=item, kind="reminder", at=due_at - timedelta(days=d), tag=f"before-{d}")
        for d in sorted(set(before_days), reverse=True)
    ]
    if overdue_every_days:
        late = overdue_every_days
        while due_at + timedelta(days=late) < until:
            notices.append(Notice(item=item, kind="overdue", at=due_at + timedelta(days=late), tag=f"overdue-{late}"))
            late += overdue_every_days
    if escalate_after_days:
        notices.append(
            Notice(
                item=item,
                kind="escalation",
                at=due_at + timedelta(days=escalate_after_days),
                tag="escalation",
            )
        )
    return sorted((n for n in notices if n.at < until), key=lambda n: (n.at, n.item, n.tag))


def schedule(notices: Iterable[Notice], after: datetime) -> list[list[Notice]]:
    """Notices later than `after`, grouped by the moment they fall due.

    Notices whose moment passed before the process started are dropped: the
    kickoff message already told the owner about the item (a launch's kickoff
    marks it late, and escalates at once those past their escalation:
    `domain.late_start.kickoff_facts`).
    """
    groups: dict[datetime, list[Notice]] = {}
    for notice in sorted(notices, key=lambda n: (n.at, n.item, n.tag)):
        if notice.at > after:
            groups.setdefault(notice.at, []).append(notice)
    return list(groups.values())


# ---- late, waiting, next: what the list, a process's page and "my work" say -------------------------------------


def is_overdue(due: date, today: date) -> bool:
    """Whether something still open, due on `due`, is late on `today`: its day has passed.

    Days are UTC days for now (a process's own time zone is a later change).
    """
    return due < today


def open_items(view: ProcessView) -> list[ItemState]:
    """The checklist or action items of `view` not done yet (nor accepted as won't-do)."""
    return [item for item in view.items if item.status == "open"]


def overdue_items(view: ProcessView, today: date) -> list[ItemState]:
    """The open items of a running process whose due date has passed; none once it has ended."""
    if view.status.finished:
        return []
    return [item for item in open_items(view) if is_overdue(item.due, today)]


GO_AHEAD: dict[str, tuple[str, str]] = {
    "launch": ("launch-day", "launch_date"),
    "eol": ("shutdown", "shutdown_date"),
    "comms": ("send", "send_at"),
}
"""Per kind, the step an open gate's decision must come before (launch day, the shutdown, the send) and the
parameter that dates it when the view carries no plan."""


def decision_due(view: ProcessView, gate: GateState) -> datetime | None:
    """When the decision of an open `gate` is due: the moment the process goes ahead (launch day, the shutdown,
    a scheduled send) or, when that comes later or there is none, the gate's expiry.

    The approvers' links stay valid until the expiry (a launch on hold can still be approved a few days after
    its date), but a decision past the go-ahead moment is late: the list's next deadline and "my work" say
    the earlier one.
    """
    if gate.expires_at is None:
        return None
    go_ahead = _go_ahead(view, gate.expires_at)
    return min(gate.expires_at, go_ahead) if go_ahead else gate.expires_at


def _go_ahead(view: ProcessView, expires_at: datetime) -> datetime | None:
    """When `view`'s process goes ahead past its gate: from its plan, else from its parameters."""
    step, param = GO_AHEAD.get(view.kind, ("", ""))
    planned = [moment.at for moment in view.plan if step and moment.step == step]
    if planned:
        return min(planned)
    value = view.params.get(param) if param else None
    if not isinstance(value, str) or not value:
        return None
    try:
        if len(value) == len("2026-12-15"):
            # a day: at the hour the process acts on it, which its gate's expiry (whole days after it) shares
            return datetime.combine(date.fromisoformat(value), expires_at.timetz())
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Waiting(BaseModel):
    """Someone a running process waits on, and for what."""

    person: str
    decisions: list[str] = []
    """The gates (their titles) waiting on this person's decision."""
    open_items: int = 0
    """How many open items they own."""
    overdue_items: int = 0
    """How many of those are overdue."""
    held: str | None = None
    """The title of a step held for this person's word (the process owner: re-run, skip or end it)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def why(self) -> str:
        """What they are waited on for, in words: "a decision on Go / no-go; 3 open items, 2 overdue"."""
        parts = [f"a decision on {title}" for title in self.decisions]
        if self.held:
            parts.insert(0, f"their word on {self.held}, which is held (re-run, skip or end)")
        if self.open_items:
            late = f", {self.overdue_items} overdue" if self.overdue_items else ""
            parts.append(f"{self.open_items} open item{'s' if self.open_items != 1 else ''}{late}")
        return "; ".join(parts)


def waiting_on(view: ProcessView, today: date) -> list[Waiting]:
    """Who a running process waits on: each approver an open gate has not heard from, each owner of an open
    item (with how many are overdue); the approvers first, then the most overdue. Nobody once it has ended."""
    if view.status.finished:
        return []
    people: dict[str, Waiting] = {}
    if view.held:
        people[view.owner] = Waiting(person=view.owner, held=view.held.title)
    for gate in view.gates:
        if gate.status == GateStatus.OPEN:
            for approver in gate.waiting_on:
                people.setdefault(approver, Waiting(person=approver)).decisions.append(gate.title)
    for item in open_items(view):
        waiting = people.setdefault(item.owner, Waiting(person=item.owner))
        waiting.open_items += 1
        waiting.overdue_items += is_overdue(item.due, today)
    return sorted(
        people.values(), key=lambda w: (not w.held, not w.decisions, -w.overdue_items, -w.open_items, w.person)
    )


class NextUp(BaseModel):
    """The next thing that will happen in a process, and when."""

    what: str
    """In words: "launch day", "Go / no-go: decision due", "Documentation due"."""
    on: date
    at: datetime | None = None
    """The moment, when the view says it (an item is due on a day)."""
    step: str | None = None


_ENDED_STEPS = (StepStatus.DONE, StepStatus.SKIPPED, StepStatus.FAILED)


def next_up(view: ProcessView, now: datetime) -> NextUp | None:
    """The next thing that will happen in a running process: the earliest of an open gate's decision falling due
    (then its expiry), a moment of its plan still ahead (a gate opening, launch day, a milestone, a scheduled
    send), and its open items falling due (several on one day, together). None once it has ended, or when
    nothing dated lies ahead.

    A planned moment is left out once its step has ended, and a gate's opening once the gate has opened (early,
    when every item was done).
    """
    if view.status.finished:
        return None
    upcoming: list[NextUp] = []
    if view.held and view.held.until >= now:
        held = view.held
        upcoming.append(NextUp(what=f"{held.title}: ends without its owner's word", on=held.until.date(),
                               at=held.until, step=held.step))  # fmt: skip
    for gate in view.gates:
        due = decision_due(view, gate) if gate.status == GateStatus.OPEN else None
        if due is not None and due >= now:
            upcoming.append(NextUp(what=f"{gate.title}: decision due", on=due.date(), at=due, step=gate.key))
        elif due is not None and gate.expires_at is not None and gate.expires_at >= now:
            expiry = gate.expires_at
            upcoming.append(NextUp(what=f"{gate.title}: the gate expires", on=expiry.date(), at=expiry, step=gate.key))
    opened = {gate.key for gate in view.gates if gate.status != GateStatus.PENDING}
    ended = {step.key for step in view.steps if step.status in _ENDED_STEPS}
    upcoming += [
        NextUp(what=moment.what, on=moment.at.date(), at=moment.at, step=moment.step)
        for moment in view.plan
        if moment.at >= now and moment.step not in opened and moment.step not in ended
    ]
    ahead = sorted((item for item in open_items(view) if item.due >= now.date()), key=lambda item: item.due)
    if ahead:
        first = [item for item in ahead if item.due == ahead[0].due]
        what = f"{first[0].title} due" if len(first) == 1 else f"{len(first)} items due"
        upcoming.append(NextUp(what=what, on=first[0].due))
    return min(upcoming, key=lambda n: (n.on, n.at or datetime.combine(n.on, time.max, UTC)), default=None)
