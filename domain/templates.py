"""The schema of process templates (`config/processes/*.yaml`).

A template's content is copied into the workflow input when a process
starts, so editing a template never changes a process already running.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from domain.errors import InvalidField
from domain.models import Email, Model


def unknown_roles(owners: Iterable[str], roles: Iterable[str], template: str) -> list[InvalidField]:
    """The roles named in a process's `owners` that its template has no item or task for, each refused with the
    template's roles (a typo would otherwise leave that role's work to the process's owner, silently).

    >>> [str(e) for e in unknown_roles(["dcos", "support"], ["docs", "support"], "launch")]
    ["owners: no role 'dcos' in template 'launch' (did you mean docs?); its roles are docs and support"]
    """
    known = sorted(set(roles))
    listed = f"{', '.join(known[:-1])} and {known[-1]}" if len(known) > 1 else "".join(known)
    problems = []
    for role in owners:
        if role not in known:
            close = get_close_matches(role, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                InvalidField("owners", f"no role {role!r} in template {template!r}{hint}; its roles are {listed}")
            )
    return problems


class Reminders(Model):
    """When owners hear about an item: before it is due, while overdue, escalation."""

    before_days: list[PositiveInt] = Field(default_factory=lambda: [3, 1])
    overdue_every_days: PositiveInt | None = 2
    escalate_after_days: PositiveInt | None = 3


class ChecklistItem(Model):
    """One checklist item: what, who (a role), and when (days from the launch date)."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)
    title: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=60)
    due_offset_days: int = Field(le=0, ge=-365)
    description: str = ""
    reminders: Reminders | None = None


class GateTemplate(Model):
    """The go/no-go approval gate."""

    key: str = Field("go-no-go", pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = "Go / no-go"
    offset_days: NonNegativeInt = 3
    on_reject: Literal["end", "reopen", "owner"] = "end"
    """What a rejection does: ``end`` the process rejected at once; ``reopen`` ask the approvers again at once;
    ``owner`` hold the rejected gate for the process owner, who asks again (with a reason), or ends it, within
    `hold_days` (`workflows.steps.recovery`); without their word by then it ends rejected, as with ``end``."""
    allow_owner_approval: bool = False
    require_sign_in: bool = False
    """Approvers must sign in before they decide (the link alone shows the page, not the form)."""
    remind_every_days: PositiveInt | None = 1
    hold_days: PositiveInt = 7
    backup: Email | None = None
    """Who is asked on behalf of each approver still silent `escalate_after_days` after the gate opened; their
    decision is recorded as theirs "on behalf of" that approver, and counts for them. An approver's own backup,
    given at start (``backups``), wins over it (`domain.backups`)."""
    backup_role: str | None = Field(None, min_length=1, max_length=60)
    """The backup named by a role of the template's items or tasks (``support``) rather than by email: when the
    process starts, the person it names for the role (``owners``) becomes `backup` in its copy of the template.
    With `backup` given too, that address stands in when the process names nobody for the role; without it, such
    a start is refused, as the role would fall to the owner, who may not decide (unless `allow_owner_approval`)."""
    escalate_after_days: PositiveInt = 2


def backup_role_problem(gate: GateTemplate, roles: Iterable[str], what: str) -> None:
    """Refuse a gate's `backup_role` that none of the template's `what` (items, tasks) has.

    Raises:
        ValueError: naming the role and the template's roles.
    """
    known = sorted(set(roles))
    if gate.backup_role is not None and gate.backup_role not in known:
        raise ValueError(
            f"gate.backup_role: no role {gate.backup_role!r} among the template's {what} "
            f"(its roles: {', '.join(known)})"
        )


HOURS_IN_A_YEAR = 24 * 366
"""The longest a template may leave between two reconciliation polls."""


class TrackerTemplate(Model):
    """How issues are made in the tracker."""

    epic_type: str = "Epic"
    item_type: str = "Task"
    done_status: str = "Done"
    reconcile_every_hours: Annotated[float, Field(allow_inf_nan=False)] | None = 12
    """How often the tracker is asked where open items' issues stand (fractions allowed: ``0.25`` is every quarter
    hour; from a minute to a year); none: only its webhook tells."""

    @field_validator("reconcile_every_hours")
    @classmethod
    def _a_minute_to_a_year(cls, hours: float | None) -> float | None:
        if hours is None:
            return hours
        if hours * 60 < 1 - 1e-9:
            raise ValueError(
                f"{hours:g} hours is under a minute: poll at most once a minute (0.0167 hours or more), or set none"
            )
        if hours > HOURS_IN_A_YEAR:
            raise ValueError(
                f"{hours:g} hours is over a year: poll at least once a year ({HOURS_IN_A_YEAR} hours), or set none"
            )
        return hours


Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]


