"""The long-running processes: the worker, the web service, and `signoff dev`.

Each builds its adapters from settings, runs until SIGINT or SIGTERM, then
stops what it started: web server, worker, and (for dev) the Temporal server.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from domain.errors import BadInput
from integrations.store import Store
from workers.devserver import DevServer, port_in_use
from workers.temporal import build_worker, connect
from workers.wiring import build_activities, build_services, build_store


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


def _web_server(
    settings: Settings, client: Client, store: Store, host: str, port: int, ui_url: str | None
) -> EmbeddedServer:
    app = create_app(build_services(settings, client, store, ui_url))
    return EmbeddedServer(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))


async def run_worker(settings: Settings) -> None:
    """`signoff worker`: serve the task queue until stopped."""
    stop = _stop_event()
    client = await connect(settings.temporal)
    worker = build_worker(client, settings.temporal.task_queue, build_activities(settings, build_store(settings)))
    task = asyncio.create_task(worker.run())
    try:
        await _until_stopped(stop, task)
    finally:
        await worker.shutdown()


async def run_web(settings: Settings, host: str, port: int) -> None:
    """`signoff web`: serve the API and pages until stopped."""
    stop = _stop_event()
    server = _web_server(settings, await connect(settings.temporal), build_store(settings), host, port, None)
    task = asyncio.create_task(server.serve())
    try:
        await _until_stopped(stop, task)
    finally:
        server.should_exit = True
        await task


@dataclass
class DevStack:
    """Where the pieces of `signoff dev` listen."""

    port: int
    temporal_port: int
    data_dir: Path

    @property
    def ui_port(self) -> int:
        return self.temporal_port + 1000

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
    """`signoff dev`: Temporal dev server, worker and web service in one process."""
    stack.check_ports()
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    stop = _stop_event()
    server = DevServer(
        stack.data_dir / "temporal.db", stack.temporal_port, stack.ui_port, stack.data_dir / "temporal.log"
    )
    await server.start()
    tasks: list[asyncio.Task[None]] = []
    try:
        client, store = await connect(settings.temporal), build_store(settings)
        worker = build_worker(client, settings.temporal.task_queue, build_activities(settings, store))
        ui_url = f"http://127.0.0.1:{stack.ui_port}"
        web = _web_server(settings, client, store, "127.0.0.1", stack.port, ui_url)
        tasks = [asyncio.create_task(worker.run()), asyncio.create_task(web.serve())]
        while not web.started and not any(t.done() for t in tasks):
            await asyncio.sleep(0.05)
        announce(
            f"signoff is running\n"
            f"  dashboard    http://127.0.0.1:{stack.port}/\n"
            f"  API          http://127.0.0.1:{stack.port}/docs\n"
            f"  Temporal UI  {ui_url}/\n"
            f"  data         {stack.data_dir.resolve()}\n"
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
