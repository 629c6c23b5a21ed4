#!/usr/bin/env bash
# Time from a sign-up's 201 to its confirmation mail arriving at a real SMTP server, over N sign-ups one after
# another. Starts its own SMTP sink, worker and API (release build) on a fresh database; stops them at the end.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
N="${N:-50}"
SMTP_PORT="${SMTP_PORT:-2526}"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/dc_bench_mail"
export API_ADDR="127.0.0.1:8181" AMQP_PREFIX="bench-mail" SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" RUST_LOG=warn
mail_dir=$(mktemp -d)
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS dc_bench_mail WITH (FORCE)" -c "CREATE DATABASE dc_bench_mail"
target/release/diningcoach-cli migrate >/dev/null
.venv/bin/python tests/support/smtp_sink.py --port "$SMTP_PORT" --dir "$mail_dir" >/dev/null & sink=$!
target/release/diningcoach-worker & worker=$!
target/release/diningcoach-api & api=$!
trap 'kill $api $worker $sink 2>/dev/null; wait 2>/dev/null; rm -rf "$mail_dir"' EXIT
until curl -fs "http://$API_ADDR/health/ready" >/dev/null; do sleep 0.2; done

latencies=()
for i in $(seq 1 "$N"); do
  before=$(ls "$mail_dir" | grep -c '\.eml$' || true)
  curl -fs -o /dev/null -X POST "http://$API_ADDR/api/v1/auth/signup" -H 'content-type: application/json' \
    -d "{\"email\":\"mail-$i-$RANDOM@example.org\",\"password\":\"correct horse battery staple\",\"nickname\":\"Mail\"}"
  start=$(date +%s%N)
  until [ "$(ls "$mail_dir" | grep -c '\.eml$' || true)" -gt "$before" ]; do sleep 0.005; done
  latencies+=($(( ($(date +%s%N) - start) / 1000000 )))
done
printf '%s\n' "${latencies[@]}" | sort -n | awk '{a[NR]=$1} END {printf "sign-up -> mail in the SMTP sink over %d sign-ups: p50 %d ms, p95 %d ms, max %d ms\n", NR, a[int(NR*0.5)], a[int(NR*0.95)], a[NR]}'
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS dc_bench_mail WITH (FORCE)" 2>/dev/null || true
