"""The calendar and a launch's clash warning, in Debian's chromium: two launches on one day that share an approver,
the second warned on its page, both on the calendar's day, at a phone's width and on a desktop.
Screenshots go to the test's output directory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from tests.api.helpers import eventually, launch_params, wait_for_action
from tests.e2e.test_browser import CHROMIUM, FLAGS, fits_the_screen, playwright_api, unlabelled
from tests.e2e.test_mine_browser import Site, site  # noqa: F401  (the fixture)


async def test_the_calendar_and_a_clash_in_the_browser(site: Site, tmp_path: Path) -> None:  # noqa: F811
    day = site.clock[0].date() + timedelta(days=40)
    async with httpx.AsyncClient(base_url=site.base) as api:
        first = (await api.post("/api/processes", json={"kind": "launch", "params": launch_params(day)})).json()
        await wait_for_action(api, first["id"], "message_sent")

        async def listed() -> bool:
            return any(row["id"] == first["id"] for row in (await api.get("/api/processes")).json())

        await eventually(listed, "the first launch's line")
        second = (await api.post("/api/processes", json={"kind": "launch", "params": launch_params(day)})).json()
        assert second["warnings"], second
        await wait_for_action(api, second["id"], "message_sent")
    shots = tmp_path / "screenshots"
    shots.mkdir()

    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(f"{site.base}/processes/{second['id']}")
        warning = await page.locator("#warnings").inner_text()
        assert first["id"] in warning and f"is also on {day}" in warning, warning
        plan = await page.locator("#plan").inner_text()
        assert "launch day" in plan and "the go / no-go decision opens" in plan, plan
        await page.screenshot(path=shots / "clash-phone.png")
        assert await fits_the_screen(page), "the process page scrolls sideways on a phone"

        await page.get_by_role("link", name="Calendar").first.click()
        await page.wait_for_url("**/calendar")
        while not await page.locator(f"#d{day.isoformat()}").count():  # on to the launches' month, a click a month
            await page.locator("a[rel=next]").click()
            await page.wait_for_load_state()
        cell = await page.locator(f"#d{day.isoformat()}").inner_text()
        assert cell.count("launch day") == 2 and first["title"] in cell and second["title"] in cell, cell
        assert await fits_the_screen(page), "the calendar scrolls sideways on a phone"
        assert await unlabelled(page) == []
        await page.screenshot(path=shots / "calendar-phone.png", full_page=True)

        desk = await browser.new_page(viewport={"width": 1280, "height": 800})
        await desk.goto(f"{site.base}/calendar?month={day:%Y-%m}")
        await desk.screenshot(path=shots / "calendar-desktop.png", full_page=True)
        assert await fits_the_screen(desk), "the calendar scrolls sideways on a desktop"
        await browser.close()
