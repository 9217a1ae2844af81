"""The checker passes the real files and names each kind of drift."""

import copy
import unittest

import yaml

import check_deploy_files as check

ROOT = check.ROOT
COMPOSE = yaml.safe_load((ROOT / "localstack-compose.yml").read_text())
WORKFLOW = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
README = (ROOT / "README.md").read_text()
DEFAULTS = check.function_defaults(ROOT)


class ComposeTest(unittest.TestCase):
    def problems_after(self, change):
        compose = copy.deepcopy(COMPOSE)
        change(compose["services"])
        return check.check_compose(compose, DEFAULTS)

    def test_the_real_file_passes(self):
        self.assertEqual(check.check_compose(COMPOSE, DEFAULTS), [])

    def test_a_redis_port_other_than_the_functions_default_is_named(self):
        problems = self.problems_after(lambda s: s["redis"].update(ports=["6379:6379"]))
        self.assertTrue(any("REDIS_URL" in p for p in problems), problems)

    def test_localstack_without_the_token_guard_is_named(self):
        problems = self.problems_after(
            lambda s: s["localstack"]["environment"].update(LOCALSTACK_AUTH_TOKEN="${LOCALSTACK_AUTH_TOKEN}")
        )
        self.assertTrue(any("LOCALSTACK_AUTH_TOKEN" in p for p in problems), problems)

    def test_a_health_check_that_is_not_ready_is_named(self):
        problems = self.problems_after(lambda s: s["api"]["healthcheck"].update(test=["CMD", "true"]))
        self.assertTrue(any("/ready" in p for p in problems), problems)

    def test_a_missing_alias_is_named(self):
        problems = self.problems_after(lambda s: s["dynamodb-local"].pop("networks"))
        self.assertTrue(any("alias" in p for p in problems), problems)

    def test_sleeping_is_named(self):
        problems = self.problems_after(lambda s: s["create-table"].update(command=["sh", "-c", "sleep 10; ops create-table"]))
        self.assertTrue(any("sleep" in p for p in problems), problems)


class WorkflowTest(unittest.TestCase):
    def problems_after(self, change):
        workflow = copy.deepcopy(WORKFLOW)
        change(workflow["jobs"])
        return check.check_workflow(workflow, README)

    def test_the_real_file_passes(self):
        self.assertEqual(check.check_workflow(WORKFLOW, README), [])

    def test_stored_keys_are_named(self):
        def use_keys(jobs):
            jobs["deploy"]["steps"].append({"env": {"AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}"}})

        problems = self.problems_after(use_keys)
        self.assertTrue(any("long-lived" in p for p in problems), problems)

    def test_deploy_without_oidc_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["deploy"]["permissions"].pop("id-token"))
        self.assertTrue(any("id-token" in p for p in problems), problems)

    def test_deploy_on_every_branch_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["deploy"].pop("if"))
        self.assertTrue(any("main" in p for p in problems), problems)

    def test_a_deploy_that_does_not_wait_for_the_arm64_build_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["deploy"]["needs"].remove("lambda-arm64"))
        self.assertTrue(any("lambda-arm64" in p for p in problems), problems)

    def test_a_deploy_that_does_not_wait_for_a_gate_job_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["deploy"]["needs"].remove("fuzz"))
        self.assertEqual(problems, ["deploy must need the fuzz job (part of the gate)"])

    def test_the_gate_groups_are_the_test_scripts(self):
        self.assertEqual(check.GATE_GROUPS, ["checks", "contract", "fuzz", "lint", "tests"])

    def test_an_arm64_job_that_builds_nothing_for_arm64_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["lambda-arm64"].update(steps=[{"run": "cargo build"}]))
        self.assertTrue(any("--arm64" in p for p in problems), problems)

    def test_a_gate_group_no_job_runs_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["tests"].update(steps=[{"run": "scripts/test --gate --only tests"}]))
        self.assertEqual(["no job runs the gate's contract group (scripts/test --gate --only contract)"], problems)

    def test_one_job_may_run_the_whole_gate(self):
        def one_job(jobs):
            for name in ("lint", "fuzz", "checks"):
                jobs.pop(name)
                jobs["deploy"]["needs"].remove(name)
            jobs["tests"]["steps"] = [{"run": "scripts/test --gate"}]

        self.assertEqual(self.problems_after(one_job), [])

    def test_a_gate_job_that_can_be_skipped_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["fuzz"].update({"if": "github.event_name == 'push'"}))
        self.assertEqual(problems, ["the fuzz job must run on every pull request and push (no `if:`)"])

    def test_a_gate_step_that_may_fail_quietly_is_named(self):
        def quiet(jobs):
            gate = next(step for step in jobs["lint"]["steps"] if "--gate" in step.get("run", ""))
            gate["continue-on-error"] = True

        problems = self.problems_after(quiet)
        self.assertEqual(problems, ["the gate step of the lint job must fail the run when the gate fails (no continue-on-error)"])

    def test_a_deploy_that_runs_after_a_failed_gate_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["deploy"].update({"if": "always() && " + jobs["deploy"]["if"]}))
        self.assertTrue(any("always()" in p for p in problems), problems)

    def test_a_group_the_gate_does_not_have_is_named(self):
        problems = self.problems_after(lambda jobs: jobs["fuzz"].update(steps=[{"run": "scripts/test --gate --only fuz"}]))
        self.assertIn("the gate has no group named fuz", problems)
        self.assertIn("no job runs the gate's fuzz group (scripts/test --gate --only fuzz)", problems)


