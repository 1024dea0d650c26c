"""An id is never reused once Temporal has forgotten its run, on the real stack: a comms started, cancelled and
deleted from the dev server (what the namespace's retention does after 24 h) cannot be started again, by the API
or the CLI: 409 / exit 2 with the duplicate's sentence, and the store's trail and owner stay the first run's.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import requests
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from config.settings import TemporalSettings
from tests.integration.devstack import DevStack, eventually
from tests.integration.test_cli import refused, signoff
from workers.temporal import connect


async def deleted_from_temporal(stack: DevStack, process_id: str) -> None:
    """Delete the run as retention does, and wait until Temporal no longer knows it."""
    client = await connect(TemporalSettings(address=f"127.0.0.1:{stack.temporal_port}"), patience=60, say=print)
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace="default", workflow_execution=WorkflowExecution(workflow_id=process_id)
        )
    )
    for _ in range(300):
        try:
            await client.get_workflow_handle(process_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return
            raise
        await asyncio.sleep(0.2)
    raise AssertionError(f"Temporal still keeps {process_id}")


def post(stack: DevStack, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{stack.base}{path}", json=body, timeout=60)


def test_a_comms_deleted_from_temporal_cannot_be_started_again(dev_stack: DevStack) -> None:
    params = {
        "subject": f"Maintenance {uuid.uuid4().hex[:6]}", "body": "We upgrade **Acme** on Sunday.",
        "audience": ["ana@customer.example"], "reviewers": ["cs@example.com"], "owner": "first@example.com",
    }  # fmt: skip
    first = post(dev_stack, "/api/processes", {"kind": "comms", "params": params})
    assert first.status_code == 201, first.text
    process_id = first.json()["id"]
    eventually(lambda: dev_stack.trail(process_id), what="the first run's trail", timeout=60)
    cancelled = post(dev_stack, f"/api/processes/{process_id}/cancel", {"reason": "not now"})
    assert cancelled.status_code == 200, cancelled.text
    eventually(
        lambda: any(e["action"] == "cancelled" for e in dev_stack.trail(process_id)),
        what="the cancellation in the trail",
        timeout=60,
    )
    asyncio.run(deleted_from_temporal(dev_stack, process_id))  # (a closed run: its trail is all written)
    trail = dev_stack.trail(process_id)

    again = post(dev_stack, "/api/processes", {"kind": "comms", "params": params | {"owner": "second@example.com"}})
    args = [f"--param={k}={v}" for k, v in (params | {"owner": "second@example.com"}).items() if k != "audience"]
    by_cli = signoff(dev_stack, "start", "comms", *args, "--param=audience=ana@customer.example")

    sentence = f"a process with id {process_id} already exists; ids are never reused"
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == sentence
    assert sentence in refused(by_cli)
    assert dev_stack.trail(process_id) == trail, "the first run's trail alone"
    [listed] = [p for p in dev_stack.get("/api/processes") if p["id"] == process_id]
    assert (listed["owner"], listed["status"]) == ("first@example.com", "cancelled")
