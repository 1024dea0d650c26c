"""The customer-communication approval: its parameters, a reviewer, a version's hash, its workflow input."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from domain.backups import backup_problems
from domain.enums import Channel
from domain.errors import InvalidField, refuse_all
from domain.ids import process_id
from domain.models import (
    MAX_APPROVERS,
    Audience,
    Backups,
    ChatChannel,
    Email,
    Model,
    NonEmpty,
    Policy,
    ProcessParams,
)
from domain.rules import required_approvals
from domain.templates import CommsTemplate


def content_hash(subject: str, body: str) -> str:
    """The hash an approval is bound to: the exact subject and body, so any edit makes a new one.

    >>> content_hash("Maintenance", "On *Sunday*.")[:12]
    'cc6ea896c5c7'
    """
    return hashlib.sha256(f"{subject}\n\n{body}".encode()).hexdigest()


def _reviewer(value: object) -> object:
    """``"cs@acme.com"`` and ``"cs@acme.com:Customer Success"`` are reviewers too (CLI, forms)."""
    if isinstance(value, str):
        email, _, role = value.partition(":")
        return {"email": email.strip(), "role": role.strip()}
    return value


def _one_per_comma(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Reviewer(Model):
    """Someone who reviews a message, and in what capacity (Customer Success, Engineering, Legal)."""

    email: Email
    role: str = Field("", max_length=80)


Reviewers = Annotated[
    list[Annotated[Reviewer, BeforeValidator(_reviewer)]],
    Field(min_length=1, max_length=MAX_APPROVERS),
    BeforeValidator(_one_per_comma),
]
"""Reviewers; ``"cs@acme.com:Customer Success, eng@acme.com:Engineering"`` is accepted too."""


class CommsParams(ProcessParams):
    """What a user gives to have a customer message reviewed and sent (DESIGN.md, "Process parameters")."""

    subject: NonEmpty
    body: str = Field(min_length=1, max_length=100_000)
    """Markdown: the plain-text part as written, rendered to HTML for the HTML part and the review page."""
    audience: Audience
    channels: Annotated[list[ChatChannel], Field(max_length=10), BeforeValidator(_one_per_comma)] = Field(
        default_factory=lambda: ["email"]
    )
    """``email`` (each person in the audience), and chat channels (``#status``) that get the message too."""
    send_at: datetime | None = None
    """When to send; without an offset, in the process's time zone."""
    reviewers: Reviewers
    policy: Policy = "all"
    backups: Backups = Field(default_factory=dict)
    """A reviewer's own backup (reviewer → who), asked in their place if they are still silent the template's
    `escalate_after_days` after the review opens; wins over the review's `backup` (`domain.backups`)."""
    template: str = Field("comms", max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    key: str | None = Field(None, max_length=251, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,250}$")
    """A business key of the caller's (an end-of-life names its notice); else the subject and the send date."""

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, channels: list[str]) -> list[str]:
        for channel in channels:
            if channel != "email" and not channel.startswith("#"):
                raise ValueError(f"{channel!r} is neither email nor a chat channel (#name)")
        if not channels:
            raise ValueError("at least one channel is needed (email, or a #channel)")
        return channels

    @field_validator("reviewers")
    @classmethod
    def _distinct(cls, reviewers: list[Reviewer]) -> list[Reviewer]:
        emails = [r.email for r in reviewers]
        if len(set(emails)) != len(emails):
            raise ValueError("the same reviewer is listed twice")
        return reviewers

    @field_validator("policy")
    @classmethod
    def _quorum_can_be_met(cls, policy: Policy, info: ValidationInfo) -> Policy:
        required_approvals(policy, len(info.data.get("reviewers", [])) or 1)
        return policy

    def id(self, today: date) -> str:
        """The process id: the caller's key, else the subject and the day it goes out (or starts)."""
        if self.key:
            return process_id("comms", self.key)
        return process_id("comms", self.subject, (self.send_at.date() if self.send_at else today).isoformat())

    def heading(self) -> str:
        return f"Message: {self.subject}"

    def check_start(self, today: date) -> None:
        """Refuse a send time in the past, the owner reviewing their own message, and a backup who may not
        stand in for a reviewer (`domain.backups`).

        Raises:
            InvalidField: naming `send_at`, `reviewers` or `backups`, every problem at once.
        """
        problems = []
        if self.send_at and self.send_at.date() < today:
            problems.append(InvalidField("send_at", f"{self.send_at.isoformat()} is in the past (today is {today})"))
        if self.reads("owner", "reviewers") and self.owner in self.reviewer_emails:
            problems.append(InvalidField("reviewers", f"the owner {self.owner} cannot review their own message"))
        if self.reads("owner", "reviewers", "backups"):
            kept_out = {self.owner: f"the owner {self.owner} cannot review their own message"}
            problems += backup_problems(self.backups, self.reviewer_emails, kept_out, field="reviewers")
        refuse_all(problems)

    @property
    def reviewer_emails(self) -> list[str]:
        return [r.email for r in self.reviewers]

    def role_of(self, email: str) -> str:
        return next((r.role for r in self.reviewers if r.email == email), "")


class Preapproval(Model):
    """A parent process's word that this exact text was approved already (an end-of-life's reminder
    re-sending its approved notice). Only a workflow can give it, never the API; the review is skipped
    only if the message's hash is this one."""

    content_hash: str
    process: str
    """Where it was approved."""
    approvers: list[str]


class CommsInput(Model):
    """The comms workflow's input: parameters plus a copy of the template."""

    params: CommsParams
    template: CommsTemplate
    requested_by: str = "system"
    requested_via: Channel = Channel.SYSTEM
    """The channel the start came through (the API, the CLI, the dashboard, an event), for the trail."""
    parent: str | None = None
    """The process that started this one as its child (an end-of-life), if any."""
    preapproved: Preapproval | None = None
