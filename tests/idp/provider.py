"""A real OpenID Connect provider for tests: npm's `oidc-provider` under node (tests/idp/provider.mjs).

with OpenIdProvider([client_metadata("signoff", "secret", [callback])], {"alice": {"email": ...}}) as idp:
    ...  # point the relying party at idp.metadata_url; sign_in(...) plays the user at its login form
"""

from __future__ import annotations

import collections
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

HERE = Path(__file__).resolve().parent
LOCKFILE = HERE / "package-lock.json"
INSTALLED = HERE / "node_modules" / ".package-lock.json"
"""npm writes this after an install, so it is older than LOCKFILE only when the lock has moved on since."""


def client_metadata(
    client_id: str,
    client_secret: str,
    redirect_uris: Sequence[str],
    token_endpoint_auth_method: str = "client_secret_post",
) -> dict[str, Any]:
    """oidc-provider metadata for a confidential client using the authorization code flow."""
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": list(redirect_uris),
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": token_endpoint_auth_method,
    }


def _installed() -> bool:
    return INSTALLED.exists() and INSTALLED.stat().st_mtime >= LOCKFILE.stat().st_mtime


def ensure_installed() -> None:
    """`npm ci` the provider's packages when missing or stale; skips the test when npm is absent."""
    if _installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("the OpenID provider for tests needs Node.js and npm on PATH (tests/idp/package.json)")
    # One install at a time: pytest-xdist workers start together, and npm ci first deletes node_modules.
    with LOCKFILE.open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():  # another worker did it while this one waited
            return
        done = subprocess.run(
            [npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--silent"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm ci in {HERE} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


class OpenIdProvider:
    """oidc-provider on a free loopback port with the given clients and accounts, as a context manager.

    `accounts` maps a login name (also the `sub`) to its claims: email, email_verified, name.
    """

    def __init__(
        self,
        clients: Sequence[Mapping[str, Any]],
        accounts: Mapping[str, Mapping[str, Any]],
        *,
        port: int = 0,
        start_timeout: float = 30,
    ) -> None:
        self.clients = [dict(client) for client in clients]
        self.accounts = {login: dict(claims) for login, claims in accounts.items()}
        self.port = port
        self.start_timeout = start_timeout
        self.issuer = ""
        self.process: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=200)
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def metadata_url(self) -> str:
        """The discovery document, what Authlib's `server_metadata_url` wants."""
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def output(self) -> str:
        """The provider's last lines of stdout and stderr, for failure messages."""
        return "\n".join(self._output)

    def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.skip("the OpenID provider for tests needs Node.js on PATH (tests/idp/provider.mjs)")
        ensure_installed()
        env = {
            **os.environ,
            "IDP_PORT": str(self.port),  # 0: the provider binds first and reports its issuer, so no port race
            "IDP_CLIENTS": json.dumps(self.clients),
            "IDP_ACCOUNTS": json.dumps(self.accounts),
        }
        env.pop("IDP_ISSUER", None)
        self.process = subprocess.Popen(
            [node, str(HERE / "provider.mjs")],
            cwd=HERE,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True, name="openid-provider-output")
        self._reader.start()
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise

    def _read(self) -> None:
        # Drained to the end so the child never blocks on a full pipe.
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self._output.append(line)
            if not self._ready.is_set() and line.startswith("ready "):
                self.issuer = line.removeprefix("ready ").strip()
                self._ready.set()

    def _wait_until_answering(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.wait(0.05):
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited ({self.process.returncode}):\n{self.output}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the OpenID provider did not start in {self.start_timeout} s:\n{self.output}")
        while True:
            try:
                if httpx.get(self.metadata_url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.metadata_url} did not answer in {self.start_timeout} s:\n{self.output}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader is not None:
            self._reader.join(5)

    def __enter__(self) -> OpenIdProvider:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SignInError(Exception):
    """The provider's pages did not lead back to the relying party."""


class SignInRefused(SignInError):
    """The provider asked for the login again: it does not know that account."""


@dataclass
class _Form:
    action: str
    method: str
    hidden: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(values.get("action", ""), values.get("method", "get").lower()))
            self._open = True
        elif tag == "input" and self._open and values.get("type") == "hidden" and "name" in values:
            self.forms[-1].hidden[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def sign_in(
    client: httpx.Client, authorize_url: str, login: str, *, password: str = "any password", max_steps: int = 10
) -> str:
    """Play the user at the provider, from the authorization URL the relying party redirected to.

    Fills in the quick-start login form (any password) and the consent form, skipping whichever the
    provider does not show (a session it already has), and returns the URL it then redirects to at the
    relying party, not followed: GET it on the app, with the app's cookies. `client` must reach the
    provider over the network (not a Starlette TestClient); it keeps the provider's cookies.
    Raises SignInRefused for a login the provider does not know.
    """
    provider = _origin(authorize_url)
    method, url, data = "GET", authorize_url, None
    shown: set[str] = set()
    for _ in range(max_steps):
        response = client.request(method, url, data=data, follow_redirects=False)
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if _origin(target) != provider:
                return target
            method, url, data = "GET", target, None
            continue
        if response.status_code != 200:
            raise SignInError(f"{method} {url} answered {response.status_code}: {response.text[:1000]}")
        parser = _Forms()
        parser.feed(response.text)
        form = next((form for form in parser.forms if "prompt" in form.hidden), None)
        if form is None and len(parser.forms) == 1 and parser.forms[0].method == "post":
            # A page that submits itself by script: signing out the session's other account first (a
            # switch of login in one browser). Submit it as the browser would, if it stays at the provider.
            form = parser.forms[0]
            url = urljoin(str(response.url), form.action)
            if _origin(url) != provider:
                raise SignInError(f"the provider posts a form to {url}; sign_in follows only redirects there")
            method, data = "POST", dict(form.hidden)
            continue
        if form is None:
            raise SignInError(f"{url} shows no login or consent form: {response.text[:1000]}")
        prompt = form.hidden["prompt"]
        if prompt in shown:
            if prompt == "login":
                raise SignInRefused(f"the provider asked for the login again after {login!r}: no such account")
            raise SignInError(f"the provider showed its {prompt!r} form twice")
        shown.add(prompt)
        if prompt == "login":
            data = {**form.hidden, "login": login, "password": password}
        elif prompt == "consent":
            data = dict(form.hidden)
        else:
            raise SignInError(f"{url} asks for {prompt!r}, which sign_in does not know")
        method, url = form.method.upper(), urljoin(str(response.url), form.action)
    raise SignInError(f"no redirect to the relying party after {max_steps} steps from {authorize_url}")
