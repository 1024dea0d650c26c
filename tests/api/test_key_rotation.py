"""Rotating the signing key: links mailed before it still open and decide; a dropped key's links do not."""

from __future__ import annotations

from datetime import date

import httpx

from api.tokens import ApprovalTokens
from config.settings import Settings
from tests.api.conftest import client_of
from tests.api.helpers import APPROVERS, approval_links, forms_of, launch_params, path_of, start, text_of, view
from tests.conftest import SECRET, Stack
from workers.wiring import build_tokens

VP = APPROVERS[0]
NEW_KEY = "the-key-after-the-rotation"


def tokens_for(secret_key: str, fallbacks: str | None = None) -> ApprovalTokens:
    """The approval tokens the web service builds from these settings."""
    settings = Settings(_env_file=None, secret_key=secret_key, secret_key_fallbacks=fallbacks)
    return build_tokens(settings)


async def mailed_link(stack: Stack, today: date) -> tuple[str, str]:
    """A launch whose gate is open, and the VP's link as mailed under the old key (the stack's)."""
    async with client_of(stack, today) as before:
        pid = (await start(before, launch_params(today)))["id"]
        links = await approval_links(before, pid)
    return pid, path_of(links[VP])


async def approve(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """Open the page at `path` and post its form, as the approver's browser would."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    form = forms_of(page.text)[0]  # the decision (the second hands it on)
    [token] = [f["value"] for f in form["fields"] if f["name"] == "form_token"]
    return await client.post(path, data={"decision": "approve", "comment": "", "form_token": token})


async def test_a_link_mailed_before_the_rotation_opens_and_decides_after_it(stack: Stack, today: date) -> None:
    pid, path = await mailed_link(stack, today)

    async with client_of(stack, today, tokens=tokens_for(NEW_KEY, fallbacks=SECRET)) as after:
        decided = await approve(after, path)

        assert decided.status_code == 200, decided.text
        assert [(a["approver"], a["decision"]) for a in (await view(after, pid))["approvals"]] == [(VP, "approve")]


async def test_a_link_whose_key_was_dropped_is_400(stack: Stack, today: date) -> None:
    pid, path = await mailed_link(stack, today)

    async with client_of(stack, today, tokens=tokens_for(NEW_KEY)) as after:
        shown = await after.get(path)
        posted = await after.post(path, data={"decision": "approve", "comment": "", "form_token": "x"})

        assert (shown.status_code, posted.status_code) == (400, 400)
        assert "this approval link is not valid" in text_of(shown.text)
        assert (await view(after, pid))["approvals"] == []
