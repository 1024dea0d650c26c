"""Local stand-ins for Slack's Web API and a Teams incoming webhook, with fault injection.

Each is a real HTTP server on 127.0.0.1 (an ephemeral port) in a thread, so
the adapters run their real HTTP clients against it. They check what Slack
and Teams check (the bearer token, the JSON shape of a message or a card),
answer with the statuses those services use, and keep every request they
received. `fail_next` makes the next N requests fail: a status (429 with
Retry-After, 500), a Slack error code, a delay longer than the client's
timeout (the request is still carried out, as a slow server would), or a
connection dropped after the request was read (also carried out).
"""

from __future__ import annotations

import json
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs

from integrations.store import Store


@dataclass
class Fault:
    """What to do instead of (or besides) answering normally."""

    status: int | None = None
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    body: str | None = None


@dataclass
class Received:
    """One request as the fake saw it."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int
    body: str
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """A threaded HTTP server that hands each POST to `handle` and keeps what it received."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fake.serve(self, self.rfile.read(length))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, count: int = 1, **fault: Any) -> None:
        """Make the next `count` requests fail as `fault` says (see `Fault`)."""
        with self.lock:
            self.faults.extend(Fault(**fault) for _ in range(count))

    def serve(self, request: BaseHTTPRequestHandler, raw: bytes) -> None:
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault and (fault.status or fault.error or fault.body):
            self.answer(request, self.fault_reply(fault))
            return
        with self.lock:  # one request at a time past this point, like a consistent server
            reply = self.handle(request.path, dict(request.headers.items()), raw)
        if fault and fault.drop:
            request.close_connection = True
            return  # carried out, never answered: the client sees the connection close
        if fault and fault.delay:
            time.sleep(fault.delay)
        self.answer(request, reply)

    def answer(self, request: BaseHTTPRequestHandler, reply: Reply) -> None:
        data = reply.body.encode()
        try:
            request.send_response(reply.status)
            request.send_header("Content-Type", reply.content_type)
            request.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        raise NotImplementedError

    def fault_reply(self, fault: Fault) -> Reply:
        raise NotImplementedError


