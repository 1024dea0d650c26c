"""The schema of process templates (`config/processes/*.yaml`).

A template's content is copied into the workflow input when a process
starts, so editing a template never changes a process already running.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator

from domain.models import Model


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
    on_reject: Literal["end", "reopen"] = "end"
    allow_owner_approval: bool = False
    require_sign_in: bool = False
    """Approvers must sign in before they decide (the link alone shows the page, not the form)."""
    remind_every_days: PositiveInt | None = 1
    hold_days: PositiveInt = 7


class TrackerTemplate(Model):
    """How issues are made in the tracker."""

    epic_type: str = "Epic"
    item_type: str = "Task"
    done_status: str = "Done"
    reconcile_every_hours: PositiveInt | None = 12


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

    @field_validator("items")
    @classmethod
    def _unique_keys(cls, items: list[ChecklistItem]) -> list[ChecklistItem]:
        seen: set[str] = set()
        for item in items:
            if item.key in seen:
                raise ValueError(f"item key {item.key!r} is used twice")
            seen.add(item.key)
        return items

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

    @field_validator("tasks", "shutdown_tasks")
    @classmethod
    def _unique_keys(cls, tasks: list[EolTask]) -> list[EolTask]:
        keys = [task.key for task in tasks]
        twice = {key for key in keys if keys.count(key) > 1}
        if twice:
            raise ValueError(f"task key {sorted(twice)[0]!r} is used twice")
        return tasks
