"""Saved histories replay against today's workflows: a change that would break running processes fails here.

Each file in `histories/GENERATION/` is a whole run of one process kind,
recorded by `python -m tests.replay.record`: generation 1 before the
workflow core was written once (#11), generation 2 after it (the
`workflow-core-once` patch taken), generation 3 with the audit trail written
in batches (`audit-in-batches`), 4 with lighter workflow tasks, 5 with items
answered before their issue is closed and a resend, 6 with the issue of an item
resolved before it was filed closed (`resolved-before-filed`) and action items
answered before their issues are filed (`action-items-at-once`). Every generation replays as long as a
process of its shape may still run. If a change to a workflow makes it issue
different commands for the same history, the replayer raises a
nondeterminism error — exactly what a worker would do to every process of
that kind already running. docs/workflow-changes.md says what to do then.
"""

from __future__ import annotations

import json

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from domain.launch import LaunchInput
from domain.views import ProcessView
from tests.replay.record import GENERATION, HISTORIES
from tests.replay.scenarios import SCENARIOS
from workers.temporal import workflow_runner
from workflows.launch import LaunchWorkflow
from workflows.registry import WORKFLOWS

SAVED = sorted(f"{path.parent.name}/{path.stem}" for path in HISTORIES.glob("*/*.json"))
"""Every saved history, as ``GENERATION/NAME``."""


def history(name: str) -> WorkflowHistory:
    """A saved history (``GENERATION/NAME``), under the id it ran with (a process derives child ids from its own)."""
    saved = json.loads((HISTORIES / f"{name}.json").read_text())
    return WorkflowHistory.from_json(saved["workflow_id"], saved["history"])


def test_every_scenario_has_a_history_of_todays_generation() -> None:
    assert sorted(p.stem for p in (HISTORIES / str(GENERATION)).glob("*.json")) == sorted(SCENARIOS)
    assert {name.split("-")[0] for name in SCENARIOS} == set(WORKFLOWS), "record a history for every process kind"
    assert {name.split("/")[1] for name in SAVED if name.startswith("1/")} <= set(SCENARIOS)


@pytest.mark.parametrize("name", SAVED)
async def test_saved_history_replays_against_todays_workflow(name: str) -> None:
    replayer = Replayer(
        workflows=list(WORKFLOWS.values()), data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )

    result = await replayer.replay_workflow(history(name))

    assert result.replay_failure is None


@workflow.defn(name="launch", sandboxed=False)
class LaunchWithAnExtraStep(LaunchWorkflow):
    """The launch as a careless change would leave it: one more chat post at kickoff, unpatched."""

    @workflow.init
    def __init__(self, input: LaunchInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: LaunchInput) -> ProcessView:
        return await super().run(input)

    async def kickoff(self) -> None:
        await self.outbound.chat("kickoff-planned", "kickoff_chat", self.input.params.channel, "kickoff")
        await super().kickoff()


async def test_an_unpatched_change_fails_replay() -> None:
    replayer = Replayer(
        workflows=[LaunchWithAnExtraStep], data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )

    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(history(f"{GENERATION}/launch"))


@workflow.defn(name="launch", sandboxed=False)
class LaunchWithAPatchedStep(LaunchWorkflow):
    """The same change behind `workflow.patched`: new runs take it, running ones replay as before."""

    @workflow.init
    def __init__(self, input: LaunchInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: LaunchInput) -> ProcessView:
        return await super().run(input)

    async def kickoff(self) -> None:
        if workflow.patched("kickoff-planned"):
            await self.outbound.chat("kickoff-planned", "kickoff_chat", self.input.params.channel, "kickoff")
        await super().kickoff()


async def test_the_same_change_behind_a_patch_replays() -> None:
    replayer = Replayer(
        workflows=[LaunchWithAPatchedStep], data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )

    result = await replayer.replay_workflow(history(f"{GENERATION}/launch"))

    assert result.replay_failure is None
