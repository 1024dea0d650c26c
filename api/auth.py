"""Who is asking: the proven identity of a request (docs/security.md).

Tried in this order, the first that applies decides:

1. ``Authorization: Bearer TOKEN``: the token's person, with the lesser of
   the token's role and theirs (a bad token is refused, never ignored);
2. dev mode (``signoff dev`` without ``--auth``): a request from loopback is
   the local admin;
3. the session cookie of someone who signed in (OpenID Connect), within its
   idle and absolute lifetimes;
4. an identity-aware proxy's header, from a configured proxy address only.

Nothing proven is an anonymous request, which only the routes anyone may
use serve (`api.access`). ``X-Signoff-Actor`` is not believed: it is not read.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from config.settings import Settings
from domain.access import DEV_MODE, Caller, Role
from domain.enums import Channel
from domain.errors import Unauthenticated
from integrations.people import People

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

SESSION_SEEN_EVERY = 60
"""Seconds between two updates of a session's last use: the cookie is re-sent only when it changes."""


@dataclass
class Authenticator:
    """Proves who makes each request, from the settings' sign-in methods and the people signoff knows."""

    people: People
    dev_user: str | None = None
    """Dev mode: every loopback request is this admin."""
    dev_hosts: frozenset[str] = frozenset()
    """Host names dev mode answers to besides loopback's own (the public URL's)."""
    default_role: Role | None = Role.VIEWER
    """The role of a signed-in person signoff does not list; None lets only listed people in."""
    allowed_domains: frozenset[str] = frozenset()
    proxy_header: str | None = None
    proxies: tuple[Network, ...] = ()
    session_idle: timedelta = timedelta(hours=8)
    session_max: timedelta = timedelta(hours=24)
    sign_in_url: str | None = None
    """Where a person without a session is sent to sign in (``/login`` when a provider is set up)."""
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    """Signs the session cookie."""
    secure_cookies: bool = False
    """Send the session cookie over https only (signoff's public URL is https)."""
    clock: Callable[[], float] = time.time
    """Seconds since the epoch, for the sessions' lifetimes (tests move it)."""

    @classmethod
    def from_settings(cls, settings: Settings, people: People) -> Authenticator:
        """The authenticator `settings` describe; the session cookie is signed with a key derived from the
        approval links' (its own purpose, so neither signature stands for the other)."""
        key = settings.signing_key().get_secret_value()
        auth = settings.auth
        return cls(
            people=people,
            dev_user=auth.dev_user if auth.dev_mode else None,
            dev_hosts=frozenset({urlsplit(settings.public_url).hostname or ""}),
            default_role=None if auth.default_role == "none" else Role(auth.default_role),
            allowed_domains=frozenset(_listed(auth.allowed_domains.lower())),
            proxy_header=auth.proxy_header,
            proxies=tuple(ipaddress.ip_network(a, strict=False) for a in _listed(auth.proxy_addresses)),
            session_idle=timedelta(minutes=auth.session_idle_minutes),
            session_max=timedelta(hours=auth.session_hours),
            sign_in_url="/login" if auth.oidc_issuer and auth.oidc_client_id else None,
            session_secret=hmac.new(key.encode(), b"signoff session", hashlib.sha256).hexdigest(),
            secure_cookies=settings.public_url.startswith("https://"),
        )

    @property
    def dev_mode(self) -> bool:
        return self.dev_user is not None

    def caller(self, request: HTTPConnection) -> Caller | None:
        """Who makes `request`, proven; None if nobody is.

        Raises:
            Unauthenticated: the request carries a credential that proves nothing (a bad token).
        """
        channel = Channel.CLI if request.headers.get("x-signoff-channel") == "cli" else Channel.API
        if "authorization" in request.headers:
            return self._token_holder(request.headers["authorization"], channel)
        if self.dev_user and _loopback(request) and self._this_machine(request):
            return Caller(email=self.dev_user, role=Role.ADMIN, channel=channel, via=DEV_MODE)
        if "session" in request.scope and (email := self._session(request)):
            return self.person(email, channel, via="sign-in")
        if self.proxy_header and (email := self._proxied(request)):
            return self.person(email, channel, via="proxy")
        return None

    def person(self, email: str, channel: Channel = Channel.API, via: str = "") -> Caller | None:
        """`email` as a caller with their role: the listed one, else the default for an allowed domain."""
        email = email.strip().lower()
        known = self.people.person(email)
        if known:
            return Caller(email=email, role=known.role, channel=channel, via=via)
        if self.default_role and self.domain_allowed(email):
            return Caller(email=email, role=self.default_role, channel=channel, via=via)
        return None

    def role_of(self, email: str) -> Role | None:
        """The role `email` acts with now, whoever asks for them (a schedule's run, in its creator's name): dev
        mode's local admin, else as `person`; None if signoff does not know them (removed, or never let in)."""
        if self.dev_user and email.strip().lower() == self.dev_user.strip().lower():
            return Role.ADMIN
        caller = self.person(email)
        return caller.role if caller else None

    def domain_allowed(self, email: str) -> bool:
        """Whether `email`'s domain may sign in (every domain, when none is configured)."""
        return not self.allowed_domains or email.rpartition("@")[2].lower() in self.allowed_domains

    def _token_holder(self, authorization: str, channel: Channel) -> Caller:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send a token as 'Authorization: Bearer TOKEN' (make one: signoff token create)")
        held = self.people.holder(token.strip(), datetime.now(UTC))
        if held is None:
            raise Unauthenticated("this token is not valid: mistyped, revoked or expired (see signoff token list)")
        found, role = held
        return Caller(email=found.email, role=role, channel=channel, via=f"token {found.name}")

    def _this_machine(self, request: HTTPConnection) -> bool:
        """Whether the request names this machine (or the public URL) as its host: a page on another name that
        resolves here (DNS rebinding) is not the person at the keyboard, though it comes from loopback."""
        host = request.url.hostname or ""
        return (
            host in ("localhost", "127.0.0.1", "::1", "[::1]") or host.endswith(".localhost") or host in self.dev_hosts
        )

    # ---- sessions ------------------------------------------------------

    def start_session(self, request: HTTPConnection, email: str) -> None:
        """Sign `email` in on `request`'s session (a fresh one: nothing from before sign-in is kept)."""
        now = int(self.clock())
        request.session.clear()
        request.session.update({"email": email.lower(), "since": now, "seen": now})

    def _session(self, request: HTTPConnection) -> str | None:
        session = request.session
        email, since, seen = session.get("email"), session.get("since", 0), session.get("seen", 0)
        if not isinstance(email, str):
            return None
        now = int(self.clock())
        if now - since > self.session_max.total_seconds() or now - seen > self.session_idle.total_seconds():
            session.clear()
            return None
        if now - seen >= SESSION_SEEN_EVERY:
            session["seen"] = now
        return email

    def _proxied(self, request: HTTPConnection) -> str | None:
        """The proxy's email header, if the request comes from a configured proxy."""
        assert self.proxy_header
        if request.client is None or not self.proxies:
            return None
        try:
            address = ipaddress.ip_address(request.client.host)
        except ValueError:
            return None
        if not any(address in network for network in self.proxies):
            return None
        value = request.headers.get(self.proxy_header, "").strip()
        # Google IAP sends "accounts.google.com:someone@example.com"
        return value.rpartition(":")[2] or None


def _loopback(request: HTTPConnection) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
