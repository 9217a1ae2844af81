#!/usr/bin/env bash
# Installs or verifies every tool the test command needs, at pinned versions.
# Idempotent: on a machine that already has them it only checks.
set -euo pipefail

NEXTEST_VERSION="0.9.143"
LLVM_COV_VERSION="0.9.1"
DENY_VERSION="0.20.2"
FUZZ_VERSION="0.13.2"
DEBIAN_LLVM="llvm-22" # matches rustc 1.95's LLVM; Debian's default llvm-cov (14) cannot read its profiles

# Package installs need root: directly when we are root (this machine, CI
# here), through sudo otherwise (GitHub's runners).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo DEBIAN_FRONTEND=noninteractive "$@"; fi
}

need_component() {
  if ! cargo "$1" --version >/dev/null 2>&1; then
    echo "installing rustup component $2"
    rustup component add "$2"
  fi
}

has_cargo_tool() { # cargo subcommand, version
  cargo "$1" --version 2>/dev/null | grep -q "$2"
}

need_cargo_tool() { # cargo subcommand, crate, version
  if ! has_cargo_tool "$1" "$3"; then
    echo "installing $2 $3 (compiling it: no prebuilt wheel for this machine)"
    cargo install "$2" --locked --version "$3"
  fi
}

# The cargo subcommands come prebuilt from PyPI (hash-pinned wheels with an
# SBOM each, tools/cargo-tools-requirements.txt): seconds instead of the ~10
# minutes `cargo install` spends compiling them (issue 16). Their binaries are
# copied into cargo's bin directory; a machine without a matching wheel
# compiles them below instead.
install_prebuilt_cargo_tools() {
  local wheels bin
  wheels=$(mktemp -d)
  bin="${CARGO_HOME:-$HOME/.cargo}/bin"
  if python3 -m venv "$wheels/venv" &&
    "$wheels/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
      --only-binary=:all: -r tools/cargo-tools-requirements.txt; then
    mkdir -p "$bin"
    for tool in nextest llvm-cov deny fuzz; do
      install -m 755 "$wheels/venv/bin/cargo-$tool" "$bin/cargo-$tool"
    done
  else
    echo "no prebuilt cargo tools for this machine; compiling them"
  fi
  rm -rf "$wheels"
}

need_component fmt rustfmt
need_component clippy clippy
if ! has_cargo_tool nextest "$NEXTEST_VERSION" || ! has_cargo_tool llvm-cov "$LLVM_COV_VERSION" ||
  ! has_cargo_tool deny "$DENY_VERSION" || ! has_cargo_tool fuzz "$FUZZ_VERSION"; then
  echo "installing prebuilt cargo-nextest, cargo-llvm-cov, cargo-deny and cargo-fuzz"
  install_prebuilt_cargo_tools
fi
need_cargo_tool nextest cargo-nextest "$NEXTEST_VERSION"
need_cargo_tool llvm-cov cargo-llvm-cov "$LLVM_COV_VERSION"
need_cargo_tool deny cargo-deny "$DENY_VERSION"
need_cargo_tool fuzz cargo-fuzz "$FUZZ_VERSION"

# LLVM tools for coverage: the rustup component if present, else Debian's llvm-22.
if ! rustup component list --installed 2>/dev/null | grep -q '^llvm-tools'; then
  if [ ! -x "/usr/lib/$DEBIAN_LLVM/bin/llvm-cov" ]; then
    echo "installing Debian $DEBIAN_LLVM for llvm-cov/llvm-profdata"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq "$DEBIAN_LLVM" >/dev/null
  fi
fi

# Real backends for the integration tests: redis-server (Debian), Java 17 and
# DynamoDB Local (pinned npm package, exact version in package-lock.json).
apt_packages=()
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || apt_packages+=(redis-tools)
# The throwaway certificate authority of the Redis TLS tests (tools/test-backends).
command -v openssl >/dev/null 2>&1 || apt_packages+=(openssl)
command -v java >/dev/null 2>&1 || apt_packages+=(openjdk-17-jre-headless)
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
# Headless browser for the dev dashboard test (tools/dev-server/tests/observability.rs).
if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
  apt_packages+=(chromium)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "installing ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi
DDB_DIR=tools/test-backends/dynamodb-local
if [ ! -f "$DDB_DIR/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar" ]; then
  echo "installing DynamoDB Local (npm ci in $DDB_DIR)"
  (cd "$DDB_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi

# Python tools (pinned in tools/requirements.txt), zizmor among them: a wheel
# that holds only its binary, so it is checked by its installed version.
ZIZMOR_VERSION=$(sed -n 's/^zizmor==//p' tools/requirements.txt)
if ! python3 -c 'import openapi_spec_validator, yaml, check_jsonschema' >/dev/null 2>&1 ||
  [ "$(python3 -c 'from importlib.metadata import version; print(version("zizmor"))' 2>/dev/null)" != "$ZIZMOR_VERSION" ]; then
  echo "installing Python tools from tools/requirements.txt"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r tools/requirements.txt
fi

# Template validators in their own virtualenv (aws-sam-cli pins its own cfn-lint).
SAM_VENV=.tools/sam-venv
if ! "$SAM_VENV/bin/sam" --version 2>/dev/null | grep -q "1.170.0"; then
  echo "installing aws-sam-cli and cfn-lint into $SAM_VENV"
  python3 -m venv "$SAM_VENV"
  "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check -r tools/template-check/requirements.txt
fi

# Contract tests (schemathesis) in their own virtualenv: its dependencies
# would otherwise fight the pins above.
ST_VENV=.tools/schemathesis-venv
if ! "$ST_VENV/bin/st" --version 2>/dev/null | grep -q "4.32.5"; then
  echo "installing schemathesis into $ST_VENV"
  python3 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install --quiet --disable-pip-version-check -r tools/contract-test/requirements.txt
fi

echo "tools: $(cargo --version); $(cargo nextest --version | head -n1); $(cargo llvm-cov --version)"
