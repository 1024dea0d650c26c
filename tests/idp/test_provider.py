"""The test OpenID provider end to end, by hand with httpx: no relying-party library in between."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests.idp import OpenIdProvider, SignInRefused, client_metadata, sign_in

REDIRECT = "http://127.0.0.1:9/callback"  # never requested: sign_in stops at the redirect to it
SECRET = "client-secret"
ALICE = {"email": "alice@example.com", "email_verified": True, "name": "Alice Example"}
BOB = {"email": "bob@example.com", "email_verified": False, "name": "Bob Example"}


@pytest.fixture(scope="module")
def idp() -> Iterator[OpenIdProvider]:
    clients = [
        client_metadata("signoff", SECRET, [REDIRECT]),
        client_metadata("basic", SECRET, [REDIRECT], "client_secret_basic"),
    ]
    with OpenIdProvider(clients, {"alice": ALICE, "bob": BOB}) as provider:
        yield provider


@pytest.fixture(scope="module")
def discovery(idp: OpenIdProvider) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(idp.metadata_url).raise_for_status().json()
    return document


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _verified_claims(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The payload of an RS256 JWT, after checking its signature against the JWKS (RSASSA-PKCS1-v1_5)."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(_b64decode(header_b64))
    assert header["alg"] == "RS256"
    key = next(key for key in jwks["keys"] if key["kid"] == header["kid"])
    n, e = (int.from_bytes(_b64decode(key[name]), "big") for name in ("n", "e"))
    size = (n.bit_length() + 7) // 8
    sha256_prefix = bytes.fromhex("3031300d060960864801650304020105000420")  # DigestInfo, RFC 8017 9.2
    digest = sha256_prefix + hashlib.sha256(f"{header_b64}.{payload_b64}".encode()).digest()
    expected = b"\x00\x01" + b"\xff" * (size - 3 - len(digest)) + b"\x00" + digest
    assert pow(int.from_bytes(_b64decode(signature_b64), "big"), e, n).to_bytes(size, "big") == expected
    claims: dict[str, Any] = json.loads(_b64decode(payload_b64))
    return claims


@dataclass
class Authorization:
    url: str
    state: str
    nonce: str
    verifier: str


def _authorize(
    discovery: dict[str, Any],
    client_id: str = "signoff",
    scope: str = "openid email profile",
    **extra: str,
) -> Authorization:
    """What a relying party redirects the browser to: code flow, PKCE S256, state and nonce."""
    state, nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64encode(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
        **extra,
    }
    return Authorization(f"{discovery['authorization_endpoint']}?{urlencode(query)}", state, nonce, verifier)


def _callback_params(url: str) -> dict[str, str]:
    assert url.startswith(f"{REDIRECT}?"), url
    return dict(parse_qsl(urlsplit(url).query))


def _exchange(discovery: dict[str, Any], code: str, verifier: str, client_id: str = "signoff") -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    if client_id == "basic":
        return httpx.post(discovery["token_endpoint"], data=form, auth=(client_id, SECRET))
    return httpx.post(discovery["token_endpoint"], data={**form, "client_id": client_id, "client_secret": SECRET})


def test_discovery(idp: OpenIdProvider, discovery: dict[str, Any]) -> None:
    assert idp.issuer.startswith("http://127.0.0.1:")
    assert discovery["issuer"] == idp.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert discovery[endpoint].startswith(f"{idp.issuer}/")
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert "code" in discovery["response_types_supported"]
    assert {"openid", "email", "profile"} <= set(discovery["scopes_supported"])
    assert {"sub", "email", "email_verified", "name"} <= set(discovery["claims_supported"])
    assert {"client_secret_post", "client_secret_basic"} <= set(discovery["token_endpoint_auth_methods_supported"])


def test_code_flow_with_pkce(idp: OpenIdProvider, discovery: dict[str, Any]) -> None:
    request = _authorize(discovery)
    with httpx.Client() as browser:
        params = _callback_params(sign_in(browser, request.url, "alice"))
    assert params["state"] == request.state
    assert params["iss"] == idp.issuer  # RFC 9207, which Authlib checks when the metadata announces it

    tokens = _exchange(discovery, params["code"], request.verifier).raise_for_status().json()
    id_token = _verified_claims(tokens["id_token"], httpx.get(discovery["jwks_uri"]).json())
    assert id_token["iss"] == idp.issuer
    assert id_token["aud"] == "signoff"
    assert id_token["nonce"] == request.nonce
    assert {key: id_token[key] for key in ("sub", *ALICE)} == {"sub": "alice", **ALICE}

    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    userinfo = httpx.get(discovery["userinfo_endpoint"], headers=bearer).raise_for_status().json()
    assert userinfo == {"sub": "alice", **ALICE}

    again = _exchange(discovery, params["code"], request.verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # a code is good once


def test_claims_follow_the_scope_and_basic_auth(discovery: dict[str, Any]) -> None:
    request = _authorize(discovery, client_id="basic", scope="openid email")
    with httpx.Client() as browser:
        params = _callback_params(sign_in(browser, request.url, "alice"))
    tokens = _exchange(discovery, params["code"], request.verifier, client_id="basic").raise_for_status().json()
    id_token = json.loads(_b64decode(tokens["id_token"].split(".")[1]))
    assert id_token["email"] == ALICE["email"]
    assert "name" not in id_token


def test_a_wrong_verifier_gets_no_tokens(discovery: dict[str, Any]) -> None:
    request = _authorize(discovery)
    with httpx.Client() as browser:
        params = _callback_params(sign_in(browser, request.url, "alice"))
    response = _exchange(discovery, params["code"], secrets.token_urlsafe(48))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_pkce_is_required(discovery: dict[str, Any]) -> None:
    url = _authorize(discovery).url
    without = urlencode([(k, v) for k, v in parse_qsl(urlsplit(url).query) if not k.startswith("code_challenge")])
    with httpx.Client() as browser:
        params = _callback_params(sign_in(browser, f"{discovery['authorization_endpoint']}?{without}", "alice"))
    assert params["error"] == "invalid_request"
    assert "code" not in params


def test_an_unknown_login_is_refused(discovery: dict[str, Any]) -> None:
    with httpx.Client() as browser:
        with pytest.raises(SignInRefused):
            sign_in(browser, _authorize(discovery).url, "mallory")
        request = _authorize(discovery)  # the same browser can still sign in as someone the provider knows
        params = _callback_params(sign_in(browser, request.url, "alice"))
    assert params["state"] == request.state and "code" in params


def test_a_signed_in_browser_goes_straight_back(discovery: dict[str, Any]) -> None:
    posts: list[str] = []

    def count_posts(request: httpx.Request) -> None:
        if request.method == "POST":
            posts.append(str(request.url))

    with httpx.Client(event_hooks={"request": [count_posts]}) as browser:
        sign_in(browser, _authorize(discovery).url, "alice")
        assert len(posts) == 2  # the login form, then the consent form
        request = _authorize(discovery)
        params = _callback_params(sign_in(browser, request.url, "alice"))
    assert len(posts) == 2  # the provider's session and grant: no forms the second time
    assert params["state"] == request.state and "code" in params


def test_another_account_in_the_same_browser(discovery: dict[str, Any]) -> None:
    with httpx.Client() as browser:
        sign_in(browser, _authorize(discovery).url, "alice")
        request = _authorize(discovery, scope="openid email", prompt="login")
        params = _callback_params(sign_in(browser, request.url, "bob"))
    tokens = _exchange(discovery, params["code"], request.verifier).raise_for_status().json()
    id_token = json.loads(_b64decode(tokens["id_token"].split(".")[1]))
    assert (id_token["sub"], id_token["email"], id_token["email_verified"]) == ("bob", BOB["email"], False)
