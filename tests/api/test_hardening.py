"""A request too big is refused before it costs anything (413 on every route); pages say how browsers may use them."""

from __future__ import annotations

import time
from datetime import date, timedelta

import httpx
import pytest

from api.app import MAX_REQUEST_BYTES
from tests.api.helpers import launch_params, start, view, wait_until_idle
from tests.conftest import PUBLIC_URL


@pytest.mark.parametrize("path", ["/api/processes", "/start", "/approve/any-token", "/hooks/events", "/logout"])
async def test_a_body_over_the_cap_is_413_on_every_route(app_client: httpx.AsyncClient, path: str) -> None:
    ten_mb = b'{"kind": "launch", "params": {"channel": "' + b"x" * (10 * 1024 * 1024) + b'"}}'
    began = time.perf_counter()

    response = await app_client.post(path, content=ten_mb, headers={"content-type": "application/json"})

    assert response.status_code == 413, response.text[:200]
    assert time.perf_counter() - began < 5
    assert (await app_client.get("/healthz")).status_code == 200


async def test_a_body_at_the_cap_is_read(app_client: httpx.AsyncClient) -> None:
    body = b'{"kind": "no-such-kind", "params": {}}'
    body += b" " * (MAX_REQUEST_BYTES - len(body))

    response = await app_client.post("/api/processes", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 422, "read and refused for what it says, not for its size"


async def test_every_page_carries_the_security_headers_and_an_approval_page_is_not_stored(
    app_client: httpx.AsyncClient,
) -> None:
    for path in ["/", "/outbox", "/start", "/api/processes", "/approve/not-a-link"]:
        response = await app_client.get(path)

        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src" not in csp and "default-src 'none'" in csp, path
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert (await app_client.get("/approve/not-a-link")).headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
async def test_another_sites_page_cannot_change_anything_even_in_dev_mode(
    app_client: httpx.AsyncClient, today: date, headers: dict[str, str]
) -> None:
    pid = (await start(app_client, launch_params(today + timedelta(days=30))))["id"]
    await wait_until_idle(app_client, pid)

    cancel = await app_client.post(f"/api/processes/{pid}/cancel", headers=headers)  # a form with no body
    done = await app_client.post(f"/api/processes/{pid}/items/documentation/done", headers=headers)

    assert (cancel.status_code, done.status_code) == (403, 403)
    assert "not from another site" in cancel.json()["detail"]
    process = await view(app_client, pid)
    assert process["status"] != "cancelled"
    assert {i["key"]: i["status"] for i in process["items"]}["documentation"] == "open"
    same_site = await app_client.post(f"/api/processes/{pid}/cancel", headers={"Origin": PUBLIC_URL})
    assert same_site.status_code == 200, "this site's own page (and a client with no Origin) still may"


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:99999", "http://[::1", "http://127.0.0.1:18090.evil.com", "http://a:-1"]
)
async def test_a_malformed_origin_is_another_sites_not_an_error(app_client: httpx.AsyncClient, origin: str) -> None:
    response = await app_client.post("/api/processes/no-such-process/cancel", headers={"Origin": origin})

    assert response.status_code == 403, response.text
    assert "not from another site" in response.json()["detail"]


async def test_dev_mode_is_for_this_machine_by_name_not_a_page_rebinding_a_name_to_it(
    app_client: httpx.AsyncClient,
) -> None:
    rebound = await app_client.get("/api/outbox", headers={"Host": "rebind.attacker.test:8080"})
    local = await app_client.get("/api/me", headers={"Host": "localhost:8080"})

    assert rebound.status_code == 401
    assert (local.status_code, local.json()["via"]) == (200, "dev mode")


async def test_a_route_anyone_may_use_ignores_a_credential_that_proves_nothing(app_client: httpx.AsyncClient) -> None:
    for headers in ({"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer signoff_nothing"}):
        assert (await app_client.get("/healthz", headers=headers)).status_code == 200
        assert (await app_client.get("/approve/not-a-link", headers=headers)).status_code == 400  # as without
