"""Every test on the time-skipping server starts at the configured start clock (tests/clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.clock import configured
from tests.conftest import Stack


async def test_a_test_starts_at_the_start_clock_never_on_the_real_date(stack: Stack) -> None:
    clock = configured()
    now = await stack.env.get_current_time()

    start = datetime.combine(now.date(), clock.at, tzinfo=UTC)
    assert start <= now < start + timedelta(minutes=1), f"started at {now:%Y-%m-%d %H:%M:%S}, not at {clock}"
    assert not clock.month_end or (now + timedelta(days=1)).day == 1, f"{now:%Y-%m-%d} is not a month's last day"
    assert now.date() != datetime.now(UTC).date(), "the server's date is the real date"


async def test_the_next_test_starts_at_the_start_clock_again(stack: Stack) -> None:
    await test_a_test_starts_at_the_start_clock_never_on_the_real_date(stack)
