#!/usr/bin/env bash
# Drill: PostgreSQL restarts under load. Expect: requests that need the database get 503 (not a hang, not a 500)
# while it is down, and the API recovers by itself within seconds of it coming back, with no restart of the API
# or the worker. Run with the system up (deploy/up.sh); needs wrk. Do not run it while tests run.
set -euo pipefail
cd "$(dirname "$0")/../.."
API="http://${API_ADDR:-127.0.0.1:8080}"
CLUSTER="$(ls /etc/postgresql | sort -V | tail -n 1)"
say() { printf '%s  %s\n' "$(date +%T.%3N)" "$*"; }
out=$(mktemp -d)

# Background load on the pooled database route.
wrk -t2 -c32 -d25s "$API/health/ready" >"$out/wrk.txt" 2>&1 &
load=$!
# A probe that records the status of one request every 100 ms.
( for _ in $(seq 1 250); do
    printf '%s %s\n' "$(date +%s.%3N)" "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$API/health/ready")"
    sleep 0.1
  done ) >"$out/probe.txt" &
probe=$!

sleep 5
say "stopping PostgreSQL"
down_at=$(date +%s.%3N)
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main stop -m fast
sleep 5
say "starting PostgreSQL"
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main start
up_at=$(date +%s.%3N)
wait "$probe" "$load" || true

statuses=$(awk '{print $2}' "$out/probe.txt" | sort | uniq -c | tr '\n' ' ')
first_ok=$(awk -v up="$up_at" '$1 > up && $2 == 200 {print $1; exit}' "$out/probe.txt")
say "probe statuses over the drill: $statuses"
say "PostgreSQL down at $down_at, back at $up_at; first 200 after: $first_ok ($(echo "$first_ok - $up_at" | bc) s)"
grep -E 'Requests/sec|Non-2xx|Socket errors|Latency' "$out/wrk.txt" | sed 's/^/    /'
if awk '{print $2}' "$out/probe.txt" | grep -qvE '^(200|503)$'; then say "FAIL: answers other than 200/503"; exit 1; fi
[ -n "$first_ok" ] || { say "FAIL: the API did not recover"; exit 1; }
