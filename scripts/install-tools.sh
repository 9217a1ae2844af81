#!/usr/bin/env bash
# Installs or verifies every tool the test command needs, at pinned versions.
#
#   scripts/install-tools.sh          what `scripts/test` needs (fmt, nextest,
#                                     the real backends, schemathesis, chromium)
#   scripts/install-tools.sh --gate   also what `scripts/test --gate` adds
#                                     (clippy, cargo-deny, cargo-llvm-cov with
#                                     llvm-22, cargo-fuzz, cargo-shear, sam/cfn-lint,
#                                     zizmor, …)
#
# Idempotent: on a machine that already has them it only checks, in seconds.
# Virtualenvs and DynamoDB Local are kept per user, outside the clone
# (${XDG_CACHE_HOME:-~/.cache}/ticketing-tools/<name>-<hash of its pins>), so
# a second clone or a worktree links them instead of installing again.
#
# When a prerequisite is missing and cannot be installed (no root, no route to
# a package registry), it stops at once, naming the tool and how to get it.
set -euo pipefail
cd "$(dirname "$0")/.."

GATE=false
[ "${1:-}" = "--gate" ] && GATE=true

NEXTEST_VERSION="0.9.143"
LLVM_COV_VERSION="0.9.1"
DENY_VERSION="0.20.2"
FUZZ_VERSION="0.13.2"
SHEAR_VERSION="1.14.0"
DEBIAN_LLVM="llvm-22" # matches rustc 1.95's LLVM; Debian's default llvm-cov (14) cannot read its profiles
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ticketing-tools

missing() { # what, how to get it
  printf '\n*** missing prerequisite: %s\n*** %s\n' "$1" "$2" >&2
  exit 1
}

# Package installs need root: directly when we are root (this machine, CI
# here), through sudo otherwise (GitHub's runners).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n DEBIAN_FRONTEND=noninteractive "$@"; fi
}

apt_install() { # what (for the message), packages...
  local what=$1
  shift
  echo "installing $* (Debian packages)"
  if ! command -v apt-get >/dev/null 2>&1; then
    missing "$what" "no apt-get here: install $* with your system's package manager, then run again"
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get update -qq || ! as_root apt-get install -y -qq "$@" >/dev/null; then
    missing "$what" "apt-get could not install $* (needs root or passwordless sudo, and the Debian mirrors); install them, then run again"
  fi
}

command -v python3 >/dev/null 2>&1 ||
  missing "Python 3.11" "install python3 (Debian: apt-get install python3 python3-venv)"
command -v cargo >/dev/null 2>&1 ||
  missing "Rust 1.95" "install rustup from https://rustup.rs, then: rustup toolchain install 1.95"

need_component() { # cargo subcommand, rustup component
  if ! cargo "$1" --version >/dev/null 2>&1; then
    echo "installing rustup component $2"
    rustup component add "$2" || missing "$2" "rustup could not add it (no route to static.rust-lang.org?): rustup component add $2"
  fi
}

has_cargo_tool() { # cargo subcommand, version
  cargo "$1" --version 2>/dev/null | grep -q "$2"
}

