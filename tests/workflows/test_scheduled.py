"""A schedule's run (`workflows.scheduled`) on the time-skipping server: it starts a normal process with its
dates resolved from the run's day, starts it once however often the run is made, and a refusal is final, kept in
the schedule's trail and told to its creator.

The schedule itself (Temporal's) needs the dev server: tests/integration/test_schedules.py. Here the starter is
run as a schedule runs it, by hand, at the pinned start clock (tests/clock.py: a minute before midnight UTC).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from activities.schedules import ScheduleActivities
from api.auth import Authenticator
from api.schedules import ScheduledStarts
from api.service import Processes
from api.tokens import ApprovalLinks, ApprovalTokens
from config.templates import load_template
from domain.access import Role
from domain.ids import process_id
from domain.schedules import RUN_REFUSED, RunOutcome, ScheduledStart, trail_of
from integrations.messages import TemplateRenderer
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from integrations.people import People
from integrations.store import Store
from tests.clock import start_test
from tests.conftest import PUBLIC_URL, SECRET
from workers.temporal import activity_methods, build_worker
from workflows.scheduled import ScheduledStartWorkflow

CREATOR = "pm@example.com"


@dataclass
class Runs:
    """A worker that runs processes and the starts of schedules' runs, on its own task queue."""

    env: WorkflowEnvironment
    store: Store
    task_queue: str
    role_of: Callable[[str], Role | None] = field(default=lambda email: Role.MEMBER if email == CREATOR else None)
    """Who may start processes now (the worker's: `api.auth.Authenticator.role_of`); a test changes it."""

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()

    async def run(self, start: ScheduledStart, run_id: str | None = None) -> RunOutcome:
        """One run of the schedule `start` names, as the schedule would start it."""
        outcome: RunOutcome = await self.env.client.execute_workflow(
            ScheduledStartWorkflow.run,
            start,
            id=run_id or f"scheduled-{start.schedule}-{uuid.uuid4().hex[:8]}",
            task_queue=self.task_queue,
        )
        return outcome


@pytest.fixture
async def runs(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Runs]:
    store = Store.connect(f"sqlite:///{tmp_path / 'signoff.db'}")
    links, renderer = ApprovalLinks(ApprovalTokens(SECRET), PUBLIC_URL), TemplateRenderer()
    mailer = OutboxMailer(store)
    task_queue = f"tq-{uuid.uuid4()}"
    runs = Runs(env, store, task_queue)
    starts = ScheduledStarts(Processes(env.client, task_queue, load_template), store, lambda email: runs.role_of(email))
    scheduled = ScheduleActivities(starts, store, mailer, renderer, f"{PUBLIC_URL}/schedules")
    activities = activity_methods(
        TrackerActivities(OutboxTracker(store, PUBLIC_URL)),
        MailActivities(mailer, renderer, links),
        ChatActivities(OutboxChat(store), renderer, links),
        AuditActivities(store),
    )
    async with build_worker(env.client, task_queue, [*activities, scheduled.start_run, scheduled.tell_run_refused]):
        await start_test(env)
        yield runs


def monthly(product: str, **params: Any) -> ScheduledStart:
    """A monthly release: launched two weeks after each run."""
    given: dict[str, Any] = {
        "product": product,
        "launch_date": "+14d",
        "owner": CREATOR,
        "approvers": ["vp@example.com"],
        "owners": {"docs": "docs@example.com"},
    }
    return ScheduledStart(
        schedule=process_id("", product).strip("-"), kind="launch", params=given | params, created_by=CREATOR
    )


async def test_a_run_starts_a_normal_process_dated_by_the_run(runs: Runs) -> None:
    today = await runs.today()
    start = monthly(f"Release {uuid.uuid4().hex[:6]}")

    outcome = await runs.run(start)

    launch_date = today + timedelta(days=14)
    assert outcome == RunOutcome(process_id=process_id("launch", start.params["product"], launch_date), started=True)
    view = await runs.env.client.get_workflow_handle(outcome.process_id).query("view")
    assert view["params"]["launch_date"] == launch_date.isoformat()
    assert view["owner"] == CREATOR
    [event] = runs.store.trail(trail_of(start.schedule))
    assert (event.action, event.details["process"], event.details["day"]) == (
        "run_started",
        outcome.process_id,
        today.isoformat(),
    )
    assert event.actor == f"{CREATOR} (schedule {start.schedule})"


async def test_the_same_days_run_twice_starts_one_process(runs: Runs) -> None:
    start = monthly(f"Release {uuid.uuid4().hex[:6]}")

    first = await runs.run(start)
    again = await runs.run(start)  # another run the same day: a trigger beside the schedule's own time

    assert (first.started, again.started) == (True, False)
    assert again.process_id == first.process_id
    actions = [e.action for e in runs.store.trail(trail_of(start.schedule))]
    assert actions == ["run_started", "run_found_started"]