class LaunchTemplate(Model):
    """A launch checklist: the items, their reminders and the go/no-go gate."""

    kind: Literal["launch"] = "launch"
    name: str = Field(min_length=1)
    description: str = ""
    notify_hour_utc: int = Field(9, ge=0, le=23)
    reminders: Reminders = Field(default_factory=Reminders)
    items: list[ChecklistItem] = Field(min_length=1)
    gate: GateTemplate = Field(default_factory=GateTemplate)
    tracker: TrackerTemplate = Field(default_factory=TrackerTemplate)
    retrospective_after_days: PositiveInt | None = 14
    retrospective_template: str = Field("retrospective", pattern=r"^[A-Za-z0-9_-]+$")
    """The post-mortem template of the retrospective the launch schedules after launch day."""
    compress_when_late: bool = True
    """A launch started with less time than the checklist assumes (its earliest item would be due before the
    start) has its due dates scaled into the time left, and its kickoff says so (`domain.late_start.compress`).
    False: the template's due dates stand, and the kickoff names the items already late (and the owner hears at
    once of those past their escalation)."""
    open_items_after_launch: Literal["track", "retrospective"] = "track"
    """What becomes of the items still open when a launch approved at go / no-go reaches launch day.

    ``track`` (the default): the launch says "launched with N open items" and goes on chasing them — reminders,
    escalations, the tracker reconciled — until each is done or accepted as won't-do; only then is it completed.
    ``retrospective``: the launch ends there and hands them to its retrospective, which tracks them as action
    items under their own issues (without a retrospective to hand them to, they are tracked as with ``track``).

    Why ``track`` is the default: what is left open on launch day is readiness work (support trained, monitoring
    and on-call, a rollback plan, release notes), and it matters most in the first days after launch, when
    customers meet the product; practice has the product manager chase it to done. A retrospective is a
    blameless look back two weeks later at what went well and what to improve, not a backlog: handed there, the
    gaps would go unchased until it starts and turn its review into a roll call of who was late.
    """

    @field_validator("items")
    @classmethod
    def _unique_keys(cls, items: list[ChecklistItem]) -> list[ChecklistItem]:
        seen: set[str] = set()
        for item in items:
            if item.key in seen:
                raise ValueError(f"item key {item.key!r} is used twice")
            seen.add(item.key)
        return items

    @model_validator(mode="after")
    def _backup_role_known(self) -> LaunchTemplate:
        backup_role_problem(self.gate, (item.role for item in self.items), "items")
        return self

    def reminders_for(self, item: ChecklistItem) -> Reminders:
        """The item's own reminder settings, or the template's."""
        return item.reminders or self.reminders


