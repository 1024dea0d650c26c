"""How many schedules there may be, and the count a new one is held to (`ScheduleRoom`).

Temporal's list of schedules lags about a second behind a create: creates sent at once would each count the
others out. So the web process makes one at a time, and a schedule it made counts from its own memory until the
list shows it. Several web processes each count their own burst; the list catches up within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping

from domain.errors import Conflict, Unavailable

MAX_PER_CREATOR = 10
"""How many schedules one person may have. A team's recurring processes are a handful each (a monthly release, a
quarterly review, a weekly status message): ten leaves room for every real one, and stops a script or a slip from
making dozens in seconds, each of which every list and page then pays for."""

MAX_SCHEDULES = 100
"""How many schedules signoff keeps in all. Listing them asks Temporal for each one's current state (its list lags
a second behind a pause or a delete), so the list's cost grows with their number; a hundred is ten people at their
limit, and keeps ``GET /api/schedules`` and the page in tens of milliseconds."""

LISTED_WITHIN = 10.0
"""Seconds a schedule made here counts from this process's memory while Temporal's list does not show it."""

MAKING_WAIT = 5.0
"""Seconds a create waits for the one before it to be counted and made, before it answers 503: a burst, or a
Temporal slow to answer, never holds a person's request for long."""


class ScheduleRoom:
    """The web process's count of schedules: one create at a time, and the ones it made until Temporal lists them."""

    def __init__(self) -> None:
        self._making = asyncio.Lock()
        self._made: dict[str, tuple[str, float]] = {}
        """The schedules made here and not yet listed, by name: their creator and when."""

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """This process's one create at a time (`check`, then make and `made`), waited for `MAKING_WAIT` at most.

        Raises:
            Unavailable: the creates before it took longer.
        """
        try:
            async with asyncio.timeout(MAKING_WAIT):
                await self._making.acquire()
        except TimeoutError:
            raise Unavailable("other schedules are being made; try again in a few seconds", 5) from None
        try:
            yield
        finally:
            self._making.release()

    def made(self, name: str, creator: str) -> None:
        """`creator` made the schedule `name` here: it counts until Temporal lists it."""
        self._made[name] = (creator, time.monotonic())

    def forget(self, name: str) -> None:
        """The schedule `name` is gone (deleted, or undone before it was shown)."""
        self._made.pop(name, None)

    def check(self, listed: Mapping[str, str | None], creator: str) -> None:
        """Refuse a new schedule of `creator`'s past `MAX_PER_CREATOR`, or past `MAX_SCHEDULES` in all, counting
        `listed` (Temporal's list: each schedule's name and creator, None when its memo does not read) and the
        ones made here it does not show yet.

        Raises:
            Conflict: saying which limit, and what to do.
        """
        now = time.monotonic()
        self._made = {name: m for name, m in self._made.items() if name not in listed and now - m[1] < LISTED_WITHIN}
        creators = [*listed.values(), *(made_by for made_by, _ in self._made.values())]
        if len(creators) >= MAX_SCHEDULES:
            raise Conflict(
                f"signoff keeps at most {MAX_SCHEDULES} schedules and has {len(creators)}: delete one that is no "
                "longer needed first"
            )
        mine = creators.count(creator)
        if mine >= MAX_PER_CREATOR:
            raise Conflict(
                f"{creator} has {mine} schedules, the most one person may have ({MAX_PER_CREATOR}): delete or "
                "reuse one first"
            )
