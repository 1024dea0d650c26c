"""The launch process: its parameters and its workflow input."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from domain.backups import backup_problems, role_backup_problems, with_role_backup
from domain.enums import Channel
from domain.errors import InvalidField, refuse_all
from domain.ids import process_id
from domain.models import Approvers, Backups, ChatChannel, Model, Owners, People, Policy, ProcessParams
from domain.rules import required_approvals
from domain.templates import LaunchTemplate, PostmortemTemplate, unknown_roles


class LaunchParams(ProcessParams):
    """What a user gives to start a launch (DESIGN.md, "Process parameters")."""

    product: str = Field(min_length=1, max_length=150)
    launch_date: date
    approvers: Approvers
    policy: Policy = "all"
    backups: Backups = Field(default_factory=dict)
    """An approver's own backup (approver → who), asked in their place if they are still silent the template's
    `escalate_after_days` after the gate opens; wins over the gate's `backup` (`domain.backups`)."""
    owners: Owners = Field(default_factory=dict)
    stakeholders: People = Field(default_factory=list)
    channel: ChatChannel = "#launches"
    jira_project: str = Field("LAUNCH", max_length=20, pattern=r"^[A-Z][A-Z0-9_]{0,19}$")
    template: str = Field("launch", max_length=100, pattern=r"^[A-Za-z0-9_-]+$")

    @field_validator("policy")
    @classmethod
    def _quorum_can_be_met(cls, policy: Policy, info: ValidationInfo) -> Policy:
        required_approvals(policy, len(info.data.get("approvers", [])) or 1)
        return policy

    def id(self, today: date | None = None) -> str:
        """The process id: the product and the launch date."""
        return process_id("launch", self.product, self.launch_date.isoformat())

    def heading(self) -> str:
        return f"Launch: {self.product} on {self.launch_date}"

    def check_start(self, today: date) -> None:
        """Refuse a launch that cannot start on `today` (kept out of validation,
        which must give the same answer whenever a workflow input is replayed).

        Raises:
            InvalidField: the launch date is in the past.
        """
        if self.reads("launch_date") and self.launch_date < today:
            raise InvalidField("launch_date", f"{self.launch_date} is in the past (today is {today})")

    def check_template(self, template: Any) -> None:
        """Refuse the owner among the approvers unless the template allows them to approve their own launch,
        a role in `owners` the template has no item for, a backup who may not stand in (`domain.backups`), and a
        gate's backup role that falls to nobody who may decide.

        Raises:
            InvalidField: naming `approvers`, `owners` or `backups`, every problem at once.
        """
        problems = []
        allowed = isinstance(template, LaunchTemplate) and template.gate.allow_owner_approval
        if self.reads("owner", "approvers") and self.owner in self.approvers and not allowed:
            problems.append(
                InvalidField(
                    "approvers",
                    f"the owner {self.owner} cannot approve their own launch "
                    f"(template {self.template!r} does not allow it)",
                )
            )
        if isinstance(template, LaunchTemplate):
            problems += unknown_roles(self.owners, [item.role for item in template.items], self.template)
            if self.reads("owner", "owners"):
                problems += role_backup_problems(template.gate, self.owners, self.owner, self.template)
        if self.reads("owner", "approvers", "backups"):
            kept_out = {} if allowed else {self.owner: f"the owner {self.owner} cannot decide their own launch"}
            problems += backup_problems(self.backups, self.approvers, kept_out)
        refuse_all(problems)

    def resolved(self, template: Any) -> Any:
        """The template with its gate's backup role resolved to the person `owners` names for it."""
        return with_role_backup(template, self.owners, self.owner)

    def owner_of(self, role: str) -> str:
        """Who owns checklist items of `role`: the one named for it, else the owner."""
        return self.owners.get(role, self.owner)


class LaunchInput(Model):
    """The launch workflow's input: parameters plus a copy of the template."""

    params: LaunchParams
    template: LaunchTemplate
    requested_by: str = "system"
    requested_via: Channel = Channel.SYSTEM
    """The channel the start came through (the API, the CLI, the dashboard, an event), for the trail."""
    retrospective: PostmortemTemplate | None = None
    """The template of the retrospective to schedule after launch day (none: no retrospective)."""
    clashes: list[str] = Field(default_factory=list)
    """Other launches on the same day with the same people, in words, found when it was started: the owner is
    told at kickoff (a warning, not a refusal)."""
