"""Messages shared by every process: the people and policy types, views, updates.

The audit trail's models are in `domain.audit`, what workflows ask of activities in
`domain.requests`.

Each workflow input, update, query and activity takes one of these models and
returns one. New fields must be optional so running workflows keep replaying.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.enums import Channel, Decision, GateStatus, ProcessStatus, StepStatus


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[EmailStr, AfterValidator(_lower)]
"""An email address, the way signoff names people."""


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# How many of each a process takes. The maximum sits on the list itself (before
# the validators that wrap it), so a list is refused as soon as it passes its
# maximum rather than after every item is validated (an address costs ~0.1 ms):
# 100,000 approvers are a 422 in milliseconds. The whole process input must
# also fit in one Temporal payload (see `api.service.MAX_INPUT_BYTES`).
MAX_APPROVERS = 50
"""Approvers or reviewers of one gate: each gets a link, an email and a chat message of their own."""
MAX_PEOPLE = 100
"""Stakeholders or participants: they get one email together, and an SMTP server must take 100 recipients
per message (RFC 5321), not necessarily more; a bigger group is a mailing list's address."""
MAX_AUDIENCE = 10_000
"""A customer message's recipients, sent in batches: 10,000 addresses stay well inside Temporal's payload
limit (the audience travels in the process's input) and take about a second to validate."""


People = Annotated[list[Email], Field(max_length=MAX_PEOPLE), BeforeValidator(_split_commas)]
"""A list of email addresses; ``"a@x.com, b@x.com"`` is accepted too (CLI, forms)."""

Audience = Annotated[list[Email], Field(min_length=1, max_length=MAX_AUDIENCE), BeforeValidator(_split_commas)]
"""The customers a message goes to: at least one, at most `MAX_AUDIENCE`."""


def _distinct(people: list[str]) -> list[str]:
    """Refuse a person listed twice; linear, so a long list costs no more than reading it."""
    twice = sorted(person for person, times in Counter(people).items() if times > 1)
    if twice:
        raise ValueError(f"{twice[0]} is listed twice")
    return people


Approvers = Annotated[
    list[Email],
    Field(min_length=1, max_length=MAX_APPROVERS),
    BeforeValidator(_split_commas),
    AfterValidator(_distinct),
]
"""The people who decide at a gate: at least one, at most `MAX_APPROVERS`, each once."""

Owners = Annotated[dict[Annotated[str, Field(max_length=60)], Email], Field(max_length=50)]
"""Who owns the items or tasks of each role (``docs`` → an email); roles are at most 60 characters, as in
templates, and a template has far fewer than 50 of them."""

Backups = Annotated[dict[Email, Email], Field(max_length=MAX_APPROVERS)]
"""Who is asked in an approver's place when they stay silent (approver → backup): `domain.backups` says when, and
what a start refuses."""

ChatChannel = Annotated[str, Field(max_length=100)]
"""A chat channel (``#launches``): Slack names are at most 80 characters, with room for the ``#`` and more."""

Policy = Literal["all", "any"] | PositiveInt
"""How many approvals a gate needs: everyone, anyone, or a quorum."""

RecoveryAction = Literal["rerun", "skip", "end"]
"""The owner's word on a held step (`domain.updates.RecoverInput`): run it again, go on without it, or end."""

NonEmpty = Annotated[str, Field(min_length=1, max_length=500)]


