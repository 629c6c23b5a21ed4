#!/usr/bin/env bash
# Drill: RabbitMQ stops while the API runs. Expect: /health/ready says rabbitmq is down, sign-ups still succeed
# (their mails wait in the outbox), and the mails go out once RabbitMQ is back. Run with the system up
# (deploy/up.sh). It stops this machine's RabbitMQ for a few seconds: do not run it while tests run.
set -euo pipefail
cd "$(dirname "$0")/../.."
API="http://${API_ADDR:-127.0.0.1:8080}"
DB="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/diningcoach}"
MAIL_DIR="${MAIL_DIR:-var/mail}"
say() { printf '%s  %s\n' "$(date +%T.%3N)" "$*"; }
pending() { psql "$DB" -qAtc "SELECT count(*) FROM outbox WHERE published_at IS NULL"; }

mails_before=$(ls "$MAIL_DIR" 2>/dev/null | wc -l)
say "stopping RabbitMQ"
rabbitmqctl stop_app >/dev/null
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$API/health/ready")" = 503 ]; do sleep 0.2; done
say "ready probe: $(curl -s "$API/health/ready")"
email="drill-$(date +%s%N)@example.org"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/api/v1/auth/signup" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"correct horse battery staple\",\"nickname\":\"Drill\"}")
say "sign-up while the broker is down: HTTP $code; outbox jobs waiting: $(pending)"
[ "$code" = 201 ] || { say "FAIL: sign-up did not succeed"; exit 1; }
sleep 3
say "after 3 s, still waiting: $(pending)"
say "starting RabbitMQ"
rabbitmqctl start_app >/dev/null
start=$SECONDS
until [ "$(pending)" = 0 ] && [ "$(ls "$MAIL_DIR" | wc -l)" -gt "$mails_before" ]; do
  if ((SECONDS - start > 60)); then say "FAIL: the mail did not go out within 60 s"; exit 1; fi
  sleep 0.2
done
say "outbox drained and the mail written $((SECONDS - start)) s after RabbitMQ came back"
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$API/health/ready")" = 200 ]; do
  if ((SECONDS - start > 60)); then say "FAIL: the API did not report ready within 60 s"; exit 1; fi
  sleep 0.2
done
say "the API reports ready again $((SECONDS - start)) s after RabbitMQ came back: $(curl -s "$API/health/ready")"
