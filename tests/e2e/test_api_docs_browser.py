"""`/docs` and `/redoc` render in Debian's chromium with every address but the app's blocked, and break no policy.

The browser is cut off from everything but the app (each other request is
aborted and recorded), so a page that still reached for a CDN would fail
here on a machine with the internet too. The app needs none of its services
to describe its API, so it runs over a stand-in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
import uvicorn

from api.app import create_app
from tests.e2e.test_browser import CHROMIUM, FLAGS, free_port, playwright_api

ATTRIBUTION = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""ReDoc's "API docs by Redocly" logo, an address written into its code: refused by the policy (as anything from
elsewhere is), ReDoc then leaves it out."""


@pytest.fixture
async def base() -> AsyncIterator[str]:
    """The app on a free loopback port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(MagicMock()), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def offline_page(browser: Any, base: str, elsewhere: list[str], refused: list[str]) -> Any:
    """A page that may load only from `base`: other requests are aborted into `elsewhere`, and what the
    Content-Security-Policy refuses is gathered into `refused`."""
    page = await browser.new_page()

    async def only_the_app(route: Any) -> None:
        if route.request.url.startswith(base):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_the_app)
    page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
    return page


async def test_swagger_ui_and_redoc_render_offline(base: str, tmp_path: Path) -> None:
    elsewhere: list[str] = []
    refused: list[str] = []
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await offline_page(browser, base, elsewhere, refused)

        await page.goto(f"{base}/docs")
        start = page.locator(".opblock-summary-path", has_text="/api/processes").first
        await start.wait_for(timeout=15_000)
        await page.screenshot(path=tmp_path / "docs.png")
        operations = await page.locator(".opblock").count()
        await page.locator(".opblock-summary", has_text="/healthz").first.click()  # the UI runs, not just draws
        await page.get_by_role("button", name="Try it out").first.wait_for(timeout=5_000)

        await page.goto(f"{base}/redoc")
        await page.get_by_text("Start a process", exact=False).first.wait_for(timeout=15_000)
        await page.screenshot(path=tmp_path / "redoc.png")
        await browser.close()

    assert operations >= 15, "Swagger UI lists the API's operations"
    assert elsewhere == [], "nothing is fetched from another site"
    assert [line for line in refused if ATTRIBUTION not in line] == [], "the pages' policy refuses nothing they need"