class PinsTest(unittest.TestCase):
    def test_unpinned_lines_are_named(self):
        self.assertEqual(check.check_pins("# c\ncargo-lambda==1.9.2\naws-sam-cli>=1\n"), ["unpinned requirement: aws-sam-cli>=1"])


class SamLocalFilesTest(unittest.TestCase):
    def test_the_real_files_pass(self):
        import tomllib, json
        env = json.loads((ROOT / "env.json").read_text())
        self.assertEqual(check.check_samconfig(tomllib.loads((ROOT / "samconfig.toml").read_text()), env), [])
        template = (ROOT / "template.yaml").read_text()
        functions = check.template_functions(template)
        self.assertEqual(len(functions), len(list((ROOT / "functions" / "src" / "bin").glob("*.rs"))))
        self.assertEqual(check.check_env_json(env, check.template_variables(template)), [])
        self.assertEqual(check.check_events(check.read_events(), check.documented_routes()), [])

    def test_a_deploy_that_would_prompt_is_named(self):
        problems = check.check_samconfig({"default": {"deploy": {"parameters": {"confirm_changeset": True}}}})
        self.assertTrue(any("confirm" in p for p in problems), problems)

    def test_a_per_function_entry_or_jwt_is_named(self):
        problems = check.check_env_json({"A": {"AUTH_MODE": "dev"}, "Parameters": {"AUTH_MODE": "jwt"}})
        self.assertEqual(problems, ["A: a per-function entry; env.json is one Parameters block for every function",
                                    "Parameters must set AUTH_MODE=dev"])

    def test_a_variable_the_template_does_not_declare_is_named(self):
        # sam local passes a function only the variables its template declares.
        declared = check.template_variables((ROOT / "template.yaml").read_text())
        self.assertIn("AWS_ENDPOINT_URL", declared["PlaceHoldFunction"])
        declared["PlaceHoldFunction"].discard("AWS_ENDPOINT_URL")
        problems = check.check_env_json({"Parameters": {"AUTH_MODE": "dev", "AWS_ENDPOINT_URL": "http://x:8000"}},
                                        declared)
        self.assertEqual(problems, ["Parameters: AWS_ENDPOINT_URL is not declared in template.yaml for every "
                                    "function, so sam local drops it"])

    def test_host_docker_internal_without_a_host_mapping_is_named(self):
        import tomllib
        config = tomllib.loads((ROOT / "samconfig.toml").read_text())
        config["default"]["local_start_api"]["parameters"].pop("add_host")
        problems = check.check_samconfig(config, {"F": {"REDIS_URL": "redis://host.docker.internal:6380"}})
        self.assertEqual(len(problems), 1)
        self.assertTrue(problems[0].startswith("sam local start api must map host.docker.internal"), problems)
        self.assertEqual(check.check_samconfig(config, {"F": {"REDIS_URL": "redis://10.0.0.5:6380"}}), [])

    def test_a_route_without_an_event_and_a_path_that_disagrees_are_named(self):
        events = check.read_events()
        events["get-order.json"] = dict(events["get-order.json"], rawPath="/holds/x")
        events.pop("health.json")
        problems = check.check_events(events, check.documented_routes())
        self.assertIn("get-order.json: method or path disagree with the routeKey", problems)
        self.assertIn("no event for GET /health", problems)


if __name__ == "__main__":
    unittest.main()
