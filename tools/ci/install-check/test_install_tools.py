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
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
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


def without_registries(cache: str) -> dict[str, str]:
    """The environment with `cache` as the tool cache and PyPI and npm
    pointed at a closed port (no registry answers)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PIP_", "npm_config_", "NPM_CONFIG_"))
    }
    env.update(
        XDG_CACHE_HOME=cache,
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_NO_CACHE_DIR="1",
        PIP_RETRIES="0",
        PIP_TIMEOUT="2",
        npm_config_registry="http://127.0.0.1:9/",
        npm_config_cache=str(Path(cache) / "npm"),
        npm_config_fetch_retries="0",
    )
    return env


class MissingPrerequisite(unittest.TestCase):
    def run_script(self, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = subprocess.run(
            ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        # "At once": nothing long (a compile, a download) ran before it stopped.
        self.assertLess(time.monotonic() - started, 60, result.stdout + result.stderr)
        return result

    def test_no_java_and_no_apt_names_java_and_how_to_get_it(self) -> None:
        with tempfile.TemporaryDirectory() as stubs, tempfile.TemporaryDirectory() as cache:
            # Its own tool cache, and no registry: nothing it starts installing
            # in the background lands in the user's cache or outlives it.
            env = dict(
                os.environ,
                PATH=path_without({"java"}, Path(stubs)),
                XDG_CACHE_HOME=cache,
                PIP_CONFIG_FILE=os.devnull,
                PIP_INDEX_URL="http://127.0.0.1:9/simple",
                PIP_RETRIES="0",
                PIP_TIMEOUT="2",
            )
            result = self.run_script(env)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("missing prerequisite", result.stderr)
        self.assertIn("openjdk-17-jre-headless", result.stderr)
        self.assertIn("needs root or sudo", result.stderr)

    def test_no_route_to_the_registries_names_what_could_not_be_installed(self) -> None:
        with tempfile.TemporaryDirectory() as cache:
            result = self.run_script(without_registries(cache))
            completed = list(Path(cache).rglob(".complete"))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertRegex(
            result.stderr,
            r"missing prerequisite: (schemathesis-venv \(tests/contract-test/requirements\.txt\)"
            r"|moto-venv \(tests/test-backends/moto-requirements\.txt\)"
            r"|DynamoDB Local \(npm amplify-dynamodb-simulator\))",
        )
        self.assertEqual(completed, [], "a failed install is never marked complete")


class ToolCache(unittest.TestCase):
    def test_old_pins_idle_for_30_days_are_pruned_and_recent_ones_kept(self) -> None:
        with tempfile.TemporaryDirectory() as home:
            tools = Path(home) / "ticketing-tools"
            stale = tools / "gate-venv-0123456789abcdef"
            recent = tools / "gate-venv-fedcba9876543210"
            unfinished = tools / "sam-venv-00000000deadbeef"
            for entry in (stale, recent, unfinished):
                entry.mkdir(parents=True)
            for marker in (stale / ".complete", recent / ".complete"):
                marker.touch()
            long_ago = time.time() - 40 * 86400
            os.utime(stale / ".complete", (long_ago, long_ago))
            os.utime(unfinished, (long_ago, long_ago))
            # No registry: the run stops early; pruning comes first.
            result = subprocess.run(
                ["bash", str(SCRIPT)], env=without_registries(home),
                capture_output=True, text=True, timeout=120, check=False,
            )
            output = result.stdout + result.stderr
            self.assertFalse(stale.exists(), output)
            self.assertFalse(unfinished.exists(), output)
            self.assertTrue(recent.exists(), output)
            self.assertIn(f"removing {stale} from the tool cache", output)


if __name__ == "__main__":
    unittest.main()