class Model(BaseModel):
    """Base of every message: strict about unknown fields, stripped strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _time_zone(name: str) -> str:
    if name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{name!r} is not a time zone; give an IANA name like Europe/Berlin or America/New_York"
            ) from None
    return name


TimeZoneName = Annotated[str, Field(max_length=60), AfterValidator(_time_zone)]
"""An IANA time zone name (``Europe/Berlin``); empty: UTC."""


class ProcessParams(Model):
    """What every process kind's parameters have and can say about themselves."""

    owner: Email
    template: str = Field("", max_length=100, pattern=r"^[A-Za-z0-9_-]*$")
    """The template to use; empty means the kind's own (``launch``, ``comms`` …)."""
    time_zone: TimeZoneName = ""
    """The process's time zone: reminders go out at the template's hour in it, pages show its times in it,
    and a date-time given without an offset is read in it. Empty: UTC (a start fills in the deployment's
    default, ``SIGNOFF_TIME_ZONE``)."""

    @field_validator("*")
    @classmethod
    def _noted_at_a_start(cls, value: Any, info: ValidationInfo) -> Any:
        """At a start (a context with ``read``), note each field that reads: when another does not, the start's
        checks still run on these (`partial`), and a form hears everything wrong in one answer. Plain
        validation (a workflow input replayed) passes no context and notes nothing."""
        if isinstance(info.context, dict) and isinstance(info.context.get("read"), dict) and info.field_name:
            info.context["read"][info.field_name] = value
        return value

    @model_validator(mode="after")
    def _times_in_the_zone(self) -> ProcessParams:
        """A date-time without an offset is the process's time zone's."""
        self._zone_the_times()
        return self

    def _zone_the_times(self) -> None:
        for name in type(self).model_fields:
            value = getattr(self, name, None)  # a `partial` set may lack it
            if isinstance(value, datetime) and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=self.zone))

    @classmethod
    def partial(cls, read: dict[str, Any]) -> ProcessParams:
        """The parameters whose fields in `read` read when others did not, for a start's checks: a field not
        in `read` is its default (nothing given), or absent when it has none (`reads`)."""
        params = cls.model_construct(**read)
        params._zone_the_times()
        return params

    def reads(self, *names: str) -> bool:
        """Whether the fields `names` are there: always once the parameters validate; a check of a `partial`
        set skips a rule on a field that did not read."""
        return all(name in self.__dict__ for name in names)

    @property
    def zone(self) -> ZoneInfo:
        """The process's time zone."""
        return ZoneInfo(self.time_zone or "UTC")

    filled_in: ClassVar[dict[str, str]] = {}
    """Parameters the schema requires that the model fills in when left out, and from what (for forms)."""

    def id(self, today: date) -> str:
        """The process id, from the business key (`today` for kinds whose key has no date of its own)."""
        raise NotImplementedError

    def heading(self) -> str:
        """How the process is named on pages and in messages."""
        raise NotImplementedError

    def check_start(self, today: date) -> None:
        """Refuse parameters that cannot start on `today`; kept out of validation, which must
        give the same answer whenever a workflow input is replayed. It runs on a `partial` set too (a start
        whose other fields did not read), so a rule checks that its fields `reads` first.

        Raises:
            InvalidField: naming the field.
        """

    def check_template(self, template: Any) -> None:
        """Refuse parameters their template does not allow (on a `partial` set too, as `check_start`).

        Raises:
            InvalidField: naming the field.
        """

    def resolved(self, template: Any) -> Any:
        """The copy of `template` a process starts with, what it names through these parameters resolved (a
        gate's backup role, `domain.backups.with_role_backup`): the template as it is, for kinds without."""
        return template


# ---- state shown to users -------------------------------------------------


class ItemState(Model):
    """One checklist item of a running process."""

    key: str
    title: str
    role: str
    owner: str
    due: date
    status: Literal["open", "done", "wont_do"] = "open"
    done_at: datetime | None = None
    done_by: str | None = None
    issue_key: str | None = None
    priority: str | None = None
    """An action item's priority (``P1``…``P3``), which sets how often its owner is reminded."""
    note: str = ""
    """Why an item was accepted as won't-do."""


class Content(Model):
    """One version of a message: what reviewers approve, bound by its hash."""

    version: int
    subject: str
    body: str
    """Markdown; the plain-text part of the email as it is."""
    content_hash: str
    by: str
    at: datetime
    comment: str = ""


class ApprovalRecord(Model):
    """One decision taken at a gate."""

    gate: str
    round: int = 1
    approver: str
    decision: Decision
    comment: str = ""
    at: datetime
    channel: Channel = Channel.LINK
    token_id: str | None = None
    content_hash: str | None = None
    """For a message's review: the hash of the exact version this decision was about."""
    on_behalf_of: str | None = None
    """The approver this decision was taken for, when `approver` decided in their place (a delegate, or the
    gate's backup): the quorum counts it as theirs."""

    @property
    def for_whom(self) -> str:
        """The approver whose decision this is: `on_behalf_of`, else `approver`."""
        return self.on_behalf_of or self.approver


