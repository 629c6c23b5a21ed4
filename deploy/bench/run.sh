#!/usr/bin/env bash
# Benchmarks of the hot paths, against a release build brought up by deploy/up.sh (PROFILE=release). Prints the
# figures recorded in docs/benchmarks.md. Bounded: every load runs for a fixed time against 127.0.0.1 only.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_bench_tools
API="http://${API_ADDR:-127.0.0.1:8080}"
DURATION="${DURATION:-15s}"
say() { printf '\n== %s\n' "$*"; }

say "GET /health/live (no I/O), 64 connections"
wrk -t2 -c64 -d"$DURATION" --latency "$API/health/live" | grep -E 'Latency|50%|90%|99%|Requests/sec'

say "GET /health/ready (one pooled PostgreSQL round trip + broker flag), 64 connections"
wrk -t2 -c64 -d"$DURATION" --latency "$API/health/ready" | grep -E 'Latency|50%|90%|99%|Requests/sec|Non-2xx'

say "POST /api/v1/auth/signup (argon2id + one transaction + outbox job), 4 connections"
wrk -t2 -c4 -d"$DURATION" --latency -s deploy/bench/signup.lua "$API" 2>&1 | grep -E 'Latency|50%|90%|99%|Requests/sec|unexpected' | sort | uniq -c | sed 's/^ *1 //'

say "POST /api/v1/auth/signup at saturation, 32 connections"
wrk -t2 -c32 -d"$DURATION" --latency -s deploy/bench/signup.lua "$API" 2>&1 | grep -E 'Latency|50%|90%|99%|Requests/sec'

curl -s -o /dev/null -X POST "$API/api/v1/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"bench-login@example.org","password":"correct horse battery staple","nickname":"Bench"}'
say "POST /api/v1/auth/login (argon2id verify + session row), 4 connections"
wrk -t2 -c4 -d"$DURATION" --latency -s deploy/bench/login.lua "$API" 2>&1 | grep -E 'Latency|50%|90%|99%|Requests/sec|unexpected' | sort | uniq -c | sed 's/^ *1 //'

say "POST /api/v1/auth/login at saturation, 32 connections"
wrk -t2 -c32 -d"$DURATION" --latency -s deploy/bench/login.lua "$API" 2>&1 | grep -E 'Latency|50%|90%|99%|Requests/sec'

say "memory (RSS) of the processes after the runs"
for name in api worker; do
  pid=$(cat "var/run/$name.pid")
  printf '%s: %s\n' "$name" "$(grep -E 'VmHWM|VmRSS' "/proc/$pid/status" | tr -s ' ' | tr '\n' ' ')"
done
