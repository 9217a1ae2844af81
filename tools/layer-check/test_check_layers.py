"""Proves the layer check catches violations, on metadata edited to break each rule."""

import copy
import json
import pathlib
import subprocess
import unittest

import check_layers

ROOT = pathlib.Path(__file__).resolve().parents[2]


def real_metadata():
    output = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output)


def add_dependency(metadata, from_name, to_name):
    """Returns a copy where `from_name` has a normal dependency on `to_name`."""
    broken = copy.deepcopy(metadata)
    ids = {p["name"]: p["id"] for p in broken["packages"]}
    for node in broken["resolve"]["nodes"]:
        if node["id"] == ids[from_name]:
            node["deps"].append({"name": to_name.replace("-", "_"), "pkg": ids[to_name],
                                 "dep_kinds": [{"kind": None, "target": None}]})
    return broken


class LayerCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.metadata = real_metadata()

    def test_the_workspace_as_it_is_keeps_every_boundary(self):
        self.assertEqual(check_layers.check(self.metadata), [])

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
        violations = check_layers.check(add_dependency(self.metadata, "place-hold", "memory-backend"))
        self.assertTrue(any("place-hold depends on adapter memory-backend" in v for v in violations), violations)

    def test_an_adapter_depending_on_the_interface_is_caught(self):
        violations = check_layers.check(add_dependency(self.metadata, "memory-backend", "http-interface"))
        self.assertTrue(any("memory-backend (an adapter)" in v for v in violations), violations)


if __name__ == "__main__":
    unittest.main()
