#!/usr/bin/env bash
# Sourced by scripts/test: starts ONE redis-server and ONE DynamoDB Local on
# free ports for the whole run, waits until each answers (polling, no fixed
# sleeps), exports REDIS_URL / AWS_ENDPOINT_URL for the tests, and stops both
# when the calling shell exits. Tests that kill or restart a backend start
# their own (tools/test-backends).

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # description, command...
  local what=$1
  shift
  for _ in $(seq 1 600); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "$what did not become ready" >&2
  return 1
}

if [ "${TEST_BACKEND:-}" = "containers" ]; then
  # For machines with a Docker engine: Redis + LocalStack (LOCALSTACK_AUTH_TOKEN)
  # or DynamoDB Local's image, through testcontainers, shared by the whole run.
  # Not runnable on the project's own machine (no engine); see README.
  cargo build --quiet -p test-backends --features containers --bin test-containers
  coproc TEST_CONTAINERS { exec target/debug/test-containers; }
  read -r redis_line <&"${TEST_CONTAINERS[0]}"
  read -r dynamodb_line <&"${TEST_CONTAINERS[0]}"
  export "${redis_line?}" "${dynamodb_line?}"
  stop_test_backends() {
    # Closing its stdin makes test-containers remove the containers and exit.
    eval "exec ${TEST_CONTAINERS[1]}>&-"
    wait "$TEST_CONTAINERS_PID" 2>/dev/null || true
  }
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  echo "test backends (containers): redis $REDIS_URL, DynamoDB $AWS_ENDPOINT_URL"
else
  BACKENDS_DIR=$(mktemp -d)
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$BACKENDS_DIR" \
    >"$BACKENDS_DIR/redis.log" 2>&1 &
  TEST_REDIS_PID=$!

  DDB_PORT=$(free_port)
  DDB_JAR_DIR="$PWD/tools/test-backends/dynamodb-local/node_modules/amplify-dynamodb-simulator/emulator"
  (cd "$BACKENDS_DIR" && exec java -Djava.library.path="$DDB_JAR_DIR/DynamoDBLocal_lib" -jar "$DDB_JAR_DIR/DynamoDBLocal.jar" \
    -inMemory -sharedDb -port "$DDB_PORT") >"$BACKENDS_DIR/dynamodb.log" 2>&1 &
  TEST_DDB_PID=$!

  stop_test_backends() {
    kill "$TEST_REDIS_PID" "$TEST_DDB_PID" 2>/dev/null || true
    wait "$TEST_REDIS_PID" "$TEST_DDB_PID" 2>/dev/null || true
    rm -rf "$BACKENDS_DIR"
  }

  wait_for "redis-server on port $REDIS_PORT" redis-cli -p "$REDIS_PORT" ping
  wait_for "DynamoDB Local on port $DDB_PORT" curl -sf -X POST "http://127.0.0.1:$DDB_PORT" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}'

  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$DDB_PORT"
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  echo "test backends: redis $REDIS_URL, DynamoDB Local $AWS_ENDPOINT_URL"
fi
