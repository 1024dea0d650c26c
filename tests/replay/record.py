"""Record the histories that `test_replay.py` replays: ``python -m tests.replay.record [NAME …]``.

Run it when a workflow change is *meant* to break old histories (before any
process of the old shape runs anywhere), and commit the new files; see
docs/workflow-changes.md.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.conftest import SERVER_STARTUP, running_stack
from tests.replay.scenarios import SCENARIOS, BouncingMailer, HeldTracker
from workers.temporal import find_binary

HISTORIES = Path(__file__).parent / "histories"
GENERATION = 10
"""Where new recordings go (`histories/GENERATION/`): bump it with a patch that changes what runs record,
and keep the older generations for as long as their processes may run."""


async def record(names: list[str]) -> None:
    for name in names:  # a server per run, as in the tests: a run's leftovers never hold the next one's clock
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=find_binary("temporal-test-server"),
            data_converter=pydantic_data_converter,
            test_server_startup_timeout=SERVER_STARTUP,
        ) as env:
            with tempfile.TemporaryDirectory() as scratch:
                async with running_stack(env, Path(scratch), tracker=HeldTracker, mailer=BouncingMailer) as stack:
                    handle = await SCENARIOS[name](stack)
                    history = await handle.fetch_history()
            path = HISTORIES / str(GENERATION) / f"{name}.json"
            path.parent.mkdir(exist_ok=True)
            saved = {"workflow_id": history.workflow_id, "history": json.loads(history.to_json())}
            path.write_text(json.dumps(saved) + "\n")
            print(f"{path}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(SCENARIOS)))
