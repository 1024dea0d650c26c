"""People and tokens in the store: a token is kept only as its hash, never does more than its person, and stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.access import Caller, Need, Role, refusal
from domain.errors import BadInput, NotFound
from integrations.people import People, token_hash
from integrations.schema import api_tokens
from integrations.store import Store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def people(database_url: str) -> People:
    return People(Store.connect(database_url).engine)


def test_the_database_keeps_only_the_tokens_hash(people: People) -> None:
    people.add("Ann@Example.com", Role.MEMBER, by="tests")

    made, token = people.create_token("ann@example.com", Role.MEMBER, "ci", by="tests")

    with people.engine.connect() as conn:
        row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == made.id)).mappings().one()
    assert token.startswith("signoff_") and len(token) > 40
    assert row["hash"] == token_hash(token) and token not in str(dict(row))
    assert made.email == "ann@example.com", "emails are kept case-folded"


def test_a_token_acts_with_the_lesser_of_its_role_and_its_persons_now(people: People) -> None:
    people.add("bo@example.com", Role.ADMIN, by="tests")
    _, token = people.create_token("bo@example.com", Role.MEMBER, "ci", by="tests")

    assert people.holder(token, NOW)[1] is Role.MEMBER  # type: ignore[index]
    people.add("bo@example.com", Role.VIEWER, by="tests")  # demoted
    assert people.holder(token, NOW)[1] is Role.VIEWER  # type: ignore[index]


def test_a_token_stops_when_it_expires_is_revoked_or_its_person_goes(people: People) -> None:
    people.add("cy@example.com", Role.MEMBER, by="tests")
    _, soon = people.create_token("cy@example.com", Role.MEMBER, "a", by="tests", expires_at=NOW)
    revoked, revoked_token = people.create_token("cy@example.com", Role.MEMBER, "b", by="tests")
    _, kept = people.create_token("cy@example.com", Role.MEMBER, "c", by="tests")

    people.revoke(revoked.id)

    assert people.holder(soon, NOW - timedelta(seconds=1)) is not None
    assert people.holder(soon, NOW) is None
    assert people.holder(revoked_token, NOW) is None
    assert people.holder(kept, NOW) is not None
    assert people.remove("cy@example.com") == 2  # the two still live
    assert people.holder(kept, NOW) is None
    assert people.holder("signoff_" + "x" * 43, NOW) is None
    assert people.holder("not even ours", NOW) is None


def test_each_use_is_counted_once_a_minute_at_most(people: People) -> None:
    people.add("di@example.com", Role.MEMBER, by="tests")
    _, token = people.create_token("di@example.com", Role.MEMBER, "ci", by="tests")

    for seconds in (0, 10, 59, 60, 200):
        people.holder(token, NOW + timedelta(seconds=seconds))

    [listed] = people.tokens("di@example.com")
    assert (listed.uses, listed.last_used_at) == (3, NOW + timedelta(seconds=200))


def test_what_a_token_may_not_be(people: People) -> None:
    people.add("ed@example.com", Role.VIEWER, by="tests")
    people.create_token("ed@example.com", Role.VIEWER, "ci", by="tests")

    with pytest.raises(BadInput, match="is a viewer, not a member"):
        people.create_token("ed@example.com", Role.MEMBER, "other", by="tests")
    with pytest.raises(BadInput, match="already has a token named 'ci'"):
        people.create_token("ed@example.com", Role.VIEWER, "ci", by="tests")
    with pytest.raises(NotFound, match=r"signoff user add nobody@example\.com"):
        people.create_token("nobody@example.com", Role.VIEWER, "ci", by="tests")
    with pytest.raises(NotFound):
        people.revoke("tok_000000000000")


@pytest.mark.parametrize(
    ("role", "need", "owner", "item_owner", "allowed"),
    [
        (Role.VIEWER, Need.VIEWER, None, None, True),
        (Role.VIEWER, Need.MEMBER, None, None, False),
        (Role.MEMBER, Need.ADMIN, None, None, False),
        (Role.ADMIN, Need.PROCESS_OWNER, "pm@example.com", None, True),
        (Role.MEMBER, Need.PROCESS_OWNER, "PM@example.com", None, True),  # emails compare without case
        (Role.MEMBER, Need.PROCESS_OWNER, "someone@example.com", None, False),
        (Role.VIEWER, Need.ITEM_OWNER, "someone@example.com", "pm@example.com", True),  # named: the role is moot
        (Role.MEMBER, Need.ITEM_OWNER, "someone@example.com", "other@example.com", False),
    ],
)
def test_the_rules(role: Role, need: Need, owner: str | None, item_owner: str | None, allowed: bool) -> None:
    caller = Caller(email="pm@example.com", role=role)

    assert (refusal(caller, need, owner, item_owner) is None) is allowed
