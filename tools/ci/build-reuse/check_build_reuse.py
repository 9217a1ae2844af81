"""The test command reuses the run command's build (issue 16, ADR 17).

`cargo run -p dev-server` (the run command) compiles the dev server's
dependencies; `scripts/test` then builds the whole workspace with its tests.
Cargo compiles a crate again when it is asked for it with other features, and
the test build unifies in the features the AWS SDK and the test tools want
(tokio's `fs`, hyper's `http2`, …). Those crates, and every crate above them
(axum, tracing-subscriber, our own), would be compiled twice.

So the dev server's manifest also asks for those features (its "same
features as the test build" block), and this check fails when the two
builds disagree on any crate they share, naming what to add. It also fails
on a stale entry: a feature the block asks for that nothing else in the
workspace wants any more (found by resolving a copy of the workspace
without the block), which would make the run build compile more than it
needs to.

Usage: python3 tools/ci/build-reuse/check_build_reuse.py
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

# Our crates whose features differ on purpose: the run build leaves the real
# backends out (composition's `aws`, the functions' `lambda`; ADR 17). They
# are small, so compiling them twice costs seconds.
ROOT = pathlib.Path(__file__).resolve().parents[3]
DEV_SERVER_MANIFEST = ROOT / "functions" / "dev-server" / "Cargo.toml"
BLOCK_START = "# Same features as the test build."
OWN_FEATURE_SWITCHES = {"composition", "dev-server", "functions"}


def features(*cargo_tree_args: str, workspace: pathlib.Path = ROOT) -> dict[str, set[str]]:
    """Crate `name version` -> the features one build compiles it with.
    `--locked` unless the arguments say `--offline` (the copy without the
    block drops the dev server's own lines from its lock file)."""
    lock = [] if "--offline" in cargo_tree_args else ["--locked"]
    result = subprocess.run(
        ["cargo", "tree", *lock, "-f", "{p}|{f}", "--prefix", "none", *cargo_tree_args],
        check=False, capture_output=True, text=True, cwd=workspace,
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
            problems.append(f"{crate}: the test build adds {missing}; add them to functions/dev-server/Cargo.toml's "
                            "\"same features as the test build\" block")
        if extra:
            problems.append(f"{crate}: the run build has {extra} that the test build does not")
    return problems


def block_lines(manifest_text: str) -> list[str]:
    """The dependency lines of the "same features as the test build" block:
    from its opening comment to the next table."""
    lines = manifest_text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(BLOCK_START)), None)
    if start is None:
        sys.exit(f"{DEV_SERVER_MANIFEST}: no line starts with {BLOCK_START!r}")
    block = []
    for line in lines[start:]:
        if line.startswith("["):
            break
        if re.match(r"^[A-Za-z0-9_-]+\s*=", line):
            block.append(line)
    return block


def block_features(manifest_text: str) -> dict[str, set[str]]:
    """Crate name -> the features the block asks for."""
    wanted = {}
    for line in block_lines(manifest_text):
        ((name, spec),) = tomllib.loads(line).items()
        wanted[name] = set(spec.get("features", []))
    return wanted


def without_block(manifest_text: str) -> str:
    """The manifest with the block's features gone: a dependency the dev
    server also uses itself (`workspace = true`) stays, plain."""
    block = set(block_lines(manifest_text))
    kept = []
    for line in manifest_text.splitlines():
        if line in block:
            ((name, spec),) = tomllib.loads(line).items()
            if spec.get("workspace"):
                kept.append(f"{name}.workspace = true")
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def stale(block: dict[str, set[str]], tests_without_block: dict[str, set[str]]) -> list[str]:
    """Block features that no version of their crate has in the test build
    once the block is gone: nothing but the block wants them."""
    problems = []
    for name, wanted in sorted(block.items()):
        has = set().union(*(feats for crate, feats in tests_without_block.items() if crate.split()[0] == name))
        if unneeded := sorted(wanted - has):
            problems.append(f"{name}: the block asks for {unneeded}, which nothing else in the workspace wants "
                            "any more; drop them from functions/dev-server/Cargo.toml's block")
    return problems


def test_build_without_block() -> dict[str, set[str]]:
    """The test build's features, resolved on a copy of the workspace (its
    tracked and new files) whose dev-server manifest has no block."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True, cwd=ROOT,
    ).stdout.decode().split("\0")
    with tempfile.TemporaryDirectory() as copy:
        for name in filter(None, listed):
            source = ROOT / name
            if source.is_file():
                target = pathlib.Path(copy) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
        manifest = pathlib.Path(copy) / DEV_SERVER_MANIFEST.relative_to(ROOT)
        manifest.write_text(without_block(manifest.read_text()))
        return features("-e", "normal,build,dev", "--workspace", "--offline", workspace=pathlib.Path(copy))


def main() -> int:
    run = features("-e", "normal,build", "-p", "dev-server")
    tests = features("-e", "normal,build,dev", "--workspace")
    problems = differences(run, tests)
    problems += stale(block_features(DEV_SERVER_MANIFEST.read_text()), test_build_without_block())
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problems: a crate compiled twice (the run command's build, then the tests'), "
              "or compiled with features nothing needs")
        return 1
    shared = len(run.keys() & tests.keys())
    print(f"build reuse: the {shared} crates of the run command's build have the test build's features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
