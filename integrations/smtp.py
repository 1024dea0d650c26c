"""Email over SMTP (smtplib): the real `Mailer`.

Idempotency. Every send is keyed (`Email.key`) and leaves a row in the
outbox table, written *before* the mail server is contacted, whose
``meta["state"]`` says how far it got:

- ``sending`` — claimed: a send is under way, or it broke at a moment when we
  cannot know whether the server took the message;
- ``sent`` — the server answered 250 to the message;
- ``failed`` — it broke before the server could have taken the message
  (connection refused, login refused, a 4xx/5xx reply to MAIL, RCPT or DATA).

An approval request's `ApprovalAsk` stays in the row's meta whatever its
state, where "my work" finds the approver's link.

A send whose key is ``sent`` does nothing and reports a ``duplicate``; a
``failed`` one is claimed again and sent. The one ambiguous
moment is after the message data went out and before the server's final
reply (the connection dropped, the reply timed out), or a worker that died
mid-send: the server may have queued the message, and SMTP gives no way to
ask. There signoff chooses at least once: the row stays ``sending`` with the
reason, and the retry sends the message again (`Delivery` outcome
``sent_again``) under the same Message-ID, derived from its key, which mail
systems collapse into one message. A lost approval request stalls a
process with nobody knowing; a repeat is hidden by the recipient's mail
client, and the trail says it was sent again.

Errors: a reply or failure that retrying will not change (5xx, login refused,
a certificate that does not verify, a TLS handshake that cannot work,
STARTTLS or AUTH not offered) is `Refused`; a 4xx, a timeout, a dropped or
refused connection is `Unavailable`. The password never appears in a message or a log: smtplib's
debug output (which would print it) stays off and error texts are scrubbed.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr
from io import BytesIO
from typing import Literal

from domain.errors import IntegrationError, Refused, Unavailable
from domain.requests import Delivery
from integrations.ledger import SendLedger
from integrations.ports import Email
from integrations.store import Store

TlsMode = Literal["none", "starttls", "ssl"]


# 7bit: non-ASCII bodies go out quoted-printable, which every server takes
# (8bit bodies need the server's 8BITMIME).
_POLICY = SMTP_POLICY.clone(cte_type="7bit")


def message_id(key: str) -> str:
    """The Message-ID of the email with idempotency key `key`: the same key, the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@signoff>"


class _Uncertain(Exception):
    """The message data went out, but no final reply came back."""


