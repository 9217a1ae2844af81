"""The build-reuse check names a crate the two builds would compile twice."""

import unittest

import check_build_reuse as check

RUN = "tokio v1.54.1|macros,rt\nplace-hold v0.1.0|\naxum v0.8.9|json (*)\n"
TESTS = "tokio v1.54.1|fs,macros,rt\nplace-hold v0.1.0|default,lambda\naxum v0.8.9|json\naws-sdk-dynamodb v1.100.0|rt-tokio\n"


class DifferencesTest(unittest.TestCase):
    def test_a_feature_only_the_test_build_asks_for_is_named(self):
        problems = check.differences(check.parse(RUN), check.parse(TESTS))
        self.assertEqual(len(problems), 1, problems)
        self.assertTrue(problems[0].startswith("tokio v1.54.1: the test build adds ['fs']"), problems)

    def test_equal_features_and_our_own_switches_pass(self):
        self.assertEqual(check.differences(check.parse(TESTS), check.parse(TESTS)), [])


if __name__ == "__main__":
    unittest.main()
