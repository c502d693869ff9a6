"""Fail closed: no acknowledgement, crash, broken template or misuse turns into a pass.

GIVEN each broken input of issue 9 (and a cloud assembly whose report hides a crash)
WHEN  the guard CLI checks it, as a separate process
THEN  it exits 1 (a finding) or 2 (unreadable input) naming the file and the place (the text report's
      block: its first line) and what is wrong, and never prints a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORLD_SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}


def block(place: str, message: str) -> str:
    """The text report's block for a malformed place: the file, line and resource, then the finding."""
    return f"{place}:\n  ERROR AdminPortGuard-MalformedTemplate: {message}"


BROKEN = [
    # (name, file name, text, exit status, what the output must say)
    ("resource-not-a-mapping", "t.json", '{"Resources": {"S": "x"}}', 1, block("t.json:1: S", "the resource is a string 'x', not a mapping")),
    ("resources-not-a-mapping", "t.json", '{"Resources": ["S"]}', 1, block("t.json:1: Resources", "Resources is a list, not a mapping")),
    ("no-type", "t.json", '{"Resources": {"S": {"Properties": {}}}}', 1, block("t.json:1: S", "the resource has no Type")),
    ("type-mapping", "t.json", '{"Resources": {"S": {"Type": {"a": 1}}}}', 1, block("t.json:1: S", "Resources.S.Type: Type is a mapping, not a resource type name")),
    ("type-list", "t.json", '{"Resources": {"S": {"Type": ["AWS::EC2::SecurityGroup"]}}}', 1, "Type is a list, not a resource type name"),
    ("type-under-unknown-tag", "t.yaml", "Resources:\n  S:\n    Type: !Foo AWS::EC2::SecurityGroup\n", 1, block("t.yaml:3", "!Foo is not a CloudFormation short form")),
    ("unknown-tag", "t.yaml", "Resources:\n  A: !Foo bar\n", 1, block("t.yaml:2", "!Foo is not a CloudFormation short form")),
    ("world-open-under-unknown-tag", "t.yaml",
     "Resources:\n  Sg: !Foo\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      SecurityGroupIngress:\n"
     "        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}\n", 1, block("t.yaml:2", "!Foo is not a CloudFormation short form")),
    ("properties-not-a-mapping", "t.yaml", "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties: [1]\n", 1,
     block("t.yaml:2: Sg", "Resources.Sg.Properties: Properties is a list, not a mapping")),
    ("duplicate-cidr", "t.json", json.dumps({"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "SecurityGroupIngress": [WORLD_SSH]}}}}).replace('"CidrIp": "0.0.0.0/0"', '"CidrIp": "0.0.0.0/0", "CidrIp": "10.0.0.0/8"'), 1,
     block("t.json:1: Sg", "Resources.Sg.Properties.SecurityGroupIngress[0].CidrIp: duplicate key 'CidrIp'")),
    ("two-resources-sections", "t.json",
     '{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [%s]}}}, '
     '"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}' % json.dumps(WORLD_SSH), 1, block("t.json:1: Resources", "duplicate key 'Resources'")),
    ("duplicate-yaml-key", "t.yaml", "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Type: AWS::SNS::Topic\n", 1, block("t.yaml:4", "duplicate key 'Type'")),
    ("yaml-alias", "t.yaml", "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      SecurityGroupIngress:\n"
     "        - &rule {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 10.0.0.0/8}\n        - *rule\n", 1, "CloudFormation does not accept aliases"),
    ("yaml-merge-key", "t.yaml", "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    <<: {Properties: {}}\n", 1, "CloudFormation does not accept merge keys"),
    ("yaml-binary-tag", "t.yaml", "Resources:\n  Sg:\n    Type: !!binary QVdT\n", 1, "the YAML tag tag:yaml.org,2002:binary is not one CloudFormation reads"),
    ("undefined-condition", "t.json", '{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Condition": "Nope"}}}', 1, 'condition "Nope" is not defined in Conditions'),
    ("not-a-template", "t.json", '{"Description": "no resources"}', 2, "t.json is not a CloudFormation template (no Resources section)"),
    ("not-json-or-yaml", "t.json", "{not json", 2, "t.json is neither valid JSON nor valid YAML"),
    ("too-deep", "t.json", '{"Resources": ' + "[" * 100000 + "]" * 100000 + "}", 2, "t.json is nested too deeply"),
    ("binary", "t.json", "\udcff\udcfe", 2, "cannot read"),
]


def guard_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "constructs_lib.guard", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("name", "file_name", "text", "status", "says"), BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_templates_never_pass_and_never_print_a_traceback(tmp_path: Path, name, file_name, text, status, says) -> None:
    path = tmp_path / file_name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    result = guard_cli(str(path))
    output = result.stdout + result.stderr
    assert result.returncode == status, output
    assert says in output, output
    assert "Traceback" not in output


def test_a_crash_recorded_under_suppressed_violations_still_fails_the_cli(tmp_path: Path) -> None:
    # GIVEN a cloud assembly whose validation report lists the guard's crash as acknowledged (forged or edited)
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": {}}))
    crash = {"ruleName": "AdminPortGuard-ValidationFailed-0123456789ab", "description": "crashed: MemoryError", "severity": "error",
             "violatingConstructs": [], "reason": "acknowledged in advance", "acknowledgedId": "AdminPortGuard::AdminPortGuard-ValidationFailed-0123456789ab"}
    report = {"version": "1.0", "pluginReports": [{"pluginName": "AdminPortGuard", "conclusion": "success", "violations": [], "suppressedViolations": [crash]}]}
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    # WHEN the CLI checks it THEN it fails, naming the crash
    result = guard_cli(str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "validation-report.json: AdminPortGuard:\n  ERROR AdminPortGuard-ValidationFailed: " in result.stdout.replace(str(tmp_path) + "/", "")
    assert "crashed: MemoryError" in result.stdout


def test_registering_the_plugin_as_an_aspect_says_how_to_register_it() -> None:
    from constructs_lib import AdminPortGuard

    with pytest.raises(TypeError, match=r"register it with cdk.Validations.of\(app\).add_plugins\(AdminPortGuard\(app\)\)"):
        AdminPortGuard().visit(None)


@pytest.mark.parametrize("rule_id", ["ValidationFailed", "MalformedTemplate"])
def test_crashes_and_malformed_templates_cannot_be_acknowledged(rule_id: str) -> None:
    import aws_cdk as cdk

    from constructs_lib import acknowledge_admin_port_finding
    from constructs_lib.policy import RULES

    rule = next(rule for rule in RULES if rule.id == rule_id)
    with pytest.raises(ValueError, match=f"{rule_id} cannot be acknowledged"):
        acknowledge_admin_port_finding(cdk.Stack(cdk.App(), "S"), rule, "because we said so, loudly")
