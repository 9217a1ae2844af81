"""docs/openapi.yaml states what the code enforces, where a list can drift.

- The Currency enum is exactly the ISO 4217 list shared/domain/src/money.rs
  accepts (the contract tests generate events from the enum; a code the
  domain refuses would make them 422 instead of reaching the hold logic).

Run: python3 -m unittest tests/contract-test/test_spec_agrees.py (stdlib +
PyYAML; the gate runs it with .tools/gate-venv/bin/python).
"""

import re
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def domain_currencies(source: str) -> list[str]:
    table = re.search(r"const ISO_4217: &\[&str\] = &\[(.*?)\];", source, re.S)
    if table is None:
        raise AssertionError("shared/domain/src/money.rs has no ISO_4217 table")
    return re.findall(r'"([A-Z]{3})"', table.group(1))


class CurrencyListTest(unittest.TestCase):
    def test_the_spec_enum_is_the_domain_list(self):
        spec = yaml.safe_load((ROOT / "docs/openapi.yaml").read_text(encoding="utf-8"))
        documented = spec["components"]["schemas"]["Currency"]["enum"]
        accepted = domain_currencies((ROOT / "shared/domain/src/money.rs").read_text(encoding="utf-8"))
        self.assertGreater(len(accepted), 100)
        self.assertEqual(sorted(documented), sorted(accepted))


if __name__ == "__main__":
    unittest.main()
