#!/usr/bin/env python3
"""Layer boundaries, enforced from `cargo metadata` instead of by review.

Rules (docs/ARCHITECTURE.md, "Architecture Invariant" lines):
  1. `domain` depends, even transitively, on no async runtime, serialization,
     AWS, HTTP, Lambda or Redis crate.
  2. `application` depends, even transitively, on no AWS, HTTP, Lambda or Redis crate.
  3. Only the crates in INFRA_ALLOWED name an adapter (depend on an infra/*
     crate), each only as the kind of dependency listed there; everyone
     else, the functions package included, reaches adapters through the
     composition root. (The fuzz workspace, fuzz/, is outside the workspace
     and not checked.)
  4. Adapters (infra/*) do not depend on anything in functions/ (the
     interface, the composition root, any function).
  5. Only the composition root builds the app's state: no Rust file of a
     workspace crate outside functions/composition calls `AppState::new` (the
     struct is `non_exhaustive`, so the compiler already refuses a literal
     outside functions/http-interface).
  6. A crate in shared/ (the inner rings) depends on no workspace crate
     outside shared/, not even for its tests.
  7. No dependency cycle among the workspace's crates, dev-dependencies
     included (a crate's tests that need an adapter, the harness or the
     suite live in tests/, which nothing shipped depends on).

Usage: check_layers.py [--metadata FILE]   (default: runs `cargo metadata`)
Exit status 1 and one line per violation when a rule is broken.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys

ASYNC = ("tokio", "async-std", "smol", "futures", "futures-util", "async-trait")
SERIALIZATION = ("serde", "serde_json", "serde_derive")
AWS = ("aws-", "aws_")
HTTP = ("http", "hyper", "axum", "tower", "reqwest", "tower-http")
LAMBDA = ("lambda_http", "lambda_runtime", "aws_lambda_events")
REDIS = ("redis", "fred", "deadpool-redis", "bb8-redis")


def banned(name, families):
    for family in families:
        for pattern in family:
            if pattern.endswith(("-", "_")):
                if name.startswith(pattern):
                    return True
            elif name == pattern:
                return True
    return False


# Who may name an adapter (an infra/* crate) directly, as which kind of
# dependency ("normal" also covers build dependencies), and why. Short on
# purpose: a new entry is a design decision, so it states its reason.
INFRA_ALLOWED = {
    # The composition root: picking and wiring adapters is its job.
    "composition": {"normal"},
    # The use cases' tests run over the in-memory backend with a manual clock.
    "use-case-tests": {"dev"},
    # Every adapter runs the conformance cases here.
    "port-conformance": {"dev"},
    # Its tests reach past the ports: the in-memory seat locks' handle, the
    # manual clock, a Redis connection and a DynamoStore of their own to
    # stage races and outages. The server itself wires through composition.
    "dev-server": {"dev"},
    # Operator commands: create the table from THE definition and build the
    # SDK client as the adapter does (dynamodb_store::table, ::client).
    "ops": {"normal"},
    # Test tables from THE table definition, clients from dynamodb_store::client.
    "test-backends": {"normal"},
    # The one clock double is system-runtime's ManualClock (re-exported), and
    # ClockAhead runs its SystemClock ahead; only tests depend on this crate.
    "test-doubles": {"normal"},
}
# Adapters' own tests share the conformance suite and the manual clock.
INFRA_AMONG_THEMSELVES = {"dev"}

RULES = {
    "domain": (ASYNC, SERIALIZATION, AWS, HTTP, LAMBDA, REDIS),
    "application": (AWS, HTTP, LAMBDA, REDIS),
}


def load(metadata_file):
    if metadata_file:
        with open(metadata_file, encoding="utf-8") as handle:
            return json.load(handle)
    output = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output)


def check(metadata):
    packages = {p["id"]: p for p in metadata["packages"]}
    members = {pid: packages[pid] for pid in metadata["workspace_members"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}

    def direct_deps_with_kinds(pid):
        for dep in nodes[pid]["deps"]:
            kinds = {k.get("kind") or "normal" for k in dep.get("dep_kinds", [])} or {"normal"}
            yield dep["pkg"], {"normal" if k == "build" else k for k in kinds}

    def normal_deps(pid):
        for dep in nodes[pid]["deps"]:
            kinds = [k.get("kind") for k in dep.get("dep_kinds", [])]
            if not kinds or any(k is None for k in kinds):
                yield dep["pkg"]

    def closure(pid):
        seen, stack = set(), list(normal_deps(pid))
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(normal_deps(current))
        return seen

    root = pathlib.PurePosixPath(metadata["workspace_root"].replace("\\", "/"))

    def folder(package):
        """The top-level folder a crate lives in: the layer it belongs to."""
        path = pathlib.PurePosixPath(package["manifest_path"].replace("\\", "/"))
        return path.relative_to(root).parts[0]

    infra = {pid for pid, p in members.items() if folder(p) == "infra"}
    outer = {pid for pid, p in members.items() if folder(p) == "functions"}

    violations = []
    for pid, package in members.items():
        name = package["name"]
        if name in RULES:
            for dep in sorted(closure(pid)):
                dep_name = packages[dep]["name"]
                if banned(dep_name, RULES[name]):
                    violations.append(f"{name} must not depend on {dep_name} (rule: {name} stays free of it)")
        allowed = INFRA_AMONG_THEMSELVES if pid in infra else INFRA_ALLOWED.get(name, set())
        for dep, kinds in direct_deps_with_kinds(pid):
            if dep in infra:
                for kind in sorted(kinds - allowed):
                    violations.append(
                        f"{name} depends on adapter {packages[dep]['name']} directly ({kind} dependency); "
                        "go through composition, or add it to INFRA_ALLOWED with its reason"
                    )
        if pid in infra:
            for dep in normal_deps(pid):
                if dep in outer:
                    violations.append(f"{name} (an adapter) must not depend on {packages[dep]['name']}")
        if folder(package) == "shared":
            for dep, kinds in direct_deps_with_kinds(pid):
                if dep in members and folder(packages[dep]) != "shared":
                    violations.append(
                        f"{name} (in shared/) depends on {packages[dep]['name']} "
                        f"({', '.join(sorted(kinds))} dependency), which is outside shared/"
                    )
    violations.extend(cycles(members, direct_deps_with_kinds, packages))
    return violations


def cycles(members, direct_deps_with_kinds, packages):
    """Rule 7: one line per dependency cycle among the workspace's crates
    (every kind of edge), named from its first crate in path order."""
    edges = {pid: sorted({dep for dep, _ in direct_deps_with_kinds(pid) if dep in members}) for pid in members}
    found, done = [], set()

    def visit(pid, path):
        if pid in path:
            loop = path[path.index(pid):] + [pid]
            found.append(" -> ".join(packages[p]["name"] for p in loop))
            return
        if pid in done:
            return
        for dep in edges[pid]:
            visit(dep, path + [pid])
        done.add(pid)

    for pid in sorted(members):
        visit(pid, [])
    return [f"dependency cycle: {loop}" for loop in sorted(set(found))]


APP_STATE_BUILDER = re.compile(r"\bAppState::new\s*\(")
APP_STATE_BUILT_IN = "composition"


def app_state_builders(sources):
    """Rule 5 over `sources` ({(package name, path): text}): the files that
    build an AppState in a crate other than the composition root."""
    return [
        f"{path} builds an AppState ({package}); only {APP_STATE_BUILT_IN} may (composition::app_state)"
        for (package, path), text in sorted(sources.items())
        if package != APP_STATE_BUILT_IN and APP_STATE_BUILDER.search(text)
    ]


def workspace_sources(metadata):
    """Every Rust file under each workspace member's folder (src, tests,
    examples, benches), by (package name, path)."""
    packages = {p["id"]: p for p in metadata["packages"]}
    root = pathlib.Path(metadata["workspace_root"])
    sources = {}
    folders = [pathlib.Path(packages[pid]["manifest_path"]).parent for pid in metadata["workspace_members"]]
    for pid in metadata["workspace_members"]:
        package = packages[pid]
        folder = pathlib.Path(package["manifest_path"]).parent
        for path in folder.rglob("*.rs"):
            if "target" in path.relative_to(folder).parts:
                continue
            if any(other != folder and other.is_relative_to(folder) and path.is_relative_to(other) for other in folders):
                continue  # a crate nested in this one's folder (functions/composition) is its own
            sources[(package["name"], str(path.relative_to(root)))] = path.read_text(encoding="utf-8")
    return sources


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metadata", help="a saved `cargo metadata` JSON file")
    args = parser.parse_args()
    metadata = load(args.metadata)
    violations = check(metadata) + app_state_builders(workspace_sources(metadata))
    for line in violations:
        print(f"layer violation: {line}")
    if violations:
        return 1
    print("layer boundaries: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
