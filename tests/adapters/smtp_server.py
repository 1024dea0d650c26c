"""A real SMTP server for tests: aiosmtpd on loopback, keeping what it receives.

It can require a login, offer STARTTLS, speak TLS from the first byte, refuse
chosen recipients, and drop the connection after taking a message's data
without saying 250 (the one failure a client cannot tell from success).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER = "mailer"
PASSWORD = "s3cret-Pa55word"  # the test server's own login


@dataclass
class Received:
    """One message the server took: its envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """What the server does with each transaction, and what it kept."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Recipients answered ``550`` at RCPT (a permanent no)."""
    defer: set[str] = field(default_factory=set)
    """Recipients answered ``451`` at RCPT (try again later, as greylisting does)."""
    drop_after_data: bool = False
    """Take the message, then close the connection instead of answering."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        if address in self.defer:
            return f"451 4.7.1 <{address}>: greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        if self.drop_after_data:
            # abort(), not close(): close() would still flush the 250 written next.
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
        return "250 2.0.0 queued"


def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    """Let in `USER` with `PASSWORD`, nobody else."""
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 235 or 535 itself


@dataclass
class Server:
    """A running test server."""

    host: str
    port: int
    handler: Handler

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def free_port() -> int:
    """A loopback port nobody listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def smtp_server(
    *,
    auth: bool = False,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
) -> Iterator[Server]:
    """Run a server on 127.0.0.1 for the duration of the block.

    Args:
        auth: require a login (`USER` / `PASSWORD`) before MAIL.
        starttls: offer STARTTLS with this server context, and then require it.
        implicit_tls: speak TLS from the first byte (port-465 style).
    """
    handler = Handler()
    kwargs: dict[str, Any] = {"server_hostname": "smtp.test", "ident": "signoff test SMTP"}
    if auth:
        # aiosmtpd offers AUTH only over TLS unless told otherwise; implicit TLS is
        # invisible to it, so plain-text AUTH is allowed there and on "none".
        kwargs |= {"authenticator": authenticate, "auth_required": True, "auth_require_tls": starttls is not None}
    if starttls is not None:
        kwargs |= {"tls_context": starttls, "require_starttls": True}
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=implicit_tls, **kwargs)
    controller.start()
    try:
        yield Server("127.0.0.1", port, handler)
    finally:
        controller.stop()


@contextlib.contextmanager
def greeting_server(greeting: str) -> Iterator[int]:
    """A server on 127.0.0.1 that answers every connection with `greeting` and hangs up; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(greeting.encode() + b"\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        listener.close()


@dataclass
class Certificate:
    """A self-signed certificate for 127.0.0.1 and the contexts that use it."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (and checks the host name)."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(folder: Path) -> Certificate:
    """Make a self-signed certificate for 127.0.0.1 with the ``openssl`` command, or skip."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed; it makes the test server's TLS certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)
