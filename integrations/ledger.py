"""The outbox rows behind every email, chat post and the like: each send made, and its outcome known.

SMTP, Slack and Teams take no idempotency key, so a send is recorded before
it is made and marked after. A row goes *pending* → *done* (with what is
worth keeping, such as where a chat message went), or *pending* → ``failed``
when the service certainly did not take it, which lets a retry claim it
again. A row found still *pending* by a retry (no answer after the request
went out, or a worker that died mid-call) is an unknown outcome: the retry
claims it `Claim.again` and the adapter either finds out (Slack: look for the
message in the channel) or sends again (email, under the same Message-ID,
which mail systems collapse into one). A message lost for good is worse
than a repeat a mail client hides, and the trail says which happened.

Each claim has an id, kept in the row: taking a row over is one conditional
UPDATE, so of two attempts racing exactly one sends, and an attempt marks
the row done or failed only while it is still its own, so a slow attempt
that was given up on cannot undo what the one after it did. A pending row
younger than `settle` seconds may still be a live attempt's (Temporal starts
the next attempt when a heartbeat is late, not only when a worker died):
it is not taken over until then. Every outcome is one log line.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from domain.errors import Unavailable
from integrations.ports import ChatMessage
from integrations.store import Store

log = structlog.get_logger()

FAILED = "failed"

SETTLE_MARGIN = 5.0
"""Seconds past a client's own timeout before its unconfirmed claim is taken over: by then the request it
made has been answered or given up on."""


@dataclass(frozen=True)
class Claim:
    """A send that may go ahead: this attempt's hold on the row."""

    id: str
    again: bool
    """An earlier attempt's outcome is unknown: it may have gone out."""
    earlier: datetime | None = None
    """When that earlier attempt claimed the row (`again` only)."""


class SendLedger:
    """The outbox rows of one channel (``email``, ``chat``) and its state names."""

    def __init__(self, store: Store, channel: str, pending: str, done: str, **stamp: str) -> None:
        """`stamp` goes into every row's meta (``via="slack"``)."""
        self.store = store
        self.channel = channel
        self.pending = pending
        self.done_state = done
        self.stamp = stamp

    def claim(
        self, key: str, process_id: str, to: list[str], subject: str, body: str, settle: float = 0.0, **meta: str
    ) -> Claim | None:
        """Record a send of `key` as under way; None if an earlier attempt made it.

        Args:
            settle: how old (seconds) an unconfirmed claim must be before it is taken over: an attempt
                still running is not raced.

        Raises:
            Unavailable: another attempt holds the row (it took it over just now, or may still be sending).
        """
        now = datetime.now(UTC)
        claim_id = uuid.uuid4().hex
        claimed = {**self.stamp, "state": self.pending, **meta, "claim": claim_id, "claimed_at": now.isoformat()}
        entry, created = self.store.record(key, process_id, self.channel, to, subject, body, claimed)
        if created:
            return Claim(claim_id, again=False)
        state = entry.meta.get("state")
        if state == self.done_state:
            log.info("delivery already made", key=key, channel=self.channel, **self.stamp)
            return None
        again = state == self.pending
        earlier = _when(entry.meta.get("claimed_at")) or entry.at.replace(tzinfo=entry.at.tzinfo or UTC)
        if again and (wait := settle - (now - earlier).total_seconds()) > 0:
            raise Unavailable(f"an earlier attempt at {key} may still be sending; looking again shortly", wait)
        attempts = int(entry.meta.get("attempts", "1")) + 1
        if again:
            claimed["unconfirmed"] = str(entry.meta.get("unconfirmed", "no answer from the earlier attempt"))
        if not self.store.replace_meta_if(key, entry.meta, {**claimed, "attempts": str(attempts)}):
            raise Unavailable(f"another attempt is sending {key} right now; its outcome will be known shortly")
        if again:
            log.warning(
                "delivery outcome unknown; delivering again", key=key, channel=self.channel, attempts=attempts,
                **self.stamp,
            )  # fmt: skip
        return Claim(claim_id, again=again, earlier=earlier if again else None)

    def done(self, key: str, claim: Claim, **meta: str) -> None:
        """Mark the send of `key` made, keeping `meta` (where it went, when)."""
        again = {"again": "after an unknown outcome"} if claim.again else {}
        if self._mark(key, claim, self.done_state, meta | again):
            log.info("delivered", key=key, channel=self.channel, again=claim.again, **self.stamp)

    def failed(self, key: str, claim: Claim, **meta: str) -> None:
        """Mark the send of `key` as certainly not made, so a retry makes it."""
        if self._mark(key, claim, FAILED, meta):
            log.warning("delivery failed", key=key, channel=self.channel, **self.stamp, **meta)

    def uncertain(self, key: str, claim: Claim, **meta: str) -> None:
        """Leave `key` pending with the reason (in `meta`): it may have gone out, and a retry delivers it again."""
        if self._mark(key, claim, self.pending, meta):
            log.warning("delivery outcome unknown", key=key, channel=self.channel, **self.stamp, **meta)

    def where(self, key: str) -> dict[str, Any] | None:
        """The meta of a send that was made, or None."""
        entry = self.store.recorded(key)
        return entry.meta if entry and entry.meta.get("state") == self.done_state else None

    def _mark(self, key: str, claim: Claim, state: str, meta: dict[str, str]) -> bool:
        """Set the row's state while the row is still `claim`'s; False (and a log line) once another took it."""
        entry = self.store.recorded(key)
        if entry is None or entry.meta.get("claim") != claim.id:
            log.warning("delivery taken over by a later attempt", key=key, channel=self.channel, outcome=state)
            return False
        kept: dict[str, Any] = {n: entry.meta[n] for n in ("attempts", "claim", "claimed_at") if n in entry.meta}
        return self.store.replace_meta_if(key, entry.meta, {**self.stamp, "state": state, **kept, **meta})


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


class ChatLedger(SendLedger):
    """The ledger of chat posts made through `via` (``slack``, ``teams``)."""

    def __init__(self, store: Store, via: str) -> None:
        super().__init__(store, "chat", "posting", "posted", via=via)

    def claim_post(self, message: ChatMessage, settle: float = 0.0, **meta: str) -> Claim | None:
        """Claim the post of `message` (see `SendLedger.claim`)."""
        return self.claim(
            message.key, message.process_id, [message.channel], message.channel, message.text, settle, **meta
        )