class SmtpMailer:
    """Sends email through an SMTP server, once per key (see the module docstring).

    Args:
        store: where the outbox rows that make sends idempotent are kept.
        host: the mail server.
        port: its port (25 or 587 for none/starttls, 465 for ssl, usually).
        tls: ``none`` (plain), ``starttls`` (upgrade after connecting) or
            ``ssl`` (TLS from the first byte).
        user: the login; no login when unset.
        password: its password.
        sender: the From address, ``signoff@example.com`` or
            ``Signoff <signoff@example.com>``.
        timeout: seconds to wait for the server at each step.
        ssl_context: how to verify the server; the system's trusted CAs by default.
    """

    def __init__(
        self,
        store: Store,
        host: str,
        port: int,
        tls: TlsMode,
        user: str | None,
        password: str | None,
        sender: str,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.ledger = SendLedger(store, "email", pending="sending", done="sent")
        self.host = host
        self.port = port
        self.tls = tls
        self.user = user
        self._password = password
        self.sender = sender
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"SmtpMailer({self.address}, tls={self.tls}, user={self.user!r})"

    @property
    def address(self) -> str:
        """``host:port`` of the mail server."""
        return f"{self.host}:{self.port}"

    def send(self, email: Email) -> Delivery:
        """Send `email` once per `email.key`.

        Raises:
            Refused: the server (or the message itself) will not do; do not retry.
            Unavailable: try again later. After an ambiguous failure the
                retry sends again, under the same Message-ID.
        """
        message = self._message(email)
        mid = str(message["Message-ID"])
        kept = {"message_id": mid} | (email.approval.meta() if email.approval else {})  # in every state of the row
        claim = self.ledger.claim(email.key, email.process_id, email.to, email.subject, email.text, 0.0, **kept)
        if claim is None:
            return Delivery(key=email.key, channel="email", to=email.to, outcome="duplicate")
        try:
            self._transfer(message, email.to)
        except _Uncertain as err:
            reason = self._scrub(str(err))
            self.ledger.uncertain(email.key, claim, unconfirmed=reason, **kept)
            raise Unavailable(
                f"the connection to the mail server {self.address} broke after the message was sent and before "
                f"the server confirmed it ({reason}); it will be sent again under the same Message-ID"
            ) from None
        except Exception as err:
            error = self._error(err)
            self.ledger.failed(email.key, claim, error=str(error), **kept)
            if error is err:
                raise
            raise error from None
        self.ledger.done(email.key, claim, sent_at=datetime.now(UTC).isoformat(), **kept)
        return Delivery(key=email.key, channel="email", to=email.to, outcome="sent_again" if claim.again else "sent")

    def check(self) -> str:
        """Connect, start TLS and log in as configured, NOOP, quit; one line saying how.

        Raises:
            Refused: the settings will not work as they are.
            Unavailable: the server did not answer.
        """
        try:
            smtp = self._open()
            try:
                code, reply = smtp.noop()
                if code != 250:
                    raise self._reply_error(code, reply, "NOOP")
            finally:
                _quit(smtp)
        except Exception as err:
            error = self._error(err)
            if error is err:
                raise
            raise error from None
        mode = {"none": "without TLS", "starttls": "starttls", "ssl": "ssl"}[self.tls]
        login = f"logged in as {self.user}" if self.user else "no login"
        return f"{self.address} {mode}, {login}"

    # ---- the message ------------------------------------------------------

    def _message(self, email: Email) -> EmailMessage:
        if not email.to:
            raise Refused(f"email {email.key} has no recipients")
        message = EmailMessage(policy=_POLICY)
        try:
            message["From"] = self.sender
            message["To"] = ", ".join(email.to)
            message["Subject"] = email.subject
            message["Date"] = format_datetime(datetime.now(UTC))
            message["Message-ID"] = message_id(email.key)
            message["X-Signoff-Key"] = email.key
            message["X-Signoff-Process"] = email.process_id
            message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
        except ValueError as err:  # a line break in a header, a malformed address
            raise Refused(f"email {email.key} cannot be sent as it is: {err}") from None
        message.set_content(email.text)
        if email.html is not None:
            message.add_alternative(email.html, subtype="html")
        return message

    # ---- the conversation -------------------------------------------------

    def _open(self) -> smtplib.SMTP:
        """A connection, greeted, with TLS and login as configured."""
        smtp: smtplib.SMTP
        if self.tls == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo_or_helo_if_needed()
            if self.tls == "starttls":
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()  # what the server offers can change once the channel is private
            if self.user:
                smtp.login(self.user, self._password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _transfer(self, message: EmailMessage, recipients: list[str]) -> None:
        """MAIL, RCPT, DATA by hand, to know whether a failure came before or after the data went out.

        All or nothing: one refused recipient stops the send before DATA, so
        a retry can send to everyone without a second copy for the others.
        """
        smtp = self._open()
        try:
            international = not all(a.isascii() for a in [self.sender, *recipients])
            options: list[str] = []
            if international:
                if not smtp.has_extn("smtputf8"):
                    raise Refused(f"the mail server {self.address} does not take non-ASCII addresses (SMTPUTF8)")
                options = ["SMTPUTF8", "BODY=8BITMIME"]
            envelope_from = parseaddr(self.sender)[1] or self.sender
            self._expect(smtp.mail(envelope_from, options), 250, f"the sender address {envelope_from}")
            for recipient in recipients:
                self._expect(smtp.rcpt(recipient), (250, 251), f"recipient {recipient}")
            self._expect(smtp.docmd("DATA"), 354, "the message")
            # If sending the data fails, its closing "." did not go out: the server cannot have taken it.
            smtp.send(_payload(message, international))
            try:
                reply = smtp.getreply()
            except Exception as err:
                raise _Uncertain(f"{type(err).__name__}: {err}") from err
            self._expect(reply, 250, "the message")
        finally:
            _quit(smtp)

    def _expect(self, reply: tuple[int, bytes], ok: int | tuple[int, ...], what: str) -> None:
        code, text = reply
        if code not in (ok if isinstance(ok, tuple) else (ok,)):
            raise self._reply_error(code, text, what)

    # ---- errors -----------------------------------------------------------

    def _reply_error(self, code: int, reply: bytes | str, what: str) -> IntegrationError:
        said = self._scrub(f"{code} {_text(reply)}")
        if 500 <= code < 600:
            return Refused(f"the mail server {self.address} refused {what}: {said}")
        return Unavailable(f"the mail server {self.address} could not take {what} now: {said}")

    def _error(self, err: BaseException) -> BaseException:
        """`err` as `Refused` or `Unavailable` with a sentence a person can act on; other errors as they are."""
        where = self.address
        if isinstance(err, IntegrationError):
            return err
        if isinstance(err, smtplib.SMTPAuthenticationError):
            said = self._scrub(f"{err.smtp_code} {_text(err.smtp_error)}")
            return Refused(
                f"the mail server {where} refused the login of {self.user}: {said} "
                "— check SIGNOFF_SMTP_USER and SIGNOFF_SMTP_PASSWORD"
            )
        if isinstance(err, smtplib.SMTPRecipientsRefused):
            refused = ", ".join(f"{r}: {c} {_text(t)}" for r, (c, t) in err.recipients.items())
            return Refused(f"the mail server {where} refused recipient {self._scrub(refused)}")
        if isinstance(err, smtplib.SMTPResponseException):
            return self._reply_error(err.smtp_code, err.smtp_error, "the connection")
        if isinstance(err, smtplib.SMTPServerDisconnected):
            return Unavailable(f"the mail server {where} closed the connection: {self._scrub(str(err))}")
        if isinstance(err, smtplib.SMTPNotSupportedError):
            return Refused(f"the mail server {where}: {err} — check SIGNOFF_SMTP_TLS")
        if isinstance(err, smtplib.SMTPException):
            return Refused(f"the mail server {where}: {self._scrub(str(err))}")
        if isinstance(err, ssl.SSLCertVerificationError):
            return Refused(
                f"the TLS certificate of the mail server {where} does not verify ({err.verify_message}) "
                "— check SIGNOFF_SMTP_HOST"
            )
        if isinstance(err, TimeoutError):
            return Unavailable(f"the mail server {where} did not answer within {self.timeout:g} s")
        if isinstance(err, ConnectionRefusedError):
            return Unavailable(f"could not connect to the mail server {where}: connection refused")
        if isinstance(err, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return Unavailable(f"the mail server {where} closed the TLS connection")
        if isinstance(err, ssl.SSLError):  # a handshake that cannot work: plain port, no common protocol
            return Refused(
                f"TLS with the mail server {where} failed ({err.reason}) — check SIGNOFF_SMTP_TLS and SIGNOFF_SMTP_PORT"
            )
        if isinstance(err, OSError):
            return Unavailable(f"could not reach the mail server {where}: {err.strerror or err}")
        return err

    def _scrub(self, text: str) -> str:
        """`text` without the password, should a server ever echo it."""
        return text.replace(self._password, "***") if self._password else text


def _text(reply: bytes | str) -> str:
    """A server reply as one line of text."""
    return " ".join((reply.decode(errors="replace") if isinstance(reply, bytes) else reply).split())


def _payload(message: EmailMessage, international: bool) -> bytes:
    """The DATA of `message`: CRLF lines, leading dots doubled, ending in ``.``."""
    buffer = BytesIO()
    policy = _POLICY.clone(linesep="\r\n", utf8=international)
    BytesGenerator(buffer, policy=policy).flatten(message)
    data = re.sub(rb"(?m)^\.", b"..", buffer.getvalue())
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye if the server still listens; close the socket either way."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
