"""Checks the files that ship the service but no test runs: the Compose file
for Docker users and the CI/deploy workflow.

Their shape is checked against the published schemas by `check-jsonschema`
(scripts/test); this script checks what the schemas cannot know:

- localstack-compose.yml: host ports match the functions' Cargo metadata
  (what `cargo lambda watch` and the README use), both DynamoDB choices answer
  on the same alias, LocalStack refuses to start without its auth token, the
  table comes from `ops create-table` (THE table definition), and the API's
  health check is GET /ready (which checks the backends), not a sleep.
- .github/workflows/ci.yml: pull requests run every group of the README's
  test command's gate (`--gate --only …`, parallel jobs); deploys happen
  only on main after all of them and the arm64 build, with an OIDC role from a
  repository variable and never a stored AWS key.
- samconfig.toml: `sam build` / `sam deploy` never prompt (no changeset
  confirmation, capabilities and an S3 bucket given) and `sam local` reads
  env.json; if env.json names host.docker.internal, `sam local` maps it
  (a Linux Docker Engine does not resolve it by itself).
- env.json: one `Parameters` block, which `sam local` gives every function,
  with `AUTH_MODE=dev` (sam local does not run the JWT authorizer), and only
  variables the template declares for every function: `sam local` silently
  drops any other. No per-function entries: the functions share one setup.
- events/: one API Gateway v2 payload per documented route, whose routeKey
  and path agree (the dev-server tests walk them through the API).
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
# The gate's groups, as scripts/test defines them (`if wants <group>; then`).
GATE_GROUPS = sorted(set(re.findall(r"\bwants (\w+)", (ROOT / "scripts/test").read_text())))


def function_defaults(root: Path) -> dict[str, set[str]]:
    """REDIS_URL / AWS_ENDPOINT_URL values in the functions package's lambda
    metadata (what `cargo lambda watch` gives every function)."""
    env = tomllib.loads((root / "functions" / "Cargo.toml").read_text())["package"]["metadata"]["lambda"]["env"]
    return {name: {env[name]} for name in ("REDIS_URL", "AWS_ENDPOINT_URL")}


def host_port(url: str) -> str:
    match = re.search(r":(\d+)$", url.rstrip("/"))
    if not match:
        raise ValueError(f"no port in {url}")
    return match.group(1)


def published(service: dict) -> set[str]:
    return {str(mapping).split(":")[0] for mapping in service.get("ports", [])}


def check_compose(compose: dict, defaults: dict[str, set[str]]) -> list[str]:
    problems = []
    services = compose.get("services", {})
    redis_ports = {host_port(url) for url in defaults["REDIS_URL"]}
    dynamodb_ports = {host_port(url) for url in defaults["AWS_ENDPOINT_URL"]}
    if not redis_ports <= published(services.get("redis", {})):
        problems.append(f"redis must publish host port {redis_ports} (functions' REDIS_URL)")
    for name, profile in (("localstack", "localstack"), ("dynamodb-local", "dynamodb-local")):
        service = services.get(name)
        if service is None:
            problems.append(f"service {name} is missing")
            continue
        if service.get("profiles") != [profile]:
            problems.append(f"{name} must be in profile {profile} (one DynamoDB at a time)")
        if not dynamodb_ports <= published(service):
            problems.append(f"{name} must publish host port {dynamodb_ports} (functions' AWS_ENDPOINT_URL)")
        aliases = service.get("networks", {}).get("default", {}).get("aliases", [])
        if "dynamodb" not in aliases:
            problems.append(f"{name} must answer on the network alias 'dynamodb'")
        if "healthcheck" not in service:
            problems.append(f"{name} needs a health check")
    token = str(services.get("localstack", {}).get("environment", {}).get("LOCALSTACK_AUTH_TOKEN", ""))
    if ":?" not in token:
        problems.append("localstack must refuse to start without LOCALSTACK_AUTH_TOKEN (${VAR:?message})")
    if services.get("create-table", {}).get("command") != ["ops", "create-table"]:
        problems.append("create-table must run `ops create-table` (THE table definition)")
    api = services.get("api", {})
    test = " ".join(api.get("healthcheck", {}).get("test", []))
    if "/ready" not in test:
        problems.append("api health check must call GET /ready")
    if api.get("depends_on", {}).get("create-table", {}).get("condition") != "service_completed_successfully":
        problems.append("api must wait for create-table to finish")
    for name, service in services.items():
        if "sleep" in str(service.get("command", "")) or "sleep" in str(service.get("healthcheck", "")):
            problems.append(f"{name} waits with sleep; wait on a health check instead")
    return problems


def check_workflow(workflow: dict, readme: str) -> list[str]:
    problems = []
    # PyYAML reads the bare key `on` as True.
    triggers = workflow.get("on", workflow.get(True, {}))
    if "pull_request" not in triggers:
        problems.append("the workflow must run on pull requests")
    jobs = workflow.get("jobs", {})
    test_command = re.search(r"^(scripts/\S+)\s*$", readme, re.MULTILINE)
    if not test_command:
        return [*problems, "the README names no test command (a line of its own: scripts/…)"]
    # The gate (`<test command> --gate`) runs as parallel jobs, one or more of
    # its groups each (`--only a,b`); together they must run every group.
    gate_jobs = {}
    for name, job in jobs.items():
        for step in job.get("steps", []):
            run = step.get("run", "").strip()
            found = re.fullmatch(re.escape(test_command.group(1)) + r" --gate(?: --only (\S+))?", run)
            if found:
                gate_jobs[name] = set(found.group(1).split(",")) if found.group(1) else set(GATE_GROUPS)
                # A gate that can be skipped or fail quietly is no gate.
                for where, entry in ((f"the {name} job", job), (f"the gate step of the {name} job", step)):
                    if "if" in entry:
                        problems.append(f"{where} must run on every pull request and push (no `if:`)")
                    if entry.get("continue-on-error"):
                        problems.append(f"{where} must fail the run when the gate fails (no continue-on-error)")
    ran = set().union(*gate_jobs.values()) if gate_jobs else set()
    for group in GATE_GROUPS:
        if group not in ran:
            problems.append(f"no job runs the gate's {group} group ({test_command.group(1)} --gate --only {group})")
    for group in sorted(ran - set(GATE_GROUPS)):
        problems.append(f"the gate has no group named {group}")
    deploy = jobs.get("deploy")
    if deploy is None:
        return [*problems, "there is no deploy job"]
    needs = deploy.get("needs", [])
    needs = [needs] if isinstance(needs, str) else list(needs)
    for name in sorted(gate_jobs):
        if name not in needs:
            problems.append(f"deploy must need the {name} job (part of the gate)")
    arm64 = jobs.get("lambda-arm64")
    if arm64 is None or "lambda-arm64" not in needs:
        problems.append("deploy must need the lambda-arm64 job (every function cross-built for arm64)")
    elif not any("cargo lambda build" in step.get("run", "") and "--arm64" in step.get("run", "")
                 for step in arm64.get("steps", [])):
        problems.append("the lambda-arm64 job must run cargo lambda build --arm64")
    elif "pull_request" not in triggers or arm64.get("if"):
        problems.append("the lambda-arm64 job must run on every pull request")
    if "refs/heads/main" not in str(deploy.get("if", "")) or "push" not in str(deploy.get("if", "")):
        problems.append("deploy must run only on pushes to main")
    if re.search(r"\b(always|failure|cancelled)\(\)", str(deploy.get("if", ""))):
        problems.append("deploy must not run when a job it needs failed or was skipped (no always()/failure()/cancelled())")
    if deploy.get("permissions", {}).get("id-token") != "write":
        problems.append("deploy needs id-token: write for OIDC")
    text = yaml.safe_dump(deploy)
    if "vars.AWS_DEPLOY_ROLE_ARN" not in text:
        problems.append("deploy must assume the role named by vars.AWS_DEPLOY_ROLE_ARN")
    if re.search(r"aws-(access-key-id|secret-access-key)|secrets\.AWS_", text):
        problems.append("deploy must not use long-lived AWS keys")
    runs = [step.get("run", "") for step in deploy.get("steps", [])]
    if not any(run.startswith("sam build") for run in runs) or not any(run.startswith("sam deploy") for run in runs):
        problems.append("deploy must run sam build and sam deploy")
    return problems


def check_pins(requirements: str) -> list[str]:
    lines = [line.strip() for line in requirements.splitlines() if line.strip() and not line.startswith("#")]
    return [f"unpinned requirement: {line}" for line in lines if "==" not in line]


def check_samconfig(config: dict, env: dict | None = None) -> list[str]:
    problems = []
    deploy = config.get("default", {}).get("deploy", {}).get("parameters", {})
    if deploy.get("confirm_changeset") is not False:
        problems.append("sam deploy would ask to confirm the changeset (confirm_changeset = false)")
    if deploy.get("fail_on_empty_changeset") is not False:
        problems.append("sam deploy fails when nothing changed (fail_on_empty_changeset = false)")
    if "CAPABILITY_IAM" not in str(deploy.get("capabilities", "")):
        problems.append("sam deploy needs capabilities = CAPABILITY_IAM")
    if deploy.get("resolve_s3") is not True and not deploy.get("s3_bucket"):
        problems.append("sam deploy needs resolve_s3 = true or an s3_bucket")
    for command in ("local_invoke", "local_start_api"):
        if config.get("default", {}).get(command, {}).get("parameters", {}).get("env_vars") != "env.json":
            problems.append(f"sam {command.replace('_', ' ')} must read env.json")
        hosts = config.get("default", {}).get(command, {}).get("parameters", {}).get("add_host", [])
        hosts = [hosts] if isinstance(hosts, str) else hosts
        if "host.docker.internal" in json.dumps(env or {}) \
                and not any(str(h).startswith("host.docker.internal:") for h in hosts):
            problems.append(f"sam {command.replace('_', ' ')} must map host.docker.internal (add_host), "
                            "which env.json uses and a Linux Docker Engine does not resolve")
    return problems


def template_functions(template_text: str) -> set[str]:
    return set(re.findall(r"^  (\w+):\n    Type: AWS::Serverless::Function", template_text, re.MULTILINE))


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short tags (!Ref, !If, ...) as plain values."""


