"""Microsoft Teams: Adaptive Cards posted to a channel's incoming webhook.

A webhook cannot call back, so a card's buttons are ``Action.OpenUrl``
links to the approval page, where the decision is taken (and shown once it
is). A webhook posts to its one channel: a message addressed to a person
(an email) is refused rather than posted where the whole channel could use
that person's approval link.

A post whose outcome is unknown (no answer after the card went out, a
worker that died mid-call) is posted again by the retry (`Delivery`
outcome ``sent_again``): a webhook can neither take an idempotency key nor
read the channel back, and a card shown twice is better than a card lost.

The webhook URL is a secret (whoever holds it can post): it never appears in
an error message, nor in the cause of one. Posts are made once per
key through the same `ChatLedger` as Slack's.

Answers: the classic webhook says ``200`` with the body ``1``; it reports a
failed delivery as ``200`` with a sentence naming the HTTP error (its way of
telling a rate limit); a Workflows (Power Automate) webhook says ``202``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from domain.errors import IntegrationError, Refused, Unavailable
from domain.requests import Delivery
from integrations.ledger import SETTLE_MARGIN, ChatLedger
from integrations.ports import ChatAction, ChatMessage
from integrations.store import Store

STYLES = {"primary": "positive", "danger": "destructive"}
"""Slack's button styles in Adaptive Card terms."""

EMOJI = {
    ":rocket:": "🚀",
    ":tada:": "🎉",
    ":ballot_box_with_check:": "☑️",
    ":no_entry:": "⛔",
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":warning:": "⚠️",
    ":hourglass:": "⌛",
    ":bell:": "🔔",
}
"""The Slack shortcodes the message templates use, as characters (Teams shows shortcodes literally)."""

_SOFT_FAILURE = re.compile(r"HTTP error (\d{3})")
_SLACK_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


class TeamsChat:
    """Posts cards to the Teams channel of one incoming webhook."""

    direct_messages = False

    def __init__(self, store: Store, webhook_url: str, timeout: float = 10.0) -> None:
        self.webhook_url = webhook_url
        self.timeout = timeout
        self.settle = timeout + SETTLE_MARGIN
        """Seconds an unconfirmed post is left to its attempt before a retry posts it again (`SendLedger.claim`)."""
        self.ledger = ChatLedger(store, "teams")

    def __repr__(self) -> str:
        return f"TeamsChat(host={urlsplit(self.webhook_url).hostname!r})"

    def post(self, message: ChatMessage) -> Delivery:
        """Post `message` as a card, once per key.

        Raises:
            Refused: addressed to a person, or the webhook refused the card (4xx: gone, disabled, too large).
            Unavailable: rate limited, a 5xx, or no answer; the retry posts again if Teams may not have it.
        """
        if "@" in message.channel:
            raise Refused(
                f"Teams: an incoming webhook posts to its own channel and cannot message {message.channel}; "
                "send it by email or Slack"
            )
        delivery = Delivery(key=message.key, channel="chat", to=[message.channel])
        claim = self.ledger.claim_post(message, settle=self.settle)
        if claim is None:
            return delivery.model_copy(update={"outcome": "duplicate"})
        error, maybe_done = self._send(card(message.text, message.actions))
        if error is None:
            self.ledger.done(message.key, claim)
            return delivery.model_copy(update={"outcome": "sent_again" if claim.again else "sent"})
        if maybe_done:
            self.ledger.uncertain(message.key, claim, unconfirmed=str(error))
        else:
            self.ledger.failed(message.key, claim, error=str(error))
        raise error

    def update(self, key: str, text: str) -> bool:
        """Always False: a webhook cannot edit what it posted (its buttons open the page, which shows the decision)."""
        return False

    def check(self) -> str:
        """Check the shape of the webhook URL only: Teams has no call that does not post.

        Raises:
            Refused: the URL is not an https URL with a path (http is allowed on loopback, for tests).
        """
        parts = urlsplit(self.webhook_url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise Refused("Teams: SIGNOFF_TEAMS_WEBHOOK_URL is not an https URL")
        if not parts.hostname or len(parts.path.strip("/")) < 8:
            raise Refused("Teams: SIGNOFF_TEAMS_WEBHOOK_URL has no webhook path: copy the whole URL from Teams")
        return f"Teams incoming webhook on {parts.hostname} (shape checked only: Teams has no harmless test call)"

    def _send(self, payload: dict[str, Any]) -> tuple[IntegrationError | None, bool]:
        """POST the card; the error to raise (None when posted) and whether Teams may have posted anyway."""
        try:
            response = requests.post(self.webhook_url, json=payload, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as err:  # its message names the URL: never passed on
            if _never_sent(err):
                return Unavailable("Teams: cannot reach the webhook's server"), False
            return Unavailable("Teams: no answer from the webhook (the card may have been posted)"), True
        return _outcome(response)


def _never_sent(err: requests.RequestException) -> bool:
    """Whether the request failed before it left (no connection), so a retry cannot post twice."""
    if isinstance(err, requests.ConnectTimeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(err, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _outcome(response: requests.Response) -> tuple[IntegrationError | None, bool]:
    status, body = response.status_code, response.text.strip()
    if status == 202 or (status == 200 and body == "1"):
        return None, False
    reported = status == 200  # the classic webhook's way to say a delivery failed (so nothing was posted)
    if reported:
        found = _SOFT_FAILURE.search(body)
        status = int(found.group(1)) if found else 503
    if status == 429:
        return Unavailable("Teams: rate limited", retry_after=_seconds(response.headers.get("Retry-After"))), False
    if status >= 500:
        return Unavailable(f"Teams: server error (HTTP {status})"), not reported and status != 503
    sentence = {
        400: "Teams: the webhook refused the card as malformed (HTTP 400)",
        401: "Teams: the webhook refused the post (HTTP 401): check that it is still enabled",
        403: "Teams: the webhook refused the post (HTTP 403): check that it is still enabled",
        404: "Teams: the webhook no longer exists (HTTP 404): create one and update SIGNOFF_TEAMS_WEBHOOK_URL",
        410: "Teams: the webhook no longer exists (HTTP 410): create one and update SIGNOFF_TEAMS_WEBHOOK_URL",
        413: "Teams: the card is too large for a webhook (over 28 KB)",
    }.get(status, f"Teams: the webhook refused the post (HTTP {status})")
    return Refused(sentence), False


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def teams_text(text: str) -> str:
    """Slack-flavoured message text as Adaptive Card Markdown: ``*bold*`` → ``**bold**``, emoji shortcodes → emoji."""
    for code, character in EMOJI.items():
        text = text.replace(code, character)
    return _SLACK_BOLD.sub(r"**\1**", text)


def card(text: str, actions: list[ChatAction]) -> dict[str, Any]:
    """The webhook payload: a message with one Adaptive Card, its text and one link button per action."""
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": teams_text(text.strip()), "wrap": True}],
    }
    if actions:
        content["actions"] = [_open_url(action) for action in actions]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}
        ],
    }


def _open_url(action: ChatAction) -> dict[str, Any]:
    button = {"type": "Action.OpenUrl", "title": action.label, "url": action.url}
    style = STYLES.get(action.style or "")
    return (button | {"style": style}) if style else button
