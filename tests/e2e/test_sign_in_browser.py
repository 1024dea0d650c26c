"""Signing in from Debian's chromium through a real OpenID provider (npm's oidc-provider), and signing out.

The browser asks for the process list, is sent to the provider, fills in its
login and consent forms, comes back signed in, sees who it is, and signs out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import Authenticator
from api.deps import Services
from api.routes.sign_in import openid_client
from api.service import Processes
from config.settings import AuthSettings
from config.templates import load_template
from domain.access import Role
from integrations.people import People
from tests.conftest import running_stack
from tests.e2e.test_browser import CHROMIUM, FLAGS, free_port, playwright_api
from tests.idp import OpenIdProvider, client_metadata

ACCOUNTS = {"alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice"}}


@pytest.fixture
async def signed_site(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[str]:
    """The web service on a port, with sign-in through a provider that knows alice, a member."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    clients = [client_metadata("signoff", "browser-secret", [f"{base}/auth/callback"])]
    with OpenIdProvider(clients, ACCOUNTS) as provider:
        async with running_stack(env, tmp_path, public_url=base) as stack:
            people = People(stack.store.engine)
            people.add("alice@example.com", Role.MEMBER, by="tests")
            today = await stack.today()
            settings = AuthSettings(
                oidc_issuer=provider.issuer, oidc_client_id="signoff", oidc_client_secret="browser-secret"
            )
            services = Services(
                processes=Processes(stack.client, stack.task_queue, load_template, today=lambda: today),
                store=stack.store,
                auth=Authenticator(people, sign_in_url="/login"),
                tokens=stack.tokens,
                public_url=base,
                sign_in=openid_client(settings),
            )
            config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning")
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.05)
            try:
                yield base
            finally:
                server.should_exit = True
                await serving


async def test_a_person_signs_in_from_the_browser_and_out_again(signed_site: str, tmp_path: Path) -> None:
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page()

        await page.goto(f"{signed_site}/")  # no session: off to the provider
        await page.locator("input[name=login]").fill("alice")
        await page.locator("input[name=password]").fill("any password")
        await page.locator("button[type=submit]").first.click()
        await page.locator("button[type=submit]").first.click()  # the provider's consent
        await page.wait_for_url(f"{signed_site}/")
        await page.screenshot(path=tmp_path / "signed-in.png", full_page=True)

        assert "alice@example.com · member" in await page.locator("header").inner_text()
        await page.get_by_role("button", name="Sign out").click()
        assert "You are signed out" in await page.locator("h1").inner_text()
        await page.goto(f"{signed_site}/api/me")
        assert "who is asking?" in await page.locator("body").inner_text()
        await browser.close()
