"""Asking a running process for its view, or sending it an update, without leaving it stuck.

After a worker dies, the workflow task that was headed for it (an activity's
result, say) waits on that worker's sticky queue until Temporal gives up on
it (10 s) and hands it to another worker, which has not seen the process and
replays its whole history with the task's new events. An update sent
meanwhile comes with that task; a query sent meanwhile is answered by another
worker from a history that already holds the task's new events, and the
workflow runs on from them. Either way the update is recorded in an order a
later replay does not follow — the SDK orders an update against events that
reached a fresh worker with it differently live and in replay (temporalio
1.35) — and from then on every workflow task of the process fails with a
nondeterminism error: it is stuck (docs/reliability.md, "What the suite
found"; `tests/faults/test_update_after_query.py` replays such a history). A
worker that crashes, and a person who opens a page or clicks in the next
seconds, are all it takes. So a view is asked for, and an update sent, only
once no workflow task of the process is pending: a healthy worker finishes
one within milliseconds, and a stranded one goes to a live worker within the
timeouts. That narrows the window to the milliseconds between Temporal's
answer and the request, where it was seconds; it does not close it. Every
page, read, access check and update of the web service goes through here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from domain.views import ProcessView

FIRST_LOOK = 0.05
"""Seconds before looking again at a workflow task still pending; doubled each time up to `LAST_LOOK`."""
LAST_LOOK = 0.5
FAILING_FROM_ATTEMPT = 3
"""A pending task on this attempt or a later one is failing, not stranded (a dead worker's task comes back as its
second attempt): waiting on it would only make every page and click of a stuck process slow, so the query or update
goes and fails as it would have."""


async def live_view(handle: WorkflowHandle[Any, Any], within: timedelta) -> ProcessView:
    """The process's answer to its ``view`` query, once no workflow task of it is pending; in `within`
    at most (Temporal's deadline for each call, and ours for the whole).

    Raises:
        RPCError: Temporal's refusal (no such process, its deadline passed, it cannot be reached).
        TimeoutError: nothing came back in `within` (a task still waiting for a worker, or no answer).
        WorkflowQueryFailedError: the process failed to answer.
    """
    async with asyncio.timeout(within.total_seconds()):
        await no_task_pending(handle, within)
        view: ProcessView = await handle.query("view", result_type=ProcessView, rpc_timeout=within)
    return view


async def no_task_pending(handle: WorkflowHandle[Any, Any], within: timedelta) -> None:
    """Return once the process has no workflow task scheduled or under way (or one that keeps failing)."""
    pause = FIRST_LOOK
    while True:
        described = (await handle.describe(rpc_timeout=within)).raw_description
        pending = described.pending_workflow_task if described.HasField("pending_workflow_task") else None
        if pending is None or pending.attempt >= FAILING_FROM_ATTEMPT:
            return
        await asyncio.sleep(pause)
        pause = min(2 * pause, LAST_LOOK)
