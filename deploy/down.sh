#!/usr/bin/env bash
# Stops the API and the worker started by deploy/up.sh (SIGTERM: in-flight requests and jobs finish first).
set -euo pipefail
cd "$(dirname "$0")/.."
for name in api worker; do
  pidfile="var/run/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped $name ($pid)"
  fi
  rm -f "$pidfile"
done