class GateState(Model):
    """An approval gate: who must decide, what they decided, where it stands."""

    key: str
    title: str
    round: int = 1
    status: GateStatus = GateStatus.PENDING
    approvers: list[str]
    policy: Policy
    required: int
    opened_at: datetime | None = None
    expires_at: datetime | None = None
    decisions: list[ApprovalRecord] = []
    require_sign_in: bool = False
    """Whether an approver must be signed in (as themselves) to decide, not only hold their link."""
    removed: list[str] = []
    """People taken off the gate by an edit: their links no longer decide (`Expired`, not "not an approver")."""
    delegates: dict[str, str] = {}
    """Approver → the person they handed their decision to (or the gate's backup, asked when they were silent):
    that person decides on their behalf, once, until one of the two has decided."""

    def decision_of(self, approver: str) -> ApprovalRecord | None:
        """This round's decision of `approver`, if they (or someone on their behalf) took one."""
        return next((d for d in self.decisions if d.for_whom == approver and d.round == self.round), None)

    @property
    def waiting_on(self) -> list[str]:
        """Approvers who have not decided in this round."""
        return [a for a in self.approvers if self.decision_of(a) is None]


class StepView(Model):
    """One step of a process and its state."""

    key: str
    title: str
    status: StepStatus = StepStatus.PENDING
    at: datetime | None = None


class PendingApproval(Model):
    """Someone a gate still waits on."""

    gate: str
    approver: str
    since: datetime | None = None


class UndeliveredMessage(Model):
    """A message the process could not deliver, kept until it is resent (update `resend`)."""

    key: str
    via: Literal["email", "chat"]
    to: list[str]
    what: str
    """What it was, in words: "email vp@example.com their approval link"."""
    step: str
    error: str
    at: datetime
    resending: bool = False
    """A resend is under way."""


class PlannedMoment(Model):
    """A dated point of a process's plan: a gate opening, launch day, a milestone, a scheduled send."""

    at: datetime
    what: str
    """In words: "the go / no-go decision opens", "launch day"."""
    step: str | None = None
    """The step it belongs to, when it is one."""


class HeldStep(Model):
    """A step that failed or was rejected and waits for its process owner's word instead of ending the process
    (`workflows.steps.recovery`): re-run it, skip it, or end the process, with a reason."""

    step: str
    title: str
    what: str
    """What happened, in words: "Go / no-go was rejected"."""
    why: str
    """Why, in words: the approvers' comments, or how the notice ended."""
    since: datetime
    until: datetime
    """Without the owner's word by then, the process ends as it would have without the hold."""
    actions: list[RecoveryAction]
    """What the owner may do with it (an approval gate is not skipped)."""


class ProcessView(Model):
    """Everything a user sees about a process; the answer of the `view` query."""

    id: str
    kind: str
    title: str
    status: ProcessStatus
    owner: str
    params: dict[str, Any]
    steps: list[StepView]
    items: list[ItemState] = []
    gates: list[GateState] = []
    approvals: list[ApprovalRecord] = []
    links: dict[str, str] = {}
    outcome: str | None = None
    content: Content | None = None
    """The message under review (comms): its current version."""
    pending: list[PendingApproval] = []
    """Who the open gates still wait on; worked out from `gates`."""
    recorded_events: int = 0
    """How many audit events the process has recorded; the store has them all once its trail is as long."""
    undelivered: list[UndeliveredMessage] = []
    """The messages that could not be delivered (after their retries, or refused), until resent."""
    warnings: list[str] = []
    """What the owner was warned of when it started or last moved (another launch on its day with the same people)."""
    plan: list[PlannedMoment] = []
    """The process's dated plan, in time order (passed moments included): what the calendar and "next" show."""
    held: HeldStep | None = None
    """The step held for the owner's word, if one is (`HeldStep`)."""
    live: bool = True
    """False when the process could not answer (no worker polling, Temporal down) and this is the store's copy,
    kept from its audit events: the state as of `as_of`, for the reason in `unavailable`."""
    as_of: datetime | None = None
    """When the store's copy was taken (None when `live`)."""
    unavailable: str | None = None
    """Why the live state could not be had (None when `live`)."""

    @model_validator(mode="after")
    def _pending_from_gates(self) -> ProcessView:
        self.pending = [
            PendingApproval(gate=gate.key, approver=approver, since=gate.opened_at)
            for gate in self.gates
            if gate.status == GateStatus.OPEN
            for approver in gate.waiting_on
        ]
        return self
