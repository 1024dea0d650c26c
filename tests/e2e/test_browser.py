"""A whole launch in a real browser: Debian's chromium, driven by Playwright, against the web service on a port.

Start a launch (over the API, as a script would), open the outbox, follow an
approval link, submit the page's form, and see the process move on with the
decision in its timeline. Screenshots of each page go to the test's output
directory (pytest's ``tmp_path``), not into the repository.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.deps import Services
from api.service import Processes
from config.templates import load_template
from tests.api.helpers import launch_params
from tests.conftest import Stack, running_stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip

playwright_api = pytest.importorskip("playwright.async_api", reason="the test extras install playwright")
if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed: ./scripts/test installs it where it can (root with apt-get); "
        "else run: sudo apt-get install chromium",
        allow_module_level=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def site(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[tuple[str, Stack]]:
    """The web service on a free port, over a worker whose links point at it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with running_stack(env, tmp_path, public_url=base) as stack:
        today = await stack.today()
        services = Services(
            processes=Processes(stack.client, stack.task_queue, load_template, today=lambda: today),
            store=stack.store,
            tokens=stack.tokens,
            public_url=base,
        )
        server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        try:
            yield base, stack
        finally:
            server.should_exit = True
            await serving


async def until(probe: Any, what: str, timeout: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := await probe()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
    return value


async def fits_the_screen(page: Any) -> bool:
    """Whether the page reads without scrolling sideways."""
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def test_a_launch_approved_in_the_browser(site: tuple[str, Stack], tmp_path: Path) -> None:
    base, stack = site
    today = await stack.today()
    params = launch_params(today + timedelta(days=2))  # the gate opens at once
    async with httpx.AsyncClient(base_url=base) as api:
        started = await api.post("/api/processes", json={"kind": "launch", "params": params})
        assert started.status_code == 201, started.text
        pid = started.json()["id"]

        async def asked() -> bool:
            events = (await api.get(f"/api/processes/{pid}/audit")).json()
            return isinstance(events, list) and any(e["action"] == "approval_requested" for e in events)

        await until(asked, "the approval requests")

    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        for n, approver in enumerate(("vp@example.com", "legal@example.com"), start=1):
            await page.goto(f"{base}/outbox?process={pid}")
            await page.screenshot(path=shots / f"{n}-outbox.png", full_page=True)
            card = page.locator(".card", has_text=f"to {approver}").filter(has_text="your decision")
            await card.locator("a[href*='/approve/']").first.click()
            await page.wait_for_selector("form[method=post]")
            assert "Go / no-go" in await page.title()
            await page.screenshot(path=shots / f"{n}-approval-page.png", full_page=True)
            assert await fits_the_screen(page), "the approval page scrolls sideways on a phone"
            await page.get_by_label("Approve: go").check()
            await page.get_by_label("Comment").fill(f"Ready, says {approver}")
            await page.get_by_role("button", name="Submit decision").click()
            await page.wait_for_selector("text=Your decision is recorded")
            await page.screenshot(path=shots / f"{n}-decided.png", full_page=True)

        await page.goto(f"{base}/processes/{pid}")
        timeline = await page.locator("body").inner_text()
        assert "Ready, says vp@example.com" in timeline and "Ready, says legal@example.com" in timeline
        assert "approved" in timeline
        await page.screenshot(path=shots / "5-process.png", full_page=True)
        assert await fits_the_screen(page), "the process page scrolls sideways on a phone"
        await browser.close()

    assert sorted(p.name for p in shots.iterdir()) == [
        "1-approval-page.png", "1-decided.png", "1-outbox.png", "2-approval-page.png", "2-decided.png",
        "2-outbox.png", "5-process.png",
    ]  # fmt: skip
    assert all(p.stat().st_size > 5_000 for p in shots.iterdir())
