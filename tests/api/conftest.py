"""The web service over the per-test worker stack, driven through HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from api.app import create_app
from api.deps import Services
from api.service import Processes
from config.templates import load_template
from config.triggers import load_triggers
from tests.conftest import PUBLIC_URL, Stack

REQUEST_TIMEOUT = 30.0
"""Seconds one request may take before the test fails instead of hanging the suite."""


class BoundedASGITransport(httpx.ASGITransport):
    """An ASGI transport that gives up on a request after `REQUEST_TIMEOUT` seconds
    (httpx's own timeouts do not apply to an in-process app)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await asyncio.wait_for(super().handle_async_request(request), REQUEST_TIMEOUT)


@pytest.fixture
async def today(stack: Stack) -> date:
    """Today on the time-skipping server, whose clock may be ahead of the real one."""
    return await stack.today()


JIRA_WEBHOOK_SECRET = "jira-webhook-secret"
EVENTS_SECRET = "events-secret"


@pytest.fixture
async def app_client(stack: Stack, today: date) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app built on `stack` (same store, tokens and task queue)."""
    async with client_of(stack, today) as client:
        yield client


@contextlib.asynccontextmanager
async def client_of(stack: Stack, today: date, **services: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app on `stack`, with `services` (`Services` fields) set besides the usual ones."""
    built = Services(
        processes=Processes(stack.client, stack.task_queue, load_template, today=lambda: today),
        store=stack.store,
        tokens=stack.tokens,
        public_url=PUBLIC_URL,
        triggers=load_triggers(),
        jira_webhook_secret=JIRA_WEBHOOK_SECRET,
        events_secret=EVENTS_SECRET,
        **services,
    )
    started: list[str] = []

    async def remember_started(response: httpx.Response) -> None:
        if response.request.method == "POST" and response.url.path == "/api/processes" and response.status_code == 201:
            await response.aread()
            started.append(response.json()["id"])

    transport = BoundedASGITransport(app=create_app(built))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url=PUBLIC_URL, event_hooks={"response": [remember_started]}
        ) as client:
            yield client
    finally:
        await _terminate(stack, started)


async def _terminate(stack: Stack, process_ids: list[str]) -> None:
    """End what a test left running: the session's one server is shared, and a
    forgotten workflow's timers would go on firing while later tests skip time."""
    for process_id in process_ids:
        handle = stack.client.get_workflow_handle(process_id)
        with contextlib.suppress(RPCError):  # already closed
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate(reason="test over")
