"""Heartbeats for every activity, so the activity of a worker that died is retried in seconds.

Temporal learns that a worker died mid-activity only when a timeout runs
out: with start-to-close alone that took a minute for an email (30 s for an
audit write), while the process and the person waiting on it waited. Every
activity is scheduled with a short heartbeat timeout (`workflows.options`),
and this interceptor heartbeats for it from the worker's event loop while it
runs, so its code needs no heartbeat calls of its own: a live worker keeps
its activities alive up to their start-to-close timeout, and a dead one's
are given to another attempt within `workflows.options.HEARTBEAT` and a
second. A heartbeat the server never got (a worker too busy for a few
seconds) starts a second attempt beside the first: the ledger keeps that
from sending twice (`integrations.ledger`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

BEAT_SHARE = 0.2
"""How often to heartbeat, as a share of the heartbeat timeout (the SDK sends at most one every 80 % of it)."""


class Heartbeats(Interceptor):
    """Heartbeats on behalf of every activity scheduled with a heartbeat timeout."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Beating(next)


class _Beating(ActivityInboundInterceptor):
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._outbound = outbound
        super().init(outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = self._outbound.info().heartbeat_timeout
        if not timeout:
            return await self.next.execute_activity(input)
        beating = asyncio.create_task(self._beat(timeout.total_seconds() * BEAT_SHARE))
        try:
            return await self.next.execute_activity(input)
        finally:
            beating.cancel()

    async def _beat(self, every: float) -> None:
        """Heartbeat on the event loop (a sync activity runs on a thread; the SDK's heartbeat is the loop's)."""
        while True:
            await asyncio.sleep(every)
            self._outbound.heartbeat()
