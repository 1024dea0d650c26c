"""SmtpMailer against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.errors import Refused, Unavailable
from integrations.ports import ApprovalAsk, Email
from integrations.smtp import SmtpMailer, TlsMode, message_id
from integrations.store import Store
from tests.adapters.smtp_server import (
    PASSWORD,
    USER,
    Certificate,
    Server,
    free_port,
    greeting_server,
    make_certificate,
    smtp_server,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated"),
]

SENDER = "Signoff <signoff@example.com>"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.connect(f"sqlite:///{tmp_path / 'signoff.db'}")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server() -> Iterator[Server]:
    with smtp_server() as running:
        yield running


def mailer(
    store: Store,
    server: Server,
    tls: TlsMode = "none",
    user: str | None = None,
    password: str | None = None,
    certificate: Certificate | None = None,
) -> SmtpMailer:
    context = certificate.client_context() if certificate else None
    return SmtpMailer(store, server.host, server.port, tls, user, password, SENDER, timeout=5, ssl_context=context)


def email(key: str = "launch-acme:approval:vp", to: list[str] | None = None, html: str | None = "<p>Go?</p>") -> Email:
    return Email(
        key=key,
        process_id="launch-acme",
        to=to or ["vp@example.com"],
        subject="Go / no-go for Acme — your decision",
        text="Hello,\n\nDecide here: https://signoff.test/approve/abc.def\n.a line that starts with a dot\n",
        html=html,
    )


def test_sends_text_and_html_with_the_headers(store: Store, server: Server) -> None:
    delivery = mailer(store, server).send(email())

    assert delivery.outcome == "sent"
    assert delivery.to == ["vp@example.com"]
    [received] = server.received
    assert received.mail_from == "signoff@example.com"  # the bare address in the envelope
    assert received.rcpt_tos == ["vp@example.com"]
    message = received.message
    assert message["Subject"] == "Go / no-go for Acme — your decision"
    assert message["From"] == SENDER
    assert message["To"] == "vp@example.com"
    assert message["Message-ID"] == message_id("launch-acme:approval:vp")
    assert message["X-Signoff-Key"] == "launch-acme:approval:vp"
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    body = text.get_content().replace("\r\n", "\n")  # quoted-printable keeps the wire's line ends
    assert "https://signoff.test/approve/abc.def" in body
    assert "\n.a line that starts with a dot\n" in body  # dot-stuffed on the wire, undone by the server
    assert html.get_content().strip() == "<p>Go?</p>"
    assert store.recorded("launch-acme:approval:vp").meta["state"] == "sent"  # type: ignore[union-attr]


def test_text_only_email_is_a_single_part(store: Store, server: Server) -> None:
    mailer(store, server).send(email(html=None))

    [received] = server.received
    assert received.message.get_content_type() == "text/plain"


def test_message_id_is_the_same_for_a_key_and_differs_between_keys() -> None:
    assert message_id("a") == message_id("a")
    assert message_id("a") != message_id("b")
    assert message_id("a").startswith("<") and message_id("a").endswith("@signoff>")


def test_login_on_a_plain_connection(store: Store) -> None:
    with smtp_server(auth=True) as server:
        mailer(store, server, user=USER, password=PASSWORD).send(email())
        assert len(server.received) == 1


def test_without_login_a_server_that_requires_it_refuses(store: Store) -> None:
    with smtp_server(auth=True) as server, pytest.raises(Refused, match="530"):
        mailer(store, server).send(email())


def test_starttls_and_login(store: Store, certificate: Certificate) -> None:
    # The server requires STARTTLS before anything else, so this only passes over TLS.
    with smtp_server(auth=True, starttls=certificate.server_context()) as server:
        delivery = mailer(store, server, "starttls", USER, PASSWORD, certificate).send(email())
        assert delivery.outcome == "sent"
        assert len(server.received) == 1


def test_plain_to_a_server_that_requires_starttls_is_refused(store: Store, certificate: Certificate) -> None:
    with smtp_server(starttls=certificate.server_context()) as server:
        with pytest.raises(Refused, match="530"):
            mailer(store, server).send(email())
        assert server.received == []


def test_starttls_verifies_the_server_certificate(store: Store, certificate: Certificate) -> None:
    with smtp_server(starttls=certificate.server_context()) as server:
        untrusting = SmtpMailer(store, server.host, server.port, "starttls", None, None, SENDER, timeout=5)
        with pytest.raises(Refused, match="certificate"):
            untrusting.send(email())
        assert server.received == []


def test_implicit_tls_and_login(store: Store, certificate: Certificate) -> None:
    with smtp_server(auth=True, implicit_tls=certificate.server_context()) as server:
        delivery = mailer(store, server, "ssl", USER, PASSWORD, certificate).send(email())
        assert delivery.outcome == "sent"
        assert len(server.received) == 1


def test_starttls_against_a_server_without_it_is_refused(store: Store, server: Server) -> None:
    with pytest.raises(Refused, match=r"STARTTLS.*SIGNOFF_SMTP_TLS"):
        mailer(store, server, "starttls").send(email())
    assert server.received == []


def test_ssl_against_a_plain_port_is_refused(store: Store, server: Server) -> None:
    with pytest.raises(Refused, match=r"WRONG_VERSION_NUMBER.*SIGNOFF_SMTP_TLS"):
        mailer(store, server, "ssl").send(email())
    assert server.received == []


@pytest.mark.parametrize(
    ("greeting", "error"),
    [("554 5.3.2 no service for you", Refused), ("421 4.3.2 too busy, come back later", Unavailable)],
)
def test_a_server_that_turns_us_away_at_the_greeting(store: Store, greeting: str, error: type[Exception]) -> None:
    with greeting_server(greeting) as port:
        smtp = SmtpMailer(store, "127.0.0.1", port, "none", None, None, SENDER, timeout=5)
        with pytest.raises(error, match=greeting.split()[0]):
            smtp.send(email())
    assert store.recorded(email().key).meta["state"] == "failed"  # type: ignore[union-attr]


def test_the_same_key_twice_is_delivered_once(store: Store, server: Server) -> None:
    smtp = mailer(store, server)

    first = smtp.send(email())
    second = smtp.send(email())

    assert (first.outcome, second.outcome) == ("sent", "duplicate")
    assert len(server.received) == 1


def test_an_approval_request_keeps_what_it_asks_and_its_link_in_every_state_of_its_row(
    store: Store, server: Server
) -> None:
    ask = ApprovalAsk(gate="go-no-go", round=1, addressee="vp@example.com", url="https://signoff.test/approve/abc.def")
    smtp = mailer(store, server)
    server.handler.drop_after_data = True

    with pytest.raises(Unavailable):
        smtp.send(email().model_copy(update={"approval": ask}))
    unconfirmed = store.recorded(email().key)
    server.handler.drop_after_data = False
    smtp.send(email().model_copy(update={"approval": ask}))
    sent = store.recorded(email().key)

    assert unconfirmed is not None and sent is not None
    assert (unconfirmed.meta["state"], sent.meta["state"]) == ("sending", "sent")
    assert ask.meta().items() <= unconfirmed.meta.items() and ask.meta().items() <= sent.meta.items()
    assert store.approval_links(["launch-acme"], "vp@example.com") == {("launch-acme", "go-no-go", 1, ""): ask.url}


def test_different_keys_are_different_messages(store: Store, server: Server) -> None:
    smtp = mailer(store, server)
    smtp.send(email("k1"))
    smtp.send(email("k2"))
    assert [r.message["Message-ID"] for r in server.received] == [message_id("k1"), message_id("k2")]


def test_a_drop_after_the_data_is_sent_again_under_the_same_message_id(store: Store, server: Server) -> None:
    smtp = mailer(store, server)
    server.handler.drop_after_data = True

    with pytest.raises(Unavailable, match="will be sent again under the same Message-ID"):
        smtp.send(email())
    assert len(server.received) == 1  # the server did take it, but did not say so
    row = store.recorded(email().key)
    assert row is not None and row.meta["state"] == "sending" and "unconfirmed" in row.meta

    server.handler.drop_after_data = False
    retry = smtp.send(email())

    assert retry.outcome == "sent_again"
    assert [r.message["Message-ID"] for r in server.received] == [message_id(email().key)] * 2
    row = store.recorded(email().key)
    assert row is not None and (row.meta["state"], row.meta["attempts"]) == ("sent", "2")
    assert row.meta["again"] == "after an unknown outcome"
    assert smtp.send(email()).outcome == "duplicate"  # once it is confirmed, never again
    assert len(server.received) == 2


def test_a_worker_that_died_mid_send_leaves_a_row_that_the_retry_sends(store: Store, server: Server) -> None:
    smtp = mailer(store, server)
    # What a kill -9 between the claim and the server's answer leaves behind: the row, claimed, nothing more.
    first = smtp.ledger.claim(email().key, "p", email().to, email().subject, email().text)
    assert first is not None and not first.again

    assert smtp.send(email()).outcome == "sent_again"
    assert len(server.received) == 1


def test_two_retries_racing_over_an_unconfirmed_row_send_once(
    store: Store, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = mailer(store, server)
    smtp.ledger.claim(email().key, "p", email().to, email().subject, email().text)
    stale = store.recorded(email().key)
    assert stale is not None
    again = smtp.ledger.claim(email().key, "p", email().to, email().subject, email().text)
    assert again is not None and again.again

    # The loser read the row before the winner took it over: its conditional take-over finds it changed.
    monkeypatch.setattr(store, "record", lambda *args: (stale, False))
    with pytest.raises(Unavailable, match="another attempt is sending"):
        smtp.send(email())
    assert server.received == []


def test_a_refused_recipient_is_refused_and_a_later_retry_sends(store: Store, server: Server) -> None:
    smtp = mailer(store, server)
    server.handler.refuse.add("vp@example.com")

    with pytest.raises(Refused, match=r"refused recipient vp@example\.com: 550"):
        smtp.send(email())
    assert server.received == []
    assert store.recorded(email().key).meta["state"] == "failed"  # type: ignore[union-attr]

    server.handler.refuse.clear()
    assert smtp.send(email()).outcome == "sent"
    assert smtp.send(email()).outcome == "duplicate"
    assert len(server.received) == 1


def test_one_refused_recipient_stops_the_whole_message(store: Store, server: Server) -> None:
    server.handler.refuse.add("gone@example.com")

    with pytest.raises(Refused, match=r"gone@example\.com"):
        mailer(store, server).send(email(to=["vp@example.com", "gone@example.com"]))

    assert server.received == []  # nobody got it, so a retry cannot double anyone's copy


def test_a_deferred_recipient_is_unavailable_and_the_retry_sends(store: Store, server: Server) -> None:
    smtp = mailer(store, server)
    server.handler.defer.add("vp@example.com")

    with pytest.raises(Unavailable, match="451"):
        smtp.send(email())

    server.handler.defer.clear()
    assert smtp.send(email()).outcome == "sent"
    assert len(server.received) == 1


def test_a_wrong_password_is_refused_without_showing_it(
    store: Store, certificate: Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-Pa55word-xyzzy"
    caplog.set_level(logging.DEBUG)
    with smtp_server(auth=True, starttls=certificate.server_context()) as server:
        smtp = mailer(store, server, "starttls", USER, wrong, certificate)
        with pytest.raises(Refused, match="refused the login of mailer: 535") as raised:
            smtp.send(email())
        with pytest.raises(Refused):
            smtp.check()
        assert server.received == []

    assert "SIGNOFF_SMTP_PASSWORD" in str(raised.value)
    shown = [str(raised.value), repr(raised.value), repr(smtp), str(store.recorded(email().key)), caplog.text]
    assert not [text for text in shown if wrong in text]


def test_a_closed_port_is_unavailable_at_once(store: Store) -> None:
    smtp = SmtpMailer(store, "127.0.0.1", free_port(), "none", None, None, SENDER, timeout=5)

    started = time.monotonic()
    with pytest.raises(Unavailable, match="connection refused"):
        smtp.send(email())

    assert time.monotonic() - started < 2
    assert store.recorded(email().key).meta["state"] == "failed"  # type: ignore[union-attr]


def test_check_says_how_it_connected(store: Store, certificate: Certificate) -> None:
    with smtp_server(auth=True, starttls=certificate.server_context()) as server:
        line = mailer(store, server, "starttls", USER, PASSWORD, certificate).check()
        assert line == f"127.0.0.1:{server.port} starttls, logged in as mailer"
        assert server.received == []
    with smtp_server() as server:
        assert mailer(store, server).check() == f"127.0.0.1:{server.port} without TLS, no login"


def test_check_of_a_closed_port_is_unavailable(store: Store) -> None:
    with pytest.raises(Unavailable):
        SmtpMailer(store, "127.0.0.1", free_port(), "none", None, None, SENDER, timeout=5).check()


def test_an_email_without_recipients_is_refused(store: Store, server: Server) -> None:
    with pytest.raises(Refused, match="no recipients"):
        mailer(store, server).send(email().model_copy(update={"to": []}))
    assert store.recorded(email().key) is None


def test_a_line_break_in_the_subject_is_refused_before_anything_is_recorded(store: Store, server: Server) -> None:
    injected = email().model_copy(update={"subject": "Hello\r\nBcc: everyone@example.com"})
    with pytest.raises(Refused, match="cannot be sent as it is"):
        mailer(store, server).send(injected)
    assert server.received == []
    assert store.recorded(injected.key) is None


def test_a_failed_row_is_taken_over_by_one_sender_only(store: Store) -> None:
    entry, _ = store.record("k", "p", "email", ["a@example.com"], "s", "b", {"state": "failed", "message_id": "<m>"})
    claimed = {"state": "sending", "message_id": "<m>"}

    assert store.replace_meta_if("k", entry.meta, claimed) is True
    assert store.replace_meta_if("k", entry.meta, claimed) is False
    assert store.recorded("k").meta == claimed  # type: ignore[union-attr]
