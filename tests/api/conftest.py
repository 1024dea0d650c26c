"""The web service over the per-test worker stack, driven through HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from api.app import create_app
from api.deps import Services
from api.service import Processes
from config.templates import load_template
from tests.conftest import PUBLIC_URL, Stack


@pytest.fixture
async def today(stack: Stack) -> date:
    """Today on the time-skipping server, whose clock may be ahead of the real one."""
    return await stack.today()


@pytest.fixture
async def app_client(stack: Stack, today: date) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app built on `stack` (same store, tokens and task queue)."""
    services = Services(
        processes=Processes(stack.client, stack.task_queue, load_template, today=lambda: today),
        store=stack.store,
        tokens=stack.tokens,
        public_url=PUBLIC_URL,
    )
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL, timeout=30) as client:
        yield client
