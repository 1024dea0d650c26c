"""Who may do what: roles, the proven identity of a request, and the rules that decide (pure).

A request is made by someone: a signed-in person, a token's user, the
identity an identity-aware proxy vouches for, or (``signoff dev`` on
loopback) the local admin. The web service proves who; this module decides
what that someone may do. docs/security.md has the table of every route.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.enums import Channel
from domain.errors import Forbidden


class Role(StrEnum):
    """What a person may do across signoff, least to most."""

    VIEWER = "viewer"  # read processes and trails
    MEMBER = "member"  # start processes; act on their own
    ADMIN = "admin"  # everything: people, tokens, the outbox, any process

    def covers(self, needed: Role) -> bool:
        """Whether this role may do what `needed` may."""
        return _RANK[self] >= _RANK[needed]

    @property
    def with_article(self) -> str:
        """ "a viewer", "a member", "an admin"."""
        return f"{'an' if self.value[0] in 'aeiou' else 'a'} {self.value}"


_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}


DEV_MODE = "dev mode"
"""How dev mode's local admin is proven: by being on this machine, which says nothing of who they are."""


class Caller(BaseModel):
    """Who makes a request, proven, and through which channel: what the audit trail records."""

    model_config = ConfigDict(frozen=True)

    email: str
    role: Role
    channel: Channel = Channel.API
    via: str = ""
    """How they proved it, when it says more than the channel: ``token NAME``, ``dev mode``."""

    @property
    def in_dev_mode(self) -> bool:
        """Whether this is dev mode's local admin: nobody in particular, never taken for a named person."""
        return self.via == DEV_MODE

    @property
    def actor(self) -> str:
        """The audit trail's actor: the email, and the token's name when a token acted (`person_of` reads it)."""
        return f"{self.email} ({self.via})" if self.via.startswith("token ") else self.email

    def is_(self, email: str | None) -> bool:
        """Whether this caller is the person `email` (emails compare lower-cased, as process parameters keep them)."""
        return bool(email) and self.email.lower() == str(email).strip().lower()


def person_of(actor: str) -> str:
    """The person a trail's actor names (`Caller.actor`): ``pm@x.com (token release-bot)`` is ``pm@x.com``."""
    return actor.split(" (token ", 1)[0]


class Need(StrEnum):
    """What a route asks of its caller; the rows of docs/security.md's table."""

    ANYONE = "anyone"
    """No sign-in: the health check, sign-in itself, approval links (the link is the credential), signed webhooks."""
    VIEWER = "viewer"
    MEMBER = "member"
    PROCESS_OWNER = "process owner"
    """The process's owner, or an admin."""
    ITEM_OWNER = "item owner"
    """The item's owner, the process's owner, or an admin."""
    SCHEDULE_OWNER = "schedule owner"
    """The member who made the schedule, or an admin."""
    ADMIN = "admin"


def owned_by_caller(caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """A start's `params` as `caller` may send them: an admin starts a process for anyone; anyone else only
    their own (the owner left out is them). Otherwise a member could name someone else the owner and approve
    their own request as an approver.

    Raises:
        Forbidden: a non-admin named someone else the owner.
    """
    if caller.role is Role.ADMIN:
        return params
    owner = params.get("owner")
    if owner in (None, ""):
        return {**params, "owner": caller.email}
    if not caller.is_(str(owner)):
        raise Forbidden(f"you start processes you own: owner must be {caller.email} (an admin may name another)")
    return params


def refusal(caller: Caller, need: Need, owner: str | None = None, item_owner: str | None = None) -> str | None:
    """Why `caller` may not do what needs `need`, as a sentence; None if they may.

    `owner` is the process's owner and `item_owner` the item's, for the
    per-process rules; for a schedule's, `owner` is who made it.
    """
    if need is Need.ANYONE or caller.role is Role.ADMIN:
        return None
    if need is Need.SCHEDULE_OWNER:  # a schedule starts processes: its maker must still be a member
        if not caller.role.covers(Role.MEMBER):
            return f"this needs the member role; {caller.email} is {caller.role.with_article}"
        return None if caller.is_(owner) else f"only the schedule's creator ({owner}) or an admin may"
    if need in (Need.VIEWER, Need.MEMBER, Need.ADMIN):
        role = Role(need.value)
        return (
            None
            if caller.role.covers(role)
            else f"this needs the {role} role; {caller.email} is {caller.role.with_article}"
        )
    # Being named by the process grants its rule whatever the role: an item's owner may be a viewer elsewhere.
    if caller.is_(owner) or (need is Need.ITEM_OWNER and caller.is_(item_owner)):
        return None
    if need is Need.ITEM_OWNER:
        return f"only the item's owner ({item_owner or 'nobody'}), the process's owner ({owner}) or an admin may"
    return f"only the process's owner ({owner}) or an admin may"
