"""Every route, asked by everyone: the app answers exactly what docs/security.md's table says.

The table in the docs, the table in api/access.py and the routes the app
serves are the same three lists (a new route without a rule fails here);
then each route is called as an outsider, a viewer, a member, the process's
owner, an item's owner and an admin, each proven by a real token.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from api.access import ROUTES, routes_of
from api.app import create_app
from api.auth import Authenticator
from api.routes.outbox import HIDDEN
from domain.access import Need, Role
from integrations.people import People
from tests.api.conftest import bearer, client_of
from tests.api.helpers import OWNER, launch_params, path_of, wait_until_idle
from tests.api.test_comms import CS, review_links, start_comms
from tests.conftest import Stack

SECURITY_MD = Path(__file__).parents[2] / "docs" / "security.md"
ROW = re.compile(r"^\| `(GET|POST|DELETE)` \| `([^`]+)` \| ([a-z ]+) \|", re.MULTILINE)

WHO = ["outsider", "viewer", "member", "process owner", "item owner", "admin"]
"""Who asks; the item owner is a viewer elsewhere, the process owner a member."""

ALLOWED: dict[Need, set[str]] = {
    Need.VIEWER: set(WHO) - {"outsider"},
    Need.MEMBER: {"member", "process owner", "admin"},
    Need.PROCESS_OWNER: {"process owner", "admin"},
    Need.ITEM_OWNER: {"item owner", "process owner", "admin"},
    Need.ADMIN: {"admin"},
    # Any member gets as far as the schedule, which the time-skipping server cannot hold (503): who made it is
    # held by tests/integration/test_schedules.py, on the dev server.
    Need.SCHEDULE_OWNER: {"member", "process owner", "admin"},
}
ITEM = "documentation"
"""A launch item whose owner is docs@example.com (launch_params' owners)."""


def test_every_route_has_a_rule_and_the_docs_show_each() -> None:
    from unittest.mock import MagicMock

    served = routes_of(create_app(MagicMock()))
    documented = {(method, path): Need(need.strip()) for method, path, need in ROW.findall(SECURITY_MD.read_text())}

    assert served == set(ROUTES), "a route without a rule in api/access.py, or a rule without a route"
    assert documented == ROUTES, "docs/security.md's table differs from api/access.py's"


def test_a_mount_is_not_a_route_the_rules_hold() -> None:
    """A sub-app or static files mounted on the app bypass `authorize`: they show up as a route without a rule."""
    from unittest.mock import MagicMock

    from starlette.staticfiles import StaticFiles

    app = create_app(MagicMock())
    app.mount("/files", StaticFiles(directory=Path(__file__).parent))

    assert ("*", "/files") in routes_of(app) - set(ROUTES)


@pytest.fixture
async def guarded(stack: Stack, today: date) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the production rules on (no dev mode): every request proves who it is or is an outsider's."""
    async with client_of(stack, today, auth=Authenticator(People(stack.store.engine))) as client:
        yield client


def identities(stack: Stack) -> dict[str, dict[str, str]]:
    return {
        "outsider": {},
        "viewer": bearer(stack, "viewer@example.com", Role.VIEWER),
        "member": bearer(stack, "member@example.com", Role.MEMBER),
        "process owner": bearer(stack, OWNER, Role.MEMBER),
        "item owner": bearer(stack, "docs@example.com", Role.VIEWER),
        "admin": bearer(stack, "admin@example.com", Role.ADMIN),
    }


async def test_each_route_answers_each_caller_as_the_table_says(
    guarded: httpx.AsyncClient, app_client: httpx.AsyncClient, stack: Stack, today: date
) -> None:
    who = identities(stack)
    started = await guarded.post(
        "/api/processes",
        json={"kind": "launch", "params": launch_params(today + timedelta(days=30))},
        headers=who["admin"],
    )
    assert started.status_code == 201, started.text
    pid = started.json()["id"]
    await wait_until_idle(app_client, pid)  # (dev mode's client)
    wrong: list[str] = []

    # cancelling last: the other routes ask about a running process
    for (method, template), need in sorted(ROUTES.items(), key=lambda r: r[0][1].endswith("/cancel")):
        path = template.replace("{process_id}", pid).replace("{item}", ITEM).replace("{token}", "not-a-link")
        path = path.replace("{name}", "no-such-schedule")
        answers = {}
        for name in WHO:
            response = await guarded.request(
                method, path, headers=who[name], json={} if method == "POST" else None, follow_redirects=False
            )
            answers[name] = response.status_code
            if method == "GET":  # HEAD is GET's, without the body
                head = await guarded.head(path, headers=who[name], follow_redirects=False)
                if (head.status_code, head.content) != (response.status_code, b""):
                    wrong.append(f"HEAD {template} as {name}: {head.status_code}, GET {response.status_code}")
        if need is Need.ANYONE:
            if len(set(answers.values())) != 1:
                wrong.append(f"{method} {template} answers differently by caller: {answers}")
            continue
        for name, status in answers.items():
            expected = "let in" if name in ALLOWED[need] else ("401" if name == "outsider" else "403")
            got = "let in" if status not in (401, 403) else str(status)
            if got != expected:
                wrong.append(f"{method} {template} as {name}: {status}, expected {expected}")

    assert wrong == []


async def test_a_refusal_says_who_may(guarded: httpx.AsyncClient, stack: Stack) -> None:
    outsider = await guarded.get("/api/outbox")
    viewer = await guarded.get("/api/outbox", headers=bearer(stack, "viewer@example.com", Role.VIEWER))

    assert outsider.status_code == 401
    assert outsider.json()["detail"].startswith("who is asking? this needs a token")
    assert viewer.status_code == 403
    assert viewer.json()["detail"] == "this needs the admin role; viewer@example.com is a viewer"


async def test_a_bad_token_is_refused_not_ignored(guarded: httpx.AsyncClient, stack: Stack) -> None:
    people = People(stack.store.engine)
    headers = bearer(stack, "gone@example.com", Role.MEMBER)
    [token] = people.tokens("gone@example.com")

    assert (await guarded.get("/api/processes", headers=headers)).status_code == 200
    people.revoke(token.id)
    revoked = await guarded.get("/api/processes", headers=headers)
    mistyped = await guarded.get("/api/processes", headers={"Authorization": "Bearer signoff_nope"})
    basic = await guarded.get("/api/processes", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert [revoked.status_code, mistyped.status_code, basic.status_code] == [401, 401, 401]
    assert "revoked or expired" in revoked.json()["detail"]
    assert "Bearer" in basic.json()["detail"]


async def test_the_actor_header_is_not_believed(guarded: httpx.AsyncClient) -> None:
    response = await guarded.get("/api/processes", headers={"X-Signoff-Actor": "ceo@example.com"})

    assert response.status_code == 401


async def test_the_outbox_is_no_side_door(
    guarded: httpx.AsyncClient, app_client: httpx.AsyncClient, stack: Stack
) -> None:
    pid = (await start_comms(app_client))["id"]  # reviewers CS and eng@ are asked at once
    links = await review_links(app_client, pid)  # (dev mode shows every link whole)
    admin, reviewer_admin = bearer(stack, "admin@example.com", Role.ADMIN), bearer(stack, CS, Role.ADMIN)

    seen_by_admin = (await guarded.get("/api/outbox", params={"process": pid}, headers=admin)).json()
    seen_by_reviewer = (await guarded.get("/api/outbox", params={"process": pid}, headers=reviewer_admin)).json()
    page = (await guarded.get("/outbox", params={"process": pid}, headers=admin)).text

    assert seen_by_admin and not any(path_of(link) in e["body"] for e in seen_by_admin for link in links.values())
    assert any(HIDDEN in e["body"] for e in seen_by_admin)
    assert not any(path_of(link) in str(e["meta"]) for e in seen_by_admin for link in links.values())
    assert any(e["meta"].get("approval_url") == HIDDEN for e in seen_by_admin)  # the request keeps its link
    assert path_of(links[CS]) not in page
    mine = [e for e in seen_by_reviewer if CS in e["to"]]
    assert mine and all(path_of(links[CS]) in e["body"] for e in mine if "/approve/" in e["body"])
    assert not any(path_of(links["eng@example.com"]) in e["body"] for e in seen_by_reviewer)


async def test_a_proxys_header_is_believed_from_the_proxy_alone(stack: Stack, today: date) -> None:
    people = People(stack.store.engine)
    people.add("pat@example.com", Role.MEMBER, by="tests")
    auth = Authenticator(people, proxy_header="X-Forwarded-Email", proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    elsewhere = Authenticator(people, proxy_header="X-Forwarded-Email", proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    iap = {"X-Forwarded-Email": "accounts.google.com:PAT@example.com"}  # Google IAP's shape

    async with client_of(stack, today, auth=auth) as from_the_proxy:  # the test client comes from 127.0.0.1
        me = (await from_the_proxy.get("/api/me", headers=iap)).json()
        stranger = await from_the_proxy.get("/api/me", headers={"X-Forwarded-Email": "nobody@else.test"})
    async with client_of(stack, today, auth=elsewhere) as not_from_it:
        spoofed = await not_from_it.get("/api/me", headers=iap)

    assert (me["email"], me["role"], me["via"]) == ("pat@example.com", "member", "proxy")
    assert stranger.status_code == 200 and stranger.json()["role"] == "viewer"  # the default role, any domain
    assert spoofed.status_code == 401


async def test_a_member_starts_only_processes_they_own(guarded: httpx.AsyncClient, stack: Stack, today: date) -> None:
    """Else a member could name the CEO the owner, themselves the approver, and approve their own launch."""
    mallory = bearer(stack, "mallory@example.com", Role.MEMBER)
    params = launch_params(today + timedelta(days=30), approvers=["mallory@example.com"])

    as_ceo = await guarded.post("/api/processes", json={"kind": "launch", "params": params}, headers=mallory)
    unnamed = {k: v for k, v in params.items() if k != "owner"}
    as_herself = await guarded.post("/api/processes", json={"kind": "launch", "params": unnamed}, headers=mallory)
    admin = bearer(stack, "admin@example.com", Role.ADMIN)
    for_someone = await guarded.post("/api/processes", json={"kind": "launch", "params": params}, headers=admin)

    assert as_ceo.status_code == 403
    assert as_ceo.json()["detail"].startswith("you start processes you own: owner must be mallory@example.com")
    assert as_herself.status_code == 422, "owner left out is her, and she cannot approve her own launch"
    assert "cannot approve their own launch" in as_herself.text
    assert for_someone.status_code == 201, for_someone.text
