"""What Slack posts to ``POST /hooks/slack`` when a decision button is clicked: its signature, its reading.

The web service checks the request with `verify_request` (Slack's v0
signature over the raw body, within five minutes), reads it with
`parse_interaction` and applies the decision like the approval page does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ValidationError
from slack_sdk.signature import Clock, SignatureVerifier

from domain.errors import BadInput
from integrations.slack import ACTION_ID

SIGNATURE_WINDOW = 5 * 60
"""Seconds a signed request stays valid: older ones are refused as possible replays."""


class SlackDecision(BaseModel):
    """A click on a decision button, as Slack reported it."""

    token: str
    decision: Literal["approve", "reject"]
    user_id: str
    user_name: str
    channel_id: str
    message_ts: str
    response_url: str


class BadSignature(BadInput):
    """A request to ``/hooks/slack`` that does not carry a valid Slack signature."""


class NotADecision(BadInput):
    """A well-formed interaction that is not a decision (a link button, a shortcut): acknowledge and ignore it."""


class _At(Clock):
    """A clock stopped at one moment, so `verify_request` honours the time it is given."""

    def __init__(self, now: float) -> None:
        self.moment = now

    def now(self) -> float:
        return self.moment


def verify_request(signing_secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Check Slack's v0 signature of a request over its raw body, within five minutes of `now`.

    Raises:
        BadSignature: a header is missing, the timestamp is more than five
            minutes from `now` (a replay?), or the signature does not match.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not timestamp or not signature:
        raise BadSignature("missing X-Slack-Request-Timestamp or X-Slack-Signature header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise BadSignature("X-Slack-Request-Timestamp is not a number") from None
    if abs(now - sent_at) > SIGNATURE_WINDOW:
        raise BadSignature(f"stale timestamp: signed {int(now - sent_at)} s from now, more than 5 minutes")
    verifier = SignatureVerifier(signing_secret, clock=_At(now))
    try:
        valid = verifier.is_valid(body, timestamp, signature)
    except UnicodeDecodeError:
        raise BadSignature("the body is not UTF-8") from None
    if not valid:
        raise BadSignature("wrong signature (another app's request, a changed body or a wrong signing secret)")


class _User(BaseModel):
    id: str
    username: str | None = None
    name: str | None = None


class _Container(BaseModel):
    message_ts: str | None = None
    channel_id: str | None = None


class _Channel(BaseModel):
    id: str


class _Action(BaseModel):
    action_id: str
    value: str | None = None


class _BlockActions(BaseModel):
    type: str
    user: _User
    container: _Container
    channel: _Channel | None = None
    response_url: str
    actions: list[_Action]


def parse_interaction(body: bytes) -> SlackDecision:
    """Read a decision from the form body Slack posts when a button is clicked (a ``block_actions`` payload).

    Raises:
        NotADecision: another kind of interaction, or a click on a button that is not a decision.
        BadInput: the body is not a Slack interaction.
    """
    try:
        fields = parse_qs(body.decode("utf-8"))
        payload = json.loads(fields["payload"][0])
    except (UnicodeDecodeError, KeyError, ValueError):
        raise BadInput("not a Slack interaction: expected a form with a JSON `payload` field") from None
    if not isinstance(payload, dict):
        raise BadInput("not a Slack interaction: its payload is not a JSON object")
    if payload.get("type") != "block_actions":
        raise NotADecision(f"a Slack interaction of type {payload.get('type')!r}, not a button click")
    try:
        event = _BlockActions.model_validate(payload)
    except ValidationError as err:
        raise BadInput(f"a Slack block_actions payload without {_first_field(err)}") from None
    action = next((a for a in event.actions if a.action_id.startswith(f"{ACTION_ID}:")), None)
    if action is None:
        raise NotADecision("a click on a button that is not a decision")
    decision = action.action_id.partition(":")[2]
    channel_id = event.channel.id if event.channel else event.container.channel_id
    if decision not in ("approve", "reject") or not action.value or not channel_id or not event.container.message_ts:
        raise BadInput(f"a Slack decision without a token, a channel or a message ({action.action_id})")
    return SlackDecision(
        token=action.value,
        decision="approve" if decision == "approve" else "reject",
        user_id=event.user.id,
        user_name=event.user.username or event.user.name or event.user.id,
        channel_id=channel_id,
        message_ts=event.container.message_ts,
        response_url=event.response_url,
    )


def _first_field(err: ValidationError) -> str:
    location = err.errors()[0]["loc"]
    return ".".join(str(part) for part in location)
