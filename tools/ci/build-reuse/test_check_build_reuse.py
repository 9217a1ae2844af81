"""The build-reuse check names a crate the two builds would compile twice."""

import unittest

import check_build_reuse as check

RUN = "tokio v1.54.1|macros,rt\nfunctions v0.1.0|\naxum v0.8.9|json (*)\n"
TESTS = "tokio v1.54.1|fs,macros,rt\nfunctions v0.1.0|default,lambda\naxum v0.8.9|json\naws-sdk-dynamodb v1.100.0|rt-tokio\n"


class DifferencesTest(unittest.TestCase):
    def test_a_feature_only_the_test_build_asks_for_is_named(self):
        problems = check.differences(check.parse(RUN), check.parse(TESTS))
        self.assertEqual(len(problems), 1, problems)
        self.assertTrue(problems[0].startswith("tokio v1.54.1: the test build adds ['fs']"), problems)

    def test_equal_features_and_our_own_switches_pass(self):
        self.assertEqual(check.differences(check.parse(TESTS), check.parse(TESTS)), [])


MANIFEST = """[dependencies]
axum.workspace = true

# Same features as the test build. Why, in a few lines.
hyper = { version = "1", default-features = false, features = ["http2"] }
tokio = { workspace = true, features = ["fs"] }

[package.metadata.cargo-shear]
ignored = ["hyper"]
"""


class BlockTest(unittest.TestCase):
    def test_the_block_is_read_from_its_comment_to_the_next_table(self):
        self.assertEqual(check.block_features(MANIFEST), {"hyper": {"http2"}, "tokio": {"fs"}})

    def test_without_the_block_a_crate_the_server_uses_itself_stays_plain(self):
        stripped = check.without_block(MANIFEST)
        self.assertIn("tokio.workspace = true", stripped)
        self.assertNotIn("hyper =", stripped)
        self.assertIn("axum.workspace = true", stripped)

    def test_a_feature_only_the_block_wants_is_stale(self):
        without = check.parse("hyper v1.8.1|client,http1\ntokio v1.54.1|fs,rt\n")
        problems = check.stale(check.block_features(MANIFEST), without)
        self.assertEqual(len(problems), 1, problems)
        self.assertTrue(problems[0].startswith("hyper: the block asks for ['http2']"), problems)

    def test_features_the_workspace_still_wants_are_not_stale(self):
        without = check.parse("hyper v1.8.1|http1,http2\ntokio v1.54.1|fs\n")
        self.assertEqual(check.stale(check.block_features(MANIFEST), without), [])


if __name__ == "__main__":
    unittest.main()
