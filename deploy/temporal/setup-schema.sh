#!/bin/sh
# One-shot (service temporal-admin-tools): create Temporal's two PostgreSQL databases and bring
# their schemas up to the version this admin-tools image ships. Replaces the deprecated
# temporalio/auto-setup image. Safe to run on every `docker compose up`: `create` accepts an
# existing database, `setup-schema -v 0.0` skips a versioned database, and `update-schema`
# applies only versions newer than the stored one (this is also how a server upgrade migrates).
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}" # read by temporal-sql-tool itself
PORT=${DB_PORT:-5432}
SCHEMA=/etc/temporal/schema/postgresql/v12

sql() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" "$@"
}

echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$PORT"
nc -z -w 10 "$POSTGRES_SEEDS" "$PORT"

sql --db temporal create
sql --db temporal setup-schema -v 0.0
sql --db temporal update-schema -d "$SCHEMA/temporal/versioned"

sql --db temporal_visibility create
sql --db temporal_visibility setup-schema -v 0.0
sql --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"

echo "temporal schema ready"
