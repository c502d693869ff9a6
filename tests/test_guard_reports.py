"""Reports and acknowledgements: JSON, text, and acknowledged findings (SARIF: tests/test_sarif.py).

GIVEN a real cloud assembly synthesized with the pack, where one finding is acknowledged
WHEN  the CLI reads it
THEN  the acknowledged finding stays visible with its reason, and only the others fail the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from constructs_lib import acknowledge_admin_port_finding, add_admin_port_guard
from constructs_lib.guard.__main__ import main as guard_main
from constructs_lib.policy import Rule

REASON = "lab host for the scan demo; torn down nightly (ticket SEC-42)"


def _open_group(stack: cdk.Stack, construct_id: str, *ports: int) -> ec2.CfnSecurityGroup:
    rules = [ec2.CfnSecurityGroup.IngressProperty(ip_protocol="tcp", from_port=p, to_port=p, cidr_ip="0.0.0.0/0") for p in ports]
    return ec2.CfnSecurityGroup(stack, construct_id, group_description="open", vpc_id="vpc-0123456789abcdef0", security_group_ingress=rules)


@pytest.fixture(scope="module")
def assembly(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("acknowledged")
    app = cdk.App(outdir=str(outdir), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    stack = cdk.Stack(app, "Lab")
    acknowledged = _open_group(stack, "Demo", 22, 3389)
    acknowledge_admin_port_finding(acknowledged, Rule.WORLD_OPEN_ADMIN_PORT, REASON, port=22)
    add_admin_port_guard(app)
    app.synth()
    return outdir


def test_acknowledged_finding_is_reported_with_its_reason_and_the_other_port_still_fails(assembly, capsys):
    report = json.loads((assembly / "validation-report.json").read_text())
    guard = next(p for p in report["pluginReports"] if p["pluginName"] == "AdminPortGuard")
    assert [v["ruleName"] for v in guard["violations"]] == ["AdminPortGuard-WorldOpenAdminPort[3389]"]
    assert [(s["ruleName"], s["reason"]) for s in guard["suppressedViolations"]] == [
        ("AdminPortGuard-WorldOpenAdminPort[22]", REASON)
    ]
    # The CLI agrees: RDP fails the run, SSH is listed as acknowledged with the reason, both in the group's one block
    assert guard_main([str(assembly)]) == 1
    lines = capsys.readouterr().out.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("Lab Demo ("))
    assert lines[header].endswith(":") and "Lab.template.json:" in lines[header] and "[Lab/Demo]" in lines[header]
    block = lines[header + 1:header + 3]
    assert any(line.startswith(f"  ACKNOWLEDGED ({REASON}) AdminPortGuard-WorldOpenAdminPort[22]") for line in block)
    assert any(line.startswith("  ERROR AdminPortGuard-WorldOpenAdminPort[3389]") for line in block)
    assert lines[header + 3].startswith("  Fix: ") and not lines[header + 4].startswith("  Fix: ")  # the fix once


def test_an_acknowledgement_covers_its_construct_not_the_same_finding_on_another(tmp_path):
    # GIVEN two groups with SSH open to the world, one of them acknowledged (aws-cdk-lib before 2.271.0
    # applied an acknowledgement to every construct of the app: `make compat` holds the floor there)
    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    stack = cdk.Stack(app, "Lab")
    acknowledge_admin_port_finding(_open_group(stack, "Acknowledged", 22), Rule.WORLD_OPEN_ADMIN_PORT, REASON, port=22)
    _open_group(stack, "Other", 22)
    add_admin_port_guard(app)
    app.synth()
    # THEN only the acknowledged group's finding is suppressed; the other one's still fails
    guard = next(p for p in json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"] if p["pluginName"] == "AdminPortGuard")
    paths = {kind: [(v["ruleName"], c["constructPath"]) for v in guard[kind] for c in v["violatingConstructs"]]
             for kind in ("violations", "suppressedViolations")}
    assert paths == {"violations": [("AdminPortGuard-WorldOpenAdminPort[22]", "Lab/Other")],
                     "suppressedViolations": [("AdminPortGuard-WorldOpenAdminPort[22]", "Lab/Acknowledged")]}


def test_json_report_lists_every_finding_with_its_fields(assembly, tmp_path):
    output = tmp_path / "guard.json"
    guard_main([str(assembly), "--format", "json", "--output", str(output)])
    document = json.loads(output.read_text())
    assert document["summary"] == {"findings": 1, "acknowledged": 1, "passed": False}
    by_port = {record["port"]: record for record in document["findings"]}
    assert by_port[22]["acknowledged"] and by_port[22]["acknowledgementReason"] == REASON
    assert by_port[3389]["constructPath"] == "Lab/Demo" and by_port[3389]["sources"] == ["0.0.0.0/0"]
    assert by_port[3389]["fix"] == Rule.WORLD_OPEN_ADMIN_PORT.fix


@pytest.mark.parametrize(
    ("rule", "reason", "port", "message"),
    [
        (Rule.WORLD_OPEN_ADMIN_PORT, "", 22, "specific reason"),
        (Rule.WORLD_OPEN_ADMIN_PORT, "   ok   ", 22, "specific reason"),
        (Rule.WORLD_OPEN_ADMIN_PORT, REASON, None, "needs the port"),
        (Rule.UNVERIFIABLE_INGRESS, REASON, 22, "without a port"),
        (Rule.VALIDATION_FAILED, REASON, None, "cannot be acknowledged"),
    ],
)
def test_acknowledgement_helper_refuses_vague_or_wrong_acknowledgements(rule, reason, port, message):
    stack = cdk.Stack(cdk.App(), "Refused")
    with pytest.raises(ValueError, match=message):
        acknowledge_admin_port_finding(stack, rule, reason, port=port)


def test_admin_ports_option_replaces_the_set(tmp_path, capsys):
    template = tmp_path / "t.json"
    rules = [{"IpProtocol": "tcp", "FromPort": p, "ToPort": p, "CidrIp": "0.0.0.0/0"} for p in (22, 8443)]
    template.write_text(json.dumps({"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": rules}}}}))
    assert guard_main([str(template), "--admin-ports", "8443"]) == 1
    out = capsys.readouterr().out
    assert "WorldOpenAdminPort[8443]" in out and "WorldOpenAdminPort[22]" not in out
    with pytest.raises(SystemExit) as usage:
        guard_main([str(template), "--admin-ports", "22,ssh"])
    assert usage.value.code == 2
    with pytest.raises(ValueError, match="not a TCP port"):
        add_admin_port_guard(cdk.App(), admin_ports=[22, 70000])


def test_an_assembly_is_judged_under_the_policy_it_recorded_from_any_folder(assembly, tmp_path, monkeypatch, capsys):
    # GIVEN the assembly synthesized under the default policy, and folders that declare another one or none
    recorded = json.loads((assembly / "admin-port-guard-report.json").read_text())["policy"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "python app.py", "context": {"admin-port-guard": {"adminPorts": [22]}}}))
    verdicts = []
    for folder in (tmp_path, elsewhere):
        monkeypatch.chdir(folder)
        status = guard_main([str(assembly), "--format", "json", "--output", str(tmp_path / "r.json")])
        document = json.loads((tmp_path / "r.json").read_text())
        verdicts.append((status, [r["ruleName"] for r in document["findings"]], document["policy"]))
        assert document["policyOrigin"].startswith(f"recorded in {assembly / 'admin-port-guard-report.json'}")
    # THEN the verdict is the same in both, under the recorded policy (RDP is judged, though ./cdk.json says SSH only)
    assert verdicts[0] == verdicts[1] == (1, ["AdminPortGuard-WorldOpenAdminPort[22]", "AdminPortGuard-WorldOpenAdminPort[3389]"], recorded)
    # AND the differing declaration is named, not silently used or ignored
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    guard_main([str(assembly)])
    out, err = capsys.readouterr()
    assert f"note: {tmp_path / 'cdk.json'} (context admin-port-guard) declares" in err and "judging it under the recorded one" in err
    assert f"Policy: recorded in {assembly / 'admin-port-guard-report.json'} (defaults)" in out
    # AND flags asking for another policy are a mismatch, reported as an error
    assert guard_main([str(assembly), "--admin-ports", "22"]) == 2
    assert "A cloud assembly is judged under the policy it was synthesized with" in capsys.readouterr().err
    assert guard_main([str(assembly), "--admin-ports", "default"]) == 1  # the same policy, spelled as a profile


def test_junit_and_gitlab_reports_of_an_assembly_name_its_stacks_and_skip_acknowledged_findings(assembly, tmp_path):
    from xml.etree import ElementTree

    from test_cli_formats import JUNIT_SCHEMA

    assert guard_main([str(assembly), "--format", "junit", "--output", str(tmp_path / "r.xml")]) == 1
    text = (tmp_path / "r.xml").read_text()
    JUNIT_SCHEMA.validate(text)
    (suite,) = ElementTree.fromstring(text).findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert suite.get("name") == "Lab" and set(cases) == {"AdminPortGuard-WorldOpenAdminPort[22] Demo", "AdminPortGuard-WorldOpenAdminPort[3389] Demo"}
    assert cases["AdminPortGuard-WorldOpenAdminPort[22] Demo"].find("skipped").get("message") == f"acknowledged: {REASON}"
    assert cases["AdminPortGuard-WorldOpenAdminPort[3389] Demo"].find("failure").text.startswith(f"{assembly / 'Lab.template.json'}:")
    assert guard_main([str(assembly), "--format", "gitlab", "--output", str(tmp_path / "r.gitlab")]) == 1
    (issue,) = json.loads((tmp_path / "r.gitlab").read_text())
    assert issue["check_name"] == "WorldOpenAdminPort[3389]" and issue["location"]["path"].endswith("Lab.template.json")
