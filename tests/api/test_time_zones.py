"""A deployment's time zone for the starts that name none, and a process's time zone on its pages and links."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx

from api.service import Processes
from config.templates import load_template
from tests.api.conftest import LIVE_WITHIN, client_of
from tests.api.helpers import launch_params, start, wait_until_idle
from tests.conftest import Stack


async def test_a_start_without_a_zone_gets_the_deployments_and_its_pages_show_it(
    stack: Stack, today: date, now: datetime
) -> None:
    berlin = Processes(
        stack.client, stack.task_queue, load_template, today=lambda: today, live_within=LIVE_WITHIN,
        now=lambda: now, time_zone="Europe/Berlin",
    )  # fmt: skip
    async with client_of(stack, today, now=now, processes=berlin) as client:
        launch_day = today + timedelta(days=30)
        started = await start(client, launch_params(launch_day))
        tokyo = await start(client, launch_params(launch_day, time_zone="Asia/Tokyo"))
        assert started["params"]["time_zone"] == "Europe/Berlin"
        assert tokyo["params"]["time_zone"] == "Asia/Tokyo", "a zone given is kept"

        await wait_until_idle(client, started["id"])
        page = (await client.get(f"/processes/{started['id']}")).text
        assert f"{launch_day} 09:00 CET" in page or f"{launch_day} 09:00 CEST" in page  # launch day, in Berlin
        assert " UTC" not in page.split("<h2", 1)[1].split("Timeline", 1)[0], "a time shown in UTC"
        listing = (await client.get("/")).text  # the list mixes processes: the deployment's zone
        assert " CET" in listing or " CEST" in listing
        assert " UTC" not in listing.split("<tbody", 1)[1]


async def test_a_zone_that_is_none_is_refused_naming_the_field(app_client: httpx.AsyncClient, today: date) -> None:
    response = await app_client.post(
        "/api/processes",
        json={"kind": "launch", "params": launch_params(today + timedelta(days=30), time_zone="Mars/Olympus")},
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["params", "time_zone"] and "not a time zone" in error["msg"]
