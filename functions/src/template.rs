//! `template.yaml`'s per-function resources, generated from [`LAMBDAS`].
//!
//! Each function needs the same ~95 lines (the function with its build,
//! canary, log group, policy and API events; its log group; its latency and
//! error alarms) and the dashboard's failing-requests query reads every log
//! group. Written by hand, those drift; generated here, a new function is a
//! line in [`LAMBDAS`]. The test regenerates the text and fails on any
//! difference; `UPDATE_TEMPLATE=1 cargo test -p functions` writes it (the
//! rust-analyzer `sourcegen` pattern: the generated file is committed, so a
//! reviewer reads it and SAM needs no build step).

use std::fmt::Write as _;
use std::path::Path;

use crate::{LAMBDAS, Lambda};

const BEGIN: &str =
    "  # BEGIN functions: generated from functions::LAMBDAS (UPDATE_TEMPLATE=1 cargo test -p functions)\n";
const END: &str = "  # END functions\n";
const QUERY: &str = "\"query\": \"";
const QUERY_REST: &str = "fields @timestamp";

/// `place-hold` → `PlaceHold`: the prefix of its logical ids.
fn logical_id(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut letters = word.chars();
            letters
                .next()
                .map_or_else(String::new, |first| first.to_uppercase().chain(letters).collect())
        })
        .collect()
}

/// `/health` → `Health`: the event name of a public route.
fn event_name(path: &str) -> String {
    logical_id(path.rsplit('/').next().unwrap_or(path))
}

fn function_resources(lambda: &Lambda) -> String {
    let name = lambda.name;
    let id = logical_id(name);
    let description: Vec<String> = lambda
        .routes
        .iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    let mut out = String::new();
    let w = &mut out;
    // Writing to a String cannot fail.
    let _ = write!(
        w,
        r#"  {id}Function:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {name}
    Properties:
      FunctionName: !Sub "${{AWS::StackName}}-{name}"
      Description: "{description}"
      CodeUri: ./
      DeploymentPreference:
        Type: !Ref DeploymentType
        # Errors or slowness during the shift roll the new version back.
        Alarms:
          - !Ref {id}ErrorsAlarm
          - !Ref {id}LatencyAlarm
      LoggingConfig:
        LogGroup: !Ref {id}Logs
        LogFormat: JSON
      Policies:
        - Statement:
"#,
        description = description.join(", ")
    );
    for access in lambda.table_access {
        let _ = writeln!(w, "            - Sid: {}", access.sid);
        if let Some(why) = access.why {
            let _ = writeln!(w, "              # {why}");
        }
        let _ = writeln!(w, "              Effect: Allow\n              Action:");
        for action in access.actions {
            let _ = writeln!(w, "                - dynamodb:{action}");
        }
        let _ = writeln!(
            w,
            "              Resource: !GetAtt Table.Arn\n              Condition:\n                ForAllValues:StringLike:\n                  dynamodb:LeadingKeys:"
        );
        for key in access.keys {
            let _ = writeln!(w, "                    - \"{key}\"");
        }
    }
    let _ = write!(
        w,
        "            - Sid: Readiness
              Effect: Allow
              Action: dynamodb:DescribeTable
              Resource: !GetAtt Table.Arn
      Events:
"
    );
    let numbered = lambda.routes.len() > 1;
    for (index, (method, path)) in lambda.routes.iter().enumerate() {
        let event = if numbered {
            format!("Route{}", index + 1)
        } else {
            "Route".to_owned()
        };
        let _ = write!(
            w,
            "        {event}:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: {method}
            Path: {path}
"
        );
    }
    for (method, path) in lambda.public_routes {
        let _ = write!(
            w,
            "        {event}:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: {method}
            Path: {path}
            Auth:
              Authorizer: NONE
",
            event = event_name(path)
        );
    }
    out.push_str(&monitoring(name, &id));
    out
}

/// Its log group and its latency and errors alarms (the canary's).
fn monitoring(name: &str, id: &str) -> String {
    format!(
        r#"
  {id}Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/aws/lambda/${{AWS::StackName}}-{name}"
      RetentionInDays: !Ref LogRetentionDays

  {id}LatencyAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: "{name}: p95 duration above AlarmP95Milliseconds in 3 of the last 5 minutes."
      AlarmActions: [!Ref AlarmTopic]
      OKActions: [!Ref AlarmTopic]
      Namespace: AWS/Lambda
      MetricName: Duration
      Dimensions:
        - Name: FunctionName
          Value: !Ref {id}Function
      ExtendedStatistic: p95
      Period: 60
      EvaluationPeriods: 5
      DatapointsToAlarm: 3
      Threshold: !Ref AlarmP95Milliseconds
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching

  {id}ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: "{name}: invocations failing (crash, timeout) in 2 of the last 5 minutes."
      AlarmActions: [!Ref AlarmTopic]
      OKActions: [!Ref AlarmTopic]
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: !Ref {id}Function
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 5
      DatapointsToAlarm: 2
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching

"#
    )
}

/// The template with its generated parts replaced: the resources between
/// the BEGIN and END lines, and the log groups the dashboard's query reads.
fn regenerate(template: &str) -> Result<String, String> {
    let begin = template
        .find(BEGIN)
        .ok_or("template.yaml has no BEGIN functions line")?
        + BEGIN.len();
    let end = template[begin..]
        .find(END)
        .ok_or("template.yaml has no END functions line")?
        + begin;
    let resources: String = LAMBDAS.iter().map(function_resources).collect();
    let with_resources = format!("{}{resources}{}", &template[..begin], &template[end..]);

    let query = with_resources.find(QUERY).ok_or("the dashboard has no log query")? + QUERY.len();
    let rest = with_resources[query..]
        .find(QUERY_REST)
        .ok_or("the log query reads no fields")?
        + query;
    let sources = LAMBDAS.iter().fold(String::new(), |mut sources, lambda| {
        let _ = write!(sources, "SOURCE '${{{}Logs}}' | ", logical_id(lambda.name));
        sources
    });
    Ok(format!(
        "{}{sources}{}",
        &with_resources[..query],
        &with_resources[rest..]
    ))
}

#[test]
fn template_yaml_follows_the_route_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let current = std::fs::read_to_string(&path).unwrap();
    let generated = regenerate(&current).unwrap();
    if generated == current {
        return;
    }
    if std::env::var_os("UPDATE_TEMPLATE").is_some() {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let first = current
        .lines()
        .zip(generated.lines())
        .position(|(was, now)| was != now)
        .unwrap_or_else(|| current.lines().count().min(generated.lines().count()));
    panic!(
        "template.yaml differs from what functions::LAMBDAS generates, from line {}:\n  has:  {:?}\n  want: {:?}\n\
         Run `UPDATE_TEMPLATE=1 cargo test -p functions` and commit template.yaml.",
        first + 1,
        current.lines().nth(first).unwrap_or(""),
        generated.lines().nth(first).unwrap_or("")
    );
}

#[test]
fn names_become_logical_ids() {
    assert_eq!(logical_id("place-hold"), "PlaceHold");
    assert_eq!(logical_id("get-order"), "GetOrder");
    assert_eq!(event_name("/health"), "Health");
}

#[test]
fn a_template_without_its_markers_is_refused() {
    assert!(regenerate("Resources:\n").is_err());
}
