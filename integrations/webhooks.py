"""What Jira and other systems post to ``/hooks/jira`` and ``/hooks/events``: is it signed, is it fresh, which
delivery is it.

A signature that covers the body alone proves who sent it, not when: a captured
delivery could be posted again forever. So each delivery's identity and time come
from what its signature covers, a delivery outside a freshness window is refused,
and within the window its identity makes a second copy change nothing.

- ``/hooks/events`` takes `Standard Webhooks <https://www.standardwebhooks.com>`_
  (the ``standardwebhooks`` library): the signature covers the ``webhook-id``,
  the ``webhook-timestamp`` and the body; the id is the delivery's identity.
- ``/hooks/jira`` takes what Jira sends: an HMAC of the body alone in
  ``X-Hub-Signature``. Its identity and time are read from the signed body
  (the event, the issue, the change, and Jira's ``timestamp``), never from a
  header the signature does not cover.

No settings, no clock of its own: callers pass `now` (the Standard Webhooks
library checks its signature's timestamp against the real clock too).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from domain.errors import BadInput

EVENTS_TOLERANCE = timedelta(minutes=5)
"""How far a Standard Webhooks timestamp may be from now, either way (the library's own window)."""

JIRA_MAX_AGE = timedelta(hours=1)
"""How old a Jira event may be: Jira Cloud retries a failed delivery for up to about 30 minutes, with its
first timestamp; an hour leaves room for that and for a slow queue."""

JIRA_AHEAD = timedelta(minutes=5)
"""How far in the future a Jira event's timestamp may be (clocks drift)."""

MAX_DELIVERY_ID = 200
"""The longest delivery id kept (the column's width); a longer readable Jira identity is kept as its hash."""

SECRET_PREFIX = "whsec_"


class Unsigned(BadInput):
    """A delivery whose signature is missing or does not match (HTTP 401)."""


class Stale(BadInput):
    """A signed delivery whose time is outside the freshness window: a replay, or a clock far off (HTTP 400)."""


def events_key(secret: str) -> bytes:
    """The HMAC key of ``SIGNOFF_EVENTS_SECRET``.

    A Standard Webhooks secret, ``whsec_`` and base64, is the bytes it encodes.
    Any other value is its own UTF-8 bytes, so a plain secret set before the
    move to Standard Webhooks keeps working: to a sender's Standard Webhooks
    library it is ``whsec_`` followed by the base64 of the plain secret.

    >>> events_key("whsec_c2VjcmV0"), events_key("secret")
    (b'secret', b'secret')

    Raises:
        ValueError: a ``whsec_`` secret whose rest is not base64, or is empty.
    """
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode()
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("a secret starting with whsec_ must be base64 after it") from None
    if not key:
        raise ValueError("a secret starting with whsec_ needs a key after it")
    return key


def verify_event(secret: str, body: bytes, headers: Mapping[str, str], now: datetime) -> str:
    """The delivery id of a Standard Webhooks delivery signed with `secret` within `EVENTS_TOLERANCE` of `now`.

    Raises:
        Unsigned: a header is missing, or the signature does not match.
        Stale: the timestamp is more than five minutes from `now`.
        BadInput: the delivery id is longer than `MAX_DELIVERY_ID`, or the timestamp is not a number.
    """
    delivery, stamp, signature = (headers.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (delivery and stamp and signature):
        raise Unsigned("sign events the Standard Webhooks way: webhook-id, webhook-timestamp and webhook-signature")
    if len(delivery) > MAX_DELIVERY_ID:
        raise BadInput(f"webhook-id is longer than {MAX_DELIVERY_ID} characters")
    _within(_seconds(stamp), now, EVENTS_TOLERANCE, EVENTS_TOLERANCE, "webhook-timestamp")
    signed = {"webhook-id": delivery, "webhook-timestamp": stamp, "webhook-signature": signature}
    try:
        Webhook(events_key(secret)).verify(body, signed, json_parse=False)
    except (WebhookVerificationError, ValueError):  # a signature not base64 or not "v1,…", a body not UTF-8
        raise Unsigned(
            "webhook-signature does not match: sign webhook-id.webhook-timestamp.body with SIGNOFF_EVENTS_SECRET"
        ) from None
    return delivery


def jira_signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` (``sha256=<hex>``) is the HMAC-SHA256 of `body` under `secret`, as Jira signs."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def jira_delivery(event: dict[str, Any], now: datetime, max_age: timedelta = JIRA_MAX_AGE) -> str:
    """The identity of a signed Jira event, from its body: event, issue, change and time.

    A redelivery of the same event (Jira's retry, or a copy posted again) has
    the same identity, whatever its headers say.

    Raises:
        BadInput: the body has no ``timestamp`` (milliseconds since 1970), as every Jira event does.
        Stale: the timestamp is more than `max_age` old or `JIRA_AHEAD` ahead of `now`.
    """
    stamp = event.get("timestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise BadInput("not a Jira event: no timestamp (milliseconds since 1970) in the body")
    _within(stamp / 1000, now, max_age, JIRA_AHEAD, "the event's timestamp")
    issue, change, comment = (_mapping(event.get(part)) for part in ("issue", "changelog", "comment"))
    parts = {
        "issue": issue.get("id") or issue.get("key"),
        "change": change.get("id"),
        "comment": comment.get("id"),
        "at": stamp,
    }
    identity = " ".join([str(event.get("webhookEvent")), *(f"{k}={v}" for k, v in parts.items() if v is not None)])
    return identity if len(identity) <= MAX_DELIVERY_ID else "sha256:" + hashlib.sha256(identity.encode()).hexdigest()


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seconds(stamp: str) -> float:
    """A Standard Webhooks timestamp: whole seconds since 1970.

    Raises:
        BadInput: it is not.
    """
    if not stamp.isdigit():
        raise BadInput("webhook-timestamp must be the time of sending in whole seconds since 1970")
    return float(stamp)


def _within(seconds: float, now: datetime, older: timedelta, ahead: timedelta, what: str) -> None:
    """Refuse a moment (`seconds` since 1970) more than `older` before `now` or `ahead` after it.

    Raises:
        Stale: saying by how much, and what the window is.
    """
    drift = seconds - now.timestamp()
    if -older.total_seconds() <= drift <= ahead.total_seconds():
        return
    if drift < 0:
        raise Stale(
            f"{what} is {_span(-drift)} old, and deliveries older than {_span(older.total_seconds())} "
            "are refused (a replay, or a delivery held up too long)"
        )
    raise Stale(f"{what} is {_span(drift)} in the future: check the sender's clock")


def _span(seconds: float) -> str:
    """A duration in words: ``"5 minutes"``, ``"3 hours"``, ``"12 days"``."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= 2 * size or (unit == "minute" and seconds >= size):
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{round(seconds)} seconds"
