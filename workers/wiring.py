"""The composition root: settings in, adapters and services out.

The only place (with `api`'s entry) that decides which adapter stands
behind each port: the outbox for every integration not configured.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from temporalio.client import Client

from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from api.deps import Services
from api.service import Processes
from api.tokens import ApprovalLinks, ApprovalTokens
from config.settings import Settings
from config.templates import load_template
from integrations.messages import TemplateRenderer
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from integrations.store import Store
from workers.temporal import activity_methods


def build_store(settings: Settings) -> Store:
    """The audit store and outbox, with their tables in place."""
    return Store.connect(settings.database())


def build_tokens(settings: Settings) -> ApprovalTokens:
    """Approval-link signing with the key from settings (or the data dir)."""
    return ApprovalTokens(settings.signing_key().get_secret_value())


def build_activities(settings: Settings, store: Store) -> list[Any]:
    """Every activity, each with its adapter (the outbox until issue #3's adapters)."""
    links = ApprovalLinks(build_tokens(settings), settings.public_url)
    renderer = TemplateRenderer()
    return activity_methods(
        TrackerActivities(OutboxTracker(store, settings.public_url)),
        MailActivities(OutboxMailer(store), renderer, links),
        ChatActivities(OutboxChat(store), renderer, links),
        AuditActivities(store),
    )


def build_services(settings: Settings, client: Client, store: Store, temporal_ui_url: str | None = None) -> Services:
    """What the web service needs."""
    return Services(
        processes=Processes(
            client, settings.temporal.task_queue, partial(load_template, folders=settings.template_folders())
        ),
        store=store,
        tokens=build_tokens(settings),
        public_url=settings.public_url,
        temporal_ui_url=temporal_ui_url,
    )
