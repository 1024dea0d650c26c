"""The incident post-mortem (and a launch's retrospective): its parameters, action items, workflow input."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field, model_validator

from domain.backups import backup_problems
from domain.enums import Channel
from domain.errors import InvalidField, refuse_all
from domain.horizon import beyond_horizon
from domain.ids import process_id
from domain.models import Approvers, Backups, ChatChannel, Email, Model, NonEmpty, People, ProcessParams
from domain.templates import PostmortemTemplate, PriorityGiven, Severity
from domain.views import ItemState


class PostmortemParams(ProcessParams):
    """What starts a post-mortem (DESIGN.md, "Process parameters"): by hand, by API, or from a resolved incident.

    The `owner` — who hears when the draft or an action item is late — is the
    commander unless someone else (the incident manager) is named.
    """

    incident: str = Field(min_length=1, max_length=220, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.:-]*$")
    title: NonEmpty
    severity: Severity | None = None
    """``SEV1`` (worst) … ``SEV4``; sets when the draft is due. None for a retrospective."""
    commander: Email
    participants: People = Field(default_factory=list)
    reviewers: Approvers
    backups: Backups = Field(default_factory=dict)
    """A reviewer's own backup (reviewer → who), asked in their place if they are still silent the template's
    `escalate_after_days` after the review opens; wins over the review's `backup` (`domain.backups`)."""
    resolved_at: datetime
    """When the incident was resolved; without an offset, in the process's time zone."""
    channel: ChatChannel = "#incidents"
    jira_project: str = Field("OPS", max_length=20, pattern=r"^[A-Z][A-Z0-9_]{0,19}$")
    template: str = Field("postmortem", max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    starts_at: datetime | None = None
    """Wait until then before kicking off (a launch schedules its retrospective this way)."""

    filled_in: ClassVar[dict[str, str]] = {"owner": "the commander, unless you name someone else"}

    @model_validator(mode="before")
    @classmethod
    def _owner_defaults_to_commander(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("owner") and data.get("commander"):
            return {**data, "owner": data["commander"]}
        return data

    def id(self, today: date) -> str:
        """The process id: the incident's key (a launch's retrospective: the launch's id)."""
        return process_id("postmortem", self.incident)

    def heading(self) -> str:
        what = f"{self.severity} {self.incident}" if self.severity else self.incident
        return f"Post-mortem: {what} — {self.title}"

    def check_start(self, today: date) -> None:
        """Refuse an incident resolved in the future, a reviewer who is the commander or the owner, and a backup
        who may not stand in for a reviewer (`domain.backups`).

        Raises:
            InvalidField: naming `resolved_at`, `reviewers` or `backups`, every problem at once.
        """
        problems = []
        if self.reads("resolved_at") and self.resolved_at.date() > today:
            problems.append(
                InvalidField("resolved_at", f"{self.resolved_at.isoformat()} is in the future (today is {today})")
            )
        reviewers = self.reviewers if self.reads("reviewers") else []
        if self.reads("commander") and self.commander in reviewers:
            problems.append(
                InvalidField("reviewers", f"the commander {self.commander} cannot review their own post-mortem")
            )
        elif self.reads("owner") and self.owner in reviewers:
            # The owner may mark the draft done; deciding on it too would make them its only check.
            problems.append(InvalidField("reviewers", f"the owner {self.owner} cannot review their own post-mortem"))
        if self.reads("commander", "owner", "reviewers", "backups"):
            kept_out = {p: f"{p} owns this post-mortem and cannot review it" for p in (self.owner, self.commander)}
            problems += backup_problems(self.backups, reviewers, kept_out, field="reviewers")
        refuse_all(problems)

    def check_template(self, template: Any) -> None:
        """A severity must be one the template has a deadline for (a retrospective template needs none).

        Raises:
            InvalidField: naming `severity`.
        """
        if isinstance(template, PostmortemTemplate) and self.severity and self.severity not in template.draft_due_days:
            known = ", ".join(template.draft_due_days)
            raise InvalidField("severity", f"{self.severity} has no draft deadline in this template (known: {known})")


class ActionItemSpec(Model):
    """One action item to file: what, who, how urgent, and by when (else the priority's default)."""

    title: str = Field(min_length=1, max_length=200)
    owner: Email
    priority: PriorityGiven = Field(
        "P2", description="P1 (most urgent), P2 or P3; Jira's Highest, High, Medium, Low and Lowest are taken too"
    )
    due: date | None = None
    description: str = Field("", max_length=10_000)


class ActionItemsInput(Model):
    """File action items (update `add_action_items`), each as a tracker issue linked to the post-mortem."""

    items: list[ActionItemSpec] = Field(min_length=1, max_length=50)
    by: str = "api"
    channel: Channel = Channel.API

    def dated_within(self, today: date) -> ActionItemsInput:
        """These items, once every due date lies within the horizon (`domain.horizon`), checked where they come in.

        Raises:
            InvalidField: naming each ``items.N.due`` past it.
        """
        dues = {f"items.{n}.due": item.due for n, item in enumerate(self.items) if item.due}
        refuse_all(beyond_horizon(dues, today))
        return self


class PostmortemInput(Model):
    """The post-mortem workflow's input: parameters plus a copy of the template."""

    params: PostmortemParams
    template: PostmortemTemplate
    requested_by: str = "system"
    requested_via: Channel = Channel.SYSTEM
    """The channel the start came through (the API, the CLI, the dashboard, an event), for the trail."""
    parent: str | None = None
    """The process that started this one as its child (a launch, for its retrospective), if any."""
    launch_items: list[ItemState] = Field(default_factory=list, max_length=200)
    """The items a launch still had open on launch day and handed to its retrospective (its template's
    ``open_items_after_launch: retrospective``): tracked here as action items, under their own tracker issues."""


def draft_due(params: PostmortemParams, template: PostmortemTemplate) -> date:
    """When the draft is due: the severity's days (the template's default without one) after the incident
    was resolved, or after the kickoff of a retrospective that waits for its day."""
    days = template.draft_due_days.get(params.severity, template.default_due_days) if params.severity else None
    anchor = max(params.resolved_at, params.starts_at or params.resolved_at)
    return anchor.date() + timedelta(days=days or template.default_due_days)
