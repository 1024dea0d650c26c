"""What the routes work with: the services the entry point built, and who is asking.

Routes take them as parameters, `svc: ServicesDep` and `caller: CurrentUser`,
in the shape of FastAPI's own full-stack template (`api/deps.py` there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from api import access
from api.auth import Authenticator
from api.schedules import Schedules
from api.service import Processes
from api.tokens import ApprovalTokens
from config.triggers import Triggers
from integrations.slack import SlackChat
from integrations.store import Store


@dataclass
class Services:
    """Everything the web service needs, built once by the entry point."""

    processes: Processes
    store: Store
    auth: Authenticator
    """Who is asking (`api.auth`)."""
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
    sign_in: Any | None = None
    """The OpenID Connect provider people sign in through (an Authlib client: `api.routes.sign_in`), if any."""
    schedules: Schedules = field(init=False)
    """Recurring processes (`api.schedules`), on the same Temporal client and store."""

    def __post_init__(self) -> None:
        self.schedules = Schedules(self.processes, self.store)


def services(request: Request) -> Services:
    """The services of the app serving `request`."""
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


CurrentUser = access.CurrentUser
"""The proven caller (`api.access.authorize` proved them before the route runs)."""
