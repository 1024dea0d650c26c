"""Pure rules: quorum, gate outcome, due dates and the reminder schedule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel

from domain.enums import Decision, GateStatus
from domain.models import ApprovalRecord, Policy


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
    latest = {d.approver: d.decision for d in decisions if d.approver in approvers}
    approvals = sum(1 for d in latest.values() if d == Decision.APPROVE)
    refusals = len(latest) - approvals
    if approvals >= required:
        return GateStatus.APPROVED
    if len(approvers) - refusals < required:
        return GateStatus.REJECTED
    return GateStatus.OPEN


def at_hour(day: date, hour: int) -> datetime:
    """`day` at `hour`:00 UTC, the moment signoff acts on a date."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


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
    kickoff message already told the owner about the item.
    """
    groups: dict[datetime, list[Notice]] = {}
    for notice in sorted(notices, key=lambda n: (n.at, n.item, n.tag)):
        if notice.at > after:
            groups.setdefault(notice.at, []).append(notice)
    return list(groups.values())
