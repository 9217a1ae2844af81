//! The problem types the API answers with are exactly the ones
//! `docs/openapi.yaml` documents.
//!
//! The spec lists them as the `enum` of `type` in `components.schemas.Problem`
//! (`- /problems/<slug>` lines). The workspace has no YAML parser, and this
//! needs none: the list is found by its place in the file (the `Problem:`
//! entry under `  schemas:`, then its first `enum:`) and read line by line
//! until the first line that is not an item. A spec reshaped so that the list
//! is not found fails the test rather than passing on an empty list.

#![allow(clippy::expect_used, clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::BTreeSet;

use http_interface::problem::ProblemType;

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.yaml");

/// The `/problems/<slug>` items of the `Problem` schema's `type` enum, in order.
fn documented_slugs(spec: &str) -> Vec<String> {
    let lines: Vec<&str> = spec.lines().collect();
    let schemas = lines
        .iter()
        .position(|line| *line == "  schemas:")
        .expect("docs/openapi.yaml has components.schemas");
    let problem = lines[schemas..]
        .iter()
        .position(|line| *line == "    Problem:")
        .map(|at| schemas + at)
        .expect("components.schemas has Problem");
    let enum_at = lines[problem..]
        .iter()
        .position(|line| line.trim() == "enum:")
        .map(|at| problem + at)
        .expect("the Problem schema has an enum (of its type)");
    assert!(
        lines[problem..enum_at].iter().any(|line| line.trim() == "type:"),
        "the Problem schema's first enum is the one of `type`"
    );
    lines[enum_at + 1..]
        .iter()
        .map_while(|line| line.trim().strip_prefix("- "))
        .map(|item| {
            item.strip_prefix("/problems/")
                .unwrap_or_else(|| panic!("a problem type is /problems/<slug>, not {item}"))
                .to_owned()
        })
        .collect()
}

#[test]
fn the_problem_types_answered_are_exactly_the_ones_the_spec_documents() {
    let spec = std::fs::read_to_string(SPEC).expect("docs/openapi.yaml is readable");
    let documented = documented_slugs(&spec);
    let documented_set: BTreeSet<&str> = documented.iter().map(String::as_str).collect();
    assert_eq!(
        documented_set.len(),
        documented.len(),
        "a slug listed twice: {documented:?}"
    );
    let answered: BTreeSet<&str> = ProblemType::ALL.iter().map(|kind| kind.slug()).collect();
    let undocumented: Vec<_> = answered.difference(&documented_set).collect();
    let never_answered: Vec<_> = documented_set.difference(&answered).collect();
    assert!(
        undocumented.is_empty() && never_answered.is_empty(),
        "answered but not in docs/openapi.yaml: {undocumented:?}; documented but never answered: {never_answered:?}"
    );
}

#[test]
fn the_spec_reader_finds_the_list_and_stops_at_its_end() {
    let spec = "components:\n  schemas:\n    Other:\n      enum: [x]\n    Problem:\n      type: object\n      properties:\n        type:\n          type: string\n          enum:\n            - /problems/a\n            - /problems/b\n        title: { type: string }\n";
    assert_eq!(documented_slugs(spec), ["a", "b"]);
}
