#!/bin/sh
# Creates Temporal's two databases on PostgreSQL and brings their schemas up to
# the admin-tools image's server version, then exits. Run by the
# `temporal-schema` job of docker-compose.yml in temporalio/admin-tools, whose
# temporal-sql-tool reads the connection from SQL_PLUGIN, SQL_HOST, SQL_PORT,
# SQL_USER and SQL_PASSWORD. Safe to run again: creating a database that exists
# is a no-op, setup-schema keeps a newer version, and update-schema applies only
# what is missing, which is how a newer server image gets its schema changes.
# The commands are those of Temporal's own setup: samples-server
# compose/scripts/setup-postgres.sh and helm-charts templates/server-job.yaml.
set -eu

: "${SQL_HOST:?set SQL_HOST, the PostgreSQL host}"
schemas="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

setup() { # a database, and its schema folder under $schemas
  echo "temporal-schema: $1 (schema $2) on $SQL_HOST"
  temporal-sql-tool --db "$1" create-database
  temporal-sql-tool --db "$1" setup-schema -v 0.0
  temporal-sql-tool --db "$1" update-schema --schema-dir "$schemas/$2/versioned"
}

setup temporal temporal
setup temporal_visibility visibility
echo "temporal-schema: done"
