"""A history the fault suite recorded that its own workflow cannot replay: the problem the suite found.

``data/update-after-query.json`` is the start of a post-mortem's history from
a run whose people looked at processes while a worker restarted: the worker was killed while Jira
created the post-mortem's issue (events 7, 14, 15: the retry, on the new
worker); the workflow task that followed (16) waited on the dead worker's
sticky queue until it timed out (17). Meanwhile the new worker answered a
query (someone looked at the process), which handed it the activity's
result ahead of that task, and the workflow ran on (send_email, record_events:
21, 22); the ``add_action_items`` update then came with the next task (23).
Replaying, the SDK applies the update before the activity's result, the
commands no longer match (event 21), and every workflow task of the process
fails from then on with a nondeterminism error: the process is stuck.

This test replays it. It passes while the problem stands (docs/reliability.md,
"What the suite found") and fails once an SDK replays it cleanly: then drop
the guard in `api.live` (views and updates wait until no workflow task is pending) and this test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workers.temporal import workflow_runner
from workflows.registry import WORKFLOWS

HISTORY = Path(__file__).parent / "data" / "update-after-query.json"
PROBLEM = "Update machine does not handle this event: HistoryEvent(id: 21, ActivityTaskScheduled)"


async def test_an_update_after_a_query_on_a_new_worker_still_cannot_be_replayed() -> None:
    history = WorkflowHistory.from_json("postmortem-inc-p04", HISTORY.read_text())
    replayer = Replayer(
        workflows=list(WORKFLOWS.values()), workflow_runner=workflow_runner(), data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is None:
        pytest.fail(
            "the history replays now: the SDK handles an update that follows a query on a new worker; remove "
            "the guard in api.live (a view or an update waits until no workflow task of the process is pending), "
            "this test and its history, and update docs/reliability.md"
        )
    assert PROBLEM in str(result.replay_failure), result.replay_failure
