"""The web process's count of schedules: one create at a time, and what it made counted until Temporal lists it."""

from __future__ import annotations

import asyncio

import pytest

from api import schedule_room
from api.schedule_room import MAX_PER_CREATOR, ScheduleRoom
from domain.errors import Conflict, Unavailable

ANA = "ana@example.com"


def test_a_schedule_made_here_counts_until_the_list_shows_it_or_it_is_forgotten() -> None:
    room = ScheduleRoom()
    listed = {f"s{n}": ANA for n in range(MAX_PER_CREATOR - 1)}
    room.check(listed, ANA)
    room.made("new", ANA)

    with pytest.raises(Conflict, match=f"{ANA} has {MAX_PER_CREATOR} schedules"):
        room.check(listed, ANA)  # the list lags: "new" is not in it yet
    with pytest.raises(Conflict):
        room.check(listed | {"new": ANA}, ANA)  # listed now: counted once, not twice
    room.check(listed | {"new": "bob@example.com"}, ANA)  # (another's schedule of that name: not hers)
    room.made("again", ANA)
    room.forget("again")
    room.check(listed, ANA)


def test_a_schedule_made_here_stops_counting_once_the_list_should_have_caught_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = ScheduleRoom()
    listed = {f"s{n}": ANA for n in range(MAX_PER_CREATOR - 1)}
    room.made("deleted-elsewhere", ANA)
    monkeypatch.setattr(schedule_room, "LISTED_WITHIN", 0.0)

    room.check(listed, ANA)


async def test_a_create_waits_its_turn_at_most_a_few_seconds_then_answers_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(schedule_room, "MAKING_WAIT", 0.1)
    room = ScheduleRoom()
    async with room.turn():
        with pytest.raises(Unavailable, match="other schedules are being made") as refused:
            async with room.turn():
                pass
    assert refused.value.retry_after == 5
    async with asyncio.timeout(1), room.turn():  # free again once the first is done
        pass