class FakeSlack(FakeServer):
    """Answers like Slack's Web API (auth.test, users.lookupByEmail, users.info, chat.postMessage, chat.update)
    and like the ``response_url`` of an interaction.

    Attributes:
        token: the bot token it accepts as ``Authorization: Bearer …``.
        channels: channel name → id; the bot is a member of those in `joined`.
        users: email → user id (a DM to user ``U0VP`` lands in channel ``D0VP``).
        messages: (channel id, ts) → the message as last posted or updated.
        replies: what was posted to a ``response_url`` (ephemeral answers to clicks).
    """

    def __init__(self, token: str = "xoxb-test-token") -> None:
        super().__init__()
        self.token = token
        self.channels = {"launches": "C0LAUNCHES", "private": "C0PRIVATE"}
        self.joined = {"C0LAUNCHES"}
        self.users = {"vp@example.com": "U0VP"}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.replies: list[Received] = []
        self.clock = time.time()  # ts are times, as Slack's are: history reads back from one

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, click: str) -> str:
        """The ``response_url`` Slack would put in the interaction of click `click`."""
        return f"{self.base_url}/actions/T0ACME/{click}/secret"

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """The messages in one channel (an id: ``C0LAUNCHES``, a DM ``D0VP``), oldest first, as they read now."""
        return [message for (where, ts), message in sorted(self.messages.items()) if where == channel]

    def calls(self, method: str) -> list[Received]:
        """The requests received for one API method."""
        return [r for r in self.received if r.path == f"/api/{method}"]

    def fault_reply(self, fault: Fault) -> Reply:
        status = fault.status or 200
        error = fault.error or {429: "ratelimited", 503: "service_unavailable"}.get(status, "internal_error")
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.body is not None:
            return Reply(status, fault.body, "text/html", headers)
        return Reply(status, json.dumps({"ok": False, "error": error}), headers=headers)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        lowered = {k.lower(): v for k, v in headers.items()}
        content_type = lowered.get("content-type", "")
        if content_type.startswith("application/json"):
            body: dict[str, Any] = json.loads(raw or b"{}")  # the SDK sends argument-less calls as empty JSON
        else:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        self.received.append(Received(path, headers, body))
        if path.startswith("/actions/"):  # a response_url: no token, answers "ok" like hooks.slack.com
            self.replies.append(Received(path, headers, body))
            return Reply(200, "ok", "text/html")
        auth = lowered.get("authorization", "")
        if not auth:
            return self.error("not_authed")
        if auth != f"Bearer {self.token}":
            return self.error("invalid_auth")
        method = path.removeprefix("/api/")
        handler = {
            "auth.test": self.auth_test,
            "users.lookupByEmail": self.lookup_by_email,
            "users.info": self.user_info,
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "conversations.history": self.history,
            "conversations.open": self.open_dm,
            "conversations.list": self.list_channels,
        }.get(method)
        if handler is None:
            return self.error("unknown_method")
        if method.startswith("chat.") and not content_type.startswith("application/json"):
            return self.error("invalid_arguments")
        return handler(body)

    @staticmethod
    def ok(**data: Any) -> Reply:
        return Reply(200, json.dumps({"ok": True, **data}))

    @staticmethod
    def error(code: str, **data: Any) -> Reply:
        return Reply(200, json.dumps({"ok": False, "error": code, **data}))

    def auth_test(self, body: dict[str, Any]) -> Reply:
        return self.ok(url="https://acme.slack.com/", team="Acme", user="signoff", team_id="T0ACME", user_id="U0BOT")

    def lookup_by_email(self, body: dict[str, Any]) -> Reply:
        user_id = self.users.get(body.get("email", ""))
        if user_id is None:
            return self.error("users_not_found")
        return self.ok(user={"id": user_id, "name": body["email"].split("@")[0], "profile": {"email": body["email"]}})

    def user_info(self, body: dict[str, Any]) -> Reply:
        email = next((e for e, user in self.users.items() if user == body.get("user")), None)
        if email is None:
            return self.error("user_not_found")
        return self.ok(user={"id": body["user"], "name": email.split("@")[0], "profile": {"email": email}})

    def resolve(self, channel: str) -> str | None:
        """The channel id a message to `channel` (a name, an id, a user id) lands in."""
        dms = {user: "D" + user.removeprefix("U") for user in self.users.values()}
        if channel in dms:
            return dms[channel]  # posting to a user id opens the bot's DM with them (U0VP → D0VP)
        if channel in {*self.channels.values(), *dms.values()}:
            return channel
        return self.channels.get(channel.removeprefix("#"))

    def post_message(self, body: dict[str, Any]) -> Reply:
        problem = self.shape_problem(body)
        if problem:
            return self.error("invalid_blocks", errors=[problem])
        channel = self.resolve(str(body.get("channel", "")))
        if channel is None:
            return self.error("channel_not_found")
        if channel.startswith("C") and channel not in self.joined:
            return self.error("not_in_channel")
        self.clock = max(self.clock + 0.000001, time.time())  # the time of the post, as Slack's ts is; unique
        ts = f"{self.clock:.6f}"
        message = {"type": "message", "text": body["text"], "blocks": body["blocks"], "ts": ts}
        if body.get("metadata"):
            message["metadata"] = body["metadata"]
        self.messages[(channel, ts)] = message
        return self.ok(channel=channel, ts=ts, message=message)

    def history(self, body: dict[str, Any]) -> Reply:
        """conversations.history: newest first, `limit` a page, ``next_cursor`` an offset; metadata only when
        ``include_all_metadata`` is asked for, as Slack does."""
        channel = str(body.get("channel", ""))
        dms = {"D" + user.removeprefix("U") for user in self.users.values()}  # a DM exists once opened, empty or not
        if channel not in {*self.channels.values(), *dms, *(w for w, _ in self.messages)}:
            return self.error("channel_not_found")
        oldest, latest = float(body.get("oldest") or 0), float(body.get("latest") or "inf")
        found = [m for m in reversed(self.messages_in(channel)) if oldest <= float(m["ts"]) <= latest]
        start, limit = int(body.get("cursor") or 0), int(body.get("limit") or 100)
        with_metadata = str(body.get("include_all_metadata")).lower() in ("true", "1")
        page = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in found[start : start + limit]]  # fmt: skip
        more = start + limit < len(found)
        return self.ok(
            messages=page, has_more=more, response_metadata={"next_cursor": str(start + limit) if more else ""}
        )

    def open_dm(self, body: dict[str, Any]) -> Reply:
        """conversations.open with ``users``: the bot's DM with that person (U0VP → D0VP)."""
        user = str(body.get("users", ""))
        if user not in self.users.values():
            return self.error("user_not_found")
        return self.ok(channel={"id": "D" + user.removeprefix("U")})

    def list_channels(self, body: dict[str, Any]) -> Reply:
        """conversations.list: every channel on one page."""
        return self.ok(
            channels=[{"id": id_, "name": name} for name, id_ in self.channels.items()],
            response_metadata={"next_cursor": ""},
        )

    def update(self, body: dict[str, Any]) -> Reply:
        problem = self.shape_problem(body)
        if problem:
            return self.error("invalid_blocks", errors=[problem])
        key = (str(body.get("channel")), str(body.get("ts")))
        if key not in self.messages:
            return self.error("message_not_found")
        self.messages[key] = {**self.messages[key], "text": body["text"], "blocks": body["blocks"]}
        return self.ok(channel=key[0], ts=key[1], text=body["text"])

    @staticmethod
    def shape_problem(body: dict[str, Any]) -> str | None:
        """What Slack would refuse in a message's text and blocks, if anything."""
        if not isinstance(body.get("text"), str) or not body["text"]:
            return "text: a non-empty string is required as the notification fallback"
        blocks = body.get("blocks")
        if not isinstance(blocks, list) or not blocks:
            return "blocks: a list is expected"
        for block in blocks:
            if block.get("type") == "section":
                text = block.get("text", {})
                if text.get("type") != "mrkdwn" or not 0 < len(text.get("text", "")) <= 3000:
                    return "section: mrkdwn text of 1 to 3000 characters"
            elif block.get("type") == "actions":
                problem = FakeSlack.actions_problem(block.get("elements", []))
                if problem:
                    return problem
            else:
                return f"unexpected block type {block.get('type')!r}"
        return None

    @staticmethod
    def actions_problem(elements: list[dict[str, Any]]) -> str | None:
        ids = [e.get("action_id") for e in elements]
        if not elements or len(elements) > 25 or len(set(ids)) != len(ids):
            return "actions: 1 to 25 elements with unique action_ids"
        for button in elements:
            label = button.get("text", {})
            if button.get("type") != "button" or label.get("type") != "plain_text":
                return "actions: buttons with plain_text labels"
            if len(label.get("text", "")) > 75 or len(button.get("value", "")) > 2000:
                return "button: label over 75 or value over 2000 characters"
            if button.get("style") not in (None, "primary", "danger"):
                return "button: style must be primary or danger"
        return None


