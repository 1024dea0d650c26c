"""What the suite breaks: the worker killed mid-activity (every activity kind of every kind), and outages.

A `Scenario` is one process of one kind with one `Hold` armed on the request
of one activity, before or after the server carries it out (an email's RCPT
or its unconfirmed DATA, a Slack post, a Jira create, transition, edit or
comment, an audit write blocked by a table lock, a schedule's run blocked on
one; `tests.faults.holds`). Most drive their kind's process as people
would, some another way (`WAYS`: a launch edited, a schedule's runs).
`run_kills` runs scenarios side by side with a killer beside them: whenever
held requests have arrived, it kills the worker with SIGKILL, releases them
(their answers go to a dead socket), and starts a new worker. The drivers go
on playing their people meanwhile.

The outages (`temporal_restart`, `smtp_down`, `jira_throttled`) run a process
of each kind through one failure of a whole service, no hold armed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.faults import processes, scheduled
from tests.faults.holds import (
    approval,
    audit_write,
    channel,
    chat_request,
    dm,
    jira_comment,
    jira_create,
    jira_edit,
    jira_move,
    jira_search,
    slack,
    smtp_data,
    smtp_rcpt,
    table_locked,
)
from tests.faults.processes import KINDS, Cast, Process, view_of, where
from tests.faults.rig import Rig
from tests.faults.servers import Hold

SCENARIO_TIMEOUT = 600.0
"""Seconds one scenario's process may take to its end (the full run); `run_kills` may be given less in all."""


@dataclass
class Scenario:
    """One process of `kind`, its worker killed while `activity`'s request is held (`how`)."""

    kind: str
    activity: str
    how: str
    arm: Callable[[Process], Hold]
    """The hold, for the process about to start."""
    driver: str | None = None
    """How its process is driven, when not as its kind's (`WAYS`): a launch edited, a schedule's runs."""
    process: Process | None = None
    hold: Hold | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return f"{self.kind} · {self.activity} ({self.how})"

    @property
    def way(self) -> tuple[Callable[[Cast], tuple[Process, Any]], Callable[[Rig, Process, Any], Any]]:
        """(its process and input for a cast, its driver)."""
        return WAYS[self.driver or self.kind]


WAYS = {**KINDS, **processes.DRIVERS, **scheduled.DRIVERS}
"""Every way a scenario's process is made and driven, by name: each kind's, and the others."""


