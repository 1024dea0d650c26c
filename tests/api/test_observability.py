"""What operators see (docs/operations.md): log lines that name their process, and signoff's metrics.

Activities run by a real worker log with the process id, workflow id and run
id on every line (structlog's and the standard library's alike, though the
SDK runs them on a thread pool); the web service's ``/metrics`` shows the
processes, their deliveries and the decisions' latency with the values of
what ran; every request is one access line naming its process.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import structlog
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from config.settings import LogSettings
from domain.requests import Delivery
from integrations.outbox import OutboxMailer
from integrations.ports import Email
from tests.api.helpers import approval_links, launch_params, path_of, start, wait_until_idle
from tests.api.test_approvals import Gate, decide
from tests.conftest import Stack, running_stack
from workers.logs import configure_logging, unconfigure_logging


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class LoggingMailer(OutboxMailer):
    """The outbox's mailer, saying each send twice: through structlog and through the standard library."""

    def send(self, email: Email) -> Delivery:
        structlog.get_logger("test.mailer").info("sending", key=email.key)
        logging.getLogger("test.stdlib").info("sending %s", email.key)
        return super().send(email)


async def test_an_activitys_lines_name_its_process_workflow_and_run(
    env: WorkflowEnvironment, tmp_path: Path, log_lines: io.StringIO
) -> None:
    async with running_stack(env, tmp_path, mailer=LoggingMailer) as stack:
        handle = await stack.start_launch()
        for _ in range(400):
            sent = [line for line in lines_of(log_lines) if line.get("message", "").startswith("sending")]
            if len(sent) >= 2:
                break
            await asyncio.sleep(0.05)
    by_structlog = next(line for line in sent if line["logger"] == "test.mailer")
    by_stdlib = next(line for line in sent if line["logger"] == "test.stdlib")
    for line in (by_structlog, by_stdlib):
        assert line["process_id"] == line["workflow_id"] == handle.id
        assert line["run_id"] == handle.result_run_id
        assert line["workflow_type"] == "launch"
        assert line["activity_type"] in ("send_email", "send_batch", "send_approval_request")
        assert line["attempt"] == 1
        assert line["level"] == "info" and line["timestamp"].endswith("Z")
    assert by_stdlib["message"].startswith("sending ")
    outside = structlog.get_logger("test").bind()
    outside.info("after")
    assert "process_id" not in lines_of(log_lines)[-1], "an activity's fields stay with the activity"


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus page, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_show_the_processes_their_deliveries_and_the_decisions(
    app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    before = metrics((await app_client.get("/metrics")).text)
    started = await start(app_client, launch_params(today))
    pid = started["id"]
    gate = Gate(pid, started["params"]["product"], await approval_links(app_client, pid))
    await wait_until_idle(app_client, pid)
    decided = await decide(app_client, gate, "vp@example.com", "approve")
    assert decided.status_code == 200, decided.text

    def emails_recorded() -> int:
        return len([entry for entry in stack.outbox(pid) if entry.channel == "email"])

    least, status = emails_recorded(), stack.store.process(pid)["status"]  # type: ignore[index]
    page = await app_client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    after = metrics(page.text)
    assert after[("signoff_processes", (("kind", "launch"), ("status", status)))] == 1
    emails = after[("signoff_deliveries", (("channel", "email"), ("outcome", "recorded")))]
    assert 0 < least <= emails <= emails_recorded()
    assert ("signoff_processes_overdue", (("kind", "launch"),)) not in after  # nothing is due yet
    recorded = (("channel", "link"), ("outcome", "recorded"))
    count = ("signoff_decision_seconds_count", recorded)
    assert after[count] == before.get(count, 0) + 1
    assert after[("signoff_decision_seconds_sum", recorded)] > 0
    assert any(name == "process_cpu_seconds_total" for name, _ in after)


async def test_a_request_is_one_access_line_with_its_process_and_no_credential(
    app_client: httpx.AsyncClient, stack: Stack, today: date, log_lines: io.StringIO
) -> None:
    started = await start(app_client, launch_params(today))
    pid = started["id"]
    links = await approval_links(app_client, pid)
    await app_client.get(f"/api/processes/{pid}")
    await app_client.get(path_of(links["vp@example.com"]))

    access = [line for line in lines_of(log_lines) if line["logger"] == "signoff.access"]
    shown = next(line for line in access if line["route"] == "/api/processes/{process_id}")
    assert (shown["method"], shown["status"], shown["process_id"]) == ("GET", 200, pid)
    assert shown["ms"] >= 0 and shown["level"] == "info"
    page = next(line for line in access if line["route"] == "/approve/{token}")
    assert page["status"] == 200
    token = links["vp@example.com"].rsplit("/", 1)[1]
    assert token not in log_lines.getvalue(), "an approval link is its approver's credential: never logged"


def test_the_console_format_is_one_readable_line(tmp_path: Path) -> None:
    stream = io.StringIO()
    handler = configure_logging(LogSettings(format="console"), "json", stream=stream, cache=False)
    try:
        with structlog.contextvars.bound_contextvars(process_id="launch-acme-2026-12-15"):
            structlog.get_logger("signoff.test").warning("delivery failed", channel="email")
        logging.getLogger("uvicorn.error").error("port taken")
    finally:
        unconfigure_logging(handler)
    first, second = stream.getvalue().splitlines()
    assert "delivery failed" in first and "process_id=launch-acme-2026-12-15" in first and "channel=email" in first
    assert "port taken" in second and "[error" in second


def test_the_sdks_workflow_lines_carry_the_same_fields(log_lines: io.StringIO) -> None:
    """`workflow.logger` (and `activity.logger`) attach the run's info to their records: it becomes the fields."""
    info = {"workflow_id": "comms-maintenance-2026-03-01", "run_id": "r-1", "workflow_type": "comms", "attempt": 1}
    logging.getLogger("temporalio.workflow").warning(
        "Completing workflow task as failed", extra={"temporal_workflow": info}
    )
    (line,) = lines_of(log_lines)
    assert line["process_id"] == line["workflow_id"] == "comms-maintenance-2026-03-01"
    assert (line["run_id"], line["workflow_type"], line["level"]) == ("r-1", "comms", "warning")
    assert line["message"] == "Completing workflow task as failed"
    assert list(line)[:5] == ["timestamp", "level", "logger", "message", "process_id"]
