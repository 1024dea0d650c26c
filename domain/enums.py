"""Enumerations shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class ProcessStatus(StrEnum):
    """Where a process stands, as users see it."""

    RUNNING = "running"
    WAITING = "waiting"  # waiting on people: an approval gate is open
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """Whether the process has ended."""
        return self not in (ProcessStatus.RUNNING, ProcessStatus.WAITING)


class StepStatus(StrEnum):
    """The state of one step of a process."""

    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    HANDED_OVER = "handed_over"  # its open work went to another process (a launch's items to its retrospective)


class Decision(StrEnum):
    """What an approver can decide."""

    APPROVE = "approve"
    REJECT = "reject"
    CHANGES = "changes"


class GateStatus(StrEnum):
    """The state of an approval gate."""

    PENDING = "pending"  # not opened yet
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CLOSED = "closed"  # closed without an outcome (cancelled)
    CHANGES_REQUESTED = "changes_requested"  # a reviewer asked for changes: a new version reopens it

    @property
    def decided(self) -> bool:
        """Whether the gate accepts no more decisions."""
        return self not in (GateStatus.PENDING, GateStatus.OPEN)


class Channel(StrEnum):
    """Where an action came from, for the audit trail."""

    LINK = "link"
    SLACK = "slack"
    JIRA = "jira"
    API = "api"
    CLI = "cli"
    SYSTEM = "system"
