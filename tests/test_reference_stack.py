"""The reference stack: who can reach SSH, instance hardening, outputs, context, and a real `cdk synth`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest

from constructs_lib.policy.cidr import parse_cidr, world_families
from needs import needs_toolchain
from stacks import ReferenceStack, admin_cidrs_from_context

ROOT = Path(__file__).resolve().parent.parent
STACK_NAME = "AdminPortGuardReference"
ADMIN_CIDRS = ["203.0.113.10/32", "2001:db8::/64"]
ADMIN_PORTS = {22, 23, 3389, 5900, 5985, 5986}


def cdk_json_context(**extra: object) -> dict:
    """The context the CDK CLI would pass (cdk.json), plus ``extra``."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {**context, **extra}


@pytest.fixture(scope="module")
def assembly() -> cdk.cx_api.CloudAssembly:
    """The reference stack synthesized once, as the CLI would (cdk.json context, construct paths on)."""
    app = cdk.App(context=cdk_json_context(admin_cidr=",".join(ADMIN_CIDRS), **{"aws:cdk:enable-path-metadata": True}))
    ReferenceStack(app, STACK_NAME, admin_cidrs=admin_cidrs_from_context(app))
    return app.synth()


@pytest.fixture(scope="module")
def template(assembly) -> dict:
    return assembly.get_stack_by_name(STACK_NAME).template


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def group_id(template: dict, path_part: str) -> str:
    [(lid, _)] = [(lid, r) for lid, r in resources(template, "AWS::EC2::SecurityGroup").items() if path_part in r["Metadata"]["aws:cdk:path"]]
    return lid


def ingress_by_group(template: dict) -> dict[str, list[dict]]:
    """Every ingress rule, inline or standalone, keyed by the logical id of its security group."""
    rules: dict[str, list[dict]] = {lid: list(r["Properties"].get("SecurityGroupIngress", [])) for lid, r in resources(template, "AWS::EC2::SecurityGroup").items()}
    for standalone in resources(template, "AWS::EC2::SecurityGroupIngress").values():
        properties = dict(standalone["Properties"])
        target = properties.pop("GroupId")
        rules[target["Fn::GetAtt"][0]].append(properties)
    return rules


def reaches(rule: dict, port: int) -> bool:
    if str(rule["IpProtocol"]) == "-1":
        return True
    return rule["IpProtocol"] == "tcp" and rule["FromPort"] <= port <= rule["ToPort"]


def source(rule: dict) -> object:
    for key in ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourcePrefixListId"):
        if key in rule:
            return rule[key]
    raise AssertionError(f"rule without a source: {rule}")


def from_world(rule: dict) -> bool:
    """Does the rule's CIDR alone cover the whole public IPv4 or IPv6 internet?"""
    cidr = rule.get("CidrIp") or rule.get("CidrIpv6")
    return cidr is not None and bool(world_families([parse_cidr(cidr)]))


def instance(template: dict, name: str) -> dict:
    [found] = [r for r in resources(template, "AWS::EC2::Instance").values() if r["Metadata"]["aws:cdk:path"] == f"{STACK_NAME}/{name}/Resource"]
    return found


# --------------------------------------------------------------------------------------------------
# Who can reach SSH
# --------------------------------------------------------------------------------------------------


def test_web_ssh_only_from_the_bastion_group(template):
    # GIVEN the synthesized reference stack
    web, bastion = group_id(template, "/Web/"), group_id(template, "/Bastion/")
    # WHEN listing the web group's rules that reach tcp/22
    ssh = [rule for rule in ingress_by_group(template)[web] if reaches(rule, 22)]
    # THEN there is exactly one, from the bastion group by reference
    assert [source(rule) for rule in ssh] == [{"Fn::GetAtt": [bastion, "GroupId"]}]


def test_bastion_ssh_only_from_the_admin_cidrs(template):
    bastion = group_id(template, "/Bastion/")
    ssh = [rule for rule in ingress_by_group(template)[bastion] if reaches(rule, 22)]
    assert sorted(source(rule) for rule in ssh) == sorted(ADMIN_CIDRS)
    assert all(not reaches(rule, port) for rule in ingress_by_group(template)[bastion] for port in ADMIN_PORTS - {22})


