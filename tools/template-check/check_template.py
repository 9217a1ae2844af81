#!/usr/bin/env python3
"""template.yaml against the project's single sources of truth.

- The DynamoDB table equals infra/dynamodb-store/table.json (keys,
  attributes, billing mode, TTL attribute): the table is defined once.
- Every route in docs/openapi.yaml is an HttpApi event of exactly one
  function; /health and /ready carry no authorizer; every other route uses
  the default JWT authorizer.
- Every function builds a crate that exists under functions/ and has its
  own policy statements (least privilege per function).
- The operations dashboard is valid JSON once substituted and charts every
  metric the code records (shared/http-interface/src/request_telemetry.rs).
- Operability (ADR 16): every alarm notifies the alarm topic when it fires
  and clears; the HTTP API writes JSON access logs with the fields an
  operator needs and throttles its default route by parameters; every
  function publishes the alias `live` and shifts traffic to a new version
  with a DeploymentPreference whose alarms include its own error and
  latency alarms; Redis staying degraded has an alarm.

Usage: check_template.py [TEMPLATE]   Exit 1 with one line per problem.
"""

import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
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


def documented_routes():
    spec = yaml.safe_load((ROOT / "docs/openapi.yaml").read_text(encoding="utf-8"))
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item
            if method in ("get", "put", "post", "delete", "patch")}


def recorded_metrics():
    source = (ROOT / "shared/http-interface/src/request_telemetry.rs").read_text(encoding="utf-8")
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
    return [f"the dashboard does not chart metric {name}" for name in sorted(recorded_metrics())
            if f'MetricName=\\"{name}\\"' not in body]


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

    crates = {p.parent.name for p in (ROOT / "functions").glob("*/Cargo.toml")}
    routed = {}
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if resource.get("Metadata", {}).get("BuildMethod") != "rust-cargolambda" or binary not in crates:
            problems.append(f"{name} does not build a function crate with cargo-lambda (Binary {binary!r})")
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
    problems += check_operability(resources, template.get("Globals", {}))
    for route in sorted(documented_routes() - set(routed)):
        problems.append(f"{route} is documented but has no API event")
    for route in sorted(set(routed) - documented_routes()):
        problems.append(f"{route} has an API event but is not documented")
    return problems


ACCESS_LOG_FIELDS = ("$context.requestId", "$context.routeKey", "$context.status",
                     "$context.responseLatency", "$context.integrationErrorMessage")


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


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else ROOT / "template.yaml"
    problems = check(load_template(path))
    for problem in problems:
        print(f"template: {problem}")
    if not problems:
        print("template matches table.json, docs/openapi.yaml and the function crates")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
