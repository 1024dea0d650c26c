"""A process that cannot answer now (no worker polls its queue, or it is buried in a backlog): the person is told
to try again (503 with Retry-After), never left hanging and never shown an internal error."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from api.service import Processes
from config.templates import load_template
from tests.api.conftest import client_of
from tests.api.helpers import launch_params, start
from tests.conftest import Stack


async def test_a_process_nobody_serves_is_a_503_with_retry_after(stack: Stack, today: date) -> None:
    unserved = Processes(
        stack.client, f"nobody-polls-{uuid.uuid4().hex[:8]}", load_template, today=lambda: today,
        patience=timedelta(seconds=1),
    )  # fmt: skip
    async with client_of(stack, today, processes=unserved) as client:
        started = await start(client, launch_params(today + timedelta(days=30)))

        page = await client.get(f"/api/processes/{started['id']}")
        cancel = await client.post(f"/api/processes/{started['id']}/cancel", json={"reason": "moved"})

    for response in (page, cancel):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert "did not answer in time (it is busy)" in response.json()["detail"]
    assert "what you asked may still be done" in cancel.json()["detail"]
