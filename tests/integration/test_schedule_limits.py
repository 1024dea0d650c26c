"""Schedules on a real Temporal dev server: a yearly one is made and runs a year on, a cron Temporal refuses comes
back in signoff's words, and one person (and signoff in all) may keep only so many."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import Client, ScheduleHandle
from temporalio.service import RPCError, RPCStatusCode

from api import schedule_room as room
from api.schedule_room import MAX_PER_CREATOR
from api.schedules import CHECKING
from tests.api.helpers import eventually
from tests.integration.test_schedules import CREATOR, World, api, release, today, world

__all__ = ["api", "today", "world"]  # the fixtures of tests/integration/test_schedules.py, this module's own

BUSY = "busy@example.com"


async def test_a_yearly_schedule_is_made_and_runs_a_year_on(api: httpx.AsyncClient, world: World) -> None:
    before = datetime.now(UTC)
    answer = await api.post(
        "/api/schedules",
        json={"kind": "launch", "every": "1y", "params": release(launch_date="+30d")},
        headers=world.who(CREATOR),
    )

    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made["when"] == "every year" and made["paused"] is False
    first = datetime.fromisoformat(made["next_runs"][0])
    a_year_on = before.replace(year=before.year + 1, day=min(before.day, 28), second=0, microsecond=0)
    assert abs(first - a_year_on) < timedelta(minutes=2), first  # (a minute may turn between the call and its answer)


async def test_a_cron_temporal_refuses_is_422_in_our_words(api: httpx.AsyncClient, world: World) -> None:
    answer = await api.post(
        "/api/schedules",
        json={"kind": "launch", "cron": "every morning", "params": release()},
        headers=world.who(CREATOR),
    )

    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["cron"]
    assert error["msg"] == (
        "'every morning' is not a cron Temporal can run: five fields, minute hour day-of-month month day-of-week, "
        "such as 0 9 1 * * (09:00 on the 1st of each month)"
    )


async def make_as(api: httpx.AsyncClient, world: World, who: str) -> httpx.Response:
    body: dict[str, Any] = {"kind": "launch", "every": "7d", "params": release(product=f"Busy {uuid.uuid4().hex[:6]}")}
    return await api.post("/api/schedules", json=body, headers=world.who(who))


async def test_one_person_keeps_only_so_many_schedules_and_signoff_only_so_many_in_all(
    api: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(MAX_PER_CREATOR):
        made = await make_as(api, world, BUSY)
        assert made.status_code == 201, made.text

    async def all_listed() -> list[dict[str, Any]] | None:  # Temporal's list lags a second behind a create
        listed = (await api.get("/api/schedules", headers=world.who(CREATOR))).json()
        theirs = [s for s in listed if s["created_by"] == BUSY]
        return theirs if len(theirs) == MAX_PER_CREATOR else None

    theirs = await eventually(all_listed, "every schedule listed", 30)
    one_more = await make_as(api, world, BUSY)
    someone_else = await make_as(api, world, "calm@example.com")
    monkeypatch.setattr(room, "MAX_SCHEDULES", len(theirs))
    full = await make_as(api, world, "late@example.com")

    assert one_more.status_code == 409, one_more.text
    assert one_more.json()["detail"] == (
        f"{BUSY} has {MAX_PER_CREATOR} schedules, the most one person may have ({MAX_PER_CREATOR}): delete or reuse "
        "one first"
    )
    assert someone_else.status_code == 201, "the limit is each person's"
    assert full.status_code == 409 and full.json()["detail"].startswith(
        f"signoff keeps at most {len(theirs)} schedules and has "
    )
    assert all(s["next_runs"] for s in theirs), "the list shows each one whole"


async def test_a_burst_of_creates_by_one_person_keeps_to_their_limit(api: httpx.AsyncClient, world: World) -> None:
    """Temporal's list lags a second behind a create: creates sent at once each counted the others out, and a burst
    made more than the limit."""
    answers = await asyncio.gather(*(make_as(api, world, "burst@example.com") for _ in range(MAX_PER_CREATOR + 3)))

    assert sorted(answer.status_code for answer in answers) == [201] * MAX_PER_CREATOR + [409] * 3


async def test_a_create_whose_answer_was_lost_is_made_once_and_its_retry_finds_it(
    api: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Temporal made the schedule but its answer never came, and Temporal was still not answering when the service
    looked: the caller hears 503, the schedule stays paused being checked; their retry takes it up, not 409."""
    real_create, real_describe = Client.create_schedule, ScheduleHandle.describe
    lost = RPCError("deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")

    async def made_but_lost(self: Client, *args: Any, **kwargs: Any) -> ScheduleHandle:
        await real_create(self, *args, **kwargs)
        raise lost

    async def not_answering(self: ScheduleHandle, *args: Any, **kwargs: Any) -> Any:
        raise lost

    name = f"lost-{uuid.uuid4().hex[:6]}"
    body: dict[str, Any] = {"kind": "launch", "every": "7d", "params": release(), "name": name}
    monkeypatch.setattr(Client, "create_schedule", made_but_lost)
    monkeypatch.setattr(ScheduleHandle, "describe", not_answering)
    first = await api.post("/api/schedules", json=body, headers=world.who(CREATOR))
    monkeypatch.setattr(ScheduleHandle, "describe", real_describe)
    left = await world.client.get_schedule_handle(name).describe()
    again = await api.post("/api/schedules", json=body, headers=world.who(CREATOR))
    monkeypatch.setattr(Client, "create_schedule", real_create)
    once_more = await api.post("/api/schedules", json=body, headers=world.who(CREATOR))
    trail = (await api.get(f"/api/schedules/{name}", headers=world.who(CREATOR))).json()["trail"]

    assert first.status_code == 503, first.text
    assert left.schedule.state.paused and left.schedule.state.note == CHECKING
    assert again.status_code == 201, again.text
    assert again.json()["name"] == name and again.json()["paused"] is False
    assert not (await world.client.get_schedule_handle(name).describe()).schedule.state.paused
    assert once_more.status_code == 409, "made and checked: the name is in use"
    assert [e["action"] for e in trail] == ["schedule_created"]
