"""The audit trail of a process, written event by event through an activity."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import workflow

from domain.audit import AuditEvent, ProcessSummary
from domain.enums import Channel
from workflows.options import AUDIT

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities


class AuditTrail:
    """Numbers events 1, 2, 3 … and writes them in that order.

    The store chains each event to the one before, so writes are serialised
    with a lock even when handlers and the main flow record at once. Each
    event carries the process's status when it happened, not when its turn
    at the lock came.
    """

    def __init__(self, summary: Callable[[], ProcessSummary]) -> None:
        self._summary = summary
        self._seq = 0
        self._lock = asyncio.Lock()

    async def record(
        self,
        action: str,
        *,
        actor: str = "signoff",
        channel: Channel = Channel.SYSTEM,
        step: str | None = None,
        **details: Any,
    ) -> None:
        """Write one event: what happened, who did it, through which channel.

        The write is shielded from cancellation: once an event has its number
        it is always stored, or the chain would wait forever for the gap.
        """
        at, process = workflow.now(), self._summary()
        async with self._lock:
            self._seq += 1
            event = AuditEvent(
                process=process,
                seq=self._seq,
                at=at,
                actor=actor,
                channel=channel,
                action=action,
                step=step,
                details=details,
            )
            await asyncio.shield(workflow.execute_activity_method(AuditActivities.record_event, event, **AUDIT))
