#!/usr/bin/env bash
# Brings the whole system up on this machine: PostgreSQL and RabbitMQ, the database and its migrations, demo data,
# the worker and the API. Prints where the API and Swagger UI are. Stop it with deploy/down.sh.
#
# Settings are the binaries' environment variables (see the README); unset ones take local defaults.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PROFILE="${PROFILE:-debug}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/diningcoach}"
export API_ADDR="${API_ADDR:-127.0.0.1:8080}"
export APP_BASE_URL="${APP_BASE_URL:-http://$API_ADDR}"
export MAIL_DIR="${MAIL_DIR:-$ROOT/var/mail}"
export MEDIA_DIR="${MEDIA_DIR:-$ROOT/var/media}"
# On one host the API shares the cores with PostgreSQL, which does most of a request's work: one HTTP worker per
# two cores served more, with a p99 a third lower, than one per core (docs/benchmarks.md, "sixth machine").
export HTTP_WORKERS="${HTTP_WORKERS:-$(( $(nproc) / 2 > 1 ? $(nproc) / 2 : 1 ))}"
RUN_DIR="$ROOT/var/run"
LOG_DIR="$ROOT/var/log"
mkdir -p "$RUN_DIR" "$LOG_DIR" "$MAIL_DIR" "$MEDIA_DIR"

ensure_services

log "building ($PROFILE)"
if [ "$PROFILE" = release ]; then cargo build --release --bins; else cargo build --bins; fi
BIN="$ROOT/target/$PROFILE"

bash deploy/down.sh >/dev/null 2>&1 || true

database="${DATABASE_URL##*/}"
database="${database%%\?*}"
if [ "$(psql "${DATABASE_URL%/*}/postgres" -qAtc "SELECT count(*) FROM pg_database WHERE datname = '$database'")" = 0 ]; then
  log "creating database $database"
  psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$database\""
fi

log "migrating"
"$BIN/diningcoach-cli" migrate

log "loading demo data: accounts, a few real products, ${DEMO_FOODS:-10000} generated foods"
"$BIN/diningcoach-cli" demo
"$BIN/diningcoach-cli" catalog import crates/catalog/tests/fixtures/off_sample.tsv --format off >/dev/null
"$BIN/diningcoach-cli" catalog generate --count "${DEMO_FOODS:-10000}" --seed 1 >/dev/null

log "starting the worker (log: var/log/worker.log)"
nohup "$BIN/diningcoach-worker" >>"$LOG_DIR/worker.log" 2>&1 &
echo $! >"$RUN_DIR/worker.pid"

log "starting the API (log: var/log/api.log)"
nohup "$BIN/diningcoach-api" >>"$LOG_DIR/api.log" 2>&1 &
echo $! >"$RUN_DIR/api.pid"

deadline=$((SECONDS + 60))
until curl -fsS "http://$API_ADDR/health/ready" >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    log "the API did not become ready; last lines of var/log/api.log:"
    tail -n 20 "$LOG_DIR/api.log" >&2
    exit 1
  fi
  sleep 0.5
done

cat <<MSG

DiningCoach is up.
  API          http://$API_ADDR/api/v1/
  Swagger UI   http://$API_ADDR/swagger-ui/
  OpenAPI      http://$API_ADDR/api-docs/openapi.json
  Health       http://$API_ADDR/health/ready
  Metrics      http://$API_ADDR/metrics
  Mails        $MAIL_DIR (set SMTP_URL to send them instead)
  Try          curl 'http://$API_ADDR/api/v1/foods?q=yogurt'   curl http://$API_ADDR/api/v1/foods/barcode/3017620422003
  Demo logins  demo@diningcoach.app, admin@diningcoach.app — password "demo passphrase for diningcoach"
  Logs         var/log/api.log, var/log/worker.log
Stop with: bash deploy/down.sh
MSG
