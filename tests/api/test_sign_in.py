"""Signing in through a real OpenID Connect provider (npm's oidc-provider), over HTTP as a browser would.

The app's Authlib client fetches the provider's discovery document, keys and
tokens over real HTTP; the test walks the browser's part: /login, the
provider's login and consent forms, back to /auth/callback with the code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from api.auth import Authenticator
from api.routes.sign_in import openid_client
from config.settings import AuthSettings
from domain.access import Role
from integrations.people import People
from tests.api.conftest import client_of
from tests.conftest import PUBLIC_URL, Stack
from tests.idp import OpenIdProvider, client_metadata, sign_in

CLIENT_ID, CLIENT_SECRET = "signoff", "signoff-client-secret"
ACCOUNTS = {
    "alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice"},
    "newcomer": {"email": "newcomer@example.com", "email_verified": True, "name": "New"},
    "outsider": {"email": "mallory@elsewhere.test", "email_verified": True, "name": "Mallory"},
    "unverified": {"email": "unverified@example.com", "email_verified": False, "name": "U"},
    "unsaid": {"email": "unsaid@example.com", "name": "No email_verified claim at all (as Entra ID sends)"},
}


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    clients = [client_metadata(CLIENT_ID, CLIENT_SECRET, [f"{PUBLIC_URL}/auth/callback"])]
    with OpenIdProvider(clients, ACCOUNTS) as running:
        yield running


def authenticator(stack: Stack, **overrides: object) -> Authenticator:
    people = People(stack.store.engine)
    if people.person("alice@example.com") is None:
        people.add("alice@example.com", Role.MEMBER, by="tests")
    settings = {"sign_in_url": "/login", "allowed_domains": frozenset({"example.com"})} | overrides
    return Authenticator(people, **settings)  # type: ignore[arg-type]


@pytest.fixture
async def browser(provider: OpenIdProvider, stack: Stack, today: date) -> AsyncIterator[httpx.AsyncClient]:
    """The app with sign-in through `provider` (no dev mode): the client keeps its cookies, as a browser does."""
    sign_in_with = openid_client(AuthSettings(oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
                                              oidc_client_secret=CLIENT_SECRET))  # fmt: skip
    async with client_of(stack, today, auth=authenticator(stack), sign_in=sign_in_with) as client:
        yield client


async def signs_in(app: httpx.AsyncClient, login: str, start: str = "/login") -> httpx.Response:
    """The browser's walk: to the provider and back; the app's answer to the callback."""
    to_provider = await app.get(start)
    assert to_provider.status_code == 302, to_provider.text
    with httpx.Client(timeout=30) as at_provider:
        back = await asyncio.to_thread(sign_in, at_provider, to_provider.headers["location"], login)
    parts = urlsplit(back)
    return await app.get(f"{parts.path}?{parts.query}")


async def test_a_listed_person_signs_in_acts_as_themselves_and_signs_out(browser: httpx.AsyncClient) -> None:
    assert (await browser.get("/api/me")).status_code == 401

    answer = await signs_in(browser, "alice")

    assert (answer.status_code, answer.headers["location"]) == (303, "/")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    me = (await browser.get("/api/me")).json()
    assert (me["email"], me["role"], me["via"]) == ("alice@example.com", "member", "sign-in")
    assert "alice@example.com · member" in (await browser.get("/")).text
    assert (await browser.post("/logout")).status_code == 200
    assert (await browser.get("/api/me")).status_code == 401


async def test_a_page_sends_a_stranger_to_sign_in_and_back_to_the_page(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/outbox?process=x")

    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Foutbox")
    answer = await signs_in(browser, "alice", start=page.headers["location"])
    assert answer.headers["location"] == "/outbox"
    assert (await browser.get("/outbox")).status_code == 403  # alice is a member; the outbox is the admins'


async def test_someone_unlisted_from_an_allowed_domain_gets_the_default_role(browser: httpx.AsyncClient) -> None:
    await signs_in(browser, "newcomer")

    assert (await browser.get("/api/me")).json()["role"] == "viewer"


@pytest.mark.parametrize(
    ("login", "says"),
    [
        ("outsider", "mallory@elsewhere.test is not from a domain allowed to sign in here"),
        ("unverified", "signoff needs a verified one"),
        ("unsaid", "signoff needs a verified one"),
    ],
)
async def test_who_may_not_sign_in_is_told_why(browser: httpx.AsyncClient, login: str, says: str) -> None:
    answer = await signs_in(browser, login)

    assert answer.status_code == 403
    assert says in answer.text
    assert (await browser.get("/api/me")).status_code == 401


async def test_only_listed_people_when_there_is_no_default_role(
    provider: OpenIdProvider, stack: Stack, today: date
) -> None:
    sign_in_with = openid_client(AuthSettings(oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
                                              oidc_client_secret=CLIENT_SECRET))  # fmt: skip
    auth = authenticator(stack, default_role=None)
    async with client_of(stack, today, auth=auth, sign_in=sign_in_with) as app:
        answer = await signs_in(app, "newcomer")

    assert answer.status_code == 403
    assert "newcomer@example.com has no role here" in answer.text


async def test_a_session_ends_when_idle_and_when_old(provider: OpenIdProvider, stack: Stack, today: date) -> None:
    sign_in_with = openid_client(AuthSettings(oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
                                              oidc_client_secret=CLIENT_SECRET))  # fmt: skip
    now = [1_000_000.0]
    auth = authenticator(stack, session_idle=timedelta(hours=1), session_max=timedelta(hours=3), clock=lambda: now[0])
    async with client_of(stack, today, auth=auth, sign_in=sign_in_with) as app:
        await signs_in(app, "alice")
        for _ in range(3):  # busy: every 50 minutes, for 2 h 30
            now[0] += 50 * 60
            assert (await app.get("/api/me")).status_code == 200
        now[0] += 31 * 60  # past 3 h since signing in, though used 31 minutes ago
        assert (await app.get("/api/me")).status_code == 401

        await signs_in(app, "alice")
        now[0] += 61 * 60  # idle an hour and a minute
        assert (await app.get("/api/me")).status_code == 401


async def test_a_forged_session_cookie_proves_nobody(browser: httpx.AsyncClient) -> None:
    await signs_in(browser, "alice")
    value = browser.cookies["signoff_session"]
    browser.cookies.set("signoff_session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))

    assert (await browser.get("/api/me")).status_code == 401


async def test_a_callback_without_the_sign_in_that_started_it_is_refused(
    provider: OpenIdProvider, browser: httpx.AsyncClient
) -> None:
    answer = await browser.get("/auth/callback?code=stolen&state=made-up")

    assert answer.status_code == 401
    assert "sign-in did not complete" in answer.text
