"""Approval links: signed tokens that name a process, a gate and an approver.

Pure: no settings, no clock of its own (the caller passes `now`). Tokens are
signed with itsdangerous under a salt per purpose, so a form token can never
pass for an approval token. A token expires with its gate (its `expires_at`).

Keys rotate without voiding live links: tokens are signed with the current key
and accepted under it or any retired key still listed (itsdangerous's key
list), so a link mailed last month opens until its key is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import ValidationError

from domain.errors import BadInput, Expired
from domain.requests import ApprovalClaims


class InvalidToken(BadInput):
    """A link that was altered, cut short, or never signed by us (HTTP 400)."""


class ApprovalTokens:
    """Signs and reads approval tokens and the confirmation form's token."""

    def __init__(self, secret: str, fallbacks: Sequence[str] = ()) -> None:
        """Sign with `secret`; accept what it or one of the retired keys in `fallbacks` signed."""
        keys = [*fallbacks, secret]  # itsdangerous signs with the last key and accepts any of them
        self._links = URLSafeSerializer(keys, salt="signoff.approval-link")
        self._forms = URLSafeSerializer(keys, salt="signoff.approval-form")

    def sign(self, claims: ApprovalClaims) -> str:
        """The token for `claims` (the same claims always give the same token)."""
        return self._links.dumps(claims.model_dump(mode="json", exclude_none=True))

    def read(self, token: str, now: datetime) -> ApprovalClaims:
        """The claims of a genuine, unexpired token.

        Raises:
            InvalidToken: the token was altered or was never ours.
            Expired: the gate the token was for has closed.
        """
        try:
            claims = ApprovalClaims.model_validate(self._links.loads(token))
        except (BadSignature, ValidationError):
            raise InvalidToken("this approval link is not valid: it may have been altered or cut short") from None
        if now >= claims.expires_at:
            raise Expired(f"this approval link expired at {claims.expires_at:%Y-%m-%d %H:%M} UTC")
        return claims

    def form_token(self, claims: ApprovalClaims) -> str:
        """The hidden field of the confirmation form, bound to one approval token."""
        return self._forms.dumps(claims.token_id)

    def check_form(self, claims: ApprovalClaims, value: str) -> bool:
        """Whether `value` is the form token this page handed out for `claims`."""
        try:
            return bool(self._forms.loads(value) == claims.token_id)
        except BadSignature:
            return False


class ApprovalLinks:
    """The absolute URLs in messages, under the public base URL."""

    def __init__(self, tokens: ApprovalTokens, public_url: str) -> None:
        self.tokens = tokens
        self.base = public_url.rstrip("/")

    def approval_url(self, claims: ApprovalClaims) -> str:
        """The approver's own link to the confirmation page."""
        return f"{self.base}/approve/{self.approval_token(claims)}"

    def approval_token(self, claims: ApprovalClaims) -> str:
        """The token in that link, which a Slack button carries back to ``/hooks/slack``."""
        return self.tokens.sign(claims)

    def process_url(self, process_id: str) -> str:
        """The page of a process on the dashboard."""
        return f"{self.base}/processes/{process_id}"
