"""Schedules on a Temporal that runs none (the time-skipping test server, an old server): a sentence, not a crash.

Schedules themselves are tested on the dev server: tests/integration/test_schedules.py.
"""

from __future__ import annotations

import httpx


async def test_a_temporal_without_schedules_answers_503_with_a_sentence(app_client: httpx.AsyncClient) -> None:
    listed = await app_client.get("/api/schedules")
    one = await app_client.post("/api/schedules/monthly-release/pause", json={})
    page = await app_client.get("/schedules")

    assert listed.status_code == 503
    assert listed.json()["detail"].startswith("this Temporal server runs no schedules")
    assert one.status_code == 503
    assert page.status_code == 503 and "runs no schedules" in page.text
