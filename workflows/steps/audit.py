"""The audit trail of a process, written event by event through activities."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow

from domain.audit import AuditBatch, AuditEvent, ProcessSummary
from domain.enums import Channel
from workflows.options import AUDIT

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities


class AuditTrail:
    """Numbers events 1, 2, 3 … and writes them in that order.

    The store chains each event to the one before, so the events of a process
    are written in order, one write at a time. Each event carries the
    process's status when it happened, not when it was written.

    Written beside the story: `record` numbers the event and returns at once;
    one writer task sends what has gathered meanwhile as one batch, in one
    activity and one transaction, and the process ends only once `written`.
    A burst of events (a decision, the gate closing, the requests settled)
    is then one activity instead of five, and never holds up the sends
    between them. A process started before that (not `batched`) still
    waits for each write, one activity per event.
    """

    def __init__(self, summary: Callable[[], ProcessSummary], batched: Callable[[], bool]) -> None:
        self._summary = summary
        self._batched = batched
        self._seq = 0
        self._lock = asyncio.Lock()
        self._pending: list[AuditEvent] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(
        self,
        action: str,
        *,
        actor: str = "signoff",
        channel: Channel = Channel.SYSTEM,
        step: str | None = None,
        **details: Any,
    ) -> None:
        """Record one event: what happened, who did it, through which channel.

        A write is shielded from cancellation: once an event has its number
        it is always stored, or the chain would wait forever for the gap.
        """
        at, process = workflow.now(), self._summary()
        if not self._batched():
            async with self._lock:
                event = self._event(at, process, action, actor, channel, step, details)
                await asyncio.shield(workflow.execute_activity_method(AuditActivities.record_event, event, **AUDIT))
            return
        self._pending.append(self._event(at, process, action, actor, channel, step, details))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())

    @property
    def written(self) -> bool:
        """Whether every event recorded so far is stored."""
        return not self._pending and (self._writer is None or self._writer.done())

    @property
    def recorded(self) -> int:
        """How many events were recorded (numbered) so far."""
        return self._seq

    def _event(
        self, at: datetime, process: ProcessSummary, action: str, actor: str, channel: Channel, step: str | None,
        details: dict[str, Any],
    ) -> AuditEvent:  # fmt: skip
        self._seq += 1
        return AuditEvent(
            process=process, seq=self._seq, at=at, actor=actor, channel=channel, action=action, step=step,
            details=details,
        )  # fmt: skip

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            await asyncio.shield(
                workflow.execute_activity_method(AuditActivities.record_events, AuditBatch(events=batch), **AUDIT)
            )
