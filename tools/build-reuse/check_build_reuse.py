"""The test command reuses the run command's build (issue 16, ADR 17).

`cargo run -p dev-server` (the run command) compiles the dev server's
dependencies; `scripts/test` then builds the whole workspace with its tests.
Cargo compiles a crate again when it is asked for it with other features, and
the test build unifies in the features the AWS SDK and the test tools want
(tokio's `fs`, hyper's `http2`, …). Those crates, and every crate above them
(axum, tracing-subscriber, our own), would be compiled twice.

So the dev server's manifest also asks for those features (its "same
features as the test build" block), and this check fails when the two
builds disagree on any crate they share, naming what to add.

Usage: python3 tools/build-reuse/check_build_reuse.py
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

# Our crates whose features differ on purpose: the run build leaves the real
# backends out (composition's `aws`, the functions' `lambda`; ADR 17). They
# are small, so compiling them twice costs seconds.
# The functions are the crates under functions/ (one folder each).
FUNCTIONS_DIR = pathlib.Path(__file__).resolve().parents[2] / "functions"
OWN_FEATURE_SWITCHES = {"composition", "dev-server"} | {
    manifest.parent.name for manifest in FUNCTIONS_DIR.glob("*/Cargo.toml")
}


def features(*cargo_tree_args: str) -> dict[str, set[str]]:
    """Crate `name version` -> the features one build compiles it with."""
    result = subprocess.run(
        ["cargo", "tree", "--locked", "-f", "{p}|{f}", "--prefix", "none", *cargo_tree_args],
        check=False, capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"cargo tree {' '.join(cargo_tree_args)} failed:\n{result.stderr}")
    return parse(result.stdout)


def parse(cargo_tree_output: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for line in cargo_tree_output.splitlines():
        package, _, feats = line.removesuffix(" (*)").partition("|")
        parts = package.split()
        if len(parts) < 2:
            continue
        found.setdefault(f"{parts[0]} {parts[1]}", set()).update(f for f in feats.split(",") if f)
    return found


def differences(run: dict[str, set[str]], tests: dict[str, set[str]]) -> list[str]:
    problems = []
    for crate in sorted(run.keys() & tests.keys()):
        if crate.split()[0] in OWN_FEATURE_SWITCHES:
            continue
        missing = sorted(tests[crate] - run[crate])
        extra = sorted(run[crate] - tests[crate])
        if missing:
            problems.append(f"{crate}: the test build adds {missing}; add them to tools/dev-server/Cargo.toml's "
                            "\"same features as the test build\" block")
        if extra:
            problems.append(f"{crate}: the run build has {extra} that the test build does not")
    return problems


def main() -> int:
    run = features("-e", "normal,build", "-p", "dev-server")
    tests = features("-e", "normal,build,dev", "--workspace")
    problems = differences(run, tests)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} crates would be compiled twice (the run command's build, then the tests')")
        return 1
    shared = len(run.keys() & tests.keys())
    print(f"build reuse: the {shared} crates of the run command's build have the test build's features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
