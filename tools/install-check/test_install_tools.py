"""scripts/install-tools.sh stops at once, naming what is missing and how to
get it, when a prerequisite is absent and cannot be installed (issue 16).

Each case runs the real script with the machine's PATH minus one tool, and
with `apt-get` and `sudo` replaced by stand-ins that fail as they do without
root or without a route to the Debian mirrors.
"""

import os
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-tools.sh"
FAILING = "#!/bin/sh\necho \"E: Could not resolve 'deb.debian.org'\" >&2\nexit 100\n"


def path_without(hidden: set[str], stubs: Path) -> str:
    """A PATH of one folder that links every command on today's PATH but `hidden`."""
    seen: set[str] = set()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = os.path.join(folder, name)
            if name in seen or name in hidden or not os.access(target, os.X_OK):
                continue
            seen.add(name)
            os.symlink(target, stubs / name)
    for name in ("apt-get", "sudo"):
        stub = stubs / name
        if stub.exists() or stub.is_symlink():
            stub.unlink()
        stub.write_text(FAILING)
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    return str(stubs)


class MissingPrerequisite(unittest.TestCase):
    def run_script(self, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    def test_no_java_and_no_apt_names_java_and_how_to_get_it(self) -> None:
        with tempfile.TemporaryDirectory() as stubs:
            env = dict(os.environ, PATH=path_without({"java"}, Path(stubs)))
            result = self.run_script(env)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("missing prerequisite", result.stderr)
        self.assertIn("openjdk-17-jre-headless", result.stderr)
        self.assertIn("needs root or passwordless sudo", result.stderr)

    def test_pypi_unreachable_names_the_virtualenv_and_its_requirements(self) -> None:
        with tempfile.TemporaryDirectory() as cache:
            env = dict(
                os.environ,
                XDG_CACHE_HOME=cache,
                PIP_INDEX_URL="http://127.0.0.1:9/simple",
                PIP_NO_CACHE_DIR="1",
                PIP_RETRIES="0",
                PIP_TIMEOUT="2",
            )
            result = self.run_script(env)
            self.assertEqual(os.listdir(cache), ["ticketing-tools"], "the failed install left its folder")
            self.assertEqual(os.listdir(Path(cache) / "ticketing-tools"), [])
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("missing prerequisite: schemathesis-venv", result.stderr)
        self.assertIn("tools/contract-test/requirements.txt", result.stderr)


if __name__ == "__main__":
    unittest.main()