class ReviewTemplate(Model):
    """The review of a message: who may approve it and how long a round stays open."""

    key: str = Field("review", pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = "Review"
    require_sign_in: bool = False
    """Reviewers must sign in before they decide (the link alone shows the page, not the form)."""
    remind_every_days: PositiveInt | None = 1
    expires_after_days: PositiveInt = 14
    """A round without an outcome for this long ends the process as expired."""
    backup: Email | None = None
    """As the go / no-go gate's (`GateTemplate.backup`): asked for a reviewer still silent after
    `escalate_after_days`; a reviewer's own backup, given at start (``backups``), wins over it."""
    escalate_after_days: PositiveInt = 2

    @model_validator(mode="before")
    @classmethod
    def _no_backup_role(cls, data: Any) -> Any:
        """A review's people are given by email, with no roles a backup could be named by: refused with why."""
        if isinstance(data, dict) and data.get("backup_role") is not None:
            raise ValueError(
                "backup_role: a review's people have no roles to name a backup by (a message's reviewers' roles "
                "are their titles, and each is a reviewer already); name the backup by email (backup: "
                "deputy@acme.com), or give reviewers their own when the process starts (backups)"
            )
        return data


class CommsTemplate(Model):
    """A customer message: its review, and how it goes out."""

    kind: Literal["comms"] = "comms"
    name: str = Field(min_length=1)
    description: str = ""
    review: ReviewTemplate = Field(default_factory=ReviewTemplate)
    batch_size: PositiveInt = Field(50, le=1000)
    """Recipients per batch: one activity per batch, one idempotency key per recipient."""
    pause_between_batches_seconds: NonNegativeInt = 0
    """A pause between batches, to stay under a mail relay's rate limit."""


class ActionPriority(Model):
    """How an action item of one priority is chased: its default due date and its reminders."""

    due_days: PositiveInt
    reminders: Reminders


Priority = Literal["P1", "P2", "P3"]

JIRA_PRIORITIES: dict[str, Priority] = {"highest": "P1", "high": "P1", "medium": "P2", "low": "P3", "lowest": "P3"}
"""Jira's own priority names (any case) as signoff's: Highest and High are chased as P1, Medium as P2, Low and
Lowest as P3."""

JIRA_PRIORITY_NAMES: dict[Priority, str] = {"P1": "High", "P2": "Medium", "P3": "Low"}
"""The Jira priority that goes with each of signoff's."""


def as_priority(value: object) -> object:
    """A priority as given — ``P1``…``P3`` in any case, or a Jira name (``Highest`` … ``Lowest``) — as
    signoff's own ``P1``…``P3``, the only values kept (running processes read them back).

    Raises:
        ValueError: a string that is neither, saying what is.
    """
    if not isinstance(value, str):
        return value
    given = value.strip()
    if given.upper() in ("P1", "P2", "P3"):
        return given.upper()
    if given.casefold() in JIRA_PRIORITIES:
        return JIRA_PRIORITIES[given.casefold()]
    raise ValueError(f"{value!r} is no priority: use P1, P2 or P3, or Jira's Highest, High, Medium, Low or Lowest")


PriorityGiven = Annotated[Priority, BeforeValidator(as_priority)]
"""A priority on input: signoff's or Jira's name for it, kept as signoff's."""

DRAFT_DUE_DAYS: dict[Severity, int] = {"SEV1": 3, "SEV2": 5, "SEV3": 7, "SEV4": 10}
"""Days from resolution to the draft's deadline: the worse the incident, the sooner."""


def _priorities() -> dict[Priority, ActionPriority]:
    return {
        "P1": ActionPriority(due_days=7, reminders=Reminders(before_days=[2, 1], overdue_every_days=1)),
        "P2": ActionPriority(due_days=14, reminders=Reminders(before_days=[3], overdue_every_days=3)),
        "P3": ActionPriority(due_days=30, reminders=Reminders(before_days=[7], overdue_every_days=7)),
    }


class PostmortemTemplate(Model):
    """An incident post-mortem (or a retrospective): the draft's deadline, the review, the action items."""

    kind: Literal["postmortem"] = "postmortem"
    name: str = Field(min_length=1)
    description: str = ""
    notify_hour_utc: int = Field(9, ge=0, le=23)
    draft_due_days: dict[Severity, PositiveInt] = Field(default_factory=lambda: dict(DRAFT_DUE_DAYS))
    default_due_days: PositiveInt = 7
    """The draft's deadline without a severity (a retrospective)."""
    draft_reminders: Reminders = Field(default_factory=lambda: Reminders(before_days=[1], overdue_every_days=1))
    review: ReviewTemplate = Field(default_factory=ReviewTemplate)
    priorities: dict[Priority, ActionPriority] = Field(default_factory=_priorities)
    tracker: TrackerTemplate = Field(default_factory=TrackerTemplate)
    prompts: list[str] = Field(default_factory=list)
    """What the draft must answer, for the commander's kickoff email (blameless: what happened, why, what next)."""


Milestone = Literal["announce", "end_of_sale", "end_of_support", "shutdown"]

NOTICE_FACTS = ("product", "announce_date", "end_of_sale", "end_of_support", "shutdown_date", "migration_guide",
                "days_left")  # fmt: skip
"""What a notice's text may name, as ``{product}``."""


class EolTask(Model):
    """One internal task of an end-of-life: what, who (a role), and when (days from one of its milestones)."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)
    title: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=60)
    anchor: Milestone = "announce"
    offset_days: int = Field(0, ge=-365, le=365)
    description: str = ""


class NoticeText(Model):
    """A customer notice's subject and Markdown body, naming facts as ``{shutdown_date}``."""

    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1)

    @field_validator("subject", "body")
    @classmethod
    def _known_facts(cls, text: str) -> str:
        try:
            text.format(**dict.fromkeys(NOTICE_FACTS, "x"))
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"unknown or malformed placeholder {err} (known: {', '.join(NOTICE_FACTS)})") from None
        return text

    def filled(self, **facts: object) -> tuple[str, str]:
        """The subject and body with the facts in."""
        return self.subject.format(**facts), self.body.format(**facts)


