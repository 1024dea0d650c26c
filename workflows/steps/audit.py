"""The audit trail of a process, written event by event through activities."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow

from domain.audit import AuditBatch, AuditEvent, ProcessSummary, ViewCopy
from domain.enums import Channel
from domain.views import ProcessView
from workflows.options import AUDIT

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities


NOT_COPIED = {"pending", "live", "as_of", "unavailable"}
"""Fields of `ProcessView` the store's copy leaves out: worked out again when it is read (`pending`), or said then."""


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

    Each batch also carries the process's `view` as it is when the batch is
    sent (`ViewCopy`), for the store to answer the process's page from when the
    process cannot answer itself; only the fields that changed since the
    batch before travel (see `_copy`).
    """

    def __init__(
        self,
        summary: Callable[[], ProcessSummary],
        batched: Callable[[], bool],
        view: Callable[[], ProcessView] | None = None,
    ) -> None:
        self._summary = summary
        self._batched = batched
        self._view = view
        self._sent: dict[str, Any] = {}
        self._sent_seq = 0
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

    async def stored(self) -> None:
        """Wait until every event recorded so far is stored."""
        await workflow.wait_condition(lambda: self.written)

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
            written = AuditBatch(events=batch, view=self._copy(batch[-1].seq))
            await asyncio.shield(workflow.execute_activity_method(AuditActivities.record_events, written, **AUDIT))

    def _copy(self, seq: int) -> ViewCopy | None:
        """The view to send with the batch that ends at event `seq`: what changed since the last one sent.

        The store applies the copies in the order of their batches (the chain
        holds the batches in order), so it holds what was sent, change by change;
        a copy whose `since` is not the store's (it never should be) is left
        out there, not mixed in. What was sent is known only to this run of
        the process: a batch replayed from history is not sent again (its input
        is not compared on replay, so it carries no copy and costs no work),
        and the first batch after a replay (a deploy, a worker's restart, the
        cache's eviction) carries the whole view again.
        """
        if self._view is None or workflow.unsafe.is_replaying():
            return None
        whole = self._view().model_dump(mode="json", exclude=NOT_COPIED)
        copy = ViewCopy.between(self._sent, whole, at=workflow.now(), since=self._sent_seq)
        self._sent, self._sent_seq = whole, seq
        return copy
