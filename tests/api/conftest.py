"""The web service over the per-test worker stack, driven through HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import httpx
import pytest

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
async def now(stack: Stack) -> datetime:
    """The time-skipping server's time when the test starts (never the real time: see tests/clock.py)."""
    return await stack.env.get_current_time()


@pytest.fixture
def today(now: datetime) -> date:
    """Today on the time-skipping server."""
    return now.date()


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
    # What the app starts goes through `stack.client`: the stack ends it after the test.
    transport = BoundedASGITransport(app=create_app(built))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client
