"""`signoff worker` tells how it does: ``/healthz`` and ``/metrics`` on its metrics port, JSON log lines.

The metrics page carries the Temporal SDK's metrics (``temporal_…``, from the
worker's runtime), signoff's own (read from the store) and the process's; the
health check says what the worker waits for until Temporal answers.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import requests

from tests.integration.devstack import DevStack, eventually, free_port
from workers.devserver import DevServer
from workers.temporal import find_binary


def health(port: int) -> tuple[int, dict[str, str]] | None:
    """The status and body of the worker's health check; None while nothing listens."""
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    except requests.ConnectionError:
        return None
    return answer.status_code, answer.json()


async def test_the_worker_serves_its_health_and_the_sdks_and_signoffs_metrics(tmp_path: Path) -> None:
    temporal_port, metrics_port = free_port(also_free=1000), free_port()
    env = DevStack(tmp_path, tmp_path).env | {
        "SIGNOFF_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "SIGNOFF_TEMPORAL_TASK_QUEUE": "telemetry",
        "SIGNOFF_DATA_DIR": str(tmp_path),
        "SIGNOFF_METRICS_PORT": str(metrics_port),
    }
    worker = subprocess.Popen(
        [find_binary("signoff"), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    server = DevServer(tmp_path / "temporal.db", temporal_port, temporal_port + 1000, tmp_path / "temporal.log")
    try:
        waiting = eventually(lambda: health(metrics_port), timeout=30, what="the worker's /healthz")
        assert waiting[0] == 503
        assert waiting[1] == {"status": "degraded", "worker": "starting", "temporal": "not connected yet",
                              "database": "not open yet"}  # fmt: skip

        await server.start()
        healthy = eventually(
            lambda: (answer := health(metrics_port)) and answer[0] == 200 and answer,
            timeout=60,
            what="the worker to be healthy",
        )
        assert healthy[1] == {"status": "ok", "worker": "ok", "temporal": "ok", "database": "ok"}

        def scraped() -> str | None:
            page = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
            return page if "temporal_num_pollers" in page else None

        page = eventually(scraped, timeout=30, what="the SDK's poller metrics")
        assert 'task_queue="telemetry"' in page
        assert "# TYPE temporal_request_total counter" in page
        assert "temporal_request_latency_bucket" in page
        assert "# TYPE signoff_processes gauge" in page
        assert "# TYPE signoff_deliveries gauge" in page
        assert "process_resident_memory_bytes" in page
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        await server.stop()
    assert worker.stderr is not None
    told = worker.stderr.read().splitlines()
    assert worker.returncode == 0, told
    logged = [json.loads(line) for line in told if line.startswith("{")]
    assert all({"timestamp", "level", "message"} <= set(line) for line in logged)
    assert [line for line in told if not line.startswith("{") and not line.startswith("signoff: waiting")] == []
