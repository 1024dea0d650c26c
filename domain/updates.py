"""Messages into a running process: the updates people send it (an item done, a decision, a revision, a cancel,
a reminder asked for) and what some of them answer. Like every message, one model each; new fields optional.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain.enums import Channel, Decision
from domain.models import Email, Model, RecoveryAction


class ItemDoneInput(Model):
    """Mark a checklist item done, or accept it as won't-do with a reason (update `mark_item_done`)."""

    item: str
    by: str = "system"
    channel: Channel = Channel.API
    resolution: Literal["done", "wont_do"] = "done"
    reason: str = Field("", max_length=2000)


class IssueDoneInput(Model):
    """The tracker says an issue reached a done status (update `issue_done`)."""

    issue: str
    by: str = "jira"
    channel: Channel = Channel.JIRA


class DecisionInput(Model):
    """An approver's decision at a gate (update `decide`)."""

    gate: str
    round: int | None = None
    approver: Email
    decision: Decision
    comment: str = Field("", max_length=5000)
    token_id: str | None = None
    channel: Channel = Channel.LINK
    content_hash: str | None = None
    """The version the approver saw (from their link); refused if the message has changed since."""
    signed_in: bool = False
    """Whether the approver proved who they are (signed in as themselves, or Slack vouched), beyond holding
    their link: a gate that requires sign-in refuses a decision without it."""
    on_behalf_of: Email | None = None
    """The approver `approver` decides for (their link was a delegate's): refused unless that approver handed
    their decision to `approver` and nobody has decided for them yet."""


class DelegateInput(Model):
    """An approver hands their decision at a gate to someone else (update `delegate`): that person gets a link
    of their own and decides on the approver's behalf."""

    gate: str
    round: int | None = None
    approver: Email
    """Who hands their decision on (from their link)."""
    to: Email
    """Who decides in their place."""
    note: str = Field("", max_length=2000)
    """What the approver tells them (shown in their request)."""
    token_id: str | None = None
    channel: Channel = Channel.LINK
    signed_in: bool = False
    """As in `DecisionInput`: a gate that requires sign-in takes the hand-over only from its approver signed in."""


class RevisionInput(Model):
    """A new version of a message under review (update `revise`); it voids every earlier approval."""

    body: str = Field(min_length=1, max_length=100_000)
    subject: str | None = Field(None, min_length=1, max_length=500)
    """Unchanged when left out."""
    by: str = "api"
    comment: str = Field("", max_length=5000)
    channel: Channel = Channel.API


class ResendInput(Model):
    """Deliver again a message that could not be delivered (update `resend`)."""

    key: str = Field(max_length=400)
    by: str = "system"
    channel: Channel = Channel.API


class CancelInput(Model):
    """Cancel a process (update `cancel`)."""

    by: str = "system"
    reason: str = ""
    channel: Channel = Channel.API


class RemindInput(Model):
    """Remind now the people the process waits on (update `remind_now`), besides the scheduled reminders."""

    by: str = "system"
    channel: Channel = Channel.API


class Reminded(Model):
    """Who a `remind_now` reminds: the approvers the open gate waits on, and the owners of the open items."""

    gate: str | None = None
    """The open gate's title, when its approvers are reminded."""
    approvers: list[str] = Field(default_factory=list)
    owners: dict[str, list[str]] = Field(default_factory=dict)
    """Each owner reminded, and the keys of their open items."""

    @property
    def nobody(self) -> bool:
        """Whether nobody is waited on: nothing to remind."""
        return not self.approvers and not self.owners


class RecoverInput(Model):
    """The process owner's word on a held step (update `recover`): run it again, go on without it, or end the
    process. The reason is required: the trail keeps it, and a re-run tells it to those asked again."""

    step: str = Field(max_length=100)
    action: RecoveryAction
    reason: str = Field("", max_length=2000)
    by: str = "system"
    channel: Channel = Channel.API
