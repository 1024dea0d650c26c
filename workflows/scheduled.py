"""One run of a recurring process: what a schedule starts at each of its times (`api.schedules`).

Why a workflow of its own, and not the process itself as the schedule's action: a process's dates must move with
each run (``launch_date=+14d``, `domain.schedules`), and its id, which carries them, must come out the same
however often the run is tried. This workflow resolves them from the moment the schedule fired — the
``TemporalScheduledStartTime`` the schedule gives each run, else `workflow.now()`, both fixed in its history —
never from the clock an activity happens to run at, which a retry could carry past midnight. Then one activity
validates the parameters and starts the process under its business-key id, exactly as a start from the API does
(`api.schedules.ScheduledStarts`): a process already under that id is this run's, started before (the same run
twice, a trigger on a day the schedule also ran), and is a success, not an error.

A refusal (a template deleted since the schedule was made, a parameter no longer valid) is final: retrying would
meet it again. The schedule's trail records it and its creator is emailed, once (`tell_run_refused`), and the run
fails; the schedule stays as it is and its next run tries again.

The runs are independent processes that last weeks, so the schedule lets them overlap (this workflow itself
lasts a second).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

from domain.schedules import (
    RUN_REFUSED,
    STARTER,
    RunOutcome,
    RunRefused,
    RunRequest,
    ScheduledStart,
    resolve,
    run_day,
)
from workflows.options import HEARTBEAT, INTEGRATION

with workflow.unsafe.imports_passed_through():
    from activities.schedules import ScheduleActivities

FIRED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
"""When the schedule fired this run (its nominal time: a catch-up run after an outage keeps its own day)."""

START: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=60),
    "heartbeat_timeout": HEARTBEAT,
    "schedule_to_close_timeout": timedelta(days=1),  # Temporal or the database down: keep trying for a day
    "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=5), non_retryable_error_types=[RUN_REFUSED]),
}


@workflow.defn(name=STARTER)
class ScheduledStartWorkflow:
    """Starts the process of one run of a schedule."""

    @workflow.run
    async def run(self, start: ScheduledStart) -> RunOutcome:
        at = self.fired_at()
        day = run_day(at, start.time_zone)
        request = RunRequest(
            schedule=start.schedule,
            run=workflow.info().workflow_id,
            kind=start.kind,
            params=resolve(start.kind, start.params, at, day),
            created_by=start.created_by,
            day=day,
        )
        try:
            outcome: RunOutcome = await workflow.execute_activity_method(ScheduleActivities.start_run, request, **START)
            return outcome
        except ActivityError as err:
            cause = err.cause
            if not (isinstance(cause, ApplicationError) and cause.type == RUN_REFUSED):
                raise
            refused = RunRefused(
                schedule=start.schedule,
                run=request.run,
                kind=start.kind,
                created_by=start.created_by,
                day=day,
                reason=cause.message,
            )
        await workflow.execute_activity_method(ScheduleActivities.tell_run_refused, refused, **INTEGRATION)
        raise ApplicationError(f"{start.kind} of {day} not started: {refused.reason}", type=RUN_REFUSED)

    @staticmethod
    def fired_at() -> datetime:
        """The moment the schedule fired this run; `workflow.now()` for a run started by hand (tests)."""
        fired = workflow.info().typed_search_attributes.get(FIRED_AT)
        return fired if fired is not None else workflow.now()
