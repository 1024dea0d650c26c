"""Durable waits: a condition raced against a deadline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from temporalio import workflow


async def wait_until(condition: Callable[[], bool], deadline: datetime) -> bool:
    """Wait for `condition` or `deadline`, whichever comes first.

    Returns:
        Whether the condition held (False means the deadline passed first).
    """
    remaining = deadline - workflow.now()
    if remaining.total_seconds() <= 0:
        return condition()
    try:
        await workflow.wait_condition(condition, timeout=remaining)
    except TimeoutError:
        return condition()
    return True


async def sleep_until(moment: datetime) -> None:
    """A durable sleep until `moment` (no wait if it has passed)."""
    remaining = moment - workflow.now()
    if remaining.total_seconds() > 0:
        await workflow.sleep(remaining)


async def wait_until_planned(
    condition: Callable[[], bool], deadline: Callable[[], datetime], plan: Callable[[], int]
) -> bool:
    """Wait for `condition` or `deadline()`, whichever comes first, planning again whenever `plan()` changes
    (an edit moved the date the deadline derives from).

    Until the plan changes it starts the one timer `wait_until` starts, so a history recorded before plans
    could change replays unchanged.

    Returns:
        Whether the condition held (False means the deadline, as last planned, passed first).
    """
    while True:
        seen = plan()

        def settled(seen: int = seen) -> bool:
            return condition() or plan() != seen

        await wait_until(settled, deadline())
        if condition():
            return True
        if plan() == seen:
            return False
