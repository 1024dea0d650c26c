"""The API's own pages (`/docs`, `/redoc`) load every file from the app itself, under a policy that allows just that.

They need none of the services (no Temporal, no store), so the app here is
built over a stand-in; tests/e2e/test_api_docs_browser.py renders them in
chromium with every other address blocked.
"""

from __future__ import annotations

import re
from base64 import b64encode
from collections.abc import AsyncIterator
from hashlib import sha256
from unittest.mock import MagicMock

import httpx
import pytest

from api.app import create_app

SRC = re.compile(r"""(?:src|href)=["']?([^"'\s>]+)""")
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(MagicMock()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        yield client


def directives(csp: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as directive → sources."""
    return {name: sources for name, *sources in (part.split() for part in csp.split(";") if part.strip())}


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", ["/docs/assets/swagger-ui.css", "/docs/assets/favicon.png", "/docs/assets/swagger-ui-bundle.js"]),
        ("/redoc", ["/docs/assets/favicon.png", "/docs/assets/redoc.standalone.js"]),
    ],
)
async def test_an_api_page_loads_only_the_apps_own_files(
    client: httpx.AsyncClient, page: str, assets: list[str]
) -> None:
    response = await client.get(page)

    assert response.status_code == 200
    assert SRC.findall(response.text) == assets
    assert "http" not in response.text.replace("http-equiv", ""), "no address of another site, not even a font"


@pytest.mark.parametrize(
    ("asset", "content_type", "starts"),
    [
        ("swagger-ui-bundle.js", "text/javascript", b"/*! For license information"),
        ("swagger-ui.css", "text/css", b".swagger-ui"),
        ("redoc.standalone.js", "text/javascript", b"/*! For license information"),
        ("favicon.png", "image/png", b"\x89PNG"),
    ],
)
async def test_each_file_is_served_with_its_type(
    client: httpx.AsyncClient, asset: str, content_type: str, starts: bytes
) -> None:
    response = await client.get(f"/docs/assets/{asset}")

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.content.lstrip().startswith(starts)
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_nothing_else_is_served_from_the_assets_folder(client: httpx.AsyncClient) -> None:
    for name in ["__init__.py", "..%2Fcore.py", "swagger-ui.js"]:
        assert (await client.get(f"/docs/assets/{name}")).status_code == 404, name


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_the_policy_allows_this_site_and_the_pages_own_inline_script_only(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    policy = directives(response.headers["content-security-policy"])
    scripts = INLINE_SCRIPT.findall(response.text)
    inline = [f"'sha256-{b64encode(sha256(script.encode()).digest()).decode()}'" for script in scripts]

    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'", *inline]
    assert len(inline) == (0 if page == "/redoc" else 1)
    assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert not any("http" in source or source == "*" for sources in policy.values() for source in sources)
    assert response.headers["x-frame-options"] == "DENY"


async def test_the_other_pages_keep_the_policy_without_scripts(client: httpx.AsyncClient) -> None:
    for path in ["/openapi.json", "/docs/assets/swagger-ui.css", "/docs/assets/none"]:
        assert "script-src" not in (await client.get(path)).headers["content-security-policy"], path
