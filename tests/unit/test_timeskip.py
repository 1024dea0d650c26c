"""`workers.timeskip.TimerRaceGuard`: a preview's task that cancels a timer due by now is sent again, not stranded."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_commands import WorkflowCommand
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion

from workers.timeskip import _Guarded

START = datetime(2027, 4, 1, 8, 0, tzinfo=UTC)


class Scripted:
    """A workflow instance that answers each activation with the next scripted commands."""

    def __init__(self, *answers: list[WorkflowCommand]) -> None:
        self.answers = list(answers)

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        completion = WorkflowActivationCompletion(run_id=act.run_id)
        completion.successful.commands.extend(self.answers.pop(0))
        return completion


def activation(at: datetime, fired: int | None = None, replaying: bool = False) -> WorkflowActivation:
    act = WorkflowActivation(run_id="run", is_replaying=replaying)
    act.timestamp.FromDatetime(at)
    if fired is not None:
        act.jobs.add().fire_timer.seq = fired
    return act


def start_timer(seq: int, after: timedelta) -> WorkflowCommand:
    command = WorkflowCommand()
    command.start_timer.seq = seq
    command.start_timer.start_to_fire_timeout.FromTimedelta(after)
    return command


def cancel_timer(seq: int) -> WorkflowCommand:
    command = WorkflowCommand()
    command.cancel_timer.seq = seq
    return command


def test_a_task_cancelling_a_timer_due_at_its_moment_fails_once_that_moment_has_passed() -> None:
    # the shutdown's timer (1) and a reminder's (2) both due at 09:00; the shutdown's fires first and its task
    # cancels the reminder's, which the test server fired meanwhile
    guarded = _Guarded(Scripted([start_timer(1, timedelta(hours=1)), start_timer(2, timedelta(hours=1))],
                                [cancel_timer(2), start_timer(3, timedelta(days=1))]))  # fmt: skip
    guarded.activate(activation(START))

    began = time.monotonic()
    completion = guarded.activate(activation(START + timedelta(hours=1), fired=1))

    assert completion.HasField("failed") and "may have fired" in completion.failed.failure.message
    assert 0.1 <= time.monotonic() - began < 1, "it waited for the timer's moment to pass on the server's clock"


def test_a_timer_cancelled_well_before_its_moment_is_cancelled() -> None:
    guarded = _Guarded(Scripted([start_timer(2, timedelta(days=3))], [cancel_timer(2)]))
    guarded.activate(activation(START))

    completion = guarded.activate(activation(START + timedelta(hours=5)))

    assert completion.HasField("successful") and completion.successful.commands[0].HasField("cancel_timer")


def test_a_fired_timer_is_forgotten_and_a_replayed_task_is_left_as_it_was() -> None:
    guarded = _Guarded(Scripted([start_timer(2, timedelta(hours=1))], [cancel_timer(2)], [cancel_timer(4)]))
    guarded.activate(activation(START, replaying=True))

    replayed = guarded.activate(activation(START + timedelta(hours=1), replaying=True))
    unknown = guarded.activate(activation(START + timedelta(hours=1)))

    assert replayed.HasField("successful"), "history says the cancel was taken: replay must give it again"
    assert unknown.HasField("successful")
