"""People, their roles, and the tokens they (or their scripts) use: over the store's database.

A token is shown once, when it is made, and kept only as its SHA-256 hash:
the database never holds a usable token. A token's power is the lesser of
its own role and its person's role now, so demoting or removing a person
takes effect on every token they have at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from domain.access import Role
from domain.errors import BadInput, NotFound
from integrations.outbox_records import utc
from integrations.schema import api_tokens, people

TOKEN_PREFIX = "signoff_"
"""Every token starts with this, so a secret scanner (and a person) can tell one when they see it."""

USE_RECORDED_EVERY = timedelta(minutes=1)
"""How often a token's last use is written: once a minute at most, not once a request."""


class Person(BaseModel):
    """Someone signoff knows, with their role."""

    email: str
    role: Role
    added_at: datetime
    added_by: str


class ApiToken(BaseModel):
    """A token as lists show it: everything but the token itself."""

    id: str
    email: str
    role: Role
    name: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    uses: int

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def token_hash(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class People:
    """People and tokens, over `engine` (the store's: its migrations make the tables)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ---- people --------------------------------------------------------

    def add(self, email: str, role: Role, by: str) -> Person:
        """Give `email` a role (a person already known gets the new one)."""
        email = email.strip().lower()
        row = {"email": email, "role": role.value, "added_at": datetime.now(UTC), "added_by": by}
        with self.engine.begin() as conn:
            if conn.execute(sa.update(people).where(people.c.email == email).values(role=role.value)).rowcount == 0:
                conn.execute(sa.insert(people).values(row))
        found = self.person(email)
        assert found is not None
        return found

    def person(self, email: str) -> Person | None:
        """The person `email`, if signoff knows them."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(people).where(people.c.email == email.strip().lower())).mappings().first()
        return _person(row) if row else None

    def everyone(self) -> list[Person]:
        """Everyone signoff knows, by email."""
        with self.engine.connect() as conn:
            return [_person(r) for r in conn.execute(sa.select(people).order_by(people.c.email)).mappings()]

    def remove(self, email: str) -> int:
        """Forget `email` and revoke their tokens; how many tokens that revoked.

        Raises:
            NotFound: signoff does not know them.
        """
        email = email.strip().lower()
        with self.engine.begin() as conn:
            if conn.execute(sa.delete(people).where(people.c.email == email)).rowcount == 0:
                raise NotFound(f"{email} is not someone signoff knows (see `signoff user list`)")
            revoked = conn.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.email == email, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            return int(revoked.rowcount)

    # ---- tokens --------------------------------------------------------

    def create_token(
        self, email: str, role: Role, name: str, by: str, expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """A new token for `email` (who must be known) with at most their role; returns it and the token itself.

        Raises:
            NotFound: signoff does not know `email`.
            BadInput: `role` is above the person's, or they already have a live token called `name`.
        """
        person = self.person(email)
        if person is None:
            raise NotFound(f"{email} is not someone signoff knows: add them first (`signoff user add {email}`)")
        if not person.role.covers(role):
            raise BadInput(
                f"a token cannot do more than its person: {person.email} is {Role(person.role).with_article}, "
                f"not {Role(role).with_article}"
            )
        now = datetime.now(UTC)
        if any(t.name == name and t.usable(now) for t in self.tokens(person.email)):
            raise BadInput(f"{person.email} already has a token named {name!r}: revoke it or choose another --name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": "tok_" + secrets.token_hex(6),
            "hash": token_hash(token),
            "email": person.email,
            "role": role.value,
            "name": name,
            "created_at": now,
            "created_by": by,
            "expires_at": expires_at,
            "uses": 0,
        }
        with self.engine.begin() as conn:
            conn.execute(sa.insert(api_tokens).values(row))
        return _token(row | {"revoked_at": None, "last_used_at": None}), token

    def tokens(self, email: str | None = None) -> list[ApiToken]:
        """Every token (of `email`), newest first, revoked and expired ones included."""
        query = sa.select(api_tokens).order_by(api_tokens.c.created_at.desc())
        if email:
            query = query.where(api_tokens.c.email == email.strip().lower())
        with self.engine.connect() as conn:
            return [_token(r) for r in conn.execute(query).mappings()]

    def revoke(self, token_id: str) -> ApiToken:
        """Revoke the token `token_id` (revoking twice changes nothing).

        Raises:
            NotFound: no token has that id.
        """
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()
        if row is None:
            raise NotFound(f"no token has the id {token_id!r} (see `signoff token list`)")
        return _token(row)

    def holder(self, token: str, now: datetime) -> tuple[ApiToken, Role] | None:
        """The token `token` and the role it acts with now, if it is live and its person still known; its use
        is recorded (how many, and when last, at most once a minute)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(api_tokens, people.c.role.label("person_role"))
                    .join(people, people.c.email == api_tokens.c.email)
                    .where(api_tokens.c.hash == token_hash(token))
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        found = _token(row)
        if not found.usable(now):
            return None
        if found.last_used_at is None or now - found.last_used_at >= USE_RECORDED_EVERY:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(api_tokens)
                    .where(api_tokens.c.id == found.id)
                    .values(last_used_at=now, uses=api_tokens.c.uses + 1)
                )
        person_role = Role(row["person_role"])
        return found, found.role if person_role.covers(found.role) else person_role


def _person(row: sa.RowMapping) -> Person:
    return Person(email=row["email"], role=Role(row["role"]), added_at=utc(row["added_at"]), added_by=row["added_by"])


def _token(row: Mapping[str, Any] | sa.RowMapping) -> ApiToken:
    values = {k: row[k] for k in ApiToken.model_fields}
    for key in ("created_at", "expires_at", "revoked_at", "last_used_at"):
        if isinstance(values[key], datetime):
            values[key] = utc(values[key])
    return ApiToken.model_validate(values)
