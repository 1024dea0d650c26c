"""A go / no-go held for its owner, answered from the process page in Debian's chromium at a phone's width: the
page says what is held and why, offers re-run or end (no skip for an approval), and the re-run is confirmed on the
page it comes back to and recorded in the trail. Screenshots go to the test's output directory."""

from __future__ import annotations

from pathlib import Path

import httpx

from domain.enums import Decision
from domain.updates import DecisionInput
from tests.api.helpers import eventually, wait_for_action
from tests.conftest import Stack
from tests.e2e.test_browser import CHROMIUM, FLAGS, fits_the_screen, playwright_api, site, unlabelled
from workflows.launch import LaunchWorkflow

__all__ = ["site"]  # the fixture, shared with test_browser.py


async def test_a_held_gate_is_asked_again_from_its_page(site: tuple[str, Stack], tmp_path: Path) -> None:
    base, stack = site
    handle = await stack.start_launch(days_ahead=2, gate={"on_reject": "owner"})
    async with httpx.AsyncClient(base_url=base) as api:
        await wait_for_action(api, handle.id, "approval_requested")
        await handle.execute_update(
            LaunchWorkflow.decide,
            DecisionInput(gate="go-no-go", approver="legal@example.com", decision=Decision.REJECT, comment="Name?"),
        )

        async def held() -> bool:
            return bool((await api.get(f"/api/processes/{handle.id}")).json().get("held"))

        await eventually(held, "the gate to be held")
        shots = tmp_path / "screenshots"
        shots.mkdir()

        async with playwright_api.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(f"{base}/processes/{handle.id}")
            card = page.locator("#held")
            assert "Go / no-go was rejected" in await card.inner_text() and "Name?" in await card.inner_text()
            assert await card.get_by_role("radio").count() == 2  # re-run or end: an approval is not skipped
            assert await fits_the_screen(page), "the held step's form scrolls sideways on a phone"
            assert await unlabelled(page) == []
            await page.screenshot(path=shots / "0-held.png", full_page=True)

            await card.get_by_label("Run it again").check()
            await card.get_by_label("Why").fill("Renamed the product.")
            await card.get_by_role("button", name="Send my word").click()
            said = await page.locator("#said").inner_text()
            assert "Go / no-go runs again" in said and "Renamed the product." in said
            await page.screenshot(path=shots / "1-asked-again.png", full_page=True)
            await browser.close()

        events = await wait_for_action(api, handle.id, "step_rerun")
        [rerun] = [e for e in events if e["action"] == "step_rerun"]
        assert rerun["actor"] == "admin@localhost" and rerun["details"]["reason"] == "Renamed the product."
    await handle.cancel()
