"""Acting from a process's page in a real browser (Debian's chromium, Playwright), on a phone's screen.

Mark an item done and another won't-do, remind now, cancel with a reason (through its confirmation page),
revise a message under review, file a post-mortem's action item: each from the page's own forms, each
confirmed on the page it comes back to and recorded in the trail as the signed-in person (dev mode's admin
here). Screenshots go to the test's output directory; docs/pages.md shows some.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.api.helpers import eventually, launch_params, wait_for_action, wait_until_idle
from tests.api.test_comms import comms_params
from tests.api.test_postmortem import SRE, postmortem_params
from tests.conftest import Stack
from tests.e2e.test_browser import CHROMIUM, FLAGS, fits_the_screen, playwright_api, site, unlabelled

__all__ = ["site"]  # the fixture, shared with test_browser.py

ADMIN = "admin@localhost"
PHONE = {"width": 390, "height": 844}


async def said(page: Any) -> str:
    """What the page says the last change did."""
    text: str = await page.locator("#said").inner_text()
    return text


async def trail(api: httpx.AsyncClient, pid: str, action: str) -> dict[str, Any]:
    """The event `action` of `pid`'s trail, once written."""
    events = await wait_for_action(api, pid, action)
    return next(e for e in reversed(events) if e["action"] == action)


async def test_a_launch_worked_from_its_page(site: tuple[str, Stack], tmp_path: Path) -> None:
    """Mark done, won't do, remind now, then cancel with a reason after the confirmation page."""
    base, stack = site
    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with httpx.AsyncClient(base_url=base) as api:
        params = launch_params((await stack.today()) + timedelta(days=30))
        pid = (await api.post("/api/processes", json={"kind": "launch", "params": params})).json()["id"]
        await wait_until_idle(api, pid)

        async with playwright_api.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport=PHONE)
            await page.goto(f"{base}/processes/{pid}")
            assert await fits_the_screen(page), "the page with its forms scrolls sideways on a phone"
            assert await unlabelled(page) == []
            assert await page.get_by_role("link", name="evidence report").count() == 1
            await page.screenshot(path=shots / "0-launch.png", full_page=True)

            docs = page.locator("tr", has_text="documentation")
            await docs.get_by_role("button", name="Mark done").click()
            assert "is done" in await said(page)
            await page.screenshot(path=shots / "1-item-done.png")

            legal = page.locator("tr", has_text="legal-review")
            await legal.locator("summary", has_text="Won’t do").click()
            await legal.get_by_label("Why it will not be done").fill("Covered by the master agreement.")
            await page.screenshot(path=shots / "2-wont-do.png")
            await legal.get_by_role("button", name="Accept as won’t do").click()
            assert "is won’t do" in await said(page)

            await page.get_by_role("button", name="Remind now").click()
            assert "Reminders are on their way to" in await said(page)
            await page.screenshot(path=shots / "3-reminded.png")
            desk = await browser.new_page(viewport={"width": 1280, "height": 800})
            await desk.goto(f"{base}/processes/{pid}")
            await desk.screenshot(path=shots / "3-desktop.png")

            await page.get_by_role("link", name="Cancel this process…").click()
            await page.wait_for_url(f"**/processes/{pid}/cancel")
            assert await fits_the_screen(page) and await unlabelled(page) == []
            await page.get_by_label("Why it is cancelled").fill("Moved to Q1 with the new pricing.")
            await page.screenshot(path=shots / "4-cancel.png")
            await page.get_by_role("button", name="Cancel it").click()
            await page.wait_for_url(f"**/processes/{pid}")
            assert "is cancelled" in await said(page)
            assert await page.get_by_role("button", name="Mark done").count() == 0, "an ended process takes nothing"
            await page.screenshot(path=shots / "5-cancelled.png")
            await browser.close()

        done = await trail(api, pid, "item_done")
        wont = await trail(api, pid, "item_wont_do")
        reminded = await trail(api, pid, "remind_requested")
        cancelled = await trail(api, pid, "cancelled")
    assert (done["actor"], done["details"]["item"]) == (ADMIN, "documentation")
    assert (wont["actor"], wont["details"]["reason"]) == (ADMIN, "Covered by the master agreement.")
    assert reminded["actor"] == ADMIN and reminded["details"]["owners"]
    assert not {"documentation", "legal-review"} & {k for keys in reminded["details"]["owners"].values() for k in keys}
    assert (cancelled["actor"], cancelled["details"]["reason"]) == (ADMIN, "Moved to Q1 with the new pricing.")


async def test_a_message_revised_and_an_action_item_filed_from_their_pages(
    site: tuple[str, Stack], tmp_path: Path
) -> None:
    base, stack = site
    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with httpx.AsyncClient(base_url=base) as api:
        message = (await api.post("/api/processes", json={"kind": "comms", "params": comms_params()})).json()["id"]
        postmortem = (
            await api.post(
                "/api/processes",
                json={"kind": "postmortem", "params": postmortem_params(await stack.env.get_current_time())},
            )
        ).json()["id"]
        await wait_for_action(api, message, "approval_requested")
        await wait_for_action(api, postmortem, "message_sent")

        async with playwright_api.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport=PHONE)
            await page.goto(f"{base}/processes/{message}")
            await page.locator("summary", has_text="Revise the message").click()
            await page.get_by_label("Body").fill("We upgrade **Acme** on Sunday, 02:00–04:00 UTC.\n\nThanks.")
            await page.get_by_label("What changed").fill("Times added.")
            assert await fits_the_screen(page) and await unlabelled(page) == []
            await page.locator("#revise").screenshot(path=shots / "0-revise.png")
            await page.get_by_role("button", name="Send version 2 for review").click()
            assert "Version 2 is under review" in await said(page)
            assert "02:00–04:00 UTC" in await page.locator(".message").inner_text()

            await page.goto(f"{base}/processes/{postmortem}")
            await page.locator("summary", has_text="File an action item").click()
            await page.get_by_label("What is to be done").fill("Alert on the payment error rate")
            await page.get_by_label("Owner (email)").fill(SRE)
            await page.get_by_label("Priority", exact=True).select_option("P1")
            assert await fits_the_screen(page) and await unlabelled(page) == []
            await page.locator("#file-action-item").screenshot(path=shots / "1-action-item.png")
            await page.get_by_role("button", name="File it").click()
            assert "is filed for sre@example.com" in await said(page)
            assert await page.locator("h2:has-text('Checklist') + table tr", has_text="action-1").count() == 1
            await page.screenshot(path=shots / "2-action-item-filed.png", full_page=True)
            await browser.close()

        revised = await trail(api, message, "revised")
        added = await trail(api, postmortem, "action_item_added")

        async def reasked() -> bool:
            view = (await api.get(f"/api/processes/{message}")).json()
            return bool(view["gates"][0]["round"] == 2)

        await eventually(reasked, "the reviewers to be asked about version 2")
    assert (revised["actor"], revised["details"]["comment"], revised["details"]["version"]) == (
        ADMIN,
        "Times added.",
        2,
    )
    assert revised["details"]["body"] == "We upgrade **Acme** on Sunday, 02:00–04:00 UTC.\n\nThanks."
    assert (added["actor"], added["details"]["owner"], added["details"]["priority"]) == (ADMIN, SRE, "P1")