class FakeTeams(FakeServer):
    """Answers like a classic Teams incoming webhook: ``200`` ``1`` for a well-formed card, at one secret path."""

    def __init__(self) -> None:
        super().__init__()
        self.secret = uuid.uuid4().hex
        self.path = f"/webhookb2/{uuid.uuid4()}@{uuid.uuid4()}/IncomingWebhook/{self.secret}/{uuid.uuid4()}"
        self.cards: list[dict[str, Any]] = []

    @property
    def webhook_url(self) -> str:
        return self.base_url + self.path

    def fault_reply(self, fault: Fault) -> Reply:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Reply(fault.status or 200, fault.body or "", "text/plain; charset=utf-8", headers)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        self.received.append(Received(path, headers, body))
        if path != self.path:
            return Reply(404, "Not Found", "text/plain")
        if not lowered.get("content-type", "").startswith("application/json"):
            return Reply(400, "Bad payload received by generic incoming webhook.", "text/plain")
        problem = self.card_problem(body)
        if problem:
            return Reply(400, f"Bad payload received by generic incoming webhook: {problem}", "text/plain")
        self.cards.append(body["attachments"][0]["content"])
        return Reply(200, "1", "text/plain; charset=utf-8")

    @staticmethod
    def card_problem(body: Any) -> str | None:
        """What Teams would refuse in a webhook payload carrying an Adaptive Card, if anything."""
        if not isinstance(body, dict) or body.get("type") != "message":
            return 'type must be "message"'
        attachments = body.get("attachments")
        if not isinstance(attachments, list) or len(attachments) != 1:
            return "one attachment expected"
        if attachments[0].get("contentType") != "application/vnd.microsoft.card.adaptive":
            return "contentType must be application/vnd.microsoft.card.adaptive"
        content = attachments[0].get("content", {})
        if content.get("type") != "AdaptiveCard" or not content.get("version"):
            return "content must be an AdaptiveCard with a version"
        if not content.get("body") or any(b.get("type") != "TextBlock" or not b.get("text") for b in content["body"]):
            return "body: TextBlocks with text"
        for action in content.get("actions", []):
            if action.get("type") != "Action.OpenUrl" or not action.get("title"):
                return "actions: Action.OpenUrl with a title (webhooks support no Action.Submit)"
            if not str(action.get("url", "")).startswith(("http://", "https://")):
                return "Action.OpenUrl needs an absolute url"
            if action.get("style") not in (None, "default", "positive", "destructive"):
                return "action style must be default, positive or destructive"
        return None


Server = TypeVar("Server", bound=FakeServer)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """Run `server` for the duration of a with block."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def full_text(err: BaseException) -> str:
    """An error as it would reach a log or Temporal's history: message, causes and traceback."""
    return "".join(traceback.format_exception(err))


def meta(store: Store, key: str) -> dict[str, Any]:
    """What the outbox row of a post says about it, without the ledger's bookkeeping (which attempt holds it,
    since when)."""
    entry = store.recorded(key)
    assert entry is not None, f"nothing recorded under {key}"
    assert entry.meta.get("claim") and entry.meta.get("claimed_at"), "every row names the attempt that holds it"
    return {name: value for name, value in entry.meta.items() if name not in ("claim", "claimed_at")}