@dataclass
class Outage:
    """A whole service down for a while, with one process of each kind in flight."""

    name: str
    processes: list[Process] = field(default_factory=list)
    seconds: float = 0.0
    """How long it was down (or throttled)."""
    answered: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def every_kill() -> list[Scenario]:
    """Every activity kind the worker serves, in every kind it occurs in, killed mid-request (the full run)."""
    s = Scenario
    return [
        # launch
        s("launch", "create_issue", "epic created, answer lost", jira_create(lambda p: f"{p.id}:epic", "after")),
        s("launch", "create_issue", "item, before Jira has it", jira_create(lambda p: f"{p.id}:item:b", "before")),
        s("launch", "transition_issue", "last move made, answer lost",
          jira_move(lambda p: f"{p.id}:item:a", "after", "In Progress")),
        s("launch", "transition_issue", "epic, first move held",
          jira_move(lambda p: f"{p.id}:epic", "before", "To Do")),
        s("launch", "send_email", "kickoff: DATA taken, no 250",
          smtp_data(lambda p: f"{p.id}:email:kickoff:{p.cast.email('docs')}")),
        s("launch", "send_email", "announcement: before DATA", smtp_rcpt(lambda p: p.cast.email("all"))),
        s("launch", "send_approval_request", "DATA taken, no 250", smtp_data(lambda p: approval(p, "vp"))),
        s("launch", "post_message", "kickoff: posted, answer lost",
          slack("chat.postMessage", "after", lambda p: f"{p.id}:chat:kickoff", channel)),
        s("launch", "post_message", "announcement: before posting",
          slack("chat.postMessage", "before", lambda p: f"{p.id}:chat:announcement", channel)),
        s("launch", "post_approval_request", "posted, answer lost",
          slack("chat.postMessage", "after", chat_request("vp"), dm("vp"))),
        s("launch", "update_message", "edited, answer lost",
          slack("chat.update", "after", chat_request("vp"), chat_request("vp"))),
        s("launch", "record_events", "write blocked by a table lock", audit_write()),
        # comms
        s("comms", "send_approval_request", "before DATA", smtp_rcpt(lambda p: p.cast.email("vp"))),
        s("comms", "post_approval_request", "before posting",
          slack("chat.postMessage", "before", chat_request("legal"), dm("legal"))),
        s("comms", "update_message", "before the edit",
          slack("chat.update", "before", chat_request("legal"), chat_request("legal"))),
        s("comms", "send_batch", "2nd recipient: DATA taken, no 250",
          smtp_data(lambda p: f"{p.id}:send:", lambda p: f"c2.{p.cast.tag}@customer.example")),
        s("comms", "send_batch", "2nd batch: before DATA", smtp_rcpt(lambda p: f"c3.{p.cast.tag}@customer.example")),
        s("comms", "post_message", "posted, answer lost",
          slack("chat.postMessage", "after", lambda p: f"{p.id}:chat:message:", channel)),
        s("comms", "send_email", "DATA taken, no 250", smtp_data(lambda p: f"{p.id}:email:sent")),
        s("comms", "record_events", "write blocked by a table lock", audit_write()),
        # postmortem
        s("postmortem", "create_issue", "created, answer lost", jira_create(lambda p: f"{p.id}:postmortem", "after")),
        s("postmortem", "create_issue", "action item, before Jira has it",
          jira_create(lambda p: f"{p.id}:action-1", "before")),
        s("postmortem", "transition_issue", "last move made, answer lost",
          jira_move(lambda p: f"{p.id}:action-1", "after", "In Progress")),
        s("postmortem", "transition_issue", "first move held",
          jira_move(lambda p: f"{p.id}:postmortem", "before", "To Do")),
        s("postmortem", "send_email", "kickoff: DATA taken, no 250", smtp_data(lambda p: f"{p.id}:email:kickoff")),
        s("postmortem", "send_approval_request", "DATA taken, no 250", smtp_data(lambda p: approval(p, "vp"))),
        s("postmortem", "post_message", "summary: before posting",
          slack("chat.postMessage", "before", lambda p: f"{p.id}:chat:summary", channel)),
        s("postmortem", "post_approval_request", "posted, answer lost",
          slack("chat.postMessage", "after", chat_request("vp"), dm("vp"))),
        s("postmortem", "update_message", "edited, answer lost",
          slack("chat.update", "after", chat_request("vp"), chat_request("vp"))),
        s("postmortem", "record_events", "write blocked by a table lock", audit_write()),
        # eol (and its notice, a comms child)
        s("eol", "create_issue", "epic created, answer lost", jira_create(lambda p: f"{p.id}:epic", "after")),
        s("eol", "create_issue", "shutdown task, before Jira has it",
          jira_create(lambda p: f"{p.id}:task:turn-off", "before")),
        s("eol", "transition_issue", "last move made, answer lost",
          jira_move(lambda p: f"{p.id}:task:export", "after", "In Progress")),
        s("eol", "send_email", "kickoff: DATA taken, no 250",
          smtp_data(lambda p: f"{p.id}:email:kickoff:{p.cast.email('eng')}")),
        s("eol", "send_approval_request", "DATA taken, no 250", smtp_data(lambda p: approval(p, "vp"))),
        s("eol", "post_message", "kickoff: posted, answer lost",
          slack("chat.postMessage", "after", lambda p: f"{p.id}:chat:kickoff", channel)),
        s("eol", "post_approval_request", "posted, answer lost",
          slack("chat.postMessage", "after", chat_request("vp"), dm("vp"))),
        s("eol", "update_message", "edited, answer lost",
          slack("chat.update", "after", chat_request("vp"), chat_request("vp"))),
        s("eol", "record_events", "write blocked by a table lock", audit_write()),
        s("eol", "send_batch", "notice: DATA taken, no 250",
          smtp_data(lambda p: "comms-", lambda p: f"c1.{p.cast.tag}@customer.example")),
        s("eol", "send_approval_request", "notice review: before DATA", smtp_rcpt(lambda p: p.cast.email("legal"))),
        # a launch edited: an item reassigned, its issue following (update_issue: the edit, then a comment)
        s("launch", "update_issue", "item reassigned: edit made, answer lost",
          jira_edit(lambda p: f"{p.id}:item:a", "after"), driver="launch-edited"),
        s("launch", "update_issue", "item reassigned: comment, before Jira has it",
          jira_comment(lambda p: f"{p.id}:item:a", "before"), driver="launch-edited"),
        # a launch reconciled with Jira: an item closed on the board, found done by the minute's poll
        s("launch", "issue_statuses", "the poll held, before Jira answers",
          jira_search(lambda p: f"{p.id}:item:a", "before"), driver="launch-reconciled"),
        s("launch", "issue_statuses", "the poll answered, answer lost",
          jira_search(lambda p: f"{p.id}:item:a", "after"), driver="launch-reconciled"),
        # a schedule's runs (a customer message each period; a run that must be refused)
        s("schedule", "start_scheduled_run", "before the start: its creator's check blocked",
          table_locked("people", "people table locked"), driver="scheduled"),
        s("schedule", "start_scheduled_run", "process started, the run's record blocked",
          table_locked("audit", "audit table locked"), driver="scheduled"),
        s("schedule", "tell_run_refused", "refusal: DATA taken, no 250",
          smtp_data(lambda p: f"scheduled-{p.schedule}-"), driver="refused"),
    ]  # fmt: skip


