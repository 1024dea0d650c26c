"""Start order, the database's half: the long-running commands wait for the database too, saying so, up to a limit.

DESIGN.md's deployment: any service may start first, the others wait saying
what for. `SIGNOFF_START_PATIENCE` bounds the wait: then the command ends
with exit 1 and a sentence naming what did not answer, never a traceback.
(tests/integration/test_start_order.py has the Temporal half.)
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.integration.devstack import DevStack, free_port
from workers.devserver import DevServer, port_in_use
from workers.temporal import find_binary


def nowhere() -> str:
    """A PostgreSQL URL nothing answers at."""
    return f"postgresql+psycopg://signoff:secret@127.0.0.1:{free_port()}/signoff"


def stack_ports(stack: DevStack) -> list[str]:
    return ["--port", str(stack.port), "--temporal-port", str(stack.temporal_port)]


def shown(url: str) -> str:
    return url.replace(":secret@", ":***@")


async def test_a_worker_waits_for_the_database_saying_so_and_gives_up_after_the_limit(tmp_path: Path) -> None:
    port = free_port(also_free=1000)
    server = DevServer(tmp_path / "temporal.db", port, port + 1000, tmp_path / "temporal.log")
    await server.start()  # Temporal answers: the database alone is waited for
    database = nowhere()
    env = DevStack(tmp_path, tmp_path).env | {
        "SIGNOFF_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "SIGNOFF_DATABASE_URL": database,
        "SIGNOFF_START_PATIENCE": "2",
        "SIGNOFF_METRICS_PORT": "0",
    }
    try:
        began = time.monotonic()
        worker = subprocess.run(
            [find_binary("signoff"), "worker"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
        took = time.monotonic() - began
    finally:
        await server.stop()

    said = worker.stderr.splitlines()
    assert worker.returncode == 1, worker
    assert f"signoff: waiting for the database at {shown(database)} (0s so far): connection failed: " in said[0]
    assert said[-1].startswith(f"signoff: the database at {shown(database)} did not answer in 2s: "), said
    assert "secret" not in worker.stderr, "the password never reaches a line"
    assert "Traceback" not in worker.stderr
    assert took < 60


def test_a_database_url_no_driver_can_use_is_a_sentence(tmp_path: Path) -> None:
    env = DevStack(tmp_path, tmp_path).env | {
        "SIGNOFF_DATABASE_URL": "mysql://x@127.0.0.1/y",
        "SIGNOFF_METRICS_PORT": "0",
    }

    worker = subprocess.run([find_binary("signoff"), "worker"], env=env, capture_output=True, text=True, timeout=120)

    assert worker.returncode == 2, worker
    assert worker.stderr.splitlines()[-1].startswith("signoff: SIGNOFF_DATABASE_URL is not a database signoff can use")
    assert "Traceback" not in worker.stderr


def test_dev_gives_up_on_its_database_after_the_limit_and_stops_what_it_started(tmp_path: Path) -> None:
    stack = DevStack(tmp_path / "data", tmp_path)
    env = stack.env | {"SIGNOFF_DATABASE_URL": nowhere(), "SIGNOFF_START_PATIENCE": "1"}

    dev = subprocess.run(
        [find_binary("signoff"), "dev", "--data-dir", str(stack.data_dir), *stack_ports(stack)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert dev.returncode == 1, dev
    assert "did not answer in 1s" in dev.stderr.splitlines()[-1]
    assert "Traceback" not in dev.stderr
    assert "signoff stopped" in dev.stdout
    assert not (stack.data_dir / "stack.json").exists(), "the data dir is free again"
    assert not port_in_use(stack.temporal_port), "its Temporal server stopped with it"
