"""Versioned schema migrations of the audit store (Alembic), run on start by `integrations.schema.migrate`."""
