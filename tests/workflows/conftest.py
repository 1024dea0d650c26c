"""Fixtures of the workflow tests, on top of `tests/conftest.py`'s `env` and `stack`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.conftest import Stack
from tests.workflows.helpers import Handle, Launch


@pytest.fixture
async def launch(stack: Stack) -> AsyncIterator[Launch]:
    """`stack.start_launch`, and at teardown terminate what a test left running.

    The time-skipping server is shared by the whole session: a launch left
    running after its worker is gone would keep firing timers into a task
    queue nobody polls.
    """
    handles: list[Handle] = []

    async def start(**params: Any) -> Handle:
        handle = await stack.start_launch(**params)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate(reason="test over")
