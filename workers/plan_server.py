"""The preview's time-skipping test server, started so that it dies with signoff, and its leftovers swept.

The SDK's `WorkflowEnvironment.start_time_skipping` starts ``temporal-test-server`` itself and stops it on
the way out; a signoff killed outright (``kill -9``) leaves it running, re-parented to init. So the preview
starts the binary itself, with a parent-death signal (`workers.devserver.die_with_parent`, as the dev server
is started), and talks to it as the SDK would: `TimeSkipping` skips time and reads the clock through the test
server's own service. A folder a killed preview left (``$TMPDIR/signoff-plan-*``) is swept by the next preview
once it is an hour old (a preview gives up after two minutes: no living one is that old).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from google.protobuf.empty_pb2 import Empty
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment

from workers.devserver import die_with_parent, port_in_use
from workers.temporal import find_binary

FOLDER_PREFIX = "signoff-plan-"
STALE_AFTER = timedelta(hours=1)
"""How old a preview's folder must be before another preview removes it as left behind."""
STARTUP = 30.0
"""Seconds the test server may take to answer."""


class ServerFailed(RuntimeError):
    """The time-skipping test server exited, or did not answer in `STARTUP` seconds."""


class TimeSkipping(WorkflowEnvironment):
    """A client of a running time-skipping test server, as the SDK's own environment uses it: `sleep` skips the
    server's time, `get_current_time` reads its clock."""

    async def sleep(self, duration: timedelta | float) -> None:
        request = SleepRequest()
        request.duration.FromTimedelta(duration if isinstance(duration, timedelta) else timedelta(seconds=duration))
        await self.client.test_service.unlock_time_skipping_with_sleep(request)

    async def get_current_time(self, handle: WorkflowHandle[Any, Any] | None = None) -> datetime:
        answer = await self.client.test_service.get_current_time(Empty())
        return answer.time.ToDatetime().replace(tzinfo=UTC)


@contextlib.asynccontextmanager
async def time_skipping_server(runtime: Runtime) -> AsyncIterator[TimeSkipping]:
    """A time-skipping test server of its own, stopped on the way out, and killed with this process (Linux:
    `die_with_parent`; the server is started from the thread that runs the preview, which outlives it).

    Raises:
        ServerFailed: the server exited or did not answer within `STARTUP` seconds.
    """
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        find_binary("temporal-test-server"), str(port),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        preexec_fn=die_with_parent, start_new_session=True,
    )  # fmt: skip
    try:
        await _answering(server, port)
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter, runtime=runtime)
        yield TimeSkipping(client)
    finally:
        await _stop(server)


async def _answering(server: asyncio.subprocess.Process, port: int) -> None:
    deadline = time.monotonic() + STARTUP
    while not port_in_use(port):
        if server.returncode is not None:
            raise ServerFailed(f"the time-skipping test server exited (code {server.returncode})")
        if time.monotonic() > deadline:
            raise ServerFailed(f"the time-skipping test server did not answer in {STARTUP:.0f} s")
        await asyncio.sleep(0.05)


async def _stop(server: asyncio.subprocess.Process) -> None:
    if server.returncode is not None:
        return
    server.terminate()
    try:
        await asyncio.wait_for(server.wait(), 5)
    except TimeoutError:
        server.kill()
        await server.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sweep_stale_folders(now: float | None = None) -> list[Path]:
    """Remove the folders of previews killed outright (older than `STALE_AFTER`); the ones removed."""
    cutoff = (now or time.time()) - STALE_AFTER.total_seconds()
    swept = []
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        with contextlib.suppress(OSError):  # (another preview sweeping it too, or not ours to remove)
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
                swept.append(folder)
    return swept
