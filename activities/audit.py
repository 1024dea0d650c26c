"""Writing the audit trail."""

from __future__ import annotations

from temporalio import activity

from activities.errors import integration_errors
from domain.audit import AuditBatch, AuditEvent
from integrations.ports import AuditLog


class AuditActivities:
    """Records audit events, once per (process, seq)."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    @activity.defn(name="record_event", no_thread_cancel_exception=True)
    def record_event(self, event: AuditEvent) -> None:
        """Keep `event` in the audit store; a retry finds the first copy."""
        with integration_errors():
            self.log.append(event)

    @activity.defn(name="record_events", no_thread_cancel_exception=True)
    def record_events(self, batch: AuditBatch) -> None:
        """Keep a process's events, in order, in one transaction with its view; a retry skips those already kept."""
        with integration_errors():
            self.log.append_all(batch.events, batch.view)
