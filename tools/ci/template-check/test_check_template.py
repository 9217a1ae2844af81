"""The template check passes on template.yaml and catches each kind of drift."""

import copy
import unittest

import check_template


class TemplateCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.template = check_template.load_template(check_template.ROOT / "template.yaml")

    def broken(self, change):
        template = copy.deepcopy(self.template)
        change(template["Resources"])
        return check_template.check(template)

    def test_the_template_as_it_is_passes(self):
        self.assertEqual(check_template.check(self.template), [])

    def test_a_table_key_that_drifts_from_table_json_is_caught(self):
        def drift(resources):
            resources["Table"]["Properties"]["KeySchema"][1]["AttributeName"] = "sort"
        self.assertTrue(any("KeySchema differs" in p for p in self.broken(drift)))

    def test_a_documented_route_without_an_api_event_is_caught(self):
        def drop_route(resources):
            resources["GetOrderFunction"]["Properties"]["Events"].clear()
        self.assertTrue(any("('GET', '/orders/{orderId}') is documented" in p for p in self.broken(drop_route)))

    def test_a_public_business_route_is_caught(self):
        def open_route(resources):
            resources["CreateOrderFunction"]["Properties"]["Events"]["Route"]["Properties"]["Auth"] = {"Authorizer": "NONE"}
        self.assertTrue(any("must not bypass" in p for p in self.broken(open_route)))

    def test_a_function_crate_that_no_function_builds_is_caught(self):
        self.assertIn("functions/src/bin/get-order.rs must be built by exactly one function, not 0 (none)",
                      self.broken(lambda resources: resources.pop("GetOrderFunction")))

    def test_two_functions_building_one_crate_are_caught(self):
        def duplicate(resources):
            resources["SecondGetOrderFunction"] = copy.deepcopy(resources["GetOrderFunction"])
            resources["SecondGetOrderFunction"]["Properties"]["Events"].clear()
        self.assertTrue(any(p.startswith("functions/src/bin/get-order.rs must be built by exactly one function, not 2")
                            for p in self.broken(duplicate)))

    def test_a_new_function_crate_without_a_function_is_caught(self):
        real = check_template.function_crates
        check_template.function_crates = lambda: real() | {"refund-order"}
        try:
            problems = check_template.check(self.template)
        finally:
            check_template.function_crates = real
        self.assertIn("functions/src/bin/refund-order.rs must be built by exactly one function, not 0 (none)", problems)

    def test_a_function_without_its_own_policy_is_caught(self):
        def no_policy(resources):
            resources["VerifyHoldFunction"]["Properties"]["Policies"] = []
        self.assertTrue(any("VerifyHoldFunction has no policy" in p for p in self.broken(no_policy)))

    def test_an_alarm_that_notifies_nobody_is_caught(self):
        def silence(resources):
            resources["CreateOrderErrorsAlarm"]["Properties"].pop("AlarmActions")
        self.assertIn("CreateOrderErrorsAlarm has no AlarmActions on the alarm topic", self.broken(silence))

    def test_an_alarm_topic_under_the_aws_managed_key_is_caught(self):
        def encrypt(resources):
            resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"
        self.assertIn("AlarmTopic uses the AWS-managed SNS key: CloudWatch cannot publish to it", self.broken(encrypt))

    def test_a_missing_degraded_redis_alarm_is_caught(self):
        self.assertTrue(any("seat_locks_degraded_total" in p
                            for p in self.broken(lambda resources: resources.pop("SeatLocksDegradedAlarm"))))

    def test_access_logs_without_the_integration_error_or_at_all_are_caught(self):
        def thin(resources):
            settings = resources["Api"]["Properties"]["AccessLogSettings"]
            settings["Format"] = settings["Format"].replace("$context.integrationErrorMessage", "")
        self.assertIn("the access log lacks $context.integrationErrorMessage", self.broken(thin))
        def unlinked(resources):
            settings = resources["Api"]["Properties"]["AccessLogSettings"]
            settings["Format"] = settings["Format"].replace("$context.awsEndpointRequestId", "")
        self.assertIn("the access log lacks $context.awsEndpointRequestId", self.broken(unlinked))
        none = self.broken(lambda resources: resources["Api"]["Properties"].pop("AccessLogSettings"))
        self.assertIn("the HTTP API writes no access logs", none)

    def test_throttling_not_from_parameters_is_caught(self):
        def fixed(resources):
            resources["Api"]["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] = 10
        self.assertIn("the default route's ThrottlingRateLimit is not set from a parameter", self.broken(fixed))

    def test_a_canary_that_ignores_the_functions_own_alarms_is_caught(self):
        def blind(resources):
            resources["PlaceHoldFunction"]["Properties"]["DeploymentPreference"]["Alarms"].pop()
        self.assertTrue(any(p.startswith("PlaceHoldFunction's deployment does not roll back") for p in self.broken(blind)))
        def none(resources):
            resources["PlaceHoldFunction"]["Properties"].pop("DeploymentPreference")
        self.assertIn("PlaceHoldFunction has no DeploymentPreference", self.broken(none))

    def test_a_function_without_an_alias_is_caught(self):
        template = copy.deepcopy(self.template)
        template["Globals"]["Function"].pop("AutoPublishAlias")
        self.assertIn("GetOrderFunction publishes no alias (AutoPublishAlias)", check_template.check(template))

    def test_a_rollback_alarm_slower_than_the_canary_is_caught(self):
        def slow(resources):
            resources["GetOrderErrorsAlarm"]["Properties"].pop("DatapointsToAlarm")
        self.assertTrue(any(p.startswith("GetOrderErrorsAlarm needs 360 s to fire") for p in self.broken(slow)))

    def test_a_longer_canary_type_among_the_choices_does_not_excuse_the_shortest(self):
        template = copy.deepcopy(self.template)
        template["Parameters"]["DeploymentType"]["Default"] = "Canary10Percent10Minutes"
        template["Resources"]["GetOrderLatencyAlarm"]["Properties"]["DatapointsToAlarm"] = 5
        self.assertTrue(any("GetOrderLatencyAlarm needs" in p for p in check_template.check(template)))

    def test_an_emulator_endpoint_that_would_reach_aws_is_caught(self):
        always = copy.deepcopy(self.template)
        always["Globals"]["Function"]["Environment"]["Variables"]["AWS_ENDPOINT_URL"] = "http://localhost:8000"
        self.assertTrue(any(p.startswith("Globals sets AWS_ENDPOINT_URL") for p in check_template.check(always)))
        by_default = copy.deepcopy(self.template)
        by_default["Parameters"]["DynamoDbEndpoint"]["Default"] = "http://localhost:8000"
        self.assertTrue(any(p.startswith("Globals sets AWS_ENDPOINT_URL") for p in check_template.check(by_default)))


class DashboardCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.template = check_template.load_template(check_template.ROOT / "template.yaml")

    def with_body(self, change):
        template = copy.deepcopy(self.template)
        body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]
        body["Sub"] = change(body["Sub"])
        return check_template.check(template)

    def test_a_recorded_metric_missing_from_the_dashboard_is_caught(self):
        problems = self.with_body(lambda body: body.replace('MetricName=\\"orders_created\\"', 'MetricName=\\"x\\"'))
        self.assertIn("the dashboard does not chart metric orders_created", problems)

    def test_a_function_log_group_the_failing_requests_query_skips_is_caught(self):
        problems = self.with_body(lambda body: body.replace("SOURCE '${GetOrderLogs}' | ", ""))
        self.assertEqual(problems, ["the dashboard's failing-requests query does not read GetOrderLogs (GetOrderFunction)"])

    def test_a_function_without_its_own_log_group_is_caught(self):
        template = copy.deepcopy(self.template)
        template["Resources"]["GetOrderFunction"]["Properties"].pop("LoggingConfig")
        problems = check_template.check(template)
        self.assertIn("GetOrderFunction does not write JSON logs to a log group of its own (LoggingConfig)", problems)

    def test_a_body_that_is_not_json_is_caught(self):
        problems = self.with_body(lambda body: body.rstrip().rstrip("}"))
        self.assertTrue(any("not valid JSON" in p for p in problems), problems)


if __name__ == "__main__":
    unittest.main()