_CfnLoader.add_multi_constructor(
    "!", lambda loader, tag, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node, deep=True))


def template_variables(template_text: str) -> dict[str, set[str]]:
    """The environment variables template.yaml declares for each function
    (Globals and its own): the only ones `sam local` lets env.json set."""
    template = yaml.load(template_text, Loader=_CfnLoader)
    common = set(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    return {name: common | set(r.get("Properties", {}).get("Environment", {}).get("Variables", {}))
            for name, r in template.get("Resources", {}).items() if r.get("Type") == "AWS::Serverless::Function"}


def check_env_json(env: dict, declared: dict[str, set[str]] | None = None) -> list[str]:
    problems = [f"{name}: a per-function entry; env.json is one Parameters block for every function"
                for name in sorted(set(env) - {"Parameters"})]
    parameters = env.get("Parameters")
    if parameters is None:
        return [*problems, "no Parameters block"]
    if parameters.get("AUTH_MODE") != "dev":
        problems.append("Parameters must set AUTH_MODE=dev")
    if declared:
        allowed = set.intersection(*declared.values())
        problems += [f"Parameters: {variable} is not declared in template.yaml for every function, so sam local drops it"
                     for variable in sorted(set(parameters) - allowed)]
    return problems


def check_events(events: dict[str, dict], routes: set[tuple[str, str]]) -> list[str]:
    problems = []
    covered = set()
    for name, event in sorted(events.items()):
        method, _, template = event.get("routeKey", "").partition(" ")
        http = event.get("requestContext", {}).get("http", {})
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if event.get("version") != "2.0":
            problems.append(f"{name}: not an API Gateway payload v2 event")
        if (method, template) not in routes:
            problems.append(f"{name}: routeKey {event.get('routeKey')!r} is no documented route")
        if http.get("method") != method or not re.match(pattern, event.get("rawPath", "")) \
                or http.get("path") != event.get("rawPath"):
            problems.append(f"{name}: method or path disagree with the routeKey")
        if "x-tenant-id" not in event.get("headers", {}):
            problems.append(f"{name}: no dev identity headers")
        covered.add((method, template))
    problems += [f"no event for {method} {path}" for method, path in sorted(routes - covered)]
    return problems


def documented_routes() -> set[tuple[str, str]]:
    spec = yaml.safe_load((ROOT / "docs/openapi.yaml").read_text())
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item
            if method in ("get", "put", "post", "delete", "patch")}


def read_events() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted((ROOT / "events").glob("*.json"))}


def main() -> int:
    compose = yaml.safe_load((ROOT / "localstack-compose.yml").read_text())
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    template = (ROOT / "template.yaml").read_text()
    env = json.loads((ROOT / "env.json").read_text())
    problems = [
        *(f"localstack-compose.yml: {p}" for p in check_compose(compose, function_defaults(ROOT))),
        *(f"ci.yml: {p}" for p in check_workflow(workflow, (ROOT / "README.md").read_text())),
        *(f"tools/deploy-requirements.txt: {p}" for p in check_pins((ROOT / "tools/deploy-requirements.txt").read_text())),
        *(f"samconfig.toml: {p}" for p in check_samconfig(tomllib.loads((ROOT / "samconfig.toml").read_text()), env)),
        *(f"env.json: {p}" for p in check_env_json(env, template_variables(template))),
        *(f"events/{p}" for p in check_events(read_events(), documented_routes())),
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("deploy files: compose, workflow, pins, samconfig, env.json and events/ agree with the project")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
