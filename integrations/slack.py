"""Slack: posts with decision buttons and in-place updates.

Slack has no idempotency key, so a post goes through a row of the outbox
table (`ChatLedger`), recorded as ``posting`` *before* the request goes out
and marked ``posted`` (with the channel id and ``ts`` that `SlackChat.update`
needs) once Slack answers. Where Slack certainly did not post (it answered
with an error, or could not be reached) the row becomes ``failed`` and a
retry posts. Where it may have (no answer after the request was sent, a
5xx, a worker that died mid-call) the row stays ``posting``, and the retry
looks for the message in the channel before posting: every post carries its
key in its message metadata (``event_type`` ``signoff_message``), which
``conversations.history`` returns. Found, it is marked posted where it is;
not found, it is posted. A person to message is looked up *before* the row
is claimed, so a failed look-up leaves nothing half-done.

A decision button carries the approval token as its ``value`` and the decision
in its ``action_id`` (``signoff_decision:approve`` / ``signoff_decision:reject``,
unique within the message as Slack requires). Slack posts the click to the
web service's ``POST /hooks/slack``: `integrations.slack_interactions` checks
and reads it.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal
from urllib.error import URLError
from urllib.parse import urlsplit

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from domain.errors import IntegrationError, Refused, Unavailable
from domain.requests import Delivery
from integrations.ledger import SETTLE_MARGIN, ChatLedger, Claim
from integrations.ports import ChatAction, ChatMessage
from integrations.store import Store

log = structlog.get_logger()

ACTION_ID = "signoff_decision"
"""Prefix of the ``action_id`` of every decision button."""

DECISIONS: dict[str, Literal["approve", "reject"]] = {"primary": "approve", "danger": "reject"}
"""A button's style says which decision it carries; a button without one opens `ChatAction.url`."""

SECTION_LIMIT = 3000
"""Slack's limit on the text of one section block."""

METADATA_TYPE = "signoff_message"
"""The ``event_type`` of the message metadata every post carries, its ``event_payload`` holding the key."""

LOOK_BACK = 1000
"""The most messages read back through a channel's history when looking for a post whose outcome is unknown."""


_ID = re.compile(r"^[CGDUW][A-Z0-9]{2,}$")
"""A Slack id (a channel's, a DM's, a person's), as opposed to a channel's name."""

# Error codes Slack answers when a call may be retried; the first two may
# have been partly carried out ("it's possible some aspect of the operation succeeded").
_MAYBE_DONE = {"internal_error", "fatal_error"}
_NOT_DONE = {"service_unavailable", "request_timeout", "ratelimited"}

_REFUSALS = {
    "invalid_auth": "Slack: the token was not accepted: check SIGNOFF_SLACK_TOKEN",
    "not_authed": "Slack: no token was sent: set SIGNOFF_SLACK_TOKEN",
    "account_inactive": "Slack: the token belongs to a deactivated bot or workspace: reinstall the app",
    "token_revoked": "Slack: the token was revoked: reinstall the app and update SIGNOFF_SLACK_TOKEN",
    "token_expired": "Slack: the token has expired: reinstall the app and update SIGNOFF_SLACK_TOKEN",
    "channel_not_found": "Slack: the bot sees no channel {target}: check the name, and invite the bot if it is private",
    "not_in_channel": "Slack: the bot is not in {target}: invite it (/invite @signoff)",
    "is_archived": "Slack: {target} is archived: unarchive it or choose another channel",
    "users_not_found": "Slack: nobody in the workspace has the email {target}: check the address",
    "user_not_found": "Slack: there is no user {target} in the workspace",
    "missing_scope": "Slack: the app lacks the scope {needed}: add it under OAuth & Permissions and reinstall",
    "message_not_found": "Slack: the message to update is no longer in {target}",
    "cant_update_message": "Slack: the bot may not edit the message in {target}",
    "msg_too_long": "Slack: the message is too long for {target}",
    "invalid_blocks": "Slack: the message blocks were refused ({detail})",
}


