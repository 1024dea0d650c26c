"""Webhook deliveries: signed over their identity and time, refused outside a freshness window."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from config.settings import Settings
from domain.errors import BadInput
from integrations.webhooks import (
    MAX_DELIVERY_ID,
    Stale,
    Unsigned,
    events_key,
    jira_delivery,
    verify_event,
)

SECRET = "whsec_" + base64.b64encode(b"a-standard-webhooks-key-of-32-byt").decode()
BODY = json.dumps({"type": "launch.requested", "product": "Acme"}).encode()


@pytest.fixture
def now() -> datetime:
    """The real time, to the second: the Standard Webhooks library checks timestamps against the real clock."""
    return datetime.now(UTC).replace(microsecond=0)


def headers(
    body: bytes = BODY, secret: str = SECRET, at: datetime | None = None, delivery: str = "msg_1"
) -> dict[str, str]:
    """What a Standard Webhooks sender puts on a delivery of `body`, sent `at` (default: now)."""
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(delivery, at, body.decode())
    return {"webhook-id": delivery, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


# ---- /hooks/events: Standard Webhooks ----------------------------------------


def test_a_signed_fresh_delivery_gives_its_id(now: datetime) -> None:
    assert verify_event(SECRET, BODY, headers(), now) == "msg_1"


def test_a_plain_secret_is_its_utf8_bytes_the_same_as_whsec_and_its_base64(now: datetime) -> None:
    plain = "an-events-secret-set-before-standard-webhooks"
    as_standard = "whsec_" + base64.b64encode(plain.encode()).decode()

    assert events_key(plain) == plain.encode() == events_key(as_standard)
    assert verify_event(plain, BODY, headers(secret=as_standard), now) == "msg_1"  # a sender's library, as documented


def test_a_captured_delivery_replayed_under_a_new_id_is_unsigned(now: datetime) -> None:
    captured = headers()
    with pytest.raises(Unsigned, match="webhook-signature does not match"):
        verify_event(SECRET, BODY, captured | {"webhook-id": "msg_2"}, now)


def test_a_captured_delivery_replayed_with_a_new_timestamp_is_unsigned(now: datetime) -> None:
    captured = headers(at=now - timedelta(minutes=30))
    with pytest.raises(Unsigned):
        verify_event(SECRET, BODY, captured | {"webhook-timestamp": str(int(now.timestamp()))}, now)


@pytest.mark.parametrize(
    ("drift", "says"),
    [
        (timedelta(minutes=-10), "webhook-timestamp is 10 minutes old, and deliveries older than 5 minutes"),
        (timedelta(hours=3), "webhook-timestamp is 3 hours in the future: check the sender's clock"),
    ],
)
def test_a_delivery_signed_outside_five_minutes_is_stale(now: datetime, drift: timedelta, says: str) -> None:
    with pytest.raises(Stale, match=says):
        verify_event(SECRET, BODY, headers(at=now + drift), now)


def test_a_delivery_just_inside_the_window_is_taken(now: datetime) -> None:
    assert verify_event(SECRET, BODY, headers(at=now - timedelta(minutes=4)), now) == "msg_1"


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": "v1,bm90IHRoZSBzaWduYXR1cmU="},
        {"webhook-signature": "garbage"},
        {"webhook-signature": "v1,not base64!"},
        {"webhook-signature": "v2,whatever"},
    ],
)
def test_a_wrong_or_garbled_signature_is_unsigned(now: datetime, change: dict[str, str]) -> None:
    with pytest.raises(Unsigned):
        verify_event(SECRET, BODY, headers() | change, now)


def test_another_secret_or_another_body_is_unsigned(now: datetime) -> None:
    other = "whsec_" + base64.b64encode(b"another-key").decode()
    with pytest.raises(Unsigned):
        verify_event(SECRET, BODY, headers(secret=other), now)
    with pytest.raises(Unsigned):
        verify_event(SECRET, BODY + b" ", headers(), now)
    with pytest.raises(Unsigned):
        verify_event(SECRET, b"\xff\xfe", headers(), now)  # not UTF-8


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_unsigned_and_says_how_to_sign(now: datetime, missing: str) -> None:
    with pytest.raises(Unsigned, match="Standard Webhooks"):
        verify_event(SECRET, BODY, {k: v for k, v in headers().items() if k != missing}, now)


def test_a_malformed_timestamp_or_an_overlong_id_is_bad_input(now: datetime) -> None:
    with pytest.raises(BadInput, match="whole seconds"):
        verify_event(SECRET, BODY, headers() | {"webhook-timestamp": "2026-01-01T00:00:00Z"}, now)
    with pytest.raises(BadInput, match=f"longer than {MAX_DELIVERY_ID}"):
        verify_event(SECRET, BODY, headers(delivery="m" * (MAX_DELIVERY_ID + 1)), now)


def test_a_whsec_secret_that_is_not_base64_stops_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIGNOFF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIGNOFF_EVENTS_SECRET", "whsec_not base64!")
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    [error] = refused.value.errors()
    assert error["loc"] == ("events", "secret")
    assert "whsec_ must be base64" in error["msg"]


# ---- /hooks/jira: identity and time from the signed body ---------------------


def jira_event(at: datetime | None = None, **changes: Any) -> dict[str, Any]:
    """A Jira issue update, as Jira posts it (the parts signoff reads), raised `at` (default: now)."""
    at = at or datetime.now(UTC)
    event: dict[str, Any] = {
        "timestamp": int(at.timestamp() * 1000),
        "webhookEvent": "jira:issue_updated",
        "issue": {"id": "10002", "key": "LAUNCH-7", "fields": {}},
        "changelog": {"id": "10400", "items": [{"field": "status", "toString": "Done"}]},
    }
    return event | changes


def test_a_jira_event_is_identified_by_its_event_issue_change_and_time(now: datetime) -> None:
    event = jira_event()
    stamp = event["timestamp"]

    assert jira_delivery(event, now) == f"jira:issue_updated issue=10002 change=10400 at={stamp}"
    assert jira_delivery(json.loads(json.dumps(event)), now) == jira_delivery(event, now)  # a copy is the same
    later = jira_event(at=now + timedelta(seconds=1), changelog={"id": "10401"})
    assert jira_delivery(later, now) != jira_delivery(event, now)  # the next change is another delivery


def test_a_jira_retry_half_an_hour_late_is_taken_and_an_old_or_future_one_is_stale(now: datetime) -> None:
    assert jira_delivery(jira_event(at=now - timedelta(minutes=30)), now)
    with pytest.raises(Stale, match="the event's timestamp is 3 hours old"):
        jira_delivery(jira_event(at=now - timedelta(hours=3)), now)
    with pytest.raises(Stale, match="in the future"):
        jira_delivery(jira_event(at=now + timedelta(minutes=10)), now)
    assert jira_delivery(jira_event(at=now - timedelta(hours=3)), now, max_age=timedelta(hours=4))


@pytest.mark.parametrize("stamp", [None, "1536083559131", 1.5e12, True])
def test_a_jira_event_without_a_timestamp_in_milliseconds_is_bad_input(now: datetime, stamp: object) -> None:
    event = jira_event()
    event["timestamp"] = stamp
    with pytest.raises(BadInput, match="no timestamp"):
        jira_delivery(event, now)


def test_a_long_jira_identity_is_kept_as_its_hash(now: datetime) -> None:
    long = jira_delivery(jira_event(now, issue={"key": "K" * 300}), now)
    assert long.startswith("sha256:") and len(long) <= MAX_DELIVERY_ID
    assert long == jira_delivery(jira_event(now, issue={"key": "K" * 300}), now)  # the same event, the same hash
