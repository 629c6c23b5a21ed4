#!/usr/bin/env bash
# Fails when the hexagon's dependency direction is broken: domain crates must not depend on a web framework, an
# ORM, a broker client or a mailer; the HTTP adapter must not depend on another adapter.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
forbidden_in_domain='^(actix-web|actix-http|diesel|diesel-async|diesel_migrations|bb8|lapin|lettre|utoipa) '
for crate in kernel identity dietary catalog diary community; do
  found=$(cargo tree -p "diningcoach-$crate" -e normal,build --prefix none --offline 2>/dev/null | grep -E "$forbidden_in_domain" | sort -u || true)
  if [ -n "$found" ]; then
    echo "domain crate diningcoach-$crate depends on infrastructure:" >&2
    echo "$found" >&2
    failed=1
  fi
done
for adapter in http postgres rabbitmq smtp; do
  found=$(cargo tree -p "diningcoach-$adapter" -e normal,build --prefix none --offline 2>/dev/null |
    grep -E '^diningcoach-(http|postgres|rabbitmq|smtp) ' | grep -v "^diningcoach-$adapter " | sort -u || true)
  if [ -n "$found" ]; then
    echo "adapter diningcoach-$adapter depends on another adapter:" >&2
    echo "$found" >&2
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then exit 1; fi
echo "dependency direction ok: kernel <- domains <- adapters <- bins"