class SlackChat:
    """Posts to Slack channels and people through the Web API with a bot token."""

    direct_messages = True

    def __init__(self, store: Store, token: str, api_url: str = "https://slack.com/api/", timeout: int = 10) -> None:
        # retry_handlers=[]: the SDK would otherwise resend a request whose
        # connection dropped after it was sent; Temporal decides retries.
        self.client = WebClient(token=token, base_url=api_url, timeout=timeout, retry_handlers=[])
        self.timeout = timeout
        self.settle = timeout + SETTLE_MARGIN
        """Seconds an unconfirmed post is left to its attempt before a retry looks for it (`SendLedger.claim`)."""
        self.ledger = ChatLedger(store, "slack")
        self.host = urlsplit(api_url).netloc

    def post(self, message: ChatMessage) -> Delivery:
        """Post `message` once per key: to a channel (``#launches``), or as a DM when it names an email.

        Raises:
            Refused: Slack said no (bad token, unknown channel or person, bot not in the channel).
            Unavailable: rate limited, a 5xx, or no answer; the retry looks for the post before posting again.
        """
        delivery = Delivery(key=message.key, channel="chat", to=[message.channel])
        if self.ledger.where(message.key) is not None:  # posted: nothing to look up (the person may have left)
            return delivery.model_copy(update={"outcome": "duplicate"})
        channel = self._resolve(message.channel)  # before the claim: a look-up that fails posted nothing
        claim = self.ledger.claim_post(message, settle=self.settle)
        if claim is None:
            return delivery.model_copy(update={"outcome": "duplicate"})
        looked: dict[str, str] = {}
        if claim.again:
            try:
                found = self._find(channel, message, claim)
            except Refused as err:  # (a scope the app was installed without): better twice than never
                log.warning("could not look for an earlier post; posting", key=message.key, error=str(err))
                found, looked = None, {"not_looked_for": str(err)}
            if found is not None:
                self.ledger.done(message.key, claim, channel=found[0], ts=found[1], found="in the channel")
                return delivery.model_copy(update={"outcome": "duplicate"})
        text = escape(message.text)
        try:
            response = self._call(
                lambda: self.client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks(message.text, message.actions),
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata={"event_type": METADATA_TYPE, "event_payload": {"key": message.key}},
                ),
                message.channel,
            )
        except IntegrationError as error:
            if _maybe_done(error.__cause__):
                self.ledger.uncertain(message.key, claim, unconfirmed=str(error))
            else:
                self.ledger.failed(message.key, claim, error=str(error))
            raise
        self.ledger.done(message.key, claim, channel=str(response["channel"]), ts=str(response["ts"]), **looked)
        return delivery

    def _find(self, channel: str, message: ChatMessage, claim: Claim) -> tuple[str, str] | None:
        """Where the post of `message` is, if the earlier attempt made it: (channel id, ts), or None.

        Reads the channel's history over the time that attempt could have posted (from a minute before
        it claimed the post to a minute after its request timed out), at most `LOOK_BACK` messages.
        """
        earlier = (claim.earlier or datetime.now(UTC)).timestamp()
        oldest, latest = earlier - 60, earlier + self.settle + 60
        conversation = self._conversation(channel, message.channel)
        cursor: str | None = None
        seen = 0
        while seen < LOOK_BACK:
            page = self._call(
                partial(
                    self.client.conversations_history, channel=conversation, oldest=f"{oldest:.6f}",
                    latest=f"{latest:.6f}", inclusive=True, include_all_metadata=True, limit=200, cursor=cursor,
                ),
                message.channel,
            )  # fmt: skip
            for posted in page.get("messages") or []:
                metadata = posted.get("metadata") or {}
                if (
                    metadata.get("event_type") == METADATA_TYPE
                    and metadata.get("event_payload", {}).get("key") == message.key
                ):
                    return conversation, str(posted["ts"])
                seen += 1
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    def _conversation(self, channel: str, target: str) -> str:
        """The conversation id ``conversations.history`` takes for `channel`: a user's DM, a channel by name."""
        if _ID.match(channel) and channel[0] in "UW":
            opened = self._call(lambda: self.client.conversations_open(users=channel), target)
            return str(opened["channel"]["id"])
        if _ID.match(channel):
            return channel  # a conversation's id already (C…, G…, D…)
        name, cursor = channel.removeprefix("#"), None
        while True:
            page = self._call(
                partial(
                    self.client.conversations_list, types="public_channel,private_channel", exclude_archived=True,
                    limit=1000, cursor=cursor,
                ),
                target,
            )  # fmt: skip
            for found in page.get("channels") or []:
                if found.get("name") == name:
                    return str(found["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise Refused(_REFUSALS["channel_not_found"].format(target=target))

    def update(self, key: str, text: str) -> bool:
        """Replace the message posted under `key` by `text`, without its buttons (a decision was taken).

        Returns False, changing nothing, when no post under `key` is confirmed
        (it failed, or never went out).

        Raises:
            Refused: Slack refused the edit (the message was deleted, say).
            Unavailable: rate limited, a 5xx, or no answer; editing again is harmless.
        """
        where = self.ledger.where(key)
        if where is None:
            return False
        self._call(
            lambda: self.client.chat_update(
                channel=where["channel"], ts=where["ts"], text=escape(text), blocks=blocks(text, [])
            ),
            where["channel"],
        )
        return True

    def tell(self, response_url: str, text: str) -> None:
        """Answer a button click with a message only the person who clicked sees (an ephemeral reply).

        `response_url` comes from the signed interaction, so it is Slack's own.

        Raises:
            Unavailable: Slack did not take the reply.
        """
        try:
            answer = WebhookClient(response_url, timeout=self.timeout).send(
                text=escape(text), response_type="ephemeral", replace_original=False
            )
        except (OSError, http.client.HTTPException) as err:
            raise Unavailable(f"Slack: the reply to a click could not be sent ({type(err).__name__})") from None
        if answer.status_code >= 300:
            raise Unavailable(f"Slack: the reply to a click was refused (HTTP {answer.status_code})")

    def check(self) -> str:
        """Call auth.test and say which workspace and bot the token is for.

        Raises:
            Refused: the token is not accepted.
            Unavailable: Slack could not be reached.
        """
        who = self._call(self.client.auth_test, "auth.test")
        return f"Slack workspace {who.get('team')} as bot {who.get('user')}"

    def user_email(self, user_id: str) -> str:
        """The email of a Slack user (users.info), to check that whoever clicked a button is the approver.

        Raises:
            Refused: no such user.
            Unavailable: Slack could not answer now.
        """
        found = self._call(lambda: self.client.users_info(user=user_id), user_id)
        return str(found["user"].get("profile", {}).get("email", ""))

    def _resolve(self, channel: str) -> str:
        """The channel to post to: a person's email becomes their user id (Slack opens the DM)."""
        if "@" not in channel:
            return channel
        found = self._call(lambda: self.client.users_lookupByEmail(email=channel), channel)
        return str(found["user"]["id"])

    def _call(self, call: Callable[[], SlackResponse], target: str) -> SlackResponse:
        try:
            return call()
        except (SlackApiError, OSError, http.client.HTTPException) as err:
            raise _failure(err, target, self.host) from err


def _failure(err: Exception, target: str, host: str) -> IntegrationError:
    """Translate a slack_sdk or socket error; the token is never part of any message."""
    if isinstance(err, URLError):
        return Unavailable(f"Slack: cannot reach {host}: {err.reason}")
    if isinstance(err, TimeoutError):
        return Unavailable("Slack: no answer in time (the message may have been posted)")
    if not isinstance(err, SlackApiError):
        return Unavailable("Slack: the connection broke before Slack answered")
    status, code, data = _answer(err)
    if status == 429 or code == "ratelimited":
        return Unavailable("Slack: rate limited", retry_after=_retry_after(err.response.headers))
    if status >= 500 or code in _MAYBE_DONE | _NOT_DONE:
        return Unavailable(f"Slack: {code or 'server error'} (HTTP {status})")
    sentence = _REFUSALS.get(code, "Slack refused the call: {code} (HTTP {status})")
    detail = "; ".join(str(e) for e in data.get("errors", [])) or code
    return Refused(
        sentence.format(target=target, needed=data.get("needed", "?"), detail=detail, code=code, status=status)
    )


def _maybe_done(err: BaseException | None) -> bool:
    """Whether Slack may have carried out a call that failed with `err`, so it must not be made again."""
    if isinstance(err, URLError):
        return False  # it failed before anything was sent: connection refused, DNS, TLS
    if not isinstance(err, SlackApiError):
        return True  # no answer, or the connection dropped, after the request went out
    status, code, _ = _answer(err)
    return code in _MAYBE_DONE or (status >= 500 and status != 503 and code not in _NOT_DONE)


def _answer(err: SlackApiError) -> tuple[int, str, dict[str, Any]]:
    """The status, error code and data of Slack's answer."""
    status = int(err.response.status_code)
    data = err.response.data if isinstance(err.response.data, dict) else {}
    code = str(data.get("error", ""))
    if status >= 500 and code not in _MAYBE_DONE | _NOT_DONE:
        code = ""  # the SDK's paraphrase of an HTML error page, say: the status says enough
    return status, code, data


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(text: str, actions: list[ChatAction]) -> list[dict[str, Any]]:
    """The Block Kit blocks of a message: its text as mrkdwn sections, then one button per action.

    A button styled ``primary`` carries an approval, ``danger`` a rejection
    (one of each at most); a button without a style opens `ChatAction.url`.
    """
    result: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in _sections(text.strip())
    ]
    if actions:
        buttons = [_button(action, index) for index, action in enumerate(actions)]
        result.append({"type": "actions", "block_id": ACTION_ID, "elements": buttons})
    return result


def _sections(text: str) -> list[str]:
    """`text`, escaped, in pieces of at most `SECTION_LIMIT` characters that never split an escape."""
    pieces, current = [], ""
    for character in text:
        escaped = escape(character)
        if len(current) + len(escaped) > SECTION_LIMIT:
            pieces.append(current)
            current = ""
        current += escaped
    return [*pieces, current] if current else pieces or [" "]


def _button(action: ChatAction, index: int) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": action.label[:75], "emoji": True},
        "value": action.value,
    }
    decision = DECISIONS.get(action.style or "")
    if decision:
        return button | {"action_id": f"{ACTION_ID}:{decision}", "style": action.style}
    return button | {"action_id": f"signoff_link:{index}", "url": action.url}
