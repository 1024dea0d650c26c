"""The long-running processes: the worker, the web service, and `signoff dev`.

Each builds its adapters from settings, runs until SIGINT or SIGTERM, then
stops what it started: web server, worker, and (for dev) the Temporal server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from temporalio.client import Client

from api.app import create_app
from api.observability import metrics_registry
from config.settings import Settings
from domain.errors import BadInput
from integrations.store import Store
from workers.devserver import DevServer, RunningStack, claim_data_dir, port_in_use
from workers.telemetry import Telemetry, WorkerHealth, bind_endpoint, worker_endpoints
from workers.temporal import build_worker, connect
from workers.waiting import both_unless_stopped, open_store
from workers.wiring import build_activities, build_services


class EmbeddedServer(uvicorn.Server):
    """Uvicorn without its own signal handlers: the stack owns Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _until_stopped(stop: asyncio.Event, *tasks: asyncio.Task[None]) -> None:
    """Wait for a stop signal, or for any of `tasks` to end (then re-raise its error)."""
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    for task in done:
        if task is not waiter and task.exception():
            raise task.exception()  # type: ignore[misc]


async def _connect_unless_stopped(
    settings: Settings, stop: asyncio.Event, patience: float | None = None
) -> tuple[Client, Store] | None:
    """Connect to Temporal and open the database, waiting for both side by side; None if stopped meanwhile.

    Each wait says what it waits for and gives up after `patience` seconds
    (`SIGNOFF_START_PATIENCE`; None: as long as it takes).

    Raises:
        RuntimeError: Temporal or the database did not answer in time (the sentence says which).
        BadInput: the database URL is not one signoff can use.
    """
    return await both_unless_stopped(stop, connect(settings.temporal, patience), open_store(settings, patience))


KEEP_ALIVE_SECONDS = 75
"""How long an idle HTTP connection stays open: longer than the load balancers and clients that reuse them
(an AWS ALB keeps 60 s). Uvicorn's 5 s closed connections a client was about to reuse: bench/approval.py's
clients saw `ReadError` on a poll."""


def _web_server(
    settings: Settings,
    client: Client,
    store: Store,
    host: str,
    port: int,
    ui_url: str | None,
    telemetry: Telemetry,
) -> EmbeddedServer:
    app = create_app(build_services(settings, client, store, ui_url), telemetry.registry)
    telemetry.instrument(app)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        log_config=None,  # uvicorn's lines go through signoff's logging (workers/logs.py)
        access_log=False,  # api.observability.AccessLog writes the access line, with the process id
        lifespan="off",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        proxy_headers=False,  # who a proxy vouches for is api.auth's to decide, from its configured addresses
    )
    return EmbeddedServer(config)


