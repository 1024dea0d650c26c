"""What the routes work with: the services the entry point built."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

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
