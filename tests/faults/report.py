"""The fault suite's run as a whole: set up, the faults, the count, and the table it prints."""

from __future__ import annotations

import contextlib
import platform
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.faults.count import Tally, seconds, tally
from tests.faults.processes import Process
from tests.faults.rig import Rig, drop_database, new_database
from tests.faults.scenarios import Outage, Scenario, Tags


@dataclass
class Run:
    """One run of the suite: what was broken, and what came of it."""

    rig: Rig
    tags: Tags = field(default_factory=Tags)
    scenarios: list[Scenario] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    began: float = field(default_factory=time.monotonic)
    total: Tally | None = None
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def processes(self) -> list[Process]:
        found = [s.process for s in self.scenarios if s.process is not None]
        return found + [p for o in self.outages for p in o.processes]

    async def count(self) -> Tally:
        """Count every process of the run, then each scenario and outage on its own for the table."""
        self.total = await tally(self.rig, self.processes())
        for scenario in self.scenarios:
            part = await tally(self.rig, [scenario.process]) if scenario.process else Tally()
            hold = scenario.hold
            retry = f"{hold.retry_seconds:.1f} s" if hold and hold.retry_seconds is not None else "–"
            reached = "held, killed" if hold and hold.killed_at else "never reached"
            outcome = scenario.error or (scenario.process.status if scenario.process else "not started")
            self.rows.append((scenario.kind, scenario.activity, scenario.how, reached, outcome, *_numbers(part), retry))
        for outage in self.outages:
            part = await tally(self.rig, outage.processes)
            kinds = ", ".join(p.kind for p in outage.processes)
            outcome = "; ".join(outage.errors) or f"{part.completed}/{part.processes} completed"
            answered = ", ".join(f"{n}× {status}" for status, n in outage.answered.items())
            name = f"{outage.name}: answered {answered}" if answered else outage.name
            self.rows.append((kinds, "(all)", name, "outage", outcome, *_numbers(part), "–"))
        return self.total

    def table(self) -> str:
        """The summary, as Markdown."""
        assert self.total is not None
        total, rig = self.total, self.rig
        retries = [s.hold.retry_seconds for s in self.scenarios if s.hold and s.hold.retry_seconds is not None]
        back = [k.ready_after for k in rig.kills if k.ready_after is not None]
        held = [s for s in self.scenarios if s.hold and s.hold.killed_at]
        lines = [
            "| process | activity | fault | hold | outcome | duplicates | lost | sent again | kill → retry |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *("| " + " | ".join(row) + " |" for row in self.rows),
            "",
            f"- processes: {total.processes}, completed: {total.completed}",
            f"- duplicated side effects: {len(total.duplicates)}; lost: {len(total.lost)}",
            f"- emails sent again under their Message-ID (not duplicates): {total.sent_again} received twice; "
            f"{total.trail_again} `message_sent` events say `again`",
            f"- checked: {total.emails} emails, {total.posts} Slack posts, {total.issues} Jira issues, "
            f"{total.events} audit events; chains that do not verify or fall short: {len(total.problems)}",
            f"- Jira issue edits carried out: {total.updates}, {total.updated_again} of them again (the same fields "
            f"set twice: harmless); schedules' runs: {total.runs}, starting {total.scheduled} processes",
            f"- kill -9 of the worker: {len(rig.kills)} times, {len(held)} with a held request; "
            f"new worker polling after {seconds(back)}",
            f"- kill → the held activity's retry reaching the server: {seconds(retries)}",
            f"- run time: {time.monotonic() - self.began:.0f} s",
        ]
        for what, found in (("duplicate", total.duplicates), ("lost", total.lost), ("problem", total.problems)):
            lines += [f"  - {what}: {line}" for line in found]
        return "\n".join(lines)


def _numbers(part: Tally) -> tuple[str, str, str]:
    return str(len(part.duplicates)), str(len(part.lost) + len(part.problems)), str(part.sent_again)


@contextlib.asynccontextmanager
async def running(folder: Path | None = None) -> AsyncIterator[Run]:
    """A rig on a fresh PostgreSQL database and a fresh Temporal file, torn down (and the database dropped)
    after the block.

    Raises:
        PostgresMissing: no PostgreSQL to make the database on.
    """
    url = new_database()
    with contextlib.ExitStack() as stack:
        where = folder or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="signoff-faults-")))
        where.mkdir(parents=True, exist_ok=True)
        rig = Rig(where, url)
        try:
            await rig.start()
            yield Run(rig)
        finally:
            await rig.stop()
            drop_database(url)


def heading(title: str) -> str:
    """The run's when and where, for the results' file."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
    on = f"{commit}{' with uncommitted changes' if dirty else ''}" if commit else "unknown commit"
    return (
        f"## {title}\n\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {on}, {platform.node()} "
        f"({platform.python_version()})\n"
    )