NOT_HELD = {
    "record_event": "one audit event per activity: only processes started before the audit-in-batches patch "
    "write that way (every new one writes `record_events`)",
}
"""Activities the worker serves that no scenario holds, and why (`test_coverage` holds the rest to a scenario)."""


def a_few_kills() -> list[Scenario]:
    """The short run's five, one or more of every kind: an email after its DATA, a Slack post, a Jira create,
    an audit write, a customer notice's batch after its DATA."""
    wanted = {
        ("launch", "send_email", "kickoff: DATA taken, no 250"),
        ("comms", "post_message", "posted, answer lost"),
        ("postmortem", "create_issue", "created, answer lost"),
        ("launch", "record_events", "write blocked by a table lock"),
        ("eol", "send_batch", "notice: DATA taken, no 250"),
    }
    return [s for s in every_kill() if (s.kind, s.activity, s.how) in wanted]


# ---- running them ----------------------------------------------------------------------


class Tags:
    """Short, unique process tags: ``l01``, ``c02`` …"""

    def __init__(self) -> None:
        self.count = 0

    def next(self, kind: str) -> str:
        self.count += 1
        return f"{kind[0]}{self.count:02d}"


async def run_process(rig: Rig, kind: str, tag: str, into: list[Process]) -> None:
    """Start a process of `kind` and drive it to its end; it joins `into` first, so a failure is counted too."""
    cast = Cast(tag)
    cast.join(rig)
    make, drive = WAYS[kind]
    process, arg = make(cast)
    into.append(process)
    await asyncio.wait_for(drive(rig, process, arg), SCENARIO_TIMEOUT)


async def run_kills(
    rig: Rig, scenarios: list[Scenario], tags: Tags, side_by_side: int = 4, within: float | None = None
) -> None:
    """Run `scenarios`, `side_by_side` processes at a time, a killer taking down the worker whenever held
    requests arrive; a scenario not ended `within` seconds of the start (or `SCENARIO_TIMEOUT` of its own)
    fails with where its process stands, so a stall is a failure that says where, not a test killed by its
    timeout."""
    deadline = time.monotonic() + (within if within is not None else float("inf"))
    audit = asyncio.Lock()  # one table lock at a time
    room = asyncio.Semaphore(side_by_side)
    done = asyncio.Event()
    killer = asyncio.create_task(_killer(rig, done))

    async def one(scenario: Scenario) -> None:
        async with room:
            cast = Cast(tags.next(scenario.kind))
            cast.join(rig)
            make, drive = scenario.way
            process, arg = make(cast)
            scenario.process = process
            hold = scenario.hold = scenario.arm(process)
            rig.board.arm(hold)
            lock_task = None
            if process.schedule and hold.server in rig.locks:
                process.paused = True
                lock_task = asyncio.create_task(_lock_for_run(rig, process, hold, audit))
            elif hold.server == "audit":
                lock_task = asyncio.create_task(_lock_audit(rig, process, hold, audit))
            left = max(min(SCENARIO_TIMEOUT, deadline - time.monotonic()), 0.0)
            waits: list[str] = []
            processes.WAITING.set(waits)  # (the driver's task copies this context: the same list)
            try:
                await asyncio.wait_for(drive(rig, process, arg), left)
            except Exception as err:
                what = str(err) or (
                    f"not ended within {left:.0f} s, waiting for: {'; '.join(waits) or 'nothing'}"
                    if left
                    else "the run's time was up before its turn came"
                )
                scenario.error = f"{type(err).__name__}: {what} [{await where(rig, process.id)}]"
                if lock_task is not None and not lock_task.done():
                    lock_task.cancel()  # it may wait for a kill that never comes: its lock goes with it
                    rig.locks[hold.server].release()
            finally:
                if lock_task is not None:
                    with contextlib.suppress(asyncio.CancelledError):
                        await lock_task
                hold.taken = True  # never triggers after its process ended
                await _retried(hold)

    try:
        await asyncio.gather(*(one(s) for s in scenarios))
    finally:
        done.set()
        await killer


