"""signoff's settings: one object, built once at the entry point, passed down.

Read from the environment (prefix ``SIGNOFF_``) or a ``.env`` file. Nested
sections split once on ``_``: ``SIGNOFF_TEMPORAL_ADDRESS`` is
``temporal.address``. Secrets are ``SecretStr``: never logged, never passed
to an activity or stored in workflow history.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TemporalSettings(BaseModel):
    """Where the Temporal service is and how to reach it."""

    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    task_queue: str = "signoff"
    api_key: SecretStr | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    ui_url: str | None = None
    """The Temporal UI (Web UI or Cloud), for the link on each process page; `signoff dev` sets its own."""


class JiraSettings(BaseModel):
    """Jira Cloud or Data Center; unset means the outbox stands in."""

    url: str | None = None
    user: str | None = None
    token: SecretStr | None = None
    webhook_secret: SecretStr | None = None


class SmtpSettings(BaseModel):
    """An SMTP relay; unset means the outbox stands in."""

    model_config = ConfigDict(populate_by_name=True)

    host: str | None = None
    port: int = 25
    user: str | None = None
    password: SecretStr | None = None
    tls: Literal["none", "starttls", "ssl"] = "none"
    from_: str = Field("signoff@localhost", validation_alias="from")  # SIGNOFF_SMTP_FROM


class SlackSettings(BaseModel):
    """A Slack app; unset means the outbox stands in."""

    token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_url: str = "https://slack.com/api/"


class TeamsSettings(BaseModel):
    """A Microsoft Teams incoming webhook."""

    webhook_url: SecretStr | None = None


class EventsSettings(BaseModel):
    """Signed JSON events on ``/hooks/events``; unset turns the endpoint off."""

    secret: SecretStr | None = None


class Settings(BaseSettings):
    """Everything signoff can be told, with the embedded defaults."""

    model_config = SettingsConfigDict(
        env_prefix="SIGNOFF_",
        env_file=".env",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    data_dir: Path = Path(".signoff")
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    secret_key: SecretStr | None = None
    templates_dir: Path | None = None
    temporal: TemporalSettings = TemporalSettings()
    jira: JiraSettings = JiraSettings()
    smtp: SmtpSettings = SmtpSettings()
    slack: SlackSettings = SlackSettings()
    teams: TeamsSettings = TeamsSettings()
    events: EventsSettings = EventsSettings()

    def database(self) -> str:
        """The SQLAlchemy URL of the audit store: the setting, else SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'signoff.db').resolve()}"

    def template_folders(self) -> list[Path]:
        """Folders searched for process templates before the bundled ones."""
        return [self.templates_dir] if self.templates_dir else []

    def signing_key(self) -> SecretStr:
        """The key approval links are signed with: the setting, else one kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(32))
        return SecretStr(path.read_text().strip())