async def test_each_run_day_is_the_schedules_time_zones(runs: Runs) -> None:
    """At 23:59 UTC it is already tomorrow on Kiritimati (UTC+14): the run's dates count from there."""
    start = monthly(f"Release {uuid.uuid4().hex[:6]}").model_copy(update={"time_zone": "Pacific/Kiritimati"})
    there = (await runs.env.get_current_time() + timedelta(hours=14)).date()  # (no summer time there)

    outcome = await runs.run(start)

    assert outcome.process_id.endswith((there + timedelta(days=14)).isoformat())


async def test_an_end_of_life_moves_its_four_dates(runs: Runs) -> None:
    today = await runs.today()
    product = f"Legacy {uuid.uuid4().hex[:6]}"
    start = ScheduledStart(
        schedule="yearly-sunset",
        kind="eol",
        params={
            "product": product,
            "announce_date": "+10d",
            "end_of_sale": "+40d",
            "end_of_support": "+100d",
            "shutdown_date": "+200d",
            "customers": ["ana@customer.example"],
            "migration_guide": "https://docs.example.com/migrate",
            "approvers": ["vp@example.com"],
            "owner": CREATOR,
        },
        created_by=CREATOR,
    )

    outcome = await runs.run(start)

    assert outcome.process_id == process_id("eol", product, (today + timedelta(days=200)).isoformat())
    view = await runs.env.client.get_workflow_handle(outcome.process_id).query("view")
    assert [view["params"][k] for k in ("announce_date", "end_of_sale", "end_of_support")] == [
        (today + timedelta(days=days)).isoformat() for days in (10, 40, 100)
    ]


async def test_a_refused_run_is_final_in_the_trail_and_told_to_its_creator(runs: Runs) -> None:
    """The template the schedule names was deleted since it was made: nothing starts, no retry, one email."""
    start = monthly(f"Release {uuid.uuid4().hex[:6]}", template="deleted-since")
    run_id = f"scheduled-{start.schedule}-1"

    with pytest.raises(WorkflowFailureError) as failed:
        await runs.run(start, run_id)

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == RUN_REFUSED
    assert "deleted-since" in cause.message
    [event] = runs.store.trail(trail_of(start.schedule))
    assert event.action == "run_refused" and event.status == "refused"
    assert "deleted-since" in event.details["reason"]
    [email] = runs.store.outbox(trail_of(start.schedule))
    assert email.to == [CREATOR]
    assert f"Schedule {start.schedule}: the launch of" in email.subject
    assert f"{PUBLIC_URL}/schedules" in email.body
    history = await runs.env.client.get_workflow_handle(run_id).fetch_history()
    started = [e.activity_task_started_event_attributes for e in history.events]
    assert [a.attempt for a in started if a.attempt] == [1, 1], "the start and the email, each tried once"


async def test_a_removed_creators_run_is_refused_in_the_trail_and_told(runs: Runs) -> None:
    """Its creator left signoff since the schedule was made: nothing starts in their name, no retry, one email."""
    start = monthly(f"Release {uuid.uuid4().hex[:6]}")
    run_id = f"scheduled-{start.schedule}-gone"
    runs.role_of = lambda email: None

    with pytest.raises(WorkflowFailureError) as failed:
        await runs.run(start, run_id)

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == RUN_REFUSED
    sentence = f"{CREATOR} no longer has access to signoff and may not start processes"
    assert sentence in cause.message
    [event] = runs.store.trail(trail_of(start.schedule))
    assert event.action == "run_refused" and event.details["reason"].startswith(sentence)
    assert "it is paused" in event.details["reason"]
    [email] = runs.store.outbox(trail_of(start.schedule))
    assert email.to == [CREATOR]
    would_be = process_id("launch", start.params["product"], await runs.today() + timedelta(days=14))
    with pytest.raises(RPCError):
        await runs.env.client.get_workflow_handle(would_be).describe()


async def test_dev_modes_local_admin_runs_its_schedules_with_nobody_listed(runs: Runs) -> None:
    local = "admin@localhost"
    runs.role_of = Authenticator(People(runs.store.engine), dev_user=local).role_of  # (no one in the people table)
    start = monthly(f"Release {uuid.uuid4().hex[:6]}").model_copy(update={"created_by": local})

    outcome = await runs.run(start)

    assert outcome.started
    assert Authenticator(People(runs.store.engine), default_role=None).role_of(local) is None, "else, nobody"
