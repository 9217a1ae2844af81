"""Proves the layer check catches violations, on metadata edited to break each rule."""

import copy
import json
import pathlib
import subprocess
import unittest

import check_layers

ROOT = pathlib.Path(__file__).resolve().parents[3]


def real_metadata():
    output = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output)


def add_dependency(metadata, from_name, to_name, kind=None):
    """Returns a copy where `from_name` depends on `to_name` (normal unless `kind`: "dev", "build")."""
    broken = copy.deepcopy(metadata)
    ids = {p["name"]: p["id"] for p in broken["packages"]}
    for node in broken["resolve"]["nodes"]:
        if node["id"] == ids[from_name]:
            node["deps"].append({"name": to_name.replace("-", "_"), "pkg": ids[to_name],
                                 "dep_kinds": [{"kind": kind, "target": None}]})
    return broken


class LayerCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.metadata = real_metadata()

    def test_the_workspace_as_it_is_keeps_every_boundary(self):
        self.assertEqual(check_layers.check(self.metadata), [])
        self.assertEqual(check_layers.app_state_builders(check_layers.workspace_sources(self.metadata)), [])

    def test_an_app_state_built_outside_the_composition_root_is_named(self):
        sources = check_layers.workspace_sources(self.metadata)
        self.assertIn(("composition", "functions/composition/src/lib.rs"), sources)
        sources[("dev-server", "functions/dev-server/tests/http/support/mod.rs")] = (
            "let state = AppState::new(use_cases, AuthMode::Dev, ServiceName(\"x\"), timeout);"
        )
        self.assertEqual(
            check_layers.app_state_builders(sources),
            ["functions/dev-server/tests/http/support/mod.rs builds an AppState (dev-server); "
             "only composition may (composition::app_state)"],
        )

    def test_a_dev_dependency_cycle_is_named(self):
        violations = check_layers.check(add_dependency(self.metadata, "dynamodb-store", "test-backends", "dev"))
        self.assertTrue(
            any(v.startswith("dependency cycle:") and "dynamodb-store" in v and "test-backends" in v for v in violations),
            violations)

    def test_an_inner_ring_testing_over_an_adapter_is_named(self):
        violations = check_layers.check(add_dependency(self.metadata, "application", "memory-backend", "dev"))
        self.assertTrue(any("application (in shared/) depends on memory-backend (dev" in v for v in violations), violations)

    def test_an_async_runtime_in_the_domain_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "domain", "tokio"))
        self.assertTrue(any("domain must not depend on tokio" in v for v in violations), violations)

    def test_serde_reached_transitively_from_the_domain_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "domain", "http-interface"))
        self.assertTrue(any("domain must not depend on serde" in v for v in violations), violations)

    def test_http_in_the_application_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "application", "axum"))
        self.assertTrue(any("application must not depend on axum" in v for v in violations), violations)

    def test_a_function_reaching_an_adapter_directly_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "functions", "memory-backend"))
        self.assertTrue(any("functions depends on adapter memory-backend" in v for v in violations), violations)

    def test_a_tool_off_the_allow_list_naming_an_adapter_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "lambda-bench", "dynamodb-store"))
        self.assertTrue(
            any("lambda-bench depends on adapter dynamodb-store directly (normal" in v for v in violations), violations)

    def test_the_interface_naming_an_adapter_even_for_its_tests_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "http-interface", "memory-backend", kind="dev"))
        self.assertTrue(
            any("http-interface depends on adapter memory-backend directly (dev" in v for v in violations), violations)

    def test_a_crate_allowed_adapters_in_its_tests_only_is_caught_naming_one_in_its_code(self):
        violations = check_layers.check(add_dependency(self.metadata, "dev-server", "memory-backend"))
        self.assertTrue(
            any("dev-server depends on adapter memory-backend directly (normal" in v for v in violations), violations)

    def test_an_adapter_naming_another_outside_its_tests_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "redis-seat-locks", "memory-backend"))
        self.assertTrue(
            any("redis-seat-locks depends on adapter memory-backend directly (normal" in v for v in violations),
            violations)

    def test_every_allow_list_entry_is_a_workspace_crate(self):
        names = {p["name"] for p in self.metadata["packages"] if p["id"] in self.metadata["workspace_members"]}
        self.assertLessEqual(set(check_layers.INFRA_ALLOWED), names)

    def test_an_adapter_depending_on_the_interface_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "memory-backend", "http-interface"))
        self.assertTrue(any("memory-backend (an adapter)" in v for v in violations), violations)


if __name__ == "__main__":
    unittest.main()
