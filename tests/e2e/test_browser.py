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
from api.auth import Authenticator
from api.deps import Services
from api.service import Processes
from config.templates import load_template
from integrations.people import People
from tests.api.helpers import eventually, launch_params, wait_for_action
from tests.api.test_comms import CS, ENG, comms_params, review_links
from tests.api.test_eol import eol_params
from tests.api.test_postmortem import postmortem_params
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
            auth=Authenticator(People(stack.store.engine), dev_user="admin@localhost"),
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


async def fits_the_screen(page: Any) -> bool:
    """Whether the page reads without scrolling sideways."""
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def unlabelled(page: Any) -> list[str]:
    """The form fields of the page a person cannot name: no <label> points at them."""
    script = """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(field => field.labels.length === 0).map(field => field.name || field.id)"""
    found: list[str] = await page.evaluate(script)
    return found


async def test_a_launch_approved_in_the_browser(site: tuple[str, Stack], tmp_path: Path) -> None:
    """Start a launch from the dashboard's form, approve it from each approver's link, see it move on."""
    base, stack = site
    today = await stack.today()
    params = launch_params(today + timedelta(days=2))  # the gate opens at once
    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(base)
        await page.get_by_role("link", name="Start").click()
        await page.get_by_label("Kind").select_option("launch")
        await page.get_by_role("button", name="Choose").click()
        await page.get_by_label("Product").fill(params["product"])
        await page.get_by_label("Launch date").fill(params["launch_date"])
        await page.get_by_label("Owner", exact=True).fill(params["owner"])
        await page.get_by_label("Approvers").fill("\n".join(params["approvers"]))
        await page.get_by_label("Owners (optional)").fill("docs=docs@example.com\nsupport=support@example.com")
        await page.screenshot(path=shots / "0-start.png", full_page=True)
        assert await fits_the_screen(page), "the start form scrolls sideways on a phone"
        assert await unlabelled(page) == []
        await page.get_by_role("button", name="Start the launch").click()
        await page.wait_for_url("**/processes/launch-*")
        pid = page.url.rsplit("/", 1)[1]
        assert (
            await page.locator("h1").inner_text() == f"Launch: {params['product']} on {params['launch_date']} running"
        )

        async with httpx.AsyncClient(base_url=base) as api:

            async def asked() -> bool:
                events = (await api.get(f"/api/processes/{pid}/audit")).json()
                return isinstance(events, list) and any(e["action"] == "approval_requested" for e in events)

            await eventually(asked, "the approval requests")

        for n, approver in enumerate(("vp@example.com", "legal@example.com"), start=1):
            await page.goto(f"{base}/outbox?process={pid}")
            await page.screenshot(path=shots / f"{n}-outbox.png", full_page=True)
            card = page.locator(".card", has_text=f"to {approver}").filter(has_text="your decision")
            await card.locator("a[href*='/approve/']").first.click()
            await page.wait_for_selector("form[method=post]")
            assert "Go / no-go" in await page.title()
            await page.screenshot(path=shots / f"{n}-approval-page.png", full_page=True)
            assert await fits_the_screen(page), "the approval page scrolls sideways on a phone"
            assert await unlabelled(page) == []
            await page.get_by_label("Approve: go").check()
            await page.get_by_label("Comment").fill(f"Ready, says {approver}")
            await page.get_by_role("button", name="Submit decision").click()
            await page.wait_for_selector("text=Your approval is recorded")
            await page.screenshot(path=shots / f"{n}-decided.png", full_page=True)

        await page.goto(f"{base}/processes/{pid}")
        timeline = await page.locator("body").inner_text()
        assert "Ready, says vp@example.com" in timeline and "Ready, says legal@example.com" in timeline
        assert "approved" in timeline
        await page.screenshot(path=shots / "5-process.png", full_page=True)
        assert await fits_the_screen(page), "the process page scrolls sideways on a phone"
        await browser.close()

    assert sorted(p.name for p in shots.iterdir()) == [
        "0-start.png", "1-approval-page.png", "1-decided.png", "1-outbox.png", "2-approval-page.png", "2-decided.png",
        "2-outbox.png", "5-process.png",
    ]  # fmt: skip
    assert all(p.stat().st_size > 5_000 for p in shots.iterdir())