class NoticeReminders(Model):
    """Customer reminders before the shutdown, and whether each is reviewed again."""

    days_before_shutdown: list[PositiveInt] = Field(default_factory=lambda: [90, 30, 7])
    approval: Literal["preapproved", "review"] = "preapproved"
    """``preapproved``: the approved notice goes out again, word for word; ``review``: `text` is reviewed each time."""
    lead_days: PositiveInt = 7
    """A reminder reviewed again is sent for review this many days before it goes out."""
    text: NoticeText | None = None


class MilestoneNotice(Model):
    """The fewest days between each end-of-life milestone and the one before it: customers need time to act on
    each (to buy elsewhere, to move, to export their data). 0: the same day is allowed."""

    end_of_sale: NonNegativeInt = 0
    """Days from the announcement to the end of sale."""
    end_of_support: NonNegativeInt = 0
    """Days from the end of sale to the end of support."""
    shutdown: NonNegativeInt = 0
    """Days from the end of support to the shutdown."""


class EolTemplate(Model):
    """An end-of-life: internal tasks, the customer notice and its reminders, milestones, the last approval."""

    kind: Literal["eol"] = "eol"
    name: str = Field(min_length=1)
    description: str = ""
    notify_hour_utc: int = Field(9, ge=0, le=23)
    reminders: Reminders = Field(default_factory=Reminders)
    tasks: list[EolTask] = Field(min_length=1)
    shutdown_tasks: list[EolTask] = Field(default_factory=list)
    """Created only once the last approval is given (anchored to the shutdown)."""
    notice: NoticeText
    notice_template: str = Field("comms", pattern=r"^[A-Za-z0-9_-]+$")
    """The comms template the notice and its reminders are reviewed and sent with."""
    notice_reminders: NoticeReminders = Field(default_factory=NoticeReminders)
    gate: GateTemplate = Field(default_factory=lambda: GateTemplate(key="pull-the-plug", title="Pull the plug"))
    data_retention_days: PositiveInt = 30
    tracker: TrackerTemplate = Field(default_factory=TrackerTemplate)
    notice_hold_days: NonNegativeInt = 0
    """How long a customer notice that ends unsent (rejected, expired) is held for the owner, who sends a new one
    (with a reason), goes on without it, or ends the end of life (`workflows.steps.recovery`); without their word
    by then the end of life ends rejected. 0: it ends rejected at once (the only way before holds)."""
    min_notice_days: MilestoneNotice = Field(default_factory=MilestoneNotice)
    """Checked when an end of life starts (`domain.eol.EolParams.check_template`): dates closer are refused."""

    @model_validator(mode="after")
    def _backup_role_known(self) -> EolTemplate:
        backup_role_problem(self.gate, (task.role for task in [*self.tasks, *self.shutdown_tasks]), "tasks")
        return self

    @field_validator("tasks", "shutdown_tasks")
    @classmethod
    def _unique_keys(cls, tasks: list[EolTask]) -> list[EolTask]:
        keys = [task.key for task in tasks]
        twice = {key for key in keys if keys.count(key) > 1}
        if twice:
            raise ValueError(f"task key {sorted(twice)[0]!r} is used twice")
        return tasks