# The cargo subcommands come prebuilt from PyPI (hash-pinned wheels with an
# SBOM each, tools/cargo-tools-requirements.txt): seconds instead of the ~10
# minutes `cargo install` spends compiling them (issue 16). Their binaries are
# copied into cargo's bin directory; a machine without a matching wheel
# compiles them instead (crates.io).
install_cargo_tools() { # subcommand=crate=version ...
  local wanted=() spec
  for spec in "$@"; do
    IFS== read -r sub _ version <<<"$spec"
    has_cargo_tool "$sub" "$version" || wanted+=("$spec")
  done
  [ ${#wanted[@]} -gt 0 ] || return 0
  local wheels bin
  wheels=$(mktemp -d)
  bin="${CARGO_HOME:-$HOME/.cargo}/bin"
  echo "installing prebuilt ${wanted[*]} (PyPI wheels)"
  if python3 -m venv "$wheels/venv" &&
    "$wheels/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
      --only-binary=:all: -r tools/cargo-tools-requirements.txt; then
    mkdir -p "$bin"
    for spec in "${wanted[@]}"; do
      IFS== read -r sub _ _ <<<"$spec"
      install -m 755 "$wheels/venv/bin/cargo-$sub" "$bin/cargo-$sub"
    done
  else
    echo "no prebuilt cargo tools for this machine (or PyPI unreachable); compiling them"
  fi
  rm -rf "$wheels"
  for spec in "${wanted[@]}"; do
    IFS== read -r sub crate version <<<"$spec"
    if ! has_cargo_tool "$sub" "$version"; then
      cargo install "$crate" --locked --version "$version" ||
        missing "$crate $version" "neither PyPI nor crates.io answered: cargo install $crate --locked --version $version"
    fi
  done
}

# A virtualenv from a requirements file, kept in the per-user cache under the
# hash of its pins, linked into the clone as .tools/<name>.
cached_venv() { # name, requirements file, command inside the venv that proves it works
  local name=$1 requirements=$2 probe=$3 key dir
  key=$(sha256sum "$requirements" | cut -c1-16)
  dir="$CACHE/$name-$key"
  if ! "$dir/bin/$probe" --version >/dev/null 2>&1; then
    echo "installing $name from $requirements (into $dir)"
    rm -rf "$dir"
    mkdir -p "$CACHE"
    if ! { python3 -m venv "$dir" &&
      "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"; }; then
      rm -rf "$dir"
      missing "$name ($requirements)" "pip could not install it (python3-venv missing, or PyPI unreachable): python3 -m venv .tools/$name && .tools/$name/bin/pip install -r $requirements"
    fi
  fi
  mkdir -p .tools
  ln -sfn "$dir" ".tools/$name"
}

# --- what every test run needs -------------------------------------------
# The virtualenvs install from PyPI in the background while apt and npm run
# (on a fresh machine the installs are network-bound, not CPU-bound).
background=()
# Contract tests (schemathesis) in their own virtualenv: its dependencies
# would otherwise fight the gate's pins.
cached_venv schemathesis-venv tools/contract-test/requirements.txt st &
background+=($!)
if $GATE; then
  # Python tools (pinned in tools/requirements.txt), zizmor among them.
  cached_venv gate-venv tools/requirements.txt zizmor &
  background+=($!)
  # Template validators in their own virtualenv (aws-sam-cli pins its own cfn-lint).
  cached_venv sam-venv tools/template-check/requirements.txt sam &
  background+=($!)
fi

need_component fmt rustfmt
install_cargo_tools nextest=cargo-nextest="$NEXTEST_VERSION"

# Real backends for the integration tests: redis-server (Debian), Java 17 and
# DynamoDB Local (pinned npm package, exact version in package-lock.json).
apt_packages=()
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || apt_packages+=(redis-tools)
# The throwaway certificate authority of the Redis TLS tests (tools/test-backends).
command -v openssl >/dev/null 2>&1 || apt_packages+=(openssl)
command -v java >/dev/null 2>&1 || apt_packages+=(openjdk-17-jre-headless)
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
command -v curl >/dev/null 2>&1 || apt_packages+=(curl)
# Headless browser for the dev dashboard test (tools/dev-server/tests/observability.rs).
if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
  apt_packages+=(chromium)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  apt_install "the integration tests' backends and browser" "${apt_packages[@]}"
fi

DDB_DIR=tools/test-backends/dynamodb-local
DDB_JAR=node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar
if [ ! -f "$DDB_DIR/$DDB_JAR" ]; then
  ddb_cache="$CACHE/dynamodb-local-$(sha256sum "$DDB_DIR/package-lock.json" | cut -c1-16)"
  if [ ! -f "$ddb_cache/$DDB_JAR" ]; then
    echo "installing DynamoDB Local (npm ci into $ddb_cache)"
    rm -rf "$ddb_cache"
    mkdir -p "$ddb_cache"
    cp "$DDB_DIR/package.json" "$DDB_DIR/package-lock.json" "$ddb_cache/"
    if ! (cd "$ddb_cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error); then
      rm -rf "$ddb_cache"
      missing "DynamoDB Local (npm amplify-dynamodb-simulator)" "npm could not reach registry.npmjs.org: (cd $DDB_DIR && npm ci --ignore-scripts)"
    fi
  fi
  rm -rf "$DDB_DIR/node_modules"
  ln -s "$ddb_cache/node_modules" "$DDB_DIR/node_modules"
fi

if ! $GATE; then
  for job in "${background[@]}"; do wait "$job"; done
  echo "tools: $(cargo --version); $(cargo nextest --version | head -n1)"
  exit 0
fi

# --- what the full gate adds ---------------------------------------------
need_component clippy clippy
install_cargo_tools llvm-cov=cargo-llvm-cov="$LLVM_COV_VERSION" deny=cargo-deny="$DENY_VERSION" \
  fuzz=cargo-fuzz="$FUZZ_VERSION" shear=cargo-shear="$SHEAR_VERSION"

# LLVM tools for coverage: the rustup component if present, else Debian's llvm-22.
if ! rustup component list --installed 2>/dev/null | grep -q '^llvm-tools' &&
  [ ! -x "/usr/lib/$DEBIAN_LLVM/bin/llvm-cov" ]; then
  apt_install "llvm-cov/llvm-profdata for rustc 1.95 (coverage)" "$DEBIAN_LLVM"
fi

for job in "${background[@]}"; do wait "$job"; done
echo "tools: $(cargo --version); $(cargo nextest --version | head -n1); $(cargo llvm-cov --version)"
