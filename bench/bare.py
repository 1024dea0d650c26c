"""The bare Temporal workflow signoff is measured against, and a worker for it.

    .venv/bin/python -m bench.bare ADDRESS TASK_QUEUE

`BareApproval` has the approval's shape and nothing else: start → one
activity (the request) → an update (the decision) → one activity (the
result) → done. It runs in a process of its own, as signoff's worker does,
so the two are measured the same way from the benchmark's client.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

WORKFLOW = "bench-bare-approval"


@activity.defn
async def touch(what: str) -> str:
    """A side effect that costs nothing: what the bare shape's activities stand for."""
    return what


@workflow.defn(name=WORKFLOW)
class BareApproval:
    """Request, wait for one decision, record it."""

    def __init__(self) -> None:
        self.requested = False
        self.decision: str | None = None

    @workflow.run
    async def run(self, with_activities: bool) -> str:
        if with_activities:
            await workflow.execute_activity(touch, "requested", start_to_close_timeout=timedelta(seconds=30))
        self.requested = True
        await workflow.wait_condition(lambda: self.decision is not None)
        if with_activities:
            await workflow.execute_activity(touch, "decided", start_to_close_timeout=timedelta(seconds=30))
        return self.decision or ""

    @workflow.update
    async def decide(self, decision: str) -> str:
        """Answer once the request is out, as signoff's link exists only then."""
        await workflow.wait_condition(lambda: self.requested)
        self.decision = decision
        return decision

    @decide.validator
    def _check(self, decision: str) -> None:
        if self.decision is not None:
            raise ApplicationError("already decided", non_retryable=True)


async def main(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    async with Worker(client, task_queue=task_queue, workflows=[BareApproval], activities=[touch]):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
