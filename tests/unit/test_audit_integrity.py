"""The audit store's schema comes from versioned migrations; its trail is append-only on PostgreSQL,
and `verify` names the first process and event whose chain does not hold on either database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from integrations.schema import audit_events, create_engine, metadata, migrate
from integrations.store import Store
from tests.unit.test_store import event

HEAD = "0008"


def version(store: Store) -> str:
    with store.engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())


def chain(store: Store, process: str = "launch-acme", events: int = 4) -> None:
    for seq in range(1, events + 1):
        store.append(event(seq, process=process))


def tamper(store: Store, statement: sa.Executable) -> None:
    with store.engine.begin() as conn:
        conn.execute(statement)


def test_migrations_make_the_schema_and_record_its_version(database_url: str) -> None:
    store = Store.connect(database_url)

    assert version(store) == HEAD
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"processes", "audit_events", "outbox", "webhook_deliveries", "alembic_version"} <= tables
    migrate(store.engine)  # a second start changes nothing
    assert version(store) == HEAD


def test_the_migrations_make_the_tables_the_store_queries(database_url: str) -> None:
    """`integrations/store.py` describes the schema the queries are written against; the migrations make it."""
    store = Store.connect(database_url)

    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)

    assert differences == []


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    store = Store.connect(database_url)
    chain(store, events=3)

    migrate_down(store, "0003")
    migrate(store.engine)

    assert version(store) == HEAD
    assert store.verify() == []


def migrate_down(store: Store, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    from integrations.schema import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, target)
    assert version(store) == target


def test_a_database_made_before_migrations_is_taken_up_with_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store(create_engine(url))
    migrate(old.engine, "0001")  # the tables as the store made them before migrations …
    with old.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))  # … with no record of a migration
        conn.execute(
            sa.text(
                "INSERT INTO processes (id, kind, title, owner, status, started_at, updated_at) VALUES "
                "('launch-old', 'launch', 'Launch: Old', 'pm@example.com', 'running', :at, :at)"
            ),
            {"at": "2026-11-01 09:00:00"},
        )

    store = Store.connect(url)

    assert version(store) == HEAD
    [row] = store.processes()
    assert (row["id"], row["status"], row["progress"], row["next_deadline"]) == ("launch-old", "running", None, None)
    chain(store, events=2)
    assert store.verify() == []


def test_postgresql_refuses_to_change_or_delete_audit_events(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no such guard: there the hash chain is the guard (tests below)")
    store = Store.connect(database_url)
    chain(store, events=2)

    for statement in (
        audit_events.update().where(audit_events.c.seq == 1).values(actor="mallory@example.com"),
        audit_events.delete().where(audit_events.c.seq == 2),
        sa.text("TRUNCATE audit_events"),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="audit_events is append-only"):
            tamper(store, statement)
    assert [e.actor for e in store.trail("launch-acme")] == ["system", "system"]
    assert store.verify() == []


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    store = Store.connect(f"sqlite:///{tmp_path / 'signoff.db'}")
    chain(store, "launch-acme")
    chain(store, "launch-other")
    return store


def test_an_intact_trail_verifies(sqlite_store: Store) -> None:
    assert sqlite_store.verify() == []


def test_verify_names_the_first_edited_event(sqlite_store: Store) -> None:
    tamper(
        sqlite_store,
        audit_events.update()
        .where(audit_events.c.process_id == "launch-acme", audit_events.c.seq == 2)
        .values(actor="mallory@example.com"),
    )

    assert sqlite_store.verify() == ["launch-acme: event 2 was changed after it was written"]


def test_verify_names_a_deleted_event(sqlite_store: Store) -> None:
    tamper(
        sqlite_store,
        audit_events.delete().where(audit_events.c.process_id == "launch-other", audit_events.c.seq == 3),
    )

    assert sqlite_store.verify() == ["launch-other: event 3 is missing (next is 4)"]


def test_verify_names_reordered_events(sqlite_store: Store) -> None:
    rows = audit_events.c
    for seq, placeholder in ((2, -2), (3, 2), (-2, 3)):  # swap events 2 and 3, through a free seq
        tamper(
            sqlite_store,
            audit_events.update().where(rows.process_id == "launch-acme", rows.seq == seq).values(seq=placeholder),
        )

    assert sqlite_store.verify() == ["launch-acme: event 2 does not follow event 1"]


def test_verify_names_a_removed_last_event_only_by_its_successors(sqlite_store: Store) -> None:
    """Removing the newest events leaves a shorter chain that still holds: the chain proves order and
    content, not length; the process list (its latest status) and Temporal's history tell the rest."""
    tamper(
        sqlite_store,
        audit_events.delete().where(audit_events.c.process_id == "launch-acme", audit_events.c.seq == 4),
    )

    assert sqlite_store.verify() == []


def test_a_verified_trail_is_every_event_and_the_first_break_in_one_read(sqlite_store: Store) -> None:
    intact, none = sqlite_store.verified_trail("launch-other")
    tamper(
        sqlite_store,
        audit_events.update()
        .where(audit_events.c.process_id == "launch-acme", audit_events.c.seq.in_([2, 3]))
        .values(actor="mallory@example.com"),
    )

    events, problem = sqlite_store.verified_trail("launch-acme")

    assert none is None and [e.seq for e in intact] == [1, 2, 3, 4]
    assert [e.seq for e in events] == [1, 2, 3, 4] and events[2].actor == "mallory@example.com"
    assert problem == "launch-acme: event 2 was changed after it was written"
    assert sqlite_store.verify() == [problem]
