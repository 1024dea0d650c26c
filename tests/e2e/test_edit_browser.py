"""Plans change, in Debian's chromium at a phone's width: a launch moved and an approver replaced from its page,
then an approver away handing their decision on from their link's page. Screenshots go to the test's output
directory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from tests.api.helpers import APPROVERS, launch_params, link_pattern, wait_for_action
from tests.e2e.test_browser import CHROMIUM, FLAGS, fits_the_screen, playwright_api, unlabelled
from tests.e2e.test_mine_browser import Site, site  # noqa: F401  (the fixture)

VP, LEGAL = APPROVERS


async def test_a_launch_moved_and_a_decision_handed_on_in_the_browser(site: Site, tmp_path: Path) -> None:  # noqa: F811
    today = site.clock[0].date()
    day, later = today + timedelta(days=30), today + timedelta(days=37)
    async with httpx.AsyncClient(base_url=site.base) as api:
        moving = (await api.post("/api/processes", json={"kind": "launch", "params": launch_params(day)})).json()
        soon = (
            await api.post(
                "/api/processes", json={"kind": "launch", "params": launch_params(today + timedelta(days=2))}
            )
        ).json()
        await wait_for_action(api, moving["id"], "message_sent")
        await wait_for_action(api, soon["id"], "approval_requested")  # the go / no-go opens at once, two days out
        outbox = (await api.get("/api/outbox", params={"process": soon["id"]})).json()
        [vp_link] = {m.group(0) for e in outbox if e["to"] == [VP] for m in link_pattern(site.base).finditer(e["body"])}
    shots = tmp_path / "screenshots"
    shots.mkdir()

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(f"{site.base}/processes/{moving['id']}")
        await page.get_by_text("Change this process…").click()
        await page.locator("#e-date").fill(later.isoformat())
        await page.get_by_label(VP, exact=True).fill("cfo@example.com")
        await page.locator("#e-reason").fill("The payment provider moves its release by a week.")
        assert await unlabelled(page) == []
        await page.screenshot(path=shots / "edit-phone.png", full_page=True)
        await page.get_by_role("button", name="Save the changes").click()
        await page.wait_for_selector("#said")
        said = await page.locator("#said").inner_text()
        assert str(later) in said, said
        plan = await page.locator("#plan").inner_text()
        assert str(later) in plan and str(day) not in plan, plan
        assert "cfo@example.com" in await page.locator("main").inner_text()
        assert await fits_the_screen(page), "the process page scrolls sideways on a phone"

        await page.goto(vp_link)
        await page.get_by_text("Away? Hand this decision to someone else…").click()
        await page.get_by_label("Who decides in your place").fill("deputy@example.com")
        await page.get_by_label("A note to them").fill("I am on leave this week.")
        assert await unlabelled(page) == []
        await page.get_by_role("button", name="Hand it on").click()
        await page.wait_for_load_state()
        answer = await page.locator("main").inner_text()
        assert "deputy@example.com" in answer, answer
        await page.screenshot(path=shots / "hand-over-phone.png", full_page=True)
        assert await fits_the_screen(page), "the approval page scrolls sideways on a phone"
        await browser.close()

    async with httpx.AsyncClient(base_url=site.base) as api:
        await wait_for_action(api, soon["id"], "delegated")
        outbox = (await api.get("/api/outbox", params={"process": soon["id"]})).json()
        assert any(m["to"] == ["deputy@example.com"] and "/approve/" in m["body"] for m in outbox)
