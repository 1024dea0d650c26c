"""The outbox under ``/api/outbox``: what signoff recorded instead of sending, where an integration is not set up."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from integrations.store import OutboxEntry

router = APIRouter(prefix="/api", tags=["outbox"])


@router.get("/outbox", response_model=list[OutboxEntry])
def list_outbox(svc: ServicesDep, process: str | None = None) -> list[OutboxEntry]:
    """What the outbox recorded instead of sending, oldest first."""
    return svc.store.outbox(process)
