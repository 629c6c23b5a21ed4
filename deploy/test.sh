#!/usr/bin/env bash
# Runs every test: unit tests, adapter tests against the real PostgreSQL and RabbitMQ, and end-to-end tests that
# drive the real binaries with an SMTP sink. Installs what the tests need on first use.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_services
ensure_test_tools

log "checking the dependency direction (domain crates use no framework, adapters no other adapter)"
bash deploy/check-architecture.sh

log "dropping databases left by interrupted test runs"
psql -h 127.0.0.1 -U postgres -d postgres -qAt \
  -c "SELECT datname FROM pg_database WHERE datname LIKE 'dc\_test\_%' AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)" |
  while read -r db; do psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done

log "building the binaries the end-to-end tests start"
cargo build --workspace --bins

log "running the tests"
cargo nextest run --workspace --no-fail-fast "$@"
