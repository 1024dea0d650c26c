"""Settings choose the adapters: the real one where configured, the outbox for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from temporalio.client import Client

from activities import AuditActivities, ChatActivities, MailActivities, TrackerActivities
from config.settings import Settings
from domain.requests import ApprovalClaims
from integrations.jira import JiraTracker
from integrations.outbox import OutboxChat, OutboxMailer, OutboxTracker
from integrations.slack import SlackChat
from integrations.smtp import SmtpMailer
from integrations.store import Store
from integrations.teams import TeamsChat
from workers.checks import run_checks
from workers.wiring import build_activities, build_chat, build_mailer, build_services, build_tokens, build_tracker

CLAIMS = ApprovalClaims(
    process_id="launch-acme-2026-12-15",
    gate="go-no-go",
    round=1,
    approver="vp@example.com",
    token_id="tok-1",
    expires_at=datetime(2026, 12, 22, 9, tzinfo=UTC),
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.connect(f"sqlite:///{tmp_path / 's.db'}")


def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    for key, value in env.items():
        monkeypatch.setenv(f"SIGNOFF_{key}", value)
    monkeypatch.setenv("SIGNOFF_DATA_DIR", str(tmp_path))
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_nothing_configured_means_the_outbox_everywhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Store
) -> None:
    config = settings(monkeypatch, tmp_path)
    assert isinstance(build_tracker(config, store), OutboxTracker)
    assert isinstance(build_mailer(config, store), OutboxMailer)
    assert isinstance(build_chat(config, store), OutboxChat)


def test_each_integration_switches_on_its_own_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Store
) -> None:
    config = settings(
        monkeypatch,
        tmp_path,
        JIRA_URL="https://acme.atlassian.net",
        JIRA_USER="bot@acme.test",
        JIRA_TOKEN="secret-token-1234",
        SMTP_HOST="mail.acme.test",
        SMTP_PORT="587",
        SMTP_TLS="starttls",
        SMTP_FROM="launches@acme.test",
    )
    assert isinstance(build_tracker(config, store), JiraTracker)
    mailer = build_mailer(config, store)
    assert isinstance(mailer, SmtpMailer)
    assert config.smtp.from_ == "launches@acme.test"
    assert isinstance(build_chat(config, store), OutboxChat), "chat stays on the outbox"


def test_jira_needs_url_user_and_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Store) -> None:
    config = settings(monkeypatch, tmp_path, JIRA_URL="https://acme.atlassian.net")
    assert isinstance(build_tracker(config, store), OutboxTracker)


def test_slack_wins_over_teams_and_teams_over_the_outbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Store
) -> None:
    teams = settings(monkeypatch, tmp_path, TEAMS_WEBHOOK_URL="https://acme.webhook.office.com/webhookb2/x")
    assert isinstance(build_chat(teams, store), TeamsChat)
    both = settings(monkeypatch, tmp_path, SLACK_TOKEN="xoxb-123")
    assert isinstance(build_chat(both, store), SlackChat)


async def test_check_reports_one_line_each_and_fails_on_an_unreachable_integration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = settings(monkeypatch, tmp_path, TEMPORAL_ADDRESS="127.0.0.1:1", SMTP_HOST="127.0.0.1", SMTP_PORT="1")
    Store.connect(config.database())  # the store a stack made there: `check` never makes one
    lines, healthy = await run_checks(config)
    assert not healthy
    by_name = {line.split()[1]: line for line in lines}
    assert set(by_name) == {"temporal", "database", "jira", "smtp", "chat"}
    assert by_name["temporal"].startswith("FAIL") and "SIGNOFF_TEMPORAL_ADDRESS" in by_name["temporal"]
    assert by_name["database"].startswith("ok")
    assert by_name["jira"].startswith("ok") and "outbox" in by_name["jira"]
    assert by_name["smtp"].startswith("FAIL") and "127.0.0.1:1" in by_name["smtp"]


async def test_check_reports_an_unreachable_database_instead_of_crashing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = settings(
        monkeypatch, tmp_path, TEMPORAL_ADDRESS="127.0.0.1:1", DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/x"
    )
    lines, healthy = await run_checks(config)
    assert not healthy
    [database] = [line for line in lines if line.split()[1] == "database"]
    assert database.startswith("FAIL") and "SIGNOFF_DATABASE_URL" in database
    assert len(lines) == 5, "every integration still gets its line"


def test_the_worker_serves_every_activity_the_activity_classes_define(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Store
) -> None:
    defined = {
        name
        for cls in (TrackerActivities, MailActivities, ChatActivities, AuditActivities)
        for name, member in vars(cls).items()
        if hasattr(member, "__temporal_activity_definition")
    }
    served = {fn.__name__ for fn in build_activities(settings(monkeypatch, tmp_path), store)}
    assert served == defined
    assert {"post_approval_request", "update_message"} <= served


def test_the_worker_also_starts_schedules_runs_when_it_has_a_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Store
) -> None:
    """`signoff worker` and `signoff dev` hand their Temporal client in: a run's activity starts processes with it."""
    served = {fn.__name__ for fn in build_activities(settings(monkeypatch, tmp_path), store, cast(Client, object()))}

    assert {"start_run", "tell_run_refused"} <= served


def test_process_pages_link_to_the_configured_temporal_ui_in_its_namespace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Store
) -> None:
    client = cast(Client, None)  # the services only keep it
    plain = settings(monkeypatch, tmp_path)
    cloud = settings(
        monkeypatch, tmp_path, TEMPORAL_UI_URL="https://cloud.temporal.io/", TEMPORAL_NAMESPACE="acme.a1b2"
    )

    assert build_services(plain, client, store).temporal_workflows_url is None
    assert build_services(cloud, client, store).temporal_workflows_url == (
        "https://cloud.temporal.io/namespaces/acme.a1b2/workflows"
    )
    dev = build_services(cloud, client, store, temporal_ui_url="http://127.0.0.1:8233")
    assert dev.temporal_workflows_url == "http://127.0.0.1:8233/namespaces/acme.a1b2/workflows"


def test_links_signed_with_a_retired_key_still_read_once_it_is_a_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    generated = build_tokens(settings(monkeypatch, tmp_path))  # no key set: one is made and kept in the data dir
    old_link = generated.sign(CLAIMS)
    kept = (tmp_path / "secret_key").read_text().strip()

    rotated = settings(monkeypatch, tmp_path, SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=f" older-key , {kept} ")

    assert [key.get_secret_value() for key in rotated.signing_key_fallbacks()] == ["older-key", kept]
    assert build_tokens(rotated).read(old_link, now=CLAIMS.expires_at - timedelta(days=1)) == CLAIMS
    assert build_tokens(rotated).sign(CLAIMS) != old_link  # new links are signed with the new key
    assert "the-new-key" not in repr(rotated) and kept not in repr(rotated)  # secrets, never printed
