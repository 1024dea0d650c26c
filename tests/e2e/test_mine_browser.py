"""What is late and what waits on whom, in Debian's chromium: "My work" and the list's overdue filter.

Two launches, one a month out and one whose go / no-go is open; then the web
service's clock moves twelve days on (the server's stays), so the first
launch's earliest items and the second one's decision are late. An approver
who also owns items opens "My work" from the navigation, finds their work
overdue first, and follows their own approval page from it; the list,
filtered to what is overdue, leaves out the launch that is on time.
Screenshots go to the test's output directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import Authenticator
from api.deps import Services
from api.service import Processes
from config.templates import load_template
from integrations.people import People
from tests.api.helpers import APPROVERS, OWNER, eventually, launch_params, wait_for_action
from tests.conftest import Stack, running_stack
from tests.e2e.test_browser import CHROMIUM, FLAGS, fits_the_screen, free_port, playwright_api, unlabelled

VP = APPROVERS[0]


@dataclass
class Site:
    base: str
    stack: Stack
    clock: list[datetime]
    """The web service's time (its first entry), which a test may move on without the server's."""


@pytest.fixture
async def site(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Site]:
    """The web service on a free port (dev mode), over a worker whose links point at it, on a clock of its own."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with running_stack(env, tmp_path, public_url=base) as stack:
        clock = [await env.get_current_time()]
        services = Services(
            processes=Processes(
                stack.client, stack.task_queue, load_template, today=lambda: clock[0].date(), now=lambda: clock[0]
            ),
            store=stack.store,
            auth=Authenticator(People(stack.store.engine), dev_user="admin@localhost"),
            tokens=stack.tokens,
            public_url=base,
        )
        server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        try:
            yield Site(base, stack, clock)
        finally:
            server.should_exit = True
            await serving


async def test_my_work_and_the_overdue_list_in_the_browser(site: Site, tmp_path: Path) -> None:
    today = site.clock[0].date()
    later = launch_params(today + timedelta(days=30), owners={"legal": VP, "docs": VP})  # legal review: 21 days before
    soon = launch_params(today + timedelta(days=2))  # the go / no-go opens at once
    on_time = launch_params(today + timedelta(days=60))
    async with httpx.AsyncClient(base_url=site.base) as api:
        pids = {}
        for name, params in (("later", later), ("soon", soon), ("on_time", on_time)):
            started = await api.post("/api/processes", json={"kind": "launch", "params": params})
            assert started.status_code == 201, started.text
            pids[name] = started.json()["id"]
        await wait_for_action(api, pids["soon"], "approval_requested")
        for pid in pids.values():
            await wait_for_action(api, pid, "message_sent")

        async def written() -> bool:
            rows = (await api.get("/api/processes")).json()
            return len(rows) == 3 and all(row["progress"] for row in rows)

        await eventually(written, "the list's lines")
    site.clock[0] += timedelta(days=12)  # the web service's today; the processes' own time stays
    shots = tmp_path / "screenshots"
    shots.mkdir()

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(site.base)
        await page.get_by_role("link", name="My work").click()
        await page.wait_for_url("**/mine")
        assert "Nothing waits on admin@localhost" in await page.locator("main").inner_text()
        await page.get_by_label("Person").fill(VP)
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url("**/mine?person=*")
        rows = await page.locator("#work tbody tr").all_inner_texts()
        assert [row.split("\n")[0].strip() for row in rows] == [
            "Decide: Go / no-go",
            "Legal review",
            "Product documentation",
            "Release notes",
        ], rows
        assert ["overdue" in row for row in rows] == [True, True, False, False]
        await page.screenshot(path=shots / "mine-phone.png", full_page=True)
        assert await fits_the_screen(page), "My work scrolls sideways on a phone"
        assert await unlabelled(page) == []
        await page.get_by_role("link", name="Open your approval page").click()
        await page.wait_for_selector("form[method=post]")
        assert "Go / no-go" in await page.title()

        await page.goto(site.base)
        await page.get_by_label("Overdue only").check()
        await page.get_by_role("button", name="Filter").click()
        await page.wait_for_url("**/?*overdue=true*")
        listed = await page.locator("tbody tr").all_inner_texts()
        assert len(listed) == 2 and not any(pids["on_time"] in row for row in listed), listed
        assert any(pids["later"] in row and "4 overdue" in row for row in listed), listed
        await page.screenshot(path=shots / "list-overdue-phone.png", full_page=True)
        assert await fits_the_screen(page), "the overdue list scrolls sideways on a phone"
        assert await unlabelled(page) == []

        await page.goto(f"{site.base}/processes/{pids['later']}")
        stands = await page.locator("#where-it-stands").inner_text()
        assert f"{OWNER}: 9 open items, 3 overdue" in stands and "Next" in stands, stands
        await page.screenshot(path=shots / "process-waiting-phone.png")
        assert await fits_the_screen(page), "the process page scrolls sideways on a phone"

        desk = await browser.new_page(viewport={"width": 1280, "height": 800})
        await desk.goto(f"{site.base}/mine?person={VP}")
        await desk.screenshot(path=shots / "mine-desktop.png")
        await browser.close()

    assert all(shot.stat().st_size > 5_000 for shot in shots.iterdir())
