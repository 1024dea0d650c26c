"""The fault suite's short run, part of the README's test command (docs/reliability.md).

Production's shape on one machine (the Temporal dev server, ``signoff worker``
as a child process, PostgreSQL, a real SMTP server, the fake Slack and Jira),
five processes of the four kinds, and the worker killed with SIGKILL while one
request of each is in flight: an email whose DATA the server took without
saying 250 (a launch's kickoff, a customer notice's batch), a Slack post made
without its answer, a Jira issue created without its answer, an audit write
blocked by a table lock. Every process completes; nothing is
duplicated or lost; every audit chain verifies. The full run, every activity
kind of every process kind and three outages, is ``./scripts/faults``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.report import running
from tests.faults.rig import PostgresMissing
from tests.faults.scenarios import a_few_kills, run_kills

RETRY_WITHIN = 30.0
"""Seconds from the kill to the retry reaching the server, at most (measured: 4–7 s; 15 s where the Slack
adapter waits for an unconfirmed post to settle). Loose: the machine is shared."""

pytestmark = pytest.mark.timeout(280)

WITHIN = 160.0
"""Seconds the five processes may take in all (the whole test took 39 s alone and 49–57 s beside four busy loops,
2026-12-03): a stall fails the test saying where each process stands, before the test's timeout ends its whole
test process unheard."""
COUNT_WITHIN = 60.0
"""Seconds the count may take (it waits for every process a process started to end)."""


async def test_a_worker_killed_mid_activity_duplicates_and_loses_nothing(tmp_path: Path) -> None:
    try:
        async with running(tmp_path / "rig") as run:
            run.scenarios = a_few_kills()
            await run_kills(run.rig, run.scenarios, run.tags, within=WITHIN)
            try:
                total = await asyncio.wait_for(run.count(), COUNT_WITHIN)
            except TimeoutError:
                pytest.fail(f"the count took over {COUNT_WITHIN:.0f} s; scenarios: {[s.error for s in run.scenarios]}")
            table = run.table()
    except PostgresMissing as err:
        pytest.skip(f"the fault suite runs on PostgreSQL: {err}; set SIGNOFF_TEST_POSTGRES_URL")
    print(table)  # pytest -s shows it
    assert [s.name for s in run.scenarios if s.error] == [], table
    assert [s.name for s in run.scenarios if not (s.hold and s.hold.killed_at)] == [], "every request held, killed"
    assert total.clean, table
    assert total.processes == total.completed == len(run.scenarios) == 5, table
    retries = {s.name: s.hold.retry_seconds for s in run.scenarios if s.hold}
    assert all(r is not None and r <= RETRY_WITHIN for r in retries.values()), retries
