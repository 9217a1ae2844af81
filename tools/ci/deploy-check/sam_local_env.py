"""What `sam local invoke` / `sam local start-api` would put in each
function's environment, computed by the pinned SAM CLI's own code from
template.yaml and env.json, without Docker (this machine has none).

`sam local` passes a function only the variables its template declares and
silently drops the rest of env.json; this checks that every value env.json
sets arrives. Run with the SAM CLI's interpreter:

    .tools/sam-venv/bin/python tools/ci/deploy-check/sam_local_env.py

It uses SAM CLI internals (pinned in scripts/install-tools.sh): after a SAM
upgrade, a failure here may be the API moving, not the files.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("SAM_CLI_TELEMETRY", "0")

from samcli.commands.local.lib.local_lambda import LocalLambdaRunner  # noqa: E402
from samcli.lib.providers.sam_function_provider import SamFunctionProvider  # noqa: E402
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


def local_environments(template: Path, env_file: Path) -> dict[str, dict[str, str]]:
    stacks, _ = SamLocalStackProvider.get_stacks(str(template), parameter_overrides={})
    runner = LocalLambdaRunner.__new__(LocalLambdaRunner)  # only _make_env_vars is used
    runner.env_vars_values = json.loads(env_file.read_text())
    runner.get_aws_creds = lambda: {}
    runner.debug_context = None
    return {function.name: runner._make_env_vars(function).resolve()
            for function in SamFunctionProvider(stacks).get_all()}


def main() -> int:
    wanted = json.loads((ROOT / "env.json").read_text())
    problems = []
    environments = local_environments(ROOT / "template.yaml", ROOT / "env.json")
    # env.json's Parameters block is for every function (sam local's global form).
    variables = wanted.get("Parameters", {})
    if not variables:
        problems.append("env.json has no Parameters block")
    for function, got in sorted(environments.items()):
        problems += [f"{function}: sam local gives {name}={got.get(name)!r}, env.json says {value!r}"
                     for name, value in sorted(variables.items()) if got.get(name) != value]
    for problem in problems:
        print(f"sam local env: {problem}", file=sys.stderr)
    if not problems:
        print(f"sam local env: every env.json value reaches every function ({len(environments)} functions)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