async def test_a_customer_message_reviewed_on_a_phone(site: tuple[str, Stack], tmp_path: Path) -> None:
    """The review page shows the message as the customer will read it; both reviewers approve; it goes out."""
    base, _ = site
    async with httpx.AsyncClient(base_url=base) as api:
        started = await api.post("/api/processes", json={"kind": "comms", "params": comms_params()})
        assert started.status_code == 201, started.text
        pid = started.json()["id"]
        links = await review_links(api, pid, public_url=base)
    assert sorted(links) == [CS, ENG]
    shots = tmp_path / "screenshots"
    shots.mkdir()

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        for n, reviewer in enumerate(sorted(links), start=1):
            await page.goto(links[reviewer])
            message = page.locator(".message")
            assert await message.locator("strong", has_text="Acme").count() == 1, "Markdown is rendered"
            assert await message.locator("li").all_inner_texts() == ["Dashboards: read-only", "Exports: paused"]
            assert "<b>not bold</b>" in await message.inner_text(), "raw HTML in a message is shown, not run"
            await page.screenshot(path=shots / f"{n}-review.png", full_page=True)
            assert await fits_the_screen(page), "the review page scrolls sideways on a phone"
            assert await unlabelled(page) == []
            await page.get_by_label("Approve: send this text").check()
            await page.get_by_label("Comment").fill(f"Fine by {reviewer}")
            await page.get_by_role("button", name="Submit decision").click()
            await page.wait_for_selector("text=Your approval is recorded")

        async def sent() -> bool:
            await page.goto(f"{base}/processes/{pid}")
            return await page.locator("h1 .status").inner_text() == "completed"

        await eventually(sent, "the message to go out")
        text = await page.locator("body").inner_text()
        assert f"Fine by {CS}" in text and f"Fine by {ENG}" in text
        await page.screenshot(path=shots / "3-process.png", full_page=True)
        assert await fits_the_screen(page), "the process page scrolls sideways on a phone"
        await page.goto(f"{base}/api/processes/{pid}/evidence?format=html")
        assert "the hash chain verifies" in await page.locator("body").inner_text()
        await page.screenshot(path=shots / "4-evidence.png", full_page=True)
        assert await fits_the_screen(page), "the evidence report (a full content hash) scrolls sideways on a phone"
        await browser.close()


async def test_every_kind_reads_on_a_phone(site: tuple[str, Stack], tmp_path: Path) -> None:
    """The list filters without JavaScript; each kind's process page and the outbox fit a phone's width."""
    base, stack = site
    now = await stack.env.get_current_time()
    today = now.date()
    async with httpx.AsyncClient(base_url=base) as api:
        starts = {
            "launch": launch_params(today + timedelta(days=30)),
            "postmortem": postmortem_params(now),
            "eol": eol_params(today),
            "comms": comms_params(),
        }
        pids = {}
        for kind, params in starts.items():
            started = await api.post("/api/processes", json={"kind": kind, "params": params})
            assert started.status_code == 201, started.text
            pids[kind] = started.json()["id"]
        for pid in pids.values():
            await wait_for_action(api, pid, "message_sent")
    shots = tmp_path / "screenshots"
    shots.mkdir()

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(base)
        await page.screenshot(path=shots / "list.png", full_page=True)
        assert await fits_the_screen(page), "the process list scrolls sideways on a phone"
        assert await unlabelled(page) == []
        assert not await page.locator("thead").is_visible(), "on a phone each process is a card, not a table row"
        listing = await page.locator("tbody").inner_text()
        assert "0 of 1 item done" in listing  # the post-mortem's draft
        assert "0 of 1 approval" in listing and "0 of 1 approvals" not in listing  # the eol's notice
        assert "0 of 12 items done" in listing and "0 of 2 approvals" in listing  # the launch; the message
        await page.get_by_label("Kind").select_option("eol")
        await page.get_by_role("button", name="Filter").click()
        await page.wait_for_url("**/?kind=eol*")
        listed = await page.locator("tbody tr").all_inner_texts()
        assert len(listed) == 1 and pids["eol"] in listed[0]

        for kind, pid in pids.items():
            await page.goto(f"{base}/processes/{pid}")
            await page.screenshot(path=shots / f"process-{kind}.png", full_page=True)
            await page.screenshot(path=shots / f"process-{kind}-first-screen.png")
            assert await fits_the_screen(page), f"the {kind} page scrolls sideways on a phone"
            heading = await page.locator("h1").inner_text()
            assert heading.startswith((await page.title()).split(" · ")[0]), heading
            assert await page.locator("h1 .status").inner_text() in ("running", "waiting for decisions"), heading

        await page.goto(f"{base}/outbox")
        await page.screenshot(path=shots / "outbox.png", full_page=True)
        await page.screenshot(path=shots / "outbox-first-screen.png")
        assert await fits_the_screen(page), "the outbox scrolls sideways on a phone"
        links = page.locator("a[href*='/approve/']")
        assert await links.count() >= 3  # the comms reviews and the eol notice's, at least

        desk = await browser.new_page(viewport={"width": 1280, "height": 800})
        await desk.goto(base)
        await desk.screenshot(path=shots / "list-desktop.png")
        assert await desk.locator("thead").is_visible(), "a wide screen shows the list as a table"
        await desk.goto(f"{base}/processes/{pids['launch']}")
        await desk.screenshot(path=shots / "process-launch-desktop.png")
        await browser.close()