def test_web_serves_only_http_and_https_to_the_world(template):
    web = group_id(template, "/Web/")
    world = [(rule["FromPort"], rule["ToPort"]) for rule in ingress_by_group(template)[web] if from_world(rule)]
    assert sorted(set(world)) == [(80, 80), (443, 443)]


def test_no_admin_port_is_open_to_the_world_anywhere(template):
    # GIVEN every ingress rule of every group THEN none admits 0.0.0.0/0 or ::/0 to an admin port
    for group, rules in ingress_by_group(template).items():
        for rule in rules:
            if from_world(rule):
                assert not any(reaches(rule, port) for port in ADMIN_PORTS), (group, rule)


def test_the_bastion_may_only_ssh_to_the_web_group_and_use_https(template):
    bastion, web = group_id(template, "/Bastion/"), group_id(template, "/Web/")
    inline = resources(template, "AWS::EC2::SecurityGroup")[bastion]["Properties"]["SecurityGroupEgress"]
    assert [(r["CidrIp"], r["FromPort"]) for r in inline] == [("0.0.0.0/0", 443)]
    [egress] = resources(template, "AWS::EC2::SecurityGroupEgress").values()
    assert egress["Properties"]["GroupId"] == {"Fn::GetAtt": [bastion, "GroupId"]}
    assert egress["Properties"]["DestinationSecurityGroupId"] == {"Fn::GetAtt": [web, "GroupId"]}
    assert (egress["Properties"]["FromPort"], egress["Properties"]["ToPort"]) == (22, 22)


