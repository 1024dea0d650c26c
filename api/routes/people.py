"""``/api/me``: who the web service takes the caller to be (what `signoff login` checks a token with)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser
from domain.access import Caller

router = APIRouter(prefix="/api", tags=["people"])


@router.get("/me", response_model=Caller)
def me(caller: CurrentUser) -> Caller:
    """The proven caller: their email, role, and how they proved it."""
    return caller
