#!/usr/bin/env bash
# Installs or verifies every tool the test command needs, at pinned versions.
# Idempotent: on a machine that already has them it only checks.
set -euo pipefail

NEXTEST_VERSION="0.9.143"

need_component() {
  if ! cargo "$1" --version >/dev/null 2>&1; then
    echo "installing rustup component $2"
    rustup component add "$2"
  fi
}

need_component fmt rustfmt
need_component clippy clippy

if ! cargo nextest --version 2>/dev/null | grep -q "$NEXTEST_VERSION"; then
  echo "installing cargo-nextest $NEXTEST_VERSION"
  cargo install cargo-nextest --locked --version "$NEXTEST_VERSION"
fi

echo "tools: $(cargo --version); $(cargo nextest --version | head -n1); $(cargo clippy --version)"
