#!/usr/bin/env python3
"""template.yaml against the project's single sources of truth.

- The DynamoDB table equals infra/dynamodb-store/table.json (keys,
  attributes, billing mode, TTL attribute): the table is defined once.
- Every route in docs/openapi.yaml is an HttpApi event of exactly one
  function; /health and /ready carry no authorizer; every other route uses
  the default JWT authorizer.
- Every function builds a Lambda binary of the functions package
  (functions/src/bin/<name>.rs, one per entry of `functions::LAMBDAS`) and
  has its own policy statements (least privilege per function); every
  binary is built by exactly one function (a new binary without its
  function, or two functions building one binary, is caught).
- The operations dashboard is valid JSON once substituted and charts every
  metric the code records (functions/http-interface/src/request_telemetry.rs);
  every function writes JSON logs to a log group of its own, and the
  dashboard's failing-requests query reads every one of them.
- Operability (ADR 16): every alarm notifies the alarm topic when it fires
  and clears; the HTTP API writes JSON access logs with the fields an
  operator needs and throttles its default route by parameters; every
  function publishes the alias `live` and shifts traffic to a new version
  with a DeploymentPreference whose alarms include its own error and
  latency alarms, each able to fire while the canary is still at 10 %
  (breaching minutes plus a minute of metric delay within the shortest
  canary wait DeploymentType allows); Redis staying degraded has an alarm.
- AWS_ENDPOINT_URL, declared for `sam local` (env.json), is absent in AWS
  unless a parameter names an endpoint: `!If` on a condition that is false
  with the parameters' defaults, else `AWS::NoValue`.

Usage: check_template.py [TEMPLATE]   Exit 1 with one line per problem.
"""