async def _retried(hold: Hold, timeout: float = 15) -> None:
    """Give the retry watch a moment to see the retry of a hold killed just before its process ended."""
    deadline = time.monotonic() + timeout
    while hold.killed_at is not None and hold.retried_at is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def _lock_audit(rig: Rig, process: Process, hold: Hold, one_at_a_time: asyncio.Lock) -> None:
    """Once the process has recorded a few events, lock the audit table until its next write waits on it."""
    async with one_at_a_time:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (await view_of(rig, process.id)).recorded_events >= 2:
                    break
            except Exception:
                pass
            await asyncio.sleep(0.1)
        if await rig.hold_audit(hold):
            while hold.killed_at is None:  # the killer takes it from here
                await asyncio.sleep(0.1)


async def _lock_for_run(rig: Rig, process: Process, hold: Hold, one_at_a_time: asyncio.Lock) -> None:
    """Lock the table of `hold` before the schedule's first run (made paused: unpaused once the lock is in place)
    until the run waits on it: ``people`` at once (its creator's check, before the start); ``audit`` for writes
    only, once the process exists (the run's record, after the start: its reads before the start, whether the
    id was ever used, go through)."""
    name = process.schedule
    assert name is not None
    deadline = time.monotonic() + 60
    while not await scheduled.schedule_exists(rig, name) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    audit = hold.server == "audit"
    async with one_at_a_time:  # (a run blocked on one table would be blocked on the other's too: one at a time)
        started = (lambda: scheduled.exists(rig, process.id)) if audit else None
        unpause = functools.partial(scheduled.unpause, rig, name)
        mode = "SHARE" if audit else "ACCESS EXCLUSIVE"
        if await rig.hold_table(hold, timeout=120, also=started, settle=0.5, then=unpause, mode=mode):
            while hold.killed_at is None:  # the killer takes it from here
                await asyncio.sleep(0.1)
            if not audit:  # the retry: the process started at last
                while not await scheduled.exists(rig, process.id) and time.monotonic() < deadline + 120:
                    await asyncio.sleep(0.1)
                hold.retried_at = time.monotonic()


async def _killer(rig: Rig, done: asyncio.Event, gather: float = 0.3) -> None:
    """Kill the worker whenever held requests wait (gathering those that arrive within `gather` seconds)."""
    while not done.is_set():
        if not rig.board.waiting():
            await asyncio.sleep(0.05)
            continue
        await asyncio.sleep(gather)
        await rig.kill_and_restart(rig.board.waiting())


# ---- outages ----------------------------------------------------------------------------


async def _with_processes(rig: Rig, tags: Tags, kinds: list[str], fault: Callable[[], Any], name: str) -> Outage:
    outage = Outage(name)
    runs = {kind: asyncio.create_task(run_process(rig, kind, tags.next(kind), outage.processes)) for kind in kinds}
    try:
        outage.seconds = await fault()
    finally:
        for kind, task in runs.items():
            try:
                await task
            except Exception as err:
                outage.errors.append(f"{kind}: {type(err).__name__}: {err}")
    return outage


async def temporal_restart(rig: Rig, tags: Tags, down: float = 5.0) -> Outage:
    """The Temporal server stopped mid-process for `down` seconds, started again on its file."""

    async def fault() -> float:
        await asyncio.sleep(1.0)  # the processes are kicking off
        began = time.monotonic()
        await rig.restart_temporal(down)
        return time.monotonic() - began

    return await _with_processes(rig, tags, list(KINDS), fault, f"Temporal server restarted ({down:.0f} s down)")


async def smtp_down(rig: Rig, tags: Tags, down: float = 60.0) -> Outage:
    """The mail server gone for `down` seconds (connection refused), then back on the same port."""

    async def fault() -> float:
        await asyncio.sleep(0.5)
        rig.smtp.stop()
        began = time.monotonic()
        await asyncio.sleep(down)
        rig.smtp.start()
        return time.monotonic() - began

    return await _with_processes(rig, tags, list(KINDS), fault, f"SMTP down for {down:.0f} s")


async def jira_throttled(rig: Rig, tags: Tags, seconds: float = 20.0) -> Outage:
    """Jira answering 502 after doing the work (the kickoffs' creates go through unconfirmed), then 429
    (Retry-After: 3), then 503 (nothing done), `seconds` each."""
    name = f"Jira 502 after the work ({seconds:.0f} s), 429 ({seconds:.0f} s), 503 ({seconds:.0f} s)"
    answered: dict[str, int] = {}

    async def fault() -> float:
        await asyncio.sleep(0.3)
        for status, carry_out, retry_after in ((502, True, None), (429, False, 3), (503, False, None)):
            gone = rig.jira.outage(seconds, status, retry_after=retry_after, carry_out=carry_out)
            await asyncio.sleep(seconds)
            answered[f"{status}{' after the work' if carry_out else ''}"] = gone.answered
        return 3 * seconds

    outage = await _with_processes(rig, tags, ["launch", "postmortem", "eol"], fault, name)
    outage.answered = answered
    return outage
