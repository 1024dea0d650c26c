"""Approval links: signed tokens, their expiry, and the confirmation form's token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.tokens import ApprovalLinks, ApprovalTokens
from domain.errors import BadInput, Expired
from domain.requests import ApprovalClaims

SECRET = "unit-test-secret"
EXPIRES = datetime(2026, 12, 22, 9, tzinfo=UTC)
BEFORE = EXPIRES - timedelta(days=1)


def claims(**changes: object) -> ApprovalClaims:
    return ApprovalClaims.model_validate(
        {
            "process_id": "launch-acme-2026-12-15",
            "gate": "go-no-go",
            "round": 1,
            "approver": "vp@example.com",
            "token_id": "tok-1",
            "expires_at": EXPIRES,
        }
        | changes
    )


@pytest.fixture
def tokens() -> ApprovalTokens:
    return ApprovalTokens(SECRET)


def altered(token: str) -> str:
    """`token` with the character in its middle replaced by another."""
    middle = len(token) // 2
    other = "A" if token[middle] != "A" else "B"
    return token[:middle] + other + token[middle + 1 :]


# ---- approval tokens ---------------------------------------------------------


def test_read_gives_back_the_signed_claims(tokens: ApprovalTokens) -> None:
    assert tokens.read(tokens.sign(claims()), now=BEFORE) == claims()


def test_same_claims_sign_to_the_same_token(tokens: ApprovalTokens) -> None:
    assert tokens.sign(claims()) == tokens.sign(claims())
    assert ApprovalTokens(SECRET).sign(claims()) == tokens.sign(claims())


def test_different_claims_sign_to_different_tokens(tokens: ApprovalTokens) -> None:
    assert tokens.sign(claims()) != tokens.sign(claims(approver="legal@example.com"))


def test_token_is_url_safe(tokens: ApprovalTokens) -> None:
    token = tokens.sign(claims())
    assert all(c.isalnum() or c in "-_." for c in token)


def test_token_altered_in_the_middle_is_bad_input(tokens: ApprovalTokens) -> None:
    token = tokens.sign(claims())
    with pytest.raises(BadInput):
        tokens.read(altered(token), now=BEFORE)


@pytest.mark.parametrize("dropped", [1, 5])
def test_token_missing_its_last_characters_is_bad_input(tokens: ApprovalTokens, dropped: int) -> None:
    token = tokens.sign(claims())
    with pytest.raises(BadInput):
        tokens.read(token[:-dropped], now=BEFORE)


def test_token_cut_in_half_is_bad_input(tokens: ApprovalTokens) -> None:
    token = tokens.sign(claims())
    with pytest.raises(BadInput):
        tokens.read(token[: len(token) // 2], now=BEFORE)


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "é"])
def test_garbage_is_bad_input(tokens: ApprovalTokens, garbage: str) -> None:
    with pytest.raises(BadInput):
        tokens.read(garbage, now=BEFORE)


def test_token_of_another_secret_is_bad_input(tokens: ApprovalTokens) -> None:
    foreign = ApprovalTokens("another-secret").sign(claims())
    with pytest.raises(BadInput):
        tokens.read(foreign, now=BEFORE)


def test_token_read_at_its_expiry_is_expired(tokens: ApprovalTokens) -> None:
    with pytest.raises(Expired):
        tokens.read(tokens.sign(claims()), now=EXPIRES)


def test_token_read_after_its_expiry_is_expired(tokens: ApprovalTokens) -> None:
    with pytest.raises(Expired, match="2026-12-22 09:00"):
        tokens.read(tokens.sign(claims()), now=EXPIRES + timedelta(seconds=1))


def test_token_read_just_before_its_expiry_is_valid(tokens: ApprovalTokens) -> None:
    assert tokens.read(tokens.sign(claims()), now=EXPIRES - timedelta(seconds=1)).token_id == "tok-1"


def test_expired_is_not_bad_input(tokens: ApprovalTokens) -> None:
    with pytest.raises(Expired) as caught:
        tokens.read(tokens.sign(claims()), now=EXPIRES)
    assert not isinstance(caught.value, BadInput)


# ---- the form token ------------------------------------------------------------


def test_form_token_is_accepted_for_its_claims(tokens: ApprovalTokens) -> None:
    assert tokens.check_form(claims(), tokens.form_token(claims())) is True


def test_form_token_of_another_token_id_is_refused(tokens: ApprovalTokens) -> None:
    other = tokens.form_token(claims(token_id="tok-2"))
    assert tokens.check_form(claims(), other) is False


@pytest.mark.parametrize("garbage", ["", "garbage", "tok-1"])
def test_garbage_form_token_is_refused(tokens: ApprovalTokens, garbage: str) -> None:
    assert tokens.check_form(claims(), garbage) is False


def test_altered_form_token_is_refused(tokens: ApprovalTokens) -> None:
    assert tokens.check_form(claims(), altered(tokens.form_token(claims()))) is False


def test_approval_token_does_not_pass_as_a_form_token(tokens: ApprovalTokens) -> None:
    assert tokens.check_form(claims(), tokens.sign(claims())) is False


def test_form_token_does_not_pass_as_an_approval_token(tokens: ApprovalTokens) -> None:
    with pytest.raises(BadInput):
        tokens.read(tokens.form_token(claims()), now=BEFORE)


def test_form_token_of_another_secret_is_refused(tokens: ApprovalTokens) -> None:
    foreign = ApprovalTokens("another-secret").form_token(claims())
    assert tokens.check_form(claims(), foreign) is False


# ---- rotating the key --------------------------------------------------------


def test_after_a_rotation_links_signed_with_the_old_key_still_read(tokens: ApprovalTokens) -> None:
    before = tokens.sign(claims())
    rotated = ApprovalTokens("the-new-secret", fallbacks=[SECRET])

    assert rotated.read(before, now=BEFORE) == claims()
    assert rotated.check_form(claims(), tokens.form_token(claims()))  # a page opened before it, posted after


def test_after_a_rotation_new_links_are_signed_with_the_new_key_alone(tokens: ApprovalTokens) -> None:
    rotated = ApprovalTokens("the-new-secret", fallbacks=[SECRET, "an-older-one"])

    assert rotated.sign(claims()) == ApprovalTokens("the-new-secret").sign(claims())
    with pytest.raises(BadInput):
        tokens.read(rotated.sign(claims()), now=BEFORE)


def test_a_link_of_a_key_dropped_from_the_fallbacks_is_bad_input(tokens: ApprovalTokens) -> None:
    dropped = ApprovalTokens("the-new-secret", fallbacks=["an-older-one"])
    with pytest.raises(BadInput, match="not valid"):
        dropped.read(tokens.sign(claims()), now=BEFORE)
    assert dropped.check_form(claims(), tokens.form_token(claims())) is False


# ---- links -------------------------------------------------------------------


@pytest.mark.parametrize("public_url", ["https://signoff.example.com", "https://signoff.example.com/"])
def test_approval_url_is_under_the_public_url(tokens: ApprovalTokens, public_url: str) -> None:
    url = ApprovalLinks(tokens, public_url).approval_url(claims())
    assert url == f"https://signoff.example.com/approve/{tokens.sign(claims())}"


@pytest.mark.parametrize("public_url", ["https://example.com/signoff", "https://example.com/signoff//"])
def test_process_url_has_no_double_slashes(tokens: ApprovalTokens, public_url: str) -> None:
    url = ApprovalLinks(tokens, public_url).process_url("launch-acme-2026-12-15")
    assert url == "https://example.com/signoff/processes/launch-acme-2026-12-15"
    assert "//" not in url.removeprefix("https://")


def test_approval_url_token_reads_back(tokens: ApprovalTokens) -> None:
    url = ApprovalLinks(tokens, "https://signoff.example.com/").approval_url(claims())
    assert tokens.read(url.rsplit("/", 1)[1], now=BEFORE) == claims()
