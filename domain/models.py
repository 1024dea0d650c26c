"""Messages shared by every process: the people and policy types, and the parameters every process takes.

What a user sees of a process is in `domain.views`, the audit trail's models in `domain.audit`, what
workflows ask of activities in `domain.requests`.

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
