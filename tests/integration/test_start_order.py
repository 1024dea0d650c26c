"""Start order does not matter: `signoff worker` waits for Temporal, saying so, and serves once it answers.

DESIGN.md's deployment: "any of them may start first (the others wait,
saying what for)". A compose file or a loaded machine starts Temporal last.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from config.settings import TemporalSettings
from tests.integration.devstack import DevStack, free_port
from workers.devserver import DevServer
from workers.temporal import connect, find_binary


def worker_on(port: int, tmp_path: Path, queue: str) -> subprocess.Popen[str]:
    env = DevStack(tmp_path, tmp_path).env | {
        "SIGNOFF_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "SIGNOFF_TEMPORAL_TASK_QUEUE": queue,
        "SIGNOFF_DATA_DIR": str(tmp_path),
        "SIGNOFF_METRICS_PORT": "0",  # several workers of the suite may run at once: none takes a fixed port
    }
    return subprocess.Popen(
        [find_binary("signoff"), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


async def first_line(stream: object) -> str:
    return await asyncio.to_thread(stream.readline)  # type: ignore[attr-defined]


async def pollers(port: int, queue: str) -> int:
    # the test's own client waits for the frontend too: on a loaded machine it answers "not healthy yet" at first
    client = await connect(TemporalSettings(address=f"127.0.0.1:{port}"), patience=60, say=lambda _: None)
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(namespace="default", task_queue=TaskQueue(name=queue))
    )
    return len(answer.pollers)


async def test_a_worker_started_before_temporal_waits_says_so_and_then_serves(tmp_path: Path) -> None:
    port = free_port(also_free=1000)
    worker = worker_on(port, tmp_path, "start-order")
    server = DevServer(tmp_path / "temporal.db", port, port + 1000, tmp_path / "temporal.log")
    try:
        said = await asyncio.wait_for(first_line(worker.stderr), 30)
        assert said.startswith(f"signoff: waiting for Temporal at 127.0.0.1:{port} (0s so far): "), said
        assert worker.poll() is None, "the worker waits instead of exiting"

        await server.start()
        for _ in range(150):
            if await pollers(port, "start-order"):
                break
            await asyncio.sleep(0.2)
        assert await pollers(port, "start-order") >= 1, "the worker polls its queue once Temporal answers"
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        await server.stop()
    assert worker.stderr is not None
    told = worker.stderr.read()
    assert worker.returncode == 0, told
    assert "Traceback" not in told


def test_a_waiting_worker_stops_at_once_on_sigterm(tmp_path: Path) -> None:
    worker = worker_on(free_port(), tmp_path, "start-order")
    assert worker.stderr is not None
    assert "waiting for Temporal" in worker.stderr.readline()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(10) == 0
    assert "Traceback" not in worker.stderr.read()


@pytest.mark.parametrize("patience", [0.0, 0.5])
async def test_connect_gives_up_after_its_patience_naming_the_address(patience: float) -> None:
    from config.settings import TemporalSettings
    from workers.temporal import connect

    address = f"127.0.0.1:{free_port()}"
    lines: list[str] = []
    with pytest.raises(RuntimeError, match=f"Temporal at {address} did not answer in"):
        await connect(TemporalSettings(address=address), patience=patience, say=lines.append)
    assert lines == [] if patience == 0 else lines[0].startswith(f"waiting for Temporal at {address}")
