#!/usr/bin/env python3
"""Coverage gate: per-crate line coverage from `cargo llvm-cov report --json`.

Prints a table (one row per workspace crate, then the workspace total) and
fails when the workspace is below WORKSPACE_MIN or a core crate is below
CORE_MIN. Only the crates' own `src/` files count; tests and tools' test
harnesses are not measured against themselves.

Usage: coverage_gate.py REPORT.json [--summary OUT.md]
"""

import argparse
import json
import pathlib
import sys

WORKSPACE_MIN = 80.0
CORE_MIN = 90.0
CORE_CRATES = ("domain", "application")


def crate_of(path, root):
    """`shared/domain/src/x.rs` → `domain`; None outside a crate's src/."""
    try:
        relative = pathlib.Path(path).resolve().relative_to(root)
    except ValueError:
        return None
    parts = relative.parts
    if "src" not in parts:
        return None
    index = parts.index("src")
    return parts[index - 1] if index >= 1 else None


def tally(report, root):
    per_crate = {}
    for data in report["data"]:
        for file in data["files"]:
            crate = crate_of(file["filename"], root)
            if crate is None:
                continue
            lines = file["summary"]["lines"]
            covered, count = per_crate.get(crate, (0, 0))
            per_crate[crate] = (covered + lines["covered"], count + lines["count"])
    return per_crate


def percent(covered, count):
    return 100.0 * covered / count if count else 100.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--summary")
    parser.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parents[3]))
    args = parser.parse_args()
    root = pathlib.Path(args.root).resolve()
    with open(args.report, encoding="utf-8") as handle:
        per_crate = tally(json.load(handle), root)

    rows = ["| crate | lines covered | lines | coverage | minimum |", "|---|---:|---:|---:|---:|"]
    failures = []
    for crate in sorted(per_crate):
        covered, count = per_crate[crate]
        value = percent(covered, count)
        minimum = CORE_MIN if crate in CORE_CRATES else None
        rows.append(f"| {crate} | {covered} | {count} | {value:.1f} % | {f'{minimum:.0f} %' if minimum else ''} |")
        if minimum is not None and value < minimum:
            failures.append(f"{crate}: {value:.1f} % of lines covered, below {minimum:.0f} %")
    total_covered = sum(c for c, _ in per_crate.values())
    total_count = sum(n for _, n in per_crate.values())
    total = percent(total_covered, total_count)
    rows.append(f"| **workspace** | {total_covered} | {total_count} | {total:.1f} % | {WORKSPACE_MIN:.0f} % |")
    if total < WORKSPACE_MIN:
        failures.append(f"workspace: {total:.1f} % of lines covered, below {WORKSPACE_MIN:.0f} %")
    for crate in CORE_CRATES:
        if crate not in per_crate:
            failures.append(f"{crate}: no coverage data at all")

    table = "\n".join(rows)
    print(table)
    if args.summary:
        pathlib.Path(args.summary).write_text(table + "\n", encoding="utf-8")
    for failure in failures:
        print(f"coverage gate: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
