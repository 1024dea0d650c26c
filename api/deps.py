"""What the routes work with: the services the entry point built, and who is asking.

Routes take them as parameters, `svc: ServicesDep` and `caller: CurrentUser`,
in the shape of FastAPI's own full-stack template (`api/deps.py` there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request

from api.service import Processes
from api.tokens import ApprovalTokens
from config.triggers import Triggers
from domain.enums import Channel
from integrations.slack import SlackChat
from integrations.store import Store


@dataclass
class Services:
    """Everything the web service needs, built once by the entry point."""

    processes: Processes
    store: Store
    tokens: ApprovalTokens
    public_url: str
    temporal_workflows_url: str | None = None
    """Where the Temporal UI lists this namespace's workflows; a process page links to its own under it."""
    triggers: Triggers = field(default_factory=Triggers)
    jira_webhook_secret: str | None = None
    events_secret: str | None = None
    slack: SlackChat | None = None
    """Slack's Web API, to learn who clicked a button and to answer them."""
    slack_signing_secret: str | None = None


def services(request: Request) -> Services:
    """The services of the app serving `request`."""
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


@dataclass(frozen=True)
class Caller:
    """Who makes a request, and through which channel: what the audit trail records as its actor."""

    name: str
    channel: Channel


def current_user(
    actor: Annotated[str, Header(alias="X-Signoff-Actor", description="Who acts (an email).")] = "api",
    channel: Annotated[str | None, Header(alias="X-Signoff-Channel", description="`cli` from the CLI.")] = None,
) -> Caller:
    """The caller, as the request names them (until people sign in: see docs/security.md)."""
    return Caller(name=actor, channel=Channel.CLI if channel == "cli" else Channel.API)


CurrentUser = Annotated[Caller, Depends(current_user)]
