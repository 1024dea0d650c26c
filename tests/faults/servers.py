"""The servers signoff's worker talks to in the fault suite, each able to stop one request on its way.

A `Hold` names one request (an email's DATA, a Slack post, a Jira create)
and whether to stop it *before* the server carries it out or *after* (carried
out, its answer not yet sent: the worker cannot know it happened). When it
arrives the server holds it until released; meanwhile the suite kills the
worker. Every request also carries *signatures* (an email's key and its
recipients, a Slack channel or person, a Jira marker label or issue key), and
the first request with the held one's signature after the kill is the retry:
the suite reads the time from kill to retry off it.

- `SmtpServer`: aiosmtpd on a fixed loopback port, stopped and started again
  on the same port (an outage); what it took survives restarts.
- `HeldSlack`: `tests.adapters.fake_chat.FakeSlack` with holds.
- `HeldJira`: `tests.adapters.fake_jira.FakeJira` with holds and outages (429
  with Retry-After, 5xx before or after doing the work).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.adapters.fake_chat import FakeSlack, Reply
from tests.adapters.fake_jira import FakeJira, _Reply
from tests.adapters.smtp_server import Handler, Received, free_port

Phase = Literal["before", "after"]
MARKER = re.compile(r"signoff-[0-9a-f]{20}")
ISSUE_KEY = re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")
HOLD_LIMIT = 120.0
"""Seconds a held request waits for its release at most (a suite that died must not hang a server thread)."""


@dataclass(frozen=True)
class Request:
    """One request as a fake server saw it: what it is (``smtp:DATA``, ``slack:chat.postMessage``,
    ``jira:POST /issue``), what identifies it (`sigs`), and the details a hold may look at."""

    server: str
    what: str
    sigs: frozenset[str]
    detail: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(eq=False)
class Hold:
    """Stop the first request `matches` accepts, `when` said; the retry is the next request carrying `signature`."""

    label: str
    server: str
    when: Phase
    matches: Callable[[Request], bool]
    signature: str
    resolve: Callable[[Request], str] | None = None
    """Where the signature is only known from the request itself (an email's exact key)."""
    retry_on: frozenset[str] = frozenset()
    """The kinds of request (`Request.what`) that count as the retry; any, when empty."""
    taken: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    arrived_at: float | None = None
    killed_at: float | None = None
    retried_at: float | None = None
    request: Request | None = None

    def release(self) -> None:
        self.released.set()

    def wait(self) -> None:
        """Hold the calling server thread until released."""
        self.released.wait(HOLD_LIMIT)

    async def wait_async(self) -> None:
        """Hold the calling coroutine (aiosmtpd's handlers) until released, without blocking its loop."""
        deadline = time.monotonic() + HOLD_LIMIT
        while not self.released.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    @property
    def retry_seconds(self) -> float | None:
        """From the kill to the first request of the retry, if both happened."""
        if self.killed_at is None or self.retried_at is None:
            return None
        return self.retried_at - self.killed_at


class Board:
    """The holds armed on every server, and the retry watch."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holds: list[Hold] = []

    def arm(self, hold: Hold) -> Hold:
        with self.lock:
            self.holds.append(hold)
        return hold

    def take(self, request: Request, phase: Phase) -> Hold | None:
        """The hold `request` triggers at `phase`, if any (each hold triggers once)."""
        with self.lock:
            hold = next(
                (
                    h for h in self.holds
                    if not h.taken and h.server == request.server and h.when == phase and h.matches(request)
                ),
                None,
            )  # fmt: skip
            if hold is None:
                return None
            hold.taken, hold.arrived_at, hold.request = True, time.monotonic(), request
            if hold.resolve is not None:
                hold.signature = hold.resolve(request)
        hold.arrived.set()
        return hold

    def notice(self, request: Request) -> None:
        """Record `request` as the retry of every killed hold whose signature it carries."""
        now = time.monotonic()
        with self.lock:
            for hold in self.holds:
                killed = hold.killed_at is not None and now > hold.killed_at
                counts = not hold.retry_on or request.what in hold.retry_on
                if killed and counts and hold.retried_at is None and hold.signature in request.sigs:
                    hold.retried_at = now

    def waiting(self) -> list[Hold]:
        """Holds whose request arrived and whose worker is not killed yet."""
        with self.lock:
            return [h for h in self.holds if h.arrived.is_set() and h.killed_at is None]


# ---- SMTP -----------------------------------------------------------------


class _HeldHandler(Handler):
    """The test server's handler, stopping RCPT (before the message is sent) or the reply to DATA (after)."""

    def __init__(self, board: Board) -> None:
        super().__init__()
        self.board = board
        self.arrivals: list[tuple[float, str, str]] = []
        """(when, Message-ID, recipient) of every message taken, for the suite's count."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        request = Request("smtp", "RCPT", frozenset({address}), {"to": address})
        self.board.notice(request)
        hold = self.board.take(request, "before")
        if hold is not None:
            await hold.wait_async()
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        assert isinstance(message, EmailMessage)
        key, mid = header(message, "X-Signoff-Key"), header(message, "Message-ID")
        request = Request(
            "smtp", "DATA", frozenset({key, mid, *envelope.rcpt_tos}), {"key": key, "to": list(envelope.rcpt_tos)}
        )
        self.board.notice(request)
        answer = await super().handle_DATA(server, session, envelope)  # the message is taken here
        now = time.monotonic()
        self.arrivals.extend((now, mid, to) for to in envelope.rcpt_tos)
        hold = self.board.take(request, "after")
        if hold is not None:
            await hold.wait_async()  # taken, not confirmed: the client cannot tell whether it went
        return answer


def header(message: EmailMessage, name: str) -> str:
    """A header's value, unfolded: a long one arrives folded, its value starting with the fold's space."""
    return str(message.get(name, "")).strip()


class SmtpServer:
    """aiosmtpd on 127.0.0.1 at one port for its whole life; `stop` and `start` again make an outage."""

    def __init__(self, board: Board) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.handler = _HeldHandler(board)
        self.controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        self.controller = Controller(
            self.handler, hostname=self.host, port=self.port, server_hostname="smtp.test", ident="faults SMTP"
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# ---- Slack ------------------------------------------------------------------


class HeldSlack(FakeSlack):
    """The fake Slack; a hold stops a call before it is carried out, or after (its answer not yet sent)."""

    def __init__(self, board: Board, token: str) -> None:
        super().__init__(token)
        self.board = board
        self._current = threading.local()  # one request per thread: HTTP/1.0, a thread per connection

    def add_person(self, email: str, user_id: str) -> None:
        self.users[email] = user_id

    def add_channel(self, name: str, channel_id: str) -> None:
        self.channels[name] = channel_id
        self.joined.add(channel_id)

    def serve(self, request: BaseHTTPRequestHandler, raw: bytes) -> None:
        seen = self._request(request.path, {k.lower(): v for k, v in request.headers.items()}, raw)
        self._current.request = seen
        self.board.notice(seen)
        hold = self.board.take(seen, "before")
        if hold is not None:
            hold.wait()
            if hold.killed_at is not None:
                return  # its worker is gone: never carried out (the connection just closes)
        super().serve(request, raw)

    def answer(self, request: BaseHTTPRequestHandler, reply: Reply) -> None:
        seen: Request | None = getattr(self._current, "request", None)
        if seen is not None and reply.status == 200 and json.loads(reply.body or "{}").get("ok"):
            hold = self.board.take(seen, "after")
            if hold is not None:
                hold.wait()  # carried out; the worker never hears so
        super().answer(request, reply)

    def _request(self, path: str, headers: dict[str, str], raw: bytes) -> Request:
        method = path.removeprefix("/api/")
        try:
            if headers.get("content-type", "").startswith("application/json"):
                body: dict[str, Any] = json.loads(raw or b"{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        except ValueError:
            body = {}
        sigs: set[str] = set()
        key = ((body.get("metadata") or {}).get("event_payload") or {}).get("key")
        if key:
            sigs.add(str(key))
        for name in ("channel", "users", "user", "email"):
            if body.get(name):
                sigs |= self._aliases(str(body[name]))
        if method == "chat.update":
            where = (str(body.get("channel")), str(body.get("ts")))
            sigs.add("@".join(where))
            posted = (self.messages.get(where) or {}).get("metadata") or {}
            if (posted.get("event_payload") or {}).get("key"):
                sigs.add(str(posted["event_payload"]["key"]))
        return Request("slack", method, frozenset(sigs), {"key": key, "body": body})

    def _aliases(self, target: str) -> set[str]:
        """Every name of a channel or person: ``#name`` and its id; an email, its user id and DM."""
        names = {target}
        by_id = {v: k for k, v in self.channels.items()}
        if target.removeprefix("#") in self.channels:
            names |= {"#" + target.removeprefix("#"), self.channels[target.removeprefix("#")]}
        if target in by_id:
            names.add("#" + by_id[target])
        user = self.users.get(target) or (target if target in self.users.values() else None)
        if target.startswith("D") and "U" + target[1:] in self.users.values():
            user = "U" + target[1:]
        if user:
            email = next(e for e, u in self.users.items() if u == user)
            names |= {user, "D" + user[1:], email}
        return names


# ---- Jira -------------------------------------------------------------------


@dataclass
class Outage:
    """Jira answering `status` to every request for a while; `carry_out`: do the work, then answer it."""

    until: float
    status: int
    retry_after: int | None = None
    carry_out: bool = False
    methods: tuple[str, ...] = ("GET", "POST")
    answered: int = 0


class HeldJira(FakeJira):
    """The fake Jira with holds, and outages by time (429 with Retry-After, 5xx)."""

    def __init__(self, board: Board, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.board = board
        self.outages: list[Outage] = []
        self.edits: list[tuple[str, str]] = []
        """(issue key, its fields as JSON) of every issue edit carried out (``PUT /issue/KEY``), for the count."""
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # a dead worker's socket

    def outage(
        self,
        seconds: float,
        status: int,
        *,
        retry_after: int | None = None,
        carry_out: bool = False,
        methods: tuple[str, ...] = ("GET", "POST"),
    ) -> Outage:
        """Answer `status` to every request of `methods` for the next `seconds`."""
        gone = Outage(time.monotonic() + seconds, status, retry_after, carry_out, methods)
        self.outages.append(gone)
        return gone

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any, dict[str, str]]:
        seen = self._request(method, path, query, body)
        self.board.notice(seen)
        now = time.monotonic()
        outage = next((o for o in self.outages if now < o.until and method in o.methods), None)
        if outage is not None and not outage.carry_out:
            outage.answered += 1
            raise self._outage_reply(outage)
        hold = self.board.take(seen, "before")
        if hold is not None:
            hold.wait()
            if hold.killed_at is not None:  # its worker is gone: never carried out, the connection dropped
                raise ConnectionAbortedError(f"{method} {path}: the client is gone")
        answer = super().handle(method, path, query, body)
        if method == "PUT" and (edited := self._named(path)):
            self.edits.append((edited["key"], json.dumps((body or {}).get("fields"), sort_keys=True)))
        if outage is not None:
            outage.answered += 1
            raise self._outage_reply(outage)  # the work is done; the answer says it failed
        hold = self.board.take(seen, "after")
        if hold is not None:
            hold.wait()
        return answer

    @staticmethod
    def _outage_reply(outage: Outage) -> _Reply:
        headers = {"Retry-After": str(outage.retry_after)} if outage.retry_after is not None else {}
        if outage.status == 429:
            return _Reply(429, {"errorMessages": ["Rate limit exceeded."]}, headers)
        return _Reply(outage.status, "<html><body>Service unavailable</body></html>", headers)

    def _request(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Request:
        sigs: set[str] = set()
        fields = body.get("fields") if isinstance(body, dict) else None
        if isinstance(fields, dict):
            sigs |= {str(label) for label in fields.get("labels") or []}
        jql = (body.get("jql") if isinstance(body, dict) else None) or (query.get("jql") or [""])[0]
        sigs |= set(MARKER.findall(str(jql)))
        for key in ISSUE_KEY.findall(str(jql)):  # a search by key (the reconciliation) names those issues' processes
            if named := self.issues.get(key):
                sigs |= {key, *(named["fields"].get("labels") or [])}
        detail: dict[str, Any] = {"method": method, "path": path, "body": body, "jql": str(jql)}
        if issue := self._named(path):  # by its key, or by its id (an edit goes to the issue's own link)
            sigs |= {issue["key"], *(issue["fields"].get("labels") or [])}
            detail["status"] = issue["fields"]["status"]["name"]
        return Request("jira", f"{method} {path}", frozenset(sigs), detail)

    def _named(self, path: str) -> dict[str, Any] | None:
        """The issue `path` names, by its key or its id."""
        match = re.search(r"/issue/([^/]+)", path)
        if match is None:
            return None
        name = match.group(1)
        return self.issues.get(name) or next((i for i in list(self.issues.values()) if i["id"] == name), None)
