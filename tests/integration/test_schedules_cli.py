"""`signoff schedule …` run as a user runs it, against a real `signoff dev`: make a monthly release, see it
listed, see a run start its process, pause, unpause and delete it; and bad input as one sentence, exit 2."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.ids import process_id
from tests.integration.devstack import DevStack, eventually
from tests.integration.test_cli import ok, refused, signoff

PARAMS = [
    "--param=product=Cli Monthly",
    "--param=launch_date=+14d",
    "--param=owner=pm@example.com",
    "--param=approvers=vp@example.com",
    "--param=template=midnight-launch",
]


def trigger(stack: DevStack, name: str) -> None:
    """What the schedule does at its time, now (through Temporal: the CLI has no trigger)."""

    async def now() -> None:
        client = await Client.connect(f"127.0.0.1:{stack.temporal_port}", data_converter=pydantic_data_converter)
        await client.get_schedule_handle(name).trigger()

    asyncio.run(now())


def test_a_monthly_release_from_the_command_line(dev_stack: DevStack) -> None:
    today = datetime.now(UTC).date()
    expected = process_id("launch", "Cli Monthly", (today + timedelta(days=14)).isoformat())

    made = ok(signoff(dev_stack, "schedule", "create", "launch", "--every", "1mo", *PARAMS, "--name", "cli-monthly"))
    listed = ok(signoff(dev_stack, "schedule", "list"))
    trigger(dev_stack, "cli-monthly")
    eventually(lambda: dev_stack.get("/api/schedules/cli-monthly")["last"]["action"] == "run_started", what="a run")
    after_run = ok(signoff(dev_stack, "schedule", "list"))
    paused = ok(signoff(dev_stack, "schedule", "pause", "cli-monthly", "--reason", "release freeze"))
    listed_paused = ok(signoff(dev_stack, "schedule", "list"))
    unpaused = ok(signoff(dev_stack, "schedule", "unpause", "cli-monthly"))
    deleted = ok(signoff(dev_stack, "schedule", "delete", "cli-monthly"))
    again = refused(signoff(dev_stack, "schedule", "delete", "cli-monthly"))

    assert made.startswith("scheduled cli-monthly: launch every month, first on ")
    first = date.fromisoformat(made.split("first on ")[1][:10])
    assert made.strip().endswith(f"UTC, starting launch-cli-monthly-{first + timedelta(days=14)}")
    assert "cli-monthly" in listed and "every month" in listed and "active" in listed
    assert f"last run {today.isoformat()}: {expected}" in after_run
    assert dev_stack.get(f"/api/processes/{expected}")["params"]["launch_date"] == expected[-10:]
    assert paused.strip() == "cli-monthly is paused"
    assert "paused (release freeze)" in listed_paused
    assert unpaused.startswith("cli-monthly runs again, next on ")
    assert deleted.strip() == "cli-monthly is deleted"
    assert "no schedule named cli-monthly" in again


def test_bad_input_is_one_sentence_naming_the_field(dev_stack: DevStack) -> None:
    today = datetime.now(UTC).date()
    fixed = [p for p in PARAMS if "launch_date" not in p] + [f"--param=launch_date={today + timedelta(days=90)}"]

    fixed_date = refused(signoff(dev_stack, "schedule", "create", "launch", "--every", "1mo", *fixed))
    no_when = refused(signoff(dev_stack, "schedule", "create", "launch", *PARAMS))
    bad_every = refused(signoff(dev_stack, "schedule", "create", "launch", "--every", "fortnightly", *PARAMS))
    bad_zone = refused(
        signoff(dev_stack, "schedule", "create", "launch", "--cron", "0 9 1 * *", "--time-zone", "Moon/Base", *PARAMS)
    )

    assert fixed_date.startswith("signoff: params.launch_date: two runs would start the same process")
    assert no_when.startswith("signoff: every: say when it runs")
    assert bad_every.startswith("signoff: every: 'fortnightly' is not a period")
    assert bad_zone.startswith("signoff: time_zone: 'Moon/Base' is not a time zone")
    assert "no schedules" in ok(signoff(dev_stack, "schedule", "list"))
