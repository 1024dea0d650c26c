"""The store's database and schema: SQLAlchemy Core over SQLite (embedded) or PostgreSQL (production).

The schema is versioned: `migrate` applies the Alembic migrations in
``integrations/migrations/`` on start; the tables below are what they make
(the queries of `integrations.store` are written against them, and
tests/unit/test_audit_integrity.py holds the two alike). Six tables:
``audit_events`` (the hash-chained trail of every process), ``processes`` (the
list view, kept from the latest event of each process, and a copy of each
process's page, kept from its latest batch of events), ``outbox`` (what would
have gone out to Jira, email and chat), ``webhook_deliveries`` (the
deliveries already taken), ``people`` (who has which role) and ``api_tokens``
(tokens for the CLI and automation, stored as hashes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

processes = sa.Table(
    "processes",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False, index=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("owner", sa.String(320), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("progress", sa.String(100)),
    sa.Column("next_deadline", sa.DateTime(timezone=True), index=True),
    # the store's copy of the process's page, for when the process cannot answer (migration 0007)
    sa.Column("view_fields", sa.Text),
    sa.Column("view_seq", sa.Integer),
    sa.Column("view_at", sa.DateTime(timezone=True)),
    # the open items' due dates, kept from that copy: the earliest (the overdue filter) and all (to count) (0008)
    sa.Column("earliest_open_due", sa.Date, index=True),
    sa.Column("open_due", sa.Text),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("step", sa.String(100)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("process_id", "seq", name="uq_audit_process_seq"),
    # search pages in (at, id) order after at most one equality filter (migration 0005)
    sa.Index("ix_audit_events_at_id", "at", "id"),
    sa.Index("ix_audit_events_process_at", "process_id", "at", "id"),
    sa.Index("ix_audit_events_actor_at", "actor", "at", "id"),
    sa.Index("ix_audit_events_action_at", "action", "at", "id"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False, unique=True),
    sa.Column("process_id", sa.String(200), nullable=False, index=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("to", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("meta", sa.Text, nullable=False, default="{}"),
)

deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("source", sa.String(20), primary_key=True),
    sa.Column("delivery_id", sa.String(200), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

people = sa.Table(
    "people",
    metadata,
    sa.Column("email", sa.String(320), primary_key=True),  # as given, compared case-folded: stored folded
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("added_by", sa.String(320), nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(20), primary_key=True),  # public: what lists show and revoke takes
    sa.Column("hash", sa.String(64), nullable=False, unique=True),  # SHA-256 of the token; the token is never kept
    sa.Column("email", sa.String(320), nullable=False, index=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(320), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
)


def create_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout for concurrent writers."""
    engine = sa.create_engine(url, pool_pre_ping=not url.startswith("sqlite"))  # a file does not drop connections
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

    return engine


MIGRATIONS = Path(__file__).parent / "migrations"
"""The Alembic migrations (``versions/0001_initial.py`` …): the schema's history, applied in order on start."""

_MIGRATION_LOCK = 0x5167_0FF
"""The PostgreSQL advisory lock that lets one process at a time migrate (a worker and a web starting together)."""


def migrate(engine: Engine, target: str = "head") -> None:
    """Apply the migrations the database has not had yet (up to `target`); nothing if it is up to date.

    A database made before migrations existed (its tables there, no
    ``alembic_version``) is taken as being at the first migration.
    """
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = conn
        tables = set(sa.inspect(conn).get_table_names())
        if "audit_events" in tables and "alembic_version" not in tables:
            alembic_command.stamp(config, "0001")
        alembic_command.upgrade(config, target)
