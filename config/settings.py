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

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.webhooks import events_key


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
    """A Standard Webhooks secret (``whsec_`` and base64), or any other string, used as it is (its UTF-8 bytes)."""

    @field_validator("secret")
    @classmethod
    def _standard_webhooks_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        """Refuse at start-up a ``whsec_`` secret that is not base64 (deliveries could never match it)."""
        if secret:
            events_key(secret.get_secret_value())  # raises ValueError, which names the setting
        return secret


class AuthSettings(BaseModel):
    """How people and machines prove who they are (docs/security.md has how to set up each).

    People sign in through an OpenID Connect provider (``oidc_*``) or come
    through an identity-aware proxy that names them in ``proxy_header``,
    believed only from ``proxy_addresses``; scripts use tokens
    (``signoff token create``). ``signoff dev`` on loopback signs everyone in
    as a local admin unless started with ``--auth``.
    """

    oidc_issuer: str | None = None
    """The provider's issuer URL; its discovery document is ``/.well-known/openid-configuration`` under it."""
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    allowed_domains: str = ""
    """Email domains whose people may sign in, separated by commas; empty: any the provider vouches for."""
    default_role: Literal["none", "viewer", "member"] = "viewer"
    """The role of someone who signs in but is not in `signoff user list`; ``none`` lets only listed people in."""
    proxy_header: str | None = None
    """The header an identity-aware proxy puts the signed-in email in (``X-Forwarded-Email``, ...)."""
    proxy_addresses: str = ""
    """The proxies' addresses or networks, separated by commas: the header is believed from these only."""
    session_idle_minutes: int = Field(8 * 60, ge=1)
    """A session unused this long ends."""
    session_hours: int = Field(24, ge=1)
    """A session ends this long after sign-in, however busy."""
    dev_user: str = "admin@localhost"
    """Who everyone is in dev mode (``signoff dev`` on loopback, without ``--auth``)."""
    dev_mode: bool = False
    """Sign every loopback visitor in as `dev_user`, an admin: set by ``signoff dev``, not meant to be set by hand."""

    def sign_in_configured(self) -> bool:
        """Whether people have a way to sign in (a provider or a proxy)."""
        provider = self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret
        return bool(provider) or bool(self.proxy_header and self.proxy_addresses)


class LogSettings(BaseModel):
    """What the long-running processes log, and in which shape (docs/operations.md has the fields)."""

    format: Literal["json", "console"] | None = None
    """``json`` (one object a line) or ``console`` (readable, coloured on a terminal); unset: JSON for
    ``signoff worker`` and ``signoff web``, console for ``signoff dev``."""
    level: Literal["debug", "info", "warning", "error"] = "info"


class MetricsSettings(BaseModel):
    """Where ``signoff worker`` serves ``/metrics`` and ``/healthz`` (the web service serves them on its own port)."""

    port: int = Field(9464, ge=0, le=65535)
    """0 turns the worker's endpoint off."""
    host: str = "127.0.0.1"
    """``0.0.0.0`` to be scraped from another machine or container."""


class OtelSettings(BaseModel):
    """OpenTelemetry tracing, sent over OTLP/HTTP; off unless an endpoint is set (needs ``signoff[otel]``)."""

    endpoint: str | None = None
    """The collector's OTLP/HTTP base URL (``http://collector:4318``); unset: the standard
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` if that is set, else no tracing."""


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
    time_zone: str = "UTC"
    """The time zone a process gets when its start names none (an IANA name, ``Europe/Berlin``): reminders at
    the template's hour in it, its pages' times in it."""
    secret_key: SecretStr | None = None
    secret_key_fallbacks: SecretStr | None = None
    """Keys that signed approval links before `secret_key` replaced them, separated by commas: their links
    still open until the keys are dropped from here (docs/settings.md, "Rotating the signing key")."""
    templates_dir: Path | None = None
    start_patience: float | None = Field(None, ge=0)
    """Seconds `signoff worker`, `web` and `dev` wait at start for Temporal and the database before they give up
    (exit 1, saying which did not answer); unset: the worker and the web service wait as long as it takes (in a
    compose file or a cluster, whatever starts them restarts them anyway), `signoff dev` 120 s."""
    temporal: TemporalSettings = TemporalSettings()
    jira: JiraSettings = JiraSettings()
    smtp: SmtpSettings = SmtpSettings()
    slack: SlackSettings = SlackSettings()
    teams: TeamsSettings = TeamsSettings()
    events: EventsSettings = EventsSettings()
    auth: AuthSettings = AuthSettings()
    log: LogSettings = LogSettings()
    metrics: MetricsSettings = MetricsSettings()
    otel: OtelSettings = OtelSettings()

    def database(self) -> str:
        """The SQLAlchemy URL of the audit store: the setting, else SQLite in the data dir (made if missing)."""
        if not self.database_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.database_location()

    def database_location(self) -> str:
        """The SQLAlchemy URL of the audit store, making nothing: for the commands that only read it."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'signoff.db').resolve()}"

    def template_folders(self) -> list[Path]:
        """Folders searched for process templates before the bundled ones."""
        return [self.templates_dir] if self.templates_dir else []

    def signing_key_fallbacks(self) -> list[SecretStr]:
        """The retired keys approval links are still accepted under: `secret_key_fallbacks`, split at commas."""
        keys = self.secret_key_fallbacks.get_secret_value().split(",") if self.secret_key_fallbacks else []
        return [SecretStr(key.strip()) for key in keys if key.strip()]

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
