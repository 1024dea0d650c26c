"""The composition root: settings in, adapters and services out.

The only place that decides which adapter stands behind each port: Jira,
SMTP, Slack or Teams where configured, the outbox for the rest.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from temporalio.client import Client

from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from activities.schedules import ScheduleActivities
from api.auth import Authenticator
from api.deps import Services
from api.routes.sign_in import openid_client
from api.schedules import ScheduledStarts
from api.service import Processes
from api.tokens import ApprovalLinks, ApprovalTokens
from config.settings import Settings
from config.templates import Templates
from config.triggers import load_triggers
from integrations.jira import JiraTracker
from integrations.messages import TemplateRenderer
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from integrations.people import People
from integrations.ports import Chat, Mailer, Tracker
from integrations.slack import SlackChat
from integrations.smtp import SmtpMailer
from integrations.store import Store
from integrations.teams import TeamsChat
from workers.temporal import activity_methods


def build_store(settings: Settings) -> Store:
    """The audit store and outbox, with their tables in place."""
    return Store.connect(settings.database())


def build_tokens(settings: Settings) -> ApprovalTokens:
    """Approval-link signing with the key from settings (or the data dir); links signed with a retired key
    (`SIGNOFF_SECRET_KEY_FALLBACKS`) still open."""
    fallbacks = [key.get_secret_value() for key in settings.signing_key_fallbacks()]
    return ApprovalTokens(settings.signing_key().get_secret_value(), fallbacks)


def build_tracker(settings: Settings, store: Store) -> Tracker:
    """Jira when it is configured, else the outbox."""
    jira = settings.jira
    if jira.url and jira.user and jira.token:
        return JiraTracker(jira.url, jira.user, jira.token.get_secret_value())
    return OutboxTracker(store, settings.public_url)


def build_mailer(settings: Settings, store: Store) -> Mailer:
    """SMTP when a host is configured, else the outbox."""
    smtp = settings.smtp
    if smtp.host:
        password = smtp.password.get_secret_value() if smtp.password else None
        return SmtpMailer(store, smtp.host, smtp.port, smtp.tls, smtp.user, password, smtp.from_)
    return OutboxMailer(store)


def build_chat(settings: Settings, store: Store) -> Chat:
    """Slack when it has a token, else Teams when it has a webhook, else the outbox."""
    if settings.slack.token:
        return SlackChat(store, settings.slack.token.get_secret_value(), settings.slack.api_url)
    if settings.teams.webhook_url:
        return TeamsChat(store, settings.teams.webhook_url.get_secret_value())
    return OutboxChat(store)


def build_activities(settings: Settings, store: Store, client: Client | None = None) -> list[Any]:
    """Every activity, each with the adapter its settings choose; with `client`, the runs of schedules too
    (they start processes through it, as the web service does)."""
    links = ApprovalLinks(build_tokens(settings), settings.public_url)
    renderer = TemplateRenderer()
    mailer = build_mailer(settings, store)
    methods = activity_methods(
        TrackerActivities(build_tracker(settings, store)),
        MailActivities(mailer, renderer, links),
        ChatActivities(build_chat(settings, store), renderer, links),
        AuditActivities(store),
    )
    if client is None:
        return methods
    processes = Processes(
        client,
        settings.temporal.task_queue,
        Templates(settings.template_folders()),
        time_zone=settings.time_zone,
        records=store,
    )
    schedules_url = f"{settings.public_url.rstrip('/')}/schedules"
    creators = Authenticator.from_settings(settings, People(store.engine))  # (a run checks its creator's role)
    starts = ScheduledStarts(processes, store, creators.role_of)
    runs = ScheduleActivities(starts, store, mailer, renderer, schedules_url)
    return [*methods, runs.start_run, runs.tell_run_refused]


def build_services(settings: Settings, client: Client, store: Store, temporal_ui_url: str | None = None) -> Services:
    """What the web service needs (`temporal_ui_url`: the dev server's UI, else the configured one)."""
    slack = settings.slack
    ui = temporal_ui_url or settings.temporal.ui_url
    return Services(
        processes=Processes(
            client,
            settings.temporal.task_queue,
            Templates(settings.template_folders()),
            time_zone=settings.time_zone,
            records=store,
        ),
        store=store,
        auth=Authenticator.from_settings(settings, People(store.engine)),
        sign_in=openid_client(settings.auth),
        tokens=build_tokens(settings),
        public_url=settings.public_url,
        temporal_workflows_url=f"{ui.rstrip('/')}/namespaces/{quote(settings.temporal.namespace)}/workflows"
        if ui
        else None,
        triggers=load_triggers(),
        jira_webhook_secret=settings.jira.webhook_secret.get_secret_value() if settings.jira.webhook_secret else None,
        events_secret=settings.events.secret.get_secret_value() if settings.events.secret else None,
        slack=SlackChat(store, slack.token.get_secret_value(), slack.api_url) if slack.token else None,
        slack_signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else None,
    )
