#!/usr/bin/env bash
# Catalog benchmarks: search and barcode scans over COUNT generated foods (default 700,000), and the import of a
# COUNT-row Open Food Facts file. Run against a release build brought up by `PROFILE=release bash deploy/up.sh`;
# the figures are recorded in docs/benchmarks.md. Every load is closed-loop on 127.0.0.1 for a fixed time.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
ensure_bench_tools

API="http://${API_ADDR:-127.0.0.1:8080}"
DURATION="${DURATION:-15s}"
COUNT="${COUNT:-700000}"
CONNECTIONS="${CONNECTIONS:-50}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/diningcoach}"
BIN="$ROOT/target/release"
WORK="$ROOT/var/bench"
mkdir -p "$WORK"
say() { printf '\n== %s\n' "$*"; }
figures() { grep -E 'Latency|50%|90%|99%|^p95|Requests/sec|Non-2xx|unexpected' | sort | uniq -c | sed 's/^ *1 //'; }

generated=$(psql "$DATABASE_URL" -qAtc "SELECT count(*) FROM foods WHERE source = 'generated'")
if [ "$generated" -lt "$COUNT" ]; then
  say "loading $COUNT generated foods (seed 7)"
  /usr/bin/time -f 'peak RSS %M KB, %e s' "$BIN/diningcoach-cli" catalog generate --count "$COUNT" --seed 7
fi
psql "$DATABASE_URL" -qc "VACUUM ANALYZE foods, food_words, search_words"
psql "$DATABASE_URL" -qAtc "SELECT count(*) || ' foods, table + indexes ' || pg_size_pretty(pg_total_relation_size('foods')) FROM foods"

psql "$DATABASE_URL" -qAtc \
  "SELECT barcode FROM foods WHERE barcode IS NOT NULL ORDER BY md5(id::text) LIMIT 5000" >"$WORK/barcodes.txt"
# deploy/bench/cycle.lua asks for CYCLE_PREFIX followed by each line of CYCLE_LINES in turn.
export CYCLE_LINES="$WORK/barcodes.txt" CYCLE_PREFIX=/api/v1/foods/barcode/
token=$(curl -fsS -X POST "$API/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"demo@diningcoach.app","password":"demo passphrase for diningcoach"}' |
  sed -E 's/.*"access_token":"([^"]+)".*/\1/')

say "barcode scans cycling over 5,000 codes, $CONNECTIONS connections, anonymous"
AUTH="" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s deploy/bench/cycle.lua "$API" | figures
say "barcode scans, $CONNECTIONS connections, logged in (verdict for the demo user)"
AUTH="Bearer $token" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s deploy/bench/cycle.lua "$API" | figures
say "barcode scans, one client"
AUTH="" wrk -t1 -c1 -d"$DURATION" --latency -s deploy/bench/cycle.lua "$API" | figures

for q in ${QUERIES:-yog choco emmental choclate}; do
  say "search q=$q (first page of 20), $CONNECTIONS connections, anonymous"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s deploy/bench/percentiles.lua "$API/api/v1/foods?q=$q" | figures
  say "search q=$q, $CONNECTIONS connections, logged in (verdicts on the page)"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s deploy/bench/percentiles.lua -H "Authorization: Bearer $token" "$API/api/v1/foods?q=$q" | figures
  say "search q=$q, one client"
  wrk -t1 -c1 -d"$DURATION" --latency -s deploy/bench/percentiles.lua "$API/api/v1/foods?q=$q" | figures
done
psql "$DATABASE_URL" -qAtc "SELECT word FROM search_words WHERE length(word) >= 3 ORDER BY md5(word)" >"$WORK/searches.txt"
export CYCLE_LINES="$WORK/searches.txt" CYCLE_PREFIX='/api/v1/foods?q='
say "search cycling over the $(wc -l <"$WORK/searches.txt") words of the catalog's vocabulary, $CONNECTIONS connections, anonymous"
AUTH="" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s deploy/bench/cycle.lua "$API" | figures
say "search cycling over the vocabulary, $CONNECTIONS connections, logged in (pages of many different foods to judge)"
AUTH="Bearer $token" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s deploy/bench/cycle.lua "$API" | figures
say "search q=yo (two letters: prefix path), $CONNECTIONS connections"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s deploy/bench/percentiles.lua "$API/api/v1/foods?q=yo" | figures
say "search q=yogurt&suitable=true (only what the demo user can eat), $CONNECTIONS connections"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s deploy/bench/percentiles.lua -H "Authorization: Bearer $token" "$API/api/v1/foods?q=yogurt&suitable=true" | figures

if [ "${SKIP_IMPORT:-}" != 1 ]; then
  say "import of a $COUNT-row Open Food Facts file into a scratch database"
  "$BIN/diningcoach-cli" catalog generate --count "$COUNT" --seed 11 --output "$WORK/off.tsv" --format off
  ls -l "$WORK/off.tsv"
  scratch="${DATABASE_URL%/*}/diningcoach_bench_import"
  psql "${DATABASE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS diningcoach_bench_import"
  psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE diningcoach_bench_import"
  DATABASE_URL="$scratch" "$BIN/diningcoach-cli" migrate
  DATABASE_URL="$scratch" /usr/bin/time -f 'peak RSS %M KB, %e s wall, %U s user' \
    "$BIN/diningcoach-cli" catalog import "$WORK/off.tsv" --format off 2>&1 | tail -n 12
  psql "${DATABASE_URL%/*}/postgres" -qc "DROP DATABASE diningcoach_bench_import"
fi

say "memory (RSS) of the processes after the runs"
for name in api worker; do
  pid=$(cat "var/run/$name.pid")
  printf '%s: %s\n' "$name" "$(grep -E 'VmHWM|VmRSS' "/proc/$pid/status" | tr -s ' ' | tr '\n' ' ')"
done
