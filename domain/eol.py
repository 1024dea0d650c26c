"""The end-of-life shutdown: its parameters, dates in order, its workflow input."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import Field, HttpUrl, ValidationInfo, field_validator

from domain.backups import backup_problems, role_backup_problems, with_role_backup
from domain.enums import Channel
from domain.errors import InvalidField, refuse_all
from domain.ids import process_id
from domain.models import Approvers, Audience, Backups, ChatChannel, Model, Owners, Policy, ProcessParams
from domain.rules import required_approvals
from domain.templates import CommsTemplate, EolTemplate, unknown_roles
from domain.words import count

MILESTONES = ("announce_date", "end_of_sale", "end_of_support", "shutdown_date")
"""The dates of an end-of-life, in the order they must come."""


class EolParams(ProcessParams):
    """What a user gives to retire a product (DESIGN.md, "Process parameters")."""

    product: str = Field(min_length=1, max_length=150)
    announce_date: date
    end_of_sale: date
    end_of_support: date
    shutdown_date: date
    customers: Audience
    migration_guide: HttpUrl
    approvers: Approvers
    policy: Policy = "all"
    backups: Backups = Field(default_factory=dict)
    """An approver's own backup (approver → who), asked in their place if they are still silent the template's
    `escalate_after_days` after the gate opens; wins over the gate's `backup` (`domain.backups`)."""
    owners: Owners = Field(default_factory=dict)
    """Task role → who (legal, engineering, docs, support, sales, finance, partnerships); the rest fall to the owner."""
    channel: ChatChannel = "#product"
    jira_project: str = Field("EOL", max_length=20, pattern=r"^[A-Z][A-Z0-9_]{0,19}$")
    template: str = Field("eol", max_length=100, pattern=r"^[A-Za-z0-9_-]+$")

    @field_validator("end_of_sale", "end_of_support", "shutdown_date")
    @classmethod
    def _after_the_one_before(cls, day: date, info: ValidationInfo) -> date:
        assert info.field_name is not None
        earlier = MILESTONES[MILESTONES.index(info.field_name) - 1]
        before = info.data.get(earlier)
        if before is not None and day < before:
            raise ValueError(f"{day} is before {earlier} ({before}): the dates go {' ≤ '.join(MILESTONES)}")
        return day

    @field_validator("policy")
    @classmethod
    def _quorum_can_be_met(cls, policy: Policy, info: ValidationInfo) -> Policy:
        required_approvals(policy, len(info.data.get("approvers", [])) or 1)
        return policy

    def id(self, today: date) -> str:
        """The process id: the product and its shutdown date."""
        return process_id("eol", self.product, self.shutdown_date.isoformat())

    def heading(self) -> str:
        return f"End of life: {self.product} on {self.shutdown_date}"

    def check_start(self, today: date) -> None:
        """Refuse an announcement in the past, and the owner among the approvers.

        Raises:
            InvalidField: naming `announce_date` or `approvers`, both at once.
        """
        problems = []
        if self.reads("announce_date") and self.announce_date < today:
            problems.append(InvalidField("announce_date", f"{self.announce_date} is in the past (today is {today})"))
        if self.reads("owner", "approvers") and self.owner in self.approvers:
            problems.append(InvalidField("approvers", f"the owner {self.owner} cannot approve their own end-of-life"))
        refuse_all(problems)

    def check_template(self, template: Any) -> None:
        """Refuse milestones closer together than the template's minimum notice, a role in `owners` the
        template has no task for, a backup who may not stand in (`domain.backups`), and a gate's backup role that
        falls to nobody who may decide.

        Raises:
            InvalidField: naming each date too close to the one before it, `owners` or `backups`, every problem
                at once.
        """
        if not isinstance(template, EolTemplate):
            return
        problems = []
        notice = template.min_notice_days
        for earlier, later, days in (
            ("announce_date", "end_of_sale", notice.end_of_sale),
            ("end_of_sale", "end_of_support", notice.end_of_support),
            ("end_of_support", "shutdown_date", notice.shutdown),
        ):
            if not self.reads(earlier, later):
                continue
            before, after = getattr(self, earlier), getattr(self, later)
            gap = (after - before).days
            if gap < days:
                said = "the same day as" if gap == 0 else f"only {count(gap, 'day')} after"
                problems.append(
                    InvalidField(
                        later,
                        f"{after} is {said} {earlier} ({before}); template {self.template!r} gives customers "
                        f"at least {count(days, 'day')} between them: {before + timedelta(days=days)} or later",
                    )
                )
        roles = [task.role for task in [*template.tasks, *template.shutdown_tasks]]
        problems += unknown_roles(self.owners, roles, self.template)
        if self.reads("owner", "owners"):
            problems += role_backup_problems(template.gate, self.owners, self.owner, self.template)
        if self.reads("owner", "approvers", "backups"):
            kept_out = {self.owner: f"the owner {self.owner} cannot decide their own end-of-life"}
            problems += backup_problems(self.backups, self.approvers, kept_out)
        refuse_all(problems)

    def resolved(self, template: Any) -> Any:
        """The template with its gate's backup role resolved to the person `owners` names for it."""
        return with_role_backup(template, self.owners, self.owner)

    def owner_of(self, role: str) -> str:
        """Who owns tasks of `role`: the one named for it, else the owner."""
        return self.owners.get(role, self.owner)

    def facts(self, days_left: int | None = None) -> dict[str, Any]:
        """What a notice's text may name."""
        return {
            "product": self.product,
            "announce_date": self.announce_date.isoformat(),
            "end_of_sale": self.end_of_sale.isoformat(),
            "end_of_support": self.end_of_support.isoformat(),
            "shutdown_date": self.shutdown_date.isoformat(),
            "migration_guide": str(self.migration_guide),
            "days_left": days_left if days_left is not None else "",
        }


class EolInput(Model):
    """The eol workflow's input: parameters, its template, and the comms template of its notices."""

    params: EolParams
    template: EolTemplate
    requested_by: str = "system"
    requested_via: Channel = Channel.SYSTEM
    """The channel the start came through (the API, the CLI, the dashboard, an event), for the trail."""
    notice: CommsTemplate | None = None
