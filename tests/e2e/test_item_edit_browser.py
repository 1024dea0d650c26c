"""A launch's checklist changed from its page, in Debian's chromium at a phone's width: an item added (title,
owner, due date) and an open item removed through "Change this process…"; a due date in the past refused with
the form kept. Screenshots go to the test's output directory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from tests.api.helpers import launch_params, view, wait_for_action
from tests.e2e.test_browser import CHROMIUM, FLAGS, fits_the_screen, playwright_api, unlabelled
from tests.e2e.test_mine_browser import Site, site  # noqa: F401  (the fixture)


async def test_an_item_added_and_one_removed_from_the_process_page(site: Site, tmp_path: Path) -> None:  # noqa: F811
    today = site.clock[0].date()
    due = today + timedelta(days=20)
    async with httpx.AsyncClient(base_url=site.base) as api:
        params = launch_params(today + timedelta(days=30))
        started = (await api.post("/api/processes", json={"kind": "launch", "params": params})).json()
        pid = started["id"]
        await wait_for_action(api, pid, "message_sent")  # kicked off: the form shows once the kickoff is done
    shots = tmp_path / "screenshots"
    shots.mkdir()

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(f"{site.base}/processes/{pid}")
        await page.get_by_text("Change this process…").click()
        await page.locator("#e-new-title").fill("Pricing page")
        await page.locator("#e-new-owner").fill("sales@example.com")
        await page.locator("#e-new-due").fill((today - timedelta(days=1)).isoformat())
        await page.locator("#e-reason").fill("Sales asked for a pricing page; the rollback plan is dropped.")
        assert await unlabelled(page) == []
        await page.get_by_role("button", name="Save the changes").click()
        await page.wait_for_selector("#problem")
        problem = await page.locator("#problem").inner_text()
        assert "in the past" in problem, problem
        assert await page.locator("#e-new-title").input_value() == "Pricing page", "what was typed is kept"

        await page.locator("#e-new-due").fill(due.isoformat())
        await page.get_by_role("checkbox", name="Rollback plan agreed").check()  # an open item of the template
        await page.screenshot(path=shots / "items-phone.png", full_page=True)
        await page.get_by_role("button", name="Save the changes").click()
        await page.wait_for_selector("#said")
        said = await page.locator("#said").inner_text()
        assert "'Pricing page' is added" in said and "'Rollback plan agreed' (pm@example.com's) is removed" in said, (
            said
        )
        assert await fits_the_screen(page), "the process page scrolls sideways on a phone"
        await browser.close()

    async with httpx.AsyncClient(base_url=site.base) as api:
        items = {item["key"]: item for item in (await view(api, pid))["items"]}
        trail = await wait_for_action(api, pid, "edited")
    added = items["pricing-page"]
    assert (added["title"], added["owner"], added["due"], added["status"]) == (
        "Pricing page",
        "sales@example.com",
        due.isoformat(),
        "open",
    )
    assert items["rollback-plan"]["status"] == "wont_do"
    [edited] = [e for e in trail if e["action"] == "edited"]
    assert edited["actor"] == "admin@localhost" and edited["details"]["reason"].startswith("Sales asked")