@contextlib.asynccontextmanager
async def _worker_endpoints(settings: Settings, telemetry: Telemetry, health: WorkerHealth) -> AsyncIterator[None]:
    """The worker's ``/metrics`` and ``/healthz`` on ``SIGNOFF_METRICS_PORT`` (none when 0) while in the block."""
    sock = bind_endpoint(settings.metrics.host, settings.metrics.port) if settings.metrics.port else None
    if sock is None:
        yield
        return
    app = worker_endpoints(telemetry.registry, health)
    server = EmbeddedServer(uvicorn.Config(app, log_level="warning", log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def run_worker(settings: Settings) -> None:
    """`signoff worker`: serve the task queue until stopped, and its metrics and health on their port."""
    telemetry = Telemetry.start(settings, "worker", "json")
    health = WorkerHealth()
    async with _worker_endpoints(settings, telemetry, health):
        await _run_worker(settings, telemetry, health)


async def _run_worker(settings: Settings, telemetry: Telemetry, health: WorkerHealth) -> None:
    stop = _stop_event()
    ready = await _connect_unless_stopped(settings, stop, settings.start_patience)
    if ready is None:
        return
    client, store = ready
    client = telemetry.client(client)
    metrics_registry(store, telemetry.registry, decisions=False)
    worker = build_worker(client, settings.temporal.task_queue, build_activities(settings, store, client))
    task = asyncio.create_task(worker.run())
    health.client, health.store, health.worker = client, store, task
    try:
        await _until_stopped(stop, task)
    finally:
        await worker.shutdown()


async def run_web(settings: Settings, host: str, port: int) -> None:
    """`signoff web`: serve the API and pages until stopped.

    Raises:
        BadInput: no way for people to sign in is configured.
    """
    if settings.auth.dev_mode:
        raise BadInput(
            "signoff web does not run in dev mode (every local caller an admin): unset SIGNOFF_AUTH_DEV_MODE"
        )
    if not settings.auth.sign_in_configured():
        raise BadInput(
            "signoff web needs a way for people to sign in: set SIGNOFF_AUTH_OIDC_ISSUER, SIGNOFF_AUTH_OIDC_CLIENT_ID "
            "and SIGNOFF_AUTH_OIDC_CLIENT_SECRET (OpenID Connect), or SIGNOFF_AUTH_PROXY_HEADER and "
            "SIGNOFF_AUTH_PROXY_ADDRESSES (an identity-aware proxy); see docs/security.md"
        )
    telemetry = Telemetry.start(settings, "web", "json")
    stop = _stop_event()
    ready = await _connect_unless_stopped(settings, stop, settings.start_patience)
    if ready is None:
        return
    client, store = ready
    server = _web_server(settings, telemetry.client(client), store, host, port, None, telemetry)
    task = asyncio.create_task(server.serve())
    try:
        await _until_stopped(stop, task)
    finally:
        server.should_exit = True
        await task


DEV_SERVER_PATIENCE = 120.0
"""Seconds `signoff dev` waits for its own Temporal server's frontend (and the database) to answer, unless
`SIGNOFF_START_PATIENCE` says otherwise.

The port opens before the frontend is healthy; on a loaded machine that gap
has been seen to last several seconds ("Frontend is not healthy yet").
"""


def _access_line(settings: Settings) -> str:
    if settings.auth.dev_mode:
        return f"dev mode: everyone on this machine is {settings.auth.dev_user}, an admin (--auth for the real rules)"
    return "the production rules: send a token (signoff token create), or sign in"


@dataclass
class DevStack:
    """Where the pieces of `signoff dev` listen."""

    port: int
    temporal_port: int
    data_dir: Path

    @property
    def ui_port(self) -> int:
        return self.temporal_port + 1000

    def describe(self) -> RunningStack:
        """What this stack tells, in its data dir, the commands run beside it (`workers.devserver.running_stack`)."""
        return RunningStack(
            pid=os.getpid(),
            temporal=f"127.0.0.1:{self.temporal_port}",
            web=f"http://127.0.0.1:{self.port}/",
            temporal_ui=f"http://127.0.0.1:{self.ui_port}/",
        )

    def check_ports(self) -> None:
        """Refuse to start on a port something else holds.

        Raises:
            BadInput: naming the port and the option that moves it.
        """
        for port, option in (
            (self.port, "--port"),
            (self.temporal_port, "--temporal-port"),
            (self.ui_port, "--temporal-port"),
        ):
            if port_in_use(port):
                raise BadInput(f"port {port} is already in use (another signoff dev?): choose another with {option}")


async def run_dev(settings: Settings, stack: DevStack, announce: Callable[[str], None] = print) -> None:
    """`signoff dev`: Temporal dev server, worker and web service in one process, holding its data dir.

    Raises:
        BadInput: another `signoff dev` holds the data dir, or a port is taken (the sentence says which).
    """
    telemetry = Telemetry.start(settings, "dev", "console")
    with claim_data_dir(stack.data_dir, stack.describe()):
        await _run_dev(settings, stack, announce, telemetry)


async def _run_dev(settings: Settings, stack: DevStack, announce: Callable[[str], None], telemetry: Telemetry) -> None:
    stack.check_ports()
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    stop = _stop_event()
    server = DevServer(
        stack.data_dir / "temporal.db", stack.temporal_port, stack.ui_port, stack.data_dir / "temporal.log"
    )
    await server.start()
    tasks: list[asyncio.Task[None]] = []
    try:
        patience = DEV_SERVER_PATIENCE if settings.start_patience is None else settings.start_patience
        ready = await _connect_unless_stopped(settings, stop, patience)
        if ready is None:
            return
        client, store = ready
        client = telemetry.client(client)
        worker = build_worker(client, settings.temporal.task_queue, build_activities(settings, store, client))
        ui_url = f"http://127.0.0.1:{stack.ui_port}"
        web = _web_server(settings, client, store, "127.0.0.1", stack.port, ui_url, telemetry)
        tasks = [asyncio.create_task(worker.run()), asyncio.create_task(web.serve())]
        while not web.started and not any(t.done() for t in tasks):
            await asyncio.sleep(0.05)
        announce(
            f"signoff is running\n"
            f"  dashboard    http://127.0.0.1:{stack.port}/\n"
            f"  API          http://127.0.0.1:{stack.port}/docs\n"
            f"  Temporal UI  {ui_url}/\n"
            f"  data         {stack.data_dir.resolve()}\n"
            f"  access       {_access_line(settings)}\n"
            f"Press Ctrl-C to stop."
        )
        await _until_stopped(stop, *tasks)
    finally:
        if tasks:
            web.should_exit = True
            await worker.shutdown()
            await asyncio.gather(*tasks, return_exceptions=True)
        await server.stop()
        announce("signoff stopped")