import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
PUBLIC = {("GET", "/health"), ("GET", "/ready")}


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short tags (!Ref, !Sub, …) as plain values."""


def _short_tag(loader, tag, node):
    if isinstance(node, yaml.ScalarNode):
        return {tag: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        # Deep: nested short tags (!Not [!Equals [...]]) are built at once.
        return {tag: loader.construct_sequence(node, deep=True)}
    return {tag: loader.construct_mapping(node, deep=True)}


CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CfnLoader)


def function_crates():
    """The Lambda functions: one binary per file under functions/src/bin/."""
    return {p.stem for p in (ROOT / "functions" / "src" / "bin").glob("*.rs")}


def documented_routes():
    spec = yaml.safe_load((ROOT / "docs/openapi.yaml").read_text(encoding="utf-8"))
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item
            if method in ("get", "put", "post", "delete", "patch")}


def recorded_metrics():
    source = (ROOT / "functions/http-interface/src/request_telemetry.rs").read_text(encoding="utf-8")
    block = source[source.index("pub mod metric {"):]
    block = block[: block.index("\n}")]
    return set(re.findall(r'pub const \w+: &str = "([a-z_]+)";', block))


def check_dashboard(resources):
    dashboards = [r for r in resources.values() if r.get("Type") == "AWS::CloudWatch::Dashboard"]
    if len(dashboards) != 1:
        return [f"expected one CloudWatch dashboard, found {len(dashboards)}"]
    body = dashboards[0].get("Properties", {}).get("DashboardBody", {})
    body = body.get("Sub", body) if isinstance(body, dict) else body
    if not isinstance(body, str):
        return ["the dashboard body must be a !Sub string"]
    try:
        json.loads(re.sub(r"\$\{[^}]+\}", "X", body))
    except json.JSONDecodeError as error:
        return [f"the dashboard body is not valid JSON: {error}"]
    problems = [f"the dashboard does not chart metric {name}" for name in sorted(recorded_metrics())
                if f'MetricName=\\"{name}\\"' not in body]
    for name, resource in sorted(resources.items()):
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        logging = resource.get("Properties", {}).get("LoggingConfig", {})
        group = logging.get("LogGroup", {}).get("Ref") if isinstance(logging.get("LogGroup"), dict) else None
        if group not in resources or resources[group].get("Type") != "AWS::Logs::LogGroup" or logging.get("LogFormat") != "JSON":
            problems.append(f"{name} does not write JSON logs to a log group of its own (LoggingConfig)")
        elif f"SOURCE '${{{group}}}'" not in body:
            problems.append(f"the dashboard's failing-requests query does not read {group} ({name})")
    return problems


def check(template):
    problems = []
    resources = template.get("Resources", {})
    problems.extend(check_dashboard(resources))

    definition = json.loads((ROOT / "infra/dynamodb-store/table.json").read_text(encoding="utf-8"))
    tables = [r for r in resources.values() if r.get("Type") == "AWS::DynamoDB::Table"]
    if len(tables) != 1:
        problems.append(f"expected exactly one DynamoDB table, found {len(tables)}")
    for table in tables:
        props = table.get("Properties", {})
        for key in ("AttributeDefinitions", "KeySchema", "BillingMode"):
            if props.get(key) != definition[key]:
                problems.append(f"table {key} differs from table.json: {props.get(key)!r} != {definition[key]!r}")
        ttl = props.get("TimeToLiveSpecification", {})
        if ttl.get("AttributeName") != definition["TimeToLiveAttribute"] or ttl.get("Enabled") is not True:
            problems.append("table TTL differs from table.json")

    crates = function_crates()
    routed = {}
    built_by = {crate: [] for crate in crates}
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if resource.get("Metadata", {}).get("BuildMethod") != "rust-cargolambda" or binary not in crates:
            problems.append(f"{name} does not build a Lambda binary of the functions package with cargo-lambda (Binary {binary!r})")
        else:
            built_by[binary].append(name)
        if not resource.get("Properties", {}).get("Policies"):
            problems.append(f"{name} has no policy of its own")
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties", {})
            route = (props.get("Method", "").upper(), props.get("Path"))
            if route in routed:
                problems.append(f"{route} is routed to both {routed[route]} and {name}")
            routed[route] = name
            public = props.get("Auth", {}).get("Authorizer") == "NONE"
            if public != (route in PUBLIC):
                problems.append(f"{route} must {'not ' if route not in PUBLIC else ''}bypass the JWT authorizer")
    for crate, functions in sorted(built_by.items()):
        if len(functions) != 1:
            problems.append(f"functions/src/bin/{crate}.rs must be built by exactly one function, "
                            f"not {len(functions)} ({', '.join(functions) or 'none'})")
    problems += check_operability(resources, template.get("Globals", {}))
    problems += check_canary_window(template)
    problems += check_endpoint_override(template)
    for route in sorted(documented_routes() - set(routed)):
        problems.append(f"{route} is documented but has no API event")
    for route in sorted(set(routed) - documented_routes()):
        problems.append(f"{route} has an API event but is not documented")
    return problems


# requestId is the correlation id of a request that brought none;
# awsEndpointRequestId is the Lambda invocation's id (the function lines' requestId).
ACCESS_LOG_FIELDS = ("$context.requestId", "$context.routeKey", "$context.status",
                     "$context.responseLatency", "$context.integrationLatency",
                     "$context.integrationErrorMessage", "$context.awsEndpointRequestId",
                     "$context.identity.sourceIp")


def refs(value):
    """The resource names in a list of !Ref values."""
    return {item.get("Ref") for item in value or [] if isinstance(item, dict)}


def check_operability(resources, globals_):
    problems = []
    topics = {name for name, r in resources.items() if r.get("Type") == "AWS::SNS::Topic"}
    alarms = {name: r.get("Properties", {}) for name, r in resources.items() if r.get("Type") == "AWS::CloudWatch::Alarm"}
    for name, props in alarms.items():
        for key in ("AlarmActions", "OKActions"):
            if not refs(props.get(key)) & topics:
                problems.append(f"{name} has no {key} on the alarm topic")
    for topic in topics:
        if "alias/aws/sns" in str(resources[topic].get("Properties", {}).get("KmsMasterKeyId", "")):
            problems.append(f"{topic} uses the AWS-managed SNS key: CloudWatch cannot publish to it")
    if not any("seat_locks_degraded_total" in str(props) for props in alarms.values()):
        problems.append("no alarm on seat_locks_degraded_total (Redis degraded is silent otherwise)")

    apis = [r.get("Properties", {}) for r in resources.values() if r.get("Type") == "AWS::Serverless::HttpApi"]
    for api in apis:
        log = api.get("AccessLogSettings", {})
        if not log.get("DestinationArn"):
            problems.append("the HTTP API writes no access logs")
        else:
            try:
                fields = json.loads(str(log.get("Format", ""))).values()
            except ValueError:
                fields = None
                problems.append("the access log format is not one JSON object")
            for field in ACCESS_LOG_FIELDS if fields is not None else ():
                if field not in fields:
                    problems.append(f"the access log lacks {field}")
        route = api.get("DefaultRouteSettings", {})
        for key in ("ThrottlingBurstLimit", "ThrottlingRateLimit"):
            if not isinstance(route.get(key), dict) or "Ref" not in route[key]:
                problems.append(f"the default route's {key} is not set from a parameter")

    global_alias = globals_.get("Function", {}).get("AutoPublishAlias")
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        if not (props.get("AutoPublishAlias") or global_alias):
            problems.append(f"{name} publishes no alias (AutoPublishAlias)")
        preference = props.get("DeploymentPreference") or globals_.get("Function", {}).get("DeploymentPreference")
        if not preference:
            problems.append(f"{name} has no DeploymentPreference")
            continue
        own = {alarm for alarm, a in alarms.items()
               if any(d.get("Value", {}).get("Ref") == name for d in a.get("Dimensions", []) if isinstance(d.get("Value"), dict))}
        missing = own - refs(preference.get("Alarms"))
        if not own or missing:
            problems.append(f"{name}'s deployment does not roll back on its own alarms {sorted(missing) or '(none found)'}")
    return problems


def _intrinsic(value, name):
    """The argument of intrinsic `name` (short tag or Fn:: form), else None."""
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key in (name, f"Fn::{name}"):
            return value[key]
    return None


def canary_wait_seconds(deployment_type):
    """How long a deployment of this type keeps the old version serving: the
    canary's wait, or a linear shift's time to 100 %; None for AllAtOnce."""
    canary = re.fullmatch(r"Canary10Percent(\d+)Minutes?", deployment_type)
    if canary:
        return int(canary.group(1)) * 60
    linear = re.fullmatch(r"Linear10PercentEvery(\d+)Minutes?", deployment_type)
    if linear:
        return int(linear.group(1)) * 60 * 9
    return None


def check_canary_window(template):
    """A rollback alarm that needs more breaching minutes than the canary
    lasts fires after the new version already has all the traffic."""
    problems = []
    resources = template.get("Resources", {})
    parameters = template.get("Parameters", {})
    globals_ = template.get("Globals", {}).get("Function", {})
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        preference = resource.get("Properties", {}).get("DeploymentPreference") or globals_.get("DeploymentPreference")
        if not preference:
            continue
        kinds = [preference.get("Type")]
        parameter = parameters.get(_intrinsic(kinds[0], "Ref"))
        if parameter is not None:
            # Every type an operator may choose, not only the default.
            kinds = parameter.get("AllowedValues") or [parameter.get("Default")]
        waits = [w for w in (canary_wait_seconds(str(k)) for k in kinds) if w is not None]
        if not waits:
            continue
        for alarm in sorted(refs(preference.get("Alarms"))):
            props = resources.get(alarm, {}).get("Properties", {})
            points = props.get("DatapointsToAlarm", props.get("EvaluationPeriods", 1))
            needed = int(points) * int(props.get("Period", 60)) + 60
            if needed > min(waits):
                problems.append(f"{alarm} needs {needed} s to fire ({points} breaching periods and a minute of metric "
                                f"delay), longer than the {min(waits)} s canary of {name}: it cannot roll back")
    return problems


def condition_holds(name, template, seen=()):
    """Evaluates condition `name` with every parameter at its default."""
    parameters = template.get("Parameters", {})

    def value(node):
        ref = _intrinsic(node, "Ref")
        if ref is not None:
            return str(parameters.get(ref, {}).get("Default", f"<{ref}>"))
        return evaluate(node) if isinstance(node, dict) else str(node)

    def evaluate(node):
        if (args := _intrinsic(node, "Equals")) is not None:
            return value(args[0]) == value(args[1])
        if (args := _intrinsic(node, "Not")) is not None:
            return not evaluate(args[0])
        if (args := _intrinsic(node, "And")) is not None:
            return all(evaluate(a) for a in args)
        if (args := _intrinsic(node, "Or")) is not None:
            return any(evaluate(a) for a in args)
        if (other := _intrinsic(node, "Condition")) is not None and other not in seen:
            return condition_holds(other, template, (*seen, name))
        raise ValueError(f"cannot evaluate {node!r}")

    return evaluate(template.get("Conditions", {}).get(name))


def check_endpoint_override(template):
    """An emulator endpoint must never reach AWS by default."""
    problems = []
    environments = {"Globals": template.get("Globals", {}).get("Function", {})}
    environments.update({name: r.get("Properties", {}) for name, r in template.get("Resources", {}).items()
                         if r.get("Type") == "AWS::Serverless::Function"})
    for owner, props in environments.items():
        variables = props.get("Environment", {}).get("Variables", {})
        if "AWS_ENDPOINT_URL" not in variables:
            continue
        branches = _intrinsic(variables["AWS_ENDPOINT_URL"], "If")
        try:
            absent = bool(branches) and _intrinsic(branches[2], "Ref") == "AWS::NoValue" \
                and not condition_holds(branches[0], template)
        except ValueError:
            absent = False
        if not absent:
            problems.append(f"{owner} sets AWS_ENDPOINT_URL in AWS by default; make it "
                            "!If [<condition false by default>, ..., !Ref AWS::NoValue]")
    return problems


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else ROOT / "template.yaml"
    problems = check(load_template(path))
    for problem in problems:
        print(f"template: {problem}")
    if not problems:
        print("template matches table.json, docs/openapi.yaml and the Lambda binaries")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