# --------------------------------------------------------------------------------------------------
# Instances and network
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "group"), [("Bastion", "/Bastion/"), ("WebServer", "/Web/")])
def test_instances_are_attached_to_their_own_group_and_hardened(template, name, group):
    properties = instance(template, name)["Properties"]
    # attached to its group, and only to it
    assert properties["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id(template, group), "GroupId"]}]
    # IMDSv2 only
    assert properties["MetadataOptions"]["HttpTokens"] == "required"
    # encrypted gp3 root volume
    [root] = properties["BlockDeviceMappings"]
    assert root["DeviceName"] == "/dev/xvda"
    assert root["Ebs"]["Encrypted"] is True and root["Ebs"]["VolumeType"] == "gp3"
    # latest Amazon Linux 2023 from an SSM parameter resolved at deploy time
    parameter = template["Parameters"][properties["ImageId"]["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert parameter["Default"].startswith("/aws/service/ami-amazon-linux-latest/al2023-ami-")
    # automatic security updates
    user_data = properties["UserData"]["Fn::Base64"]
    assert "dnf-automatic" in user_data and "apply_updates = yes" in user_data
    # a role that allows Session Manager
    role = template["Resources"][template["Resources"][properties["IamInstanceProfile"]["Ref"]]["Properties"]["Roles"][0]["Ref"]]
    assert "AmazonSSMManagedInstanceCore" in json.dumps(role["Properties"]["ManagedPolicyArns"])


def test_only_the_web_server_runs_httpd(template):
    assert "systemctl enable --now httpd" in instance(template, "WebServer")["Properties"]["UserData"]["Fn::Base64"]
    assert "httpd" not in instance(template, "Bastion")["Properties"]["UserData"]["Fn::Base64"]


def test_vpc_has_public_subnets_only_no_nat_and_flow_logs(template):
    assert not resources(template, "AWS::EC2::NatGateway")
    subnets = resources(template, "AWS::EC2::Subnet").values()
    assert len(subnets) == 2 and all(s["Properties"]["MapPublicIpOnLaunch"] for s in subnets)
    [flow_log] = resources(template, "AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "ALL"


def test_outputs(template):
    assert set(template["Outputs"]) >= {
        "BastionSecurityGroupId",
        "WebSecurityGroupId",
        "BastionInstanceId",
        "WebInstanceId",
        "BastionPublicIp",
        "WebPublicIp",
        "WebUrl",
    }


def test_synth_needs_no_account_and_no_lookups(assembly):
    stack = assembly.get_stack_by_name(STACK_NAME)
    assert stack.environment.account == "unknown-account" and stack.environment.region == "unknown-region"
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    assert not manifest.get("missing")


# --------------------------------------------------------------------------------------------------
# Admin CIDRs from context
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ([], []),
        ("203.0.113.10/32", ["203.0.113.10/32"]),
        ("203.0.113.10/32, 198.51.100.0/24", ["203.0.113.10/32", "198.51.100.0/24"]),
        ('["203.0.113.10/32", "2001:db8::/64"]', ["203.0.113.10/32", "2001:db8::/64"]),
        (["203.0.113.10/32", "198.51.100.0/24,2001:db8::/64"], ["203.0.113.10/32", "198.51.100.0/24", "2001:db8::/64"]),
    ],
)
def test_admin_cidrs_from_context(value, expected):
    context = {} if value is None else {"admin_cidr": value}
    assert admin_cidrs_from_context(cdk.App(context=context)) == expected


@pytest.mark.parametrize("value", ["[not json", {"a": 1}, "[1, 2]", 42])
def test_admin_cidr_context_of_the_wrong_shape_is_refused(value):
    with pytest.raises(ValueError, match="context admin_cidr="):
        admin_cidrs_from_context(cdk.App(context={"admin_cidr": value}))


@pytest.mark.parametrize("value", ["0.0.0.0/0", "198.51.100.0/24,::/0", '["0.0.0.0/1", "128.0.0.0/1"]'])
def test_a_world_admin_cidr_context_is_refused(value):
    # GIVEN an admin_cidr context that opens SSH to the whole internet
    app = cdk.App(context=cdk_json_context(admin_cidr=value))
    # WHEN the stack is built THEN it raises, naming the problem
    with pytest.raises(ValueError, match="whole public IPv[46] internet"):
        ReferenceStack(app, STACK_NAME, admin_cidrs=admin_cidrs_from_context(app))


# --------------------------------------------------------------------------------------------------
# End to end: the pinned CDK CLI, as `make synth` runs it
# --------------------------------------------------------------------------------------------------


def run_cdk_synth(tmp_path: Path, admin_cidr: str) -> subprocess.CompletedProcess:
    needs_toolchain("the end-to-end synth tests")
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [shutil.which("npx", path=env["PATH"]) or "npx", "cdk", "synth", "--quiet", "--output", str(tmp_path / "cdk.out")]
    return subprocess.run(
        [*command, "-c", f"admin_cidr={admin_cidr}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_cdk_synth_passes_aws_solutions_checks(tmp_path):
    # GIVEN the app as the CLI runs it, with an admin CIDR
    result = run_cdk_synth(tmp_path, "203.0.113.10/32")
    # THEN the synth succeeds ...
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "cdk.out" / f"{STACK_NAME}.template.json").exists()
    # ... and the validation report shows AwsSolutions passing, every acknowledgement with its reason
    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    [nag] = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success" and not nag.get("violations") and "error" not in nag.get("metadata", {})
    acknowledged = {v["acknowledgedId"] for v in nag["suppressedViolations"]}
    assert {id.split("[")[0] for id in acknowledged} == {
        "AwsSolutions::AwsSolutions-EC23",
        "AwsSolutions::AwsSolutions-EC28",
        "AwsSolutions::AwsSolutions-EC29",
        "AwsSolutions::AwsSolutions-IAM4",
    }
    assert all(len(v["reason"]) > 40 for v in nag["suppressedViolations"])


def test_cdk_synth_refuses_a_world_admin_cidr(tmp_path):
    result = run_cdk_synth(tmp_path, "0.0.0.0/0")
    assert result.returncode != 0
    assert "'0.0.0.0/0' is the whole public IPv4 internet" in result.stderr
