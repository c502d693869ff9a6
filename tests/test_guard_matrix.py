"""The case matrix, run through all three front ends: the policy core, the CLI and the cdk-nag pack.

GIVEN a named template from ``guard_cases.CASES``
WHEN  the core, the CLI (``python -m constructs_lib.guard``) and the AdminPortGuard pack check it
THEN  each reports exactly the expected (rule, port) findings; the CLI in every format (JUnit XML valid
      against its schema, GitLab code quality), and a baseline of the case passes it unless a finding is
      one no baseline may accept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.guard.__main__ import main as guard_main
from constructs_lib.policy import check_paths
from guard_cases import BROAD, CASES, MALFORMED_TEMPLATE, WORLD, Case
from test_cli_formats import JUNIT_SCHEMA

CASE_IDS = [case.name for case in CASES]


def _core_findings(findings) -> frozenset:
    return frozenset((finding.rule_id, finding.port) for finding in findings)


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("cases")
    for case in CASES:
        (directory / f"{case.name}.json").write_text(json.dumps(case.template()))
    return directory


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_policy_core(case: Case, template_dir: Path) -> None:
    findings = check_paths([template_dir / f"{case.name}.json"])
    assert _core_findings(findings) == case.expected, [f.message for f in findings]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cli(case: Case, template_dir: Path, tmp_path: Path, capsys) -> None:
    report = tmp_path / "report.json"
    status = guard_main([str(template_dir / f"{case.name}.json"), "--format", "json", "--output", str(report)])
    records = json.loads(report.read_text())["findings"]
    assert status == (1 if case.expected else 0)
    assert frozenset((r["rule"], r["port"]) for r in records) == case.expected
    text = capsys.readouterr().out
    assert text.count("ERROR ") == len(records)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cli_formats_and_baseline(case: Case, template_dir: Path, tmp_path: Path) -> None:
    from xml.etree import ElementTree

    template = str(template_dir / f"{case.name}.json")
    guard_main([template, "--format", "json", "--output", str(tmp_path / "r.json")])
    records = json.loads((tmp_path / "r.json").read_text())["findings"]
    guard_main([template, "--format", "junit", "--output", str(tmp_path / "r.xml")])
    junit = (tmp_path / "r.xml").read_text()
    JUNIT_SCHEMA.validate(junit)
    failures = [(case.find("failure").get("type"), case.get("name")) for case in ElementTree.fromstring(junit).iter("testcase") if case.find("failure") is not None]
    assert sorted(failures) == sorted((r["rule"], f"{r['ruleName']} {r['logicalId']}") for r in records)
    guard_main([template, "--format", "gitlab", "--output", str(tmp_path / "r.gitlab")])
    issues = json.loads((tmp_path / "r.gitlab").read_text())
    assert len(issues) == len(records) and {issue["check_name"] for issue in issues} == {
        f"{rule}[{port}]" if rule in (WORLD, BROAD) else rule for rule, port in case.expected}
    unacceptable = any(rule == MALFORMED_TEMPLATE for rule, _ in case.expected)
    assert guard_main([template, "--create-baseline", str(tmp_path / "b.json")]) == (1 if unacceptable else 0)
    assert guard_main([template, "--baseline", str(tmp_path / "b.json")]) == (1 if unacceptable else 0)


# --- the pack: every case becomes one stack of a single CDK app, synthesized once ------------------

PACK_CASES = [case for case in CASES if case.synthesizable and not any(key.startswith("Fn::") for key in case.resources)]


def _expected_from_pack_view(case: Case) -> frozenset:
    """The plugin reports the port only in the names of per-port rules (``...[22]``)."""
    return frozenset((rule, port if rule in (WORLD, BROAD) else None) for rule, port in case.expected)


@pytest.fixture(scope="module")
def pack_report(tmp_path_factory) -> dict:
    import aws_cdk as cdk

    from constructs_lib.plugin import add_admin_port_guard

    outdir = tmp_path_factory.mktemp("pack-cdk-out")
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    for case in PACK_CASES:
        _case_stack(app, case)
    add_admin_port_guard(app)
    app.synth()
    report = json.loads((outdir / "validation-report.json").read_text())
    return next(p for p in report["pluginReports"] if p["pluginName"] == "AdminPortGuard")


def _case_stack(app, case: Case):
    """The case's template as a CDK stack: parameters, mappings and conditions as CDK constructs, resources as
    ``CfnResource`` with their raw properties."""
    import aws_cdk as cdk

    stack = cdk.Stack(app, case.name)
    body = case.template()
    for name, spec in body["Parameters"].items():
        parameter = cdk.CfnParameter(stack, name, **{_snake(k): v for k, v in spec.items()})
        parameter.override_logical_id(name)
    for name, mapping in case.mappings.items():
        cdk.CfnMapping(stack, name, mapping=mapping).override_logical_id(name)
    for name, expression in body["Conditions"].items():
        condition = cdk.CfnCondition(stack, name, expression=_condition(stack, expression))
        condition.override_logical_id(name)
    for logical_id, resource in case.resources.items():
        construct = cdk.CfnResource(stack, logical_id, type=resource["Type"], properties=resource.get("Properties"))
        construct.override_logical_id(logical_id)
        if "Condition" in resource:
            construct.cfn_options.condition = stack.node.find_child(resource["Condition"])
    return stack


def _condition(stack, node):
    """A CloudFormation condition expression (JSON) as a CDK condition expression."""
    import aws_cdk as cdk

    (function, argument), = node.items()
    if function == "Fn::Equals":
        left, right = (stack.node.find_child(v["Ref"]).value_as_string if isinstance(v, dict) else v for v in argument)
        return cdk.Fn.condition_equals(left, right)
    if function == "Fn::Not":
        return cdk.Fn.condition_not(_condition(stack, argument[0]))
    if function in ("Fn::And", "Fn::Or"):
        parts = [_condition(stack, item) for item in argument]
        return cdk.Fn.condition_and(*parts) if function == "Fn::And" else cdk.Fn.condition_or(*parts)
    if function == "Condition":
        return stack.node.find_child(argument)
    raise ValueError(f"unsupported condition {node}")


def _snake(key: str) -> str:
    return {"Type": "type", "Default": "default", "AllowedValues": "allowed_values"}[key]


@pytest.mark.parametrize("case", PACK_CASES, ids=[case.name for case in PACK_CASES])
def test_pack(case: Case, pack_report: dict) -> None:
    seen = set()
    for violation in pack_report["violations"]:
        for construct in violation["violatingConstructs"]:
            if construct["constructPath"].split("/")[0] == case.name:
                name = violation["ruleName"].removeprefix("AdminPortGuard-")
                rule, _, port = name.partition("[")
                seen.add((rule, int(port.rstrip("]")) if port else None))
    assert frozenset(seen) == _expected_from_pack_view(case)
    assert pack_report["conclusion"] == "failure"  # the matrix holds violations, so the pack must fail
