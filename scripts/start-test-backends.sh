#!/usr/bin/env bash
# Sourced by scripts/test: starts ONE redis-server and ONE DynamoDB Local on
# free ports for the whole run, exports REDIS_URL / AWS_ENDPOINT_URL for the
# tests, and stops both when the calling shell exits (stop_test_backends).
# Tests that kill or restart a backend start their own.
#
# The launching is the test harness's (tests/test-backends), not this
# script's: its `test-backends` binary starts both exactly as a test starts
# its own, waits until they answer, prints the two variables and stops both
# when told `stop` on its stdin or when this shell (or what it execs in its
# place) is gone. Built without the SDK, it takes seconds.
# TEST_BACKEND=containers (a Docker engine; not runnable on the project's own
# machine) runs `test-containers` instead: Redis and LocalStack or DynamoDB
# Local's image through testcontainers, speaking the same lines.

if [ "${TEST_BACKEND:-}" = "containers" ]; then
  cargo build --quiet -p test-backends --features containers --bin test-containers
  TEST_BACKENDS_LAUNCHER="${CARGO_TARGET_DIR:-target}/debug/test-containers"
else
  cargo build --quiet -p test-backends --no-default-features --bin test-backends
  TEST_BACKENDS_LAUNCHER="${CARGO_TARGET_DIR:-target}/debug/test-backends"
fi
coproc TEST_BACKENDS { exec "$TEST_BACKENDS_LAUNCHER"; }
TEST_BACKENDS_IN=${TEST_BACKENDS[1]}
stop_test_backends() {
  # `stop` (test-backends), then EOF (test-containers stops at either).
  echo stop >&"${TEST_BACKENDS_IN}" 2>/dev/null || true
  eval "exec ${TEST_BACKENDS_IN}>&-" 2>/dev/null || true
  wait "$TEST_BACKENDS_PID" 2>/dev/null || true
}
redis_line="" dynamodb_line=""
read -r redis_line <&"${TEST_BACKENDS[0]}" || true
read -r dynamodb_line <&"${TEST_BACKENDS[0]}" || true
if [[ "$redis_line" != REDIS_URL=* || "$dynamodb_line" != AWS_ENDPOINT_URL=* ]]; then
  echo "the test backends did not start ($TEST_BACKENDS_LAUNCHER; its error is above)" >&2
  stop_test_backends
  return 1 2>/dev/null || exit 1
fi
export "${redis_line?}" "${dynamodb_line?}"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
echo "test backends: redis $REDIS_URL, DynamoDB Local $AWS_ENDPOINT_URL"
