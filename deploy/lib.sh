# Shared by the local scripts: start the machine's services when they are not running, install the tools the tests
# need. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*" >&2; }

wait_for_port() { # host port seconds
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.5
  done
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  wait_for_port 127.0.0.1 5432 60 || { log "PostgreSQL did not start"; return 1; }
}

ensure_rabbitmq() {
  if wait_for_port 127.0.0.1 5672 1; then return; fi
  log "starting RabbitMQ"
  rabbitmq-server -detached
  # rabbitmqctl await_startup fails until the node has registered; the port comes first.
  wait_for_port 127.0.0.1 5672 120 || { log "RabbitMQ did not start"; return 1; }
  rabbitmqctl await_startup >/dev/null
}

ensure_services() {
  ensure_postgres
  ensure_rabbitmq
}

ensure_test_tools() {
  if ! command -v cargo-nextest >/dev/null 2>&1; then
    log "installing cargo-nextest"
    cargo install --locked cargo-nextest
  fi
  if ! command -v diesel >/dev/null 2>&1; then
    log "installing the diesel CLI (the schema test regenerates schema.rs with it)"
    if [ ! -f /usr/include/postgresql/libpq-fe.h ]; then
      apt-get update -qq && apt-get install -y -qq libpq-dev
    fi
    cargo install --locked diesel_cli --no-default-features --features postgres
  fi
  if ! "$ROOT/.venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    log "installing the SMTP sink (aiosmtpd) into .venv"
    python3 -m venv "$ROOT/.venv"
    "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd>=1.4,<2'
  fi
}

ensure_bench_tools() {
  if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk (closed-loop HTTP load)"
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
  fi
}
