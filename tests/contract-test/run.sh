#!/usr/bin/env bash
# Contract tests: schemathesis generates requests from docs/openapi.yaml
# (examples, coverage, fuzzing, and stateful sequences along the spec's
# links) against the real dev-server binary, and fails on any 5xx, any
# status the spec does not list, any body or header that does not match its
# schema, a malformed request accepted, or a resource that vanishes; and,
# after the stateful phase, unless the links walked the whole chain from a
# hold to an order with success answers (the end of this file).
# Seeded and bounded, so a run is repeatable.
#
# Not checked:
# - `positive_data_acceptance`: JSON Schema counts 501.0 as an integer, but
#   the API deliberately refuses non-integer literals for ttlSeconds and
#   priceCents (and unknown currencies, non-v7 hold ids) with 422, so that
#   check's notion of "valid" is wider than the contract's.
# - `ignored_auth`: the dev server takes identity from X-Tenant-Id /
#   X-Customer-Id headers and ignores Authorization; in AWS the JWT is
#   verified by API Gateway's authorizer before a function runs, and a
#   Lambda without authorizer claims answers 401 (functions/dev-server/tests/http/
#   lambda_events.rs proves that path).
# - `use_after_free`: DELETE /holds/{holdId} releases a hold, it does not
#   delete it: verify answers 200 with status RELEASED afterwards, as the
#   contract says (docs/contract.md, and the ReleaseHold -> VerifyHold link).
#
# Usage: tests/contract-test/run.sh [REPORT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPORT_DIR=${1:-target/ci}
mkdir -p "$REPORT_DIR"
ST=.tools/schemathesis-venv/bin/st
SEED=20261127

cargo build --quiet -p dev-server
# CARGO_TARGET_DIR is set when scripts/test runs this under `cargo llvm-cov show-env`.
DEV_SERVER=${CARGO_TARGET_DIR:-target}/debug/dev-server
LOG=$(mktemp)
WALK=$(mktemp)
SERVER=
stop_server() { # SIGTERM is a graceful exit, which also writes its coverage profile
  [ -n "$SERVER" ] || return 0
  kill -TERM "$SERVER" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER" 2>/dev/null || true
  SERVER=
}
trap 'stop_server; rm -f "$LOG" "$WALK"' EXIT

# A dev server with a fresh in-memory backend, and in it the event the holds
# name (schemathesis.toml says why): 200 seats in one row of one section, so
# best-available holds succeed too. Sets URL.
start_server_with_event() {
  : >"$LOG"
  DEV_SERVER_ADDR=127.0.0.1:0 LOG_LEVEL=warn "$DEV_SERVER" >"$LOG" 2>&1 &
  SERVER=$!
  # Its stdout is JSON log lines; the server.listening event (logged whatever
  # LOG_LEVEL says) carries the URL.
  URL=
  for _ in $(seq 1 200); do
    URL=$(grep '"event":"server.listening"' "$LOG" | head -n1 | grep -o '"url":"[^"]*"' | cut -d'"' -f4 || true)
    [ -z "$URL" ] || break
    sleep 0.05
  done
  [ -n "$URL" ] || { echo "dev-server did not start:"; cat "$LOG"; exit 1; }
  curl -sf "$URL/ready" >/dev/null
  python3 - "$URL" <<'PY'
import json, sys, urllib.request
seats = [{"id": f"S{n}", "priceCents": 2500, "section": "Stalls", "row": "A", "number": n} for n in range(1, 201)]
body = {"name": "Contract gig", "startsAt": "2099-01-01T20:00:00Z", "currency": "EUR", "seats": seats}
request = urllib.request.Request(
    f"{sys.argv[1]}/events/contract-gig", data=json.dumps(body).encode(), method="PUT",
    headers={"Content-Type": "application/json", "X-Tenant-Id": "contract", "X-Customer-Id": "boss",
             "X-Roles": "organizer"})
with urllib.request.urlopen(request) as answer:
    assert answer.status == 201, answer.status
PY
}

schemathesis() { # phases, report name, more st arguments
  local phases=$1 report=$2
  shift 2
  timeout 600 "$ST" --config-file tests/contract-test/schemathesis.toml run docs/openapi.yaml \
    --url "$URL" --phases "$phases" \
    -H 'X-Tenant-Id: contract' -H 'X-Customer-Id: alice' -H 'X-Roles: organizer' \
    --checks all --exclude-checks positive_data_acceptance,ignored_auth,use_after_free \
    --seed "$SEED" --workers 1 \
    --generation-database none --request-timeout 5 \
    --no-color --output-truncate false \
    --report junit --report-junit-path "$REPORT_DIR/$report" "$@"
}

# Requests one at a time: examples, boundary values, then fuzzing, positive
# and negative, of every operation. They use up the event's seats.
start_server_with_event
schemathesis examples,coverage,fuzzing schemathesis-junit.xml

# Sequences along the links, on a fresh backend so the seats are free again.
# tests/contract-test/stateful_walk.py records each answer; the run must then
# have walked hold -> verify -> extend -> order -> get -> cancel and
# hold -> release with success answers. Each of those needs an id only an
# earlier answer in the chain hands out (a hold id is a UUID v7, an order id
# a UUID v5 of it), so a success there is a link followed with valid data.
stop_server
start_server_with_event
SCHEMATHESIS_HOOKS=tests/contract-test/stateful_walk.py STATEFUL_WALK_LOG="$WALK" \
  schemathesis stateful schemathesis-stateful-junit.xml
missing=0
for step in \
  "POST /events/{eventId}/holds 201" \
  "GET /holds/{holdId} 200" \
  "POST /holds/{holdId}/extend 200" \
  "POST /orders 201" \
  "GET /orders/{orderId} 200" \
  "POST /orders/{orderId}/cancel 200" \
  "DELETE /holds/{holdId} 204"; do
  if ! grep -qxF "$step" "$WALK"; then
    echo "the stateful phase never answered $step: the links in docs/openapi.yaml no longer lead there with valid data"
    missing=1
  fi
done
[ "$missing" = 0 ] || { echo "answers it got:"; sort "$WALK" | uniq -c; exit 1; }
echo "stateful walk: every step of the chain answered with success ($(wc -l <"$WALK") requests)"
