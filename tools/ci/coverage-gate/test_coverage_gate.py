"""The gate fails below the bars and passes above them."""

import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

GATE = pathlib.Path(__file__).with_name("coverage_gate.py")


def report(root, files):
    return {"data": [{"files": [
        {"filename": str(root / path), "summary": {"lines": {"covered": covered, "count": count}}}
        for path, covered, count in files
    ]}]}


def run_gate(files):
    with tempfile.TemporaryDirectory() as folder:
        root = pathlib.Path(folder)
        path = root / "report.json"
        path.write_text(json.dumps(report(root, files)))
        return subprocess.run([sys.executable, str(GATE), str(path), "--root", str(root)],
                              capture_output=True, text=True)


class CoverageGateTest(unittest.TestCase):
    def test_coverage_above_every_bar_passes_and_prints_a_row_per_crate(self):
        result = run_gate([("shared/domain/src/a.rs", 95, 100), ("shared/application/src/b.rs", 91, 100),
                           ("infra/memory-backend/src/c.rs", 70, 100)])
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("| memory-backend | 70 | 100 | 70.0 % |", result.stdout)

    def test_a_core_crate_below_ninety_percent_fails_the_gate(self):
        result = run_gate([("shared/domain/src/a.rs", 89, 100), ("shared/application/src/b.rs", 100, 100)])
        self.assertEqual(result.returncode, 1)
        self.assertIn("domain: 89.0 % of lines covered, below 90 %", result.stdout)

    def test_a_workspace_below_eighty_percent_fails_the_gate(self):
        result = run_gate([("shared/domain/src/a.rs", 100, 100), ("shared/application/src/b.rs", 100, 100),
                           ("functions/dev-server/src/main.rs", 0, 300)])
        self.assertEqual(result.returncode, 1)
        self.assertIn("workspace: 40.0 %", result.stdout)

    def test_test_files_do_not_count(self):
        result = run_gate([("shared/domain/src/a.rs", 100, 100), ("shared/application/src/b.rs", 100, 100),
                           ("shared/application/tests/use_cases.rs", 0, 1000)])
        self.assertEqual(result.returncode, 0, result.stdout)


if __name__ == "__main__":
    unittest.main()
