"""Findings point at the line of Python that opened the port (issue 13's acceptance scenario).

GIVEN a fresh git repository whose infra/app.py registers the guard and opens admin ports
WHEN  the real CDK CLI synthesizes it with source lines recorded, and the installed admin-port-guard reads cdk.out
THEN  each finding is located at the user's line, relative to the repository root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.version import package_version

ROOT = Path(__file__).resolve().parent.parent
CDK = ROOT / "node_modules" / ".bin" / "cdk"  # outside the project, `npx cdk` would look for a package to download
GUARD = Path(sys.executable).parent / "admin-port-guard"

HEADER = '''import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib import add_admin_port_guard

app = cdk.App()
add_admin_port_guard(app)
stack = cdk.Stack(app, "Exposed")
vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
'''
# Line 10 creates the group, line 11 opens SSH to the world (the acceptance app).
ACCEPTANCE_APP = HEADER + '''web = ec2.SecurityGroup(stack, "Web", vpc=vpc)
web.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22), "SSH from anywhere")
app.synth()
'''
# One line per way of opening a port; RULE_LINES says which line each finding must point at.
RULES_APP = HEADER + '''multi = ec2.SecurityGroup(stack, "Multi", vpc=vpc)
multi.add_ingress_rule(ec2.Peer.ipv4("10.0.0.0/8"), ec2.Port.tcp(22))
multi.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(3389))
standalone = ec2.SecurityGroup(stack, "Standalone", vpc=vpc, disable_inline_rules=True)
standalone.connections.allow_from(ec2.Peer.ipv4("0.0.0.0/0"), ec2.Port.tcp(22))
imported = ec2.SecurityGroup.from_security_group_id(stack, "Imported", "sg-0123456789abcdef0")
imported.add_ingress_rule(ec2.Peer.any_ipv6(), ec2.Port.tcp(5900))
raw = ec2.CfnSecurityGroup(stack, "Raw", group_description="raw", vpc_id="vpc-0123456789abcdef0", security_group_ingress=[
    ec2.CfnSecurityGroup.IngressProperty(ip_protocol="tcp", from_port=23, to_port=23, cidr_ip="0.0.0.0/0")])
overridden = ec2.SecurityGroup(stack, "Overridden", vpc=vpc)
overridden.add_ingress_rule(ec2.Peer.ipv4("10.0.0.0/8"), ec2.Port.tcp(5985))
overridden.node.default_child.add_property_override("SecurityGroupIngress.0.CidrIp", "0.0.0.0/0")
app.synth()
'''
RULE_LINES = {
    "WorldOpenAdminPort[3389]": 12,  # the add_ingress_rule line, not the group's
    "WorldOpenAdminPort[22]": 14,  # the allow_from that made a standalone ingress resource
    "WorldOpenAdminPort[5900]": 16,  # imported group: the add_ingress_rule line
    "WorldOpenAdminPort[23]": 17,  # L1 group with inline rules: its creation line
    "WorldOpenAdminPort[5985]": 19,  # an override adds an assignment the rules do not match: the group's line
}


def synth(repository: Path, app_text: str, **environment: str) -> Path:
    """``cdk synth`` of ``infra/app.py`` in a fresh git repository; the guard's findings make it exit 1."""
    (repository / "infra").mkdir(parents=True)
    (repository / "infra" / "app.py").write_text(app_text)
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    env = {key: value for key, value in os.environ.items() if key not in ("CDK_DEBUG", "JSII_HOST_STACK_TRACES")}
    env.update(environment, PATH=f"{CDK.parent}{os.pathsep}{os.environ['PATH']}", CDK_DISABLE_CLI_TELEMETRY="true")
    command = [str(CDK), "synth", "--quiet", "--no-notices", "--app", f"{sys.executable} infra/app.py"]
    result = subprocess.run(command, cwd=repository, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "AdminPortGuard-WorldOpenAdminPort" in result.stdout + result.stderr, result.stderr[-3000:]
    return repository / "cdk.out"


def guard(repository: Path, *arguments: str, status: int = 1) -> subprocess.CompletedProcess:
    """The installed console script ``admin-port-guard ARGUMENTS``, run in ``repository``."""
    result = subprocess.run([str(GUARD), *arguments], cwd=repository, capture_output=True, text=True, timeout=60)
    assert result.returncode == status, result.stderr
    return result


@pytest.fixture(scope="module")
def acceptance(tmp_path_factory) -> Path:
    repository = tmp_path_factory.mktemp("acceptance") / "repo"
    synth(repository, ACCEPTANCE_APP, JSII_HOST_STACK_TRACES="1")
    return repository


def test_acceptance_sarif_points_at_the_app_line_relative_to_the_repository(acceptance: Path) -> None:
    sarif = json.loads(guard(acceptance, "cdk.out", "--format", "sarif").stdout)
    (run,) = sarif["runs"]
    assert run["tool"]["driver"]["version"] == package_version()
    (result,) = run["results"]
    (location,) = result["locations"]
    physical = location["physicalLocation"]
    # Without CDK_DEBUG only creation lines are recorded: the line that created the group
    assert physical["artifactLocation"] == {"uri": "infra/app.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"]["startLine"] == 10
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "cdk.out/Exposed.template.json"


def test_text_and_json_carry_the_same_location(acceptance: Path) -> None:
    assert "infra/app.py:10: Exposed Web" in guard(acceptance, "cdk.out").stdout
    (finding,) = json.loads(guard(acceptance, "cdk.out", "--format", "json").stdout)["findings"]
    assert finding["codeLocation"] == {"path": "infra/app.py", "line": 10}


def test_summary_says_what_the_guard_checked_during_the_synth(acceptance: Path, tmp_path: Path) -> None:
    line = guard(acceptance, "--summary", "cdk.out", status=0).stdout
    assert line.startswith(f"AdminPortGuard {package_version()} checked 1 template, 1 security group, 1 ingress rule and 0 attachments in ")
    assert line.endswith(": 1 finding, 0 acknowledged.\n")
    # No report: the guard did not run, and the summary says so instead of printing nothing
    assert "the guard did not run in this synth" in guard(tmp_path, "--summary", str(tmp_path), status=2).stderr


def test_with_cdk_debug_each_finding_points_at_the_line_that_opened_the_port(tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    synth(repository, RULES_APP, JSII_HOST_STACK_TRACES="1", CDK_DEBUG="1")
    findings = json.loads(guard(repository, "cdk.out", "--format", "json").stdout)["findings"]
    lines = {record["ruleName"].removeprefix("AdminPortGuard-"): record["codeLocation"] for record in findings}
    assert lines == {rule: {"path": "infra/app.py", "line": line} for rule, line in RULE_LINES.items()}
