"""`cdk bootstrap` → `cdk deploy` → checks → live audit and Config rule → drift → `cdk destroy` on a local emulator.

The emulator is moto in server mode on 127.0.0.1 (``scripts/deploy_local.py``, patched by
``scripts/moto_patches.py``); the CLI is the stock, pinned one from ``node_modules``. The tests share one
deployment (module fixture: the reference stack and the AWS Config rule's stack) and run in file order; the
last one destroys the stacks. The rule's handler runs in this process, as AWS Config would invoke it (moto's
Lambda runs no code), and its evaluations are read back from the emulator. About 30-60 s here.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import deploy_local  # noqa: E402

from needs import needs, needs_toolchain  # noqa: E402

boto3 = needs("boto3", "the emulator deploy tests")
needs_toolchain("the emulator deploy tests")

ADMIN_CIDR = "203.0.113.10/32"
STACK = deploy_local.STACK



def _run(command: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 0, f"{what} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


class Deployment:
    def __init__(self, aws: deploy_local.LocalAws, output_dir: Path):
        self.aws = aws
        self.output_dir = output_dir
        self.env = aws.env
        kwargs = {"endpoint_url": aws.endpoint_url, "region_name": deploy_local.REGION,
                  "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.ec2 = boto3.client("ec2", **kwargs)
        self.cloudformation = boto3.client("cloudformation", **kwargs)
        self.config = boto3.client("config", **kwargs)
        self.client = lambda service: boto3.client(service, **kwargs)
        self.stack_id = ""
        self.physical: dict[str, str] = {}  # logical id -> physical id

    def audit(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return _run(deploy_local.audit_command(self.aws.endpoint_url, *extra), self.env, timeout=60)

    def physical_id(self, prefix: str, resource_type: str) -> str:
        matches = [
            physical
            for logical, (physical, kind) in self.physical.items()
            if logical.startswith(prefix) and kind == resource_type
        ]
        assert len(matches) == 1, f"expected one {resource_type} named {prefix}*, got {matches}"
        return matches[0]

    def group(self, group_id: str) -> dict:
        return self.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]

    def rule_outputs(self) -> dict[str, str]:
        stack = self.cloudformation.describe_stacks(StackName=deploy_local.RULE_STACK)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def evaluations(self) -> dict[str, tuple[str, str | None]]:
        """Run the Config rule (periodic trigger) on what is deployed; what it put, per group id."""
        return deploy_local.evaluate_config_rule(self.aws.endpoint_url)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    temp = tmp_path_factory.mktemp("deploy-local")
    aws = deploy_local.LocalAws(log_path=temp / "moto.log")
    with aws:
        deployed = Deployment(aws, temp / "cdk.out")
        for title, command in deploy_local.steps(ADMIN_CIDR, deployed.output_dir):
            _check(_run(command, aws.env), f"cdk {title}")
        resources = deployed.cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
        deployed.physical = {
            r["LogicalResourceId"]: (r.get("PhysicalResourceId", ""), r["ResourceType"])
            for r in resources
            if "LogicalResourceId" in r and "ResourceType" in r
        }
        deployed.stack_id = deployed.cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["StackId"]
        yield deployed
    assert aws.process is None


def _sources(group: dict, port: int) -> tuple[set[str], set[str]]:
    """(CIDRs, source group ids) that reach tcp/``port`` in ``group``."""
    cidrs: set[str] = set()
    groups: set[str] = set()
    for permission in group["IpPermissions"]:
        protocol = permission["IpProtocol"]
        if protocol == "-1" or (protocol == "tcp" and permission["FromPort"] <= port <= permission["ToPort"]):
            cidrs |= {r["CidrIp"] for r in permission.get("IpRanges", [])}
            cidrs |= {r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])}
            cidrs |= {p["PrefixListId"] for p in permission.get("PrefixListIds", [])}
            groups |= {p["GroupId"] for p in permission.get("UserIdGroupPairs", [])}
    return cidrs, groups


def test_deployed_security_groups_admit_ssh_only_as_designed(deployment: Deployment) -> None:
    bastion_id = deployment.physical_id("TierBastionSecurityGroup", "AWS::EC2::SecurityGroup")
    web_id = deployment.physical_id("TierWebSecurityGroup", "AWS::EC2::SecurityGroup")
    assert _sources(deployment.group(web_id), 22) == (set(), {bastion_id})
    assert _sources(deployment.group(bastion_id), 22) == ({ADMIN_CIDR}, set())
    web_cidrs, _ = _sources(deployment.group(web_id), 80)
    assert web_cidrs and all(ipaddress.ip_network(c).prefixlen == 0 for c in web_cidrs)


def test_instances_run_in_their_own_security_groups(deployment: Deployment) -> None:
    expected = {
        deployment.physical_id("Bastion", "AWS::EC2::Instance"): deployment.physical_id(
            "TierBastionSecurityGroup", "AWS::EC2::SecurityGroup"
        ),
        deployment.physical_id("WebServer", "AWS::EC2::Instance"): deployment.physical_id(
            "TierWebSecurityGroup", "AWS::EC2::SecurityGroup"
        ),
    }
    reservations = deployment.ec2.describe_instances(InstanceIds=list(expected))["Reservations"]
    actual = {i["InstanceId"]: [g["GroupId"] for g in i["SecurityGroups"]] for r in reservations for i in r["Instances"]}
    assert actual == {instance: [group] for instance, group in expected.items()}


def test_stack_outputs_name_the_deployed_groups(deployment: Deployment) -> None:
    outputs = deployment.cloudformation.describe_stacks(StackName=STACK)["Stacks"][0].get("Outputs") or []
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    assert values.get("WebSecurityGroupId") == deployment.physical_id("TierWebSecurityGroup", "AWS::EC2::SecurityGroup")


def test_live_audit_of_the_deployment_is_clean(deployment: Deployment) -> None:
    result = deployment.audit()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings." in result.stdout


def test_the_config_rule_is_deployed_with_the_bundled_handler_and_its_notification(deployment: Deployment) -> None:
    outputs = deployment.rule_outputs()
    [rule] = deployment.config.describe_config_rules(ConfigRuleNames=[outputs["RuleName"]])["ConfigRules"]
    function = deployment.client("lambda").get_function(FunctionName=outputs["FunctionName"])["Configuration"]
    assert rule["Source"]["Owner"] == "CUSTOM_LAMBDA" and rule["Source"]["SourceIdentifier"] == function["FunctionArn"]
    assert [d["MessageType"] for d in rule["Source"]["SourceDetails"]] == [
        "ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification", "ScheduledNotification"]
    assert rule["Scope"]["ComplianceResourceTypes"] == ["AWS::EC2::SecurityGroup"]
    assert json.loads(json.loads(rule["InputParameters"])["policy"])["adminPorts"] == [22, 23, 3389, 5900, 5985, 5986]
    assert (function["Runtime"], function["Handler"]) == ("python3.14", "constructs_lib.config_rule.handler.handler")
    assert function["CodeSize"] > 0  # the asset was published and deployed
    events = deployment.client("events")
    [name] = [r["Name"] for r in events.list_rules()["Rules"] if "NonCompliant" in r["Name"]]
    pattern = json.loads(events.describe_rule(Name=name)["EventPattern"])
    assert pattern["detail"]["configRuleName"] == [rule["ConfigRuleName"]]


def test_the_config_rule_finds_every_deployed_group_compliant(deployment: Deployment) -> None:
    evaluations = deployment.evaluations()
    web_id = deployment.physical_id("TierWebSecurityGroup", "AWS::EC2::SecurityGroup")
    bastion_id = deployment.physical_id("TierBastionSecurityGroup", "AWS::EC2::SecurityGroup")
    assert {web_id, bastion_id} <= set(evaluations)
    assert {compliance for compliance, _ in evaluations.values()} == {"COMPLIANT"}


def test_live_audit_catches_ssh_opened_to_the_world_by_hand(deployment: Deployment) -> None:
    web_id = deployment.physical_id("TierWebSecurityGroup", "AWS::EC2::SecurityGroup")
    bastion_id = deployment.physical_id("TierBastionSecurityGroup", "AWS::EC2::SecurityGroup")
    drift = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    deployment.ec2.authorize_security_group_ingress(GroupId=web_id, IpPermissions=drift)  # as a console user would
    try:
        result = deployment.audit("--format", "json")
        assert result.returncode == 1, result.stdout + result.stderr
        findings = json.loads(result.stdout)
        records = findings["findings"] if isinstance(findings, dict) else findings
        world_open = [r for r in records if r["rule"] == "WorldOpenAdminPort"]
        assert world_open, records
        assert {r["logicalId"].split()[0] for r in world_open} == {web_id}
        assert all(r["port"] == 22 for r in world_open)
        assert bastion_id not in result.stdout

        text = deployment.audit()
        assert text.returncode == 1
        assert web_id in text.stdout and "tcp/22" in text.stdout

        evaluations = deployment.evaluations()  # the Config rule sees the same drift
        assert evaluations[web_id] == ("NON_COMPLIANT", "WorldOpenAdminPort[22]: tcp/22 (SSH) from 0.0.0.0/0")
        assert evaluations[bastion_id] == ("COMPLIANT", None)
    finally:
        deployment.ec2.revoke_security_group_ingress(GroupId=web_id, IpPermissions=drift)
    assert deployment.audit().returncode == 0
    assert deployment.evaluations()[web_id] == ("COMPLIANT", None)


def test_remediation_closes_ssh_opened_by_hand_keeps_http_and_notify_changes_nothing(deployment: Deployment) -> None:
    [remediation] = deployment.config.describe_remediation_configurations(
        ConfigRuleNames=[deployment.rule_outputs()["RuleName"]])["RemediationConfigurations"]
    assert (remediation["Automatic"], remediation["MaximumAutomaticAttempts"], remediation["TargetType"]) == (True, 3, "SSM_DOCUMENT")
    assert deployment.client("ssm").describe_document(Name=remediation["TargetId"])["Document"]["DocumentType"] == "Automation"
    assert deploy_local.remediation_drill(deployment.aws.endpoint_url) == []
    assert deployment.audit().returncode == 0


def _world(permission: dict) -> set[tuple]:
    return {(permission["IpProtocol"], permission.get("FromPort"), permission.get("ToPort"), r["CidrIp"]) for r in permission.get("IpRanges", [])}


def test_remediation_keeps_every_other_port_of_a_wide_rule_and_closes_split_halves_on_ssh_only(deployment: Deployment) -> None:
    vpc_id = deployment.physical_id("Vpc", "AWS::EC2::VPC")
    ec2 = deployment.ec2
    created = [ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"] for name in ("wide-by-hand", "halves-by-hand")]
    wide, halves = created
    try:
        ec2.authorize_security_group_ingress(GroupId=wide, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_ingress(GroupId=halves, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/1"}, {"CidrIp": "128.0.0.0/1"}]},
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        evaluations = deployment.evaluations()
        assert evaluations[wide][0] == evaluations[halves][0] == "NON_COMPLIANT"
        records = {r["groupId"]: r for r in deploy_local.remediate_config_rule(deployment.aws.endpoint_url)}
        assert records[wide]["action"] == records[halves]["action"] == "remediated"
        after = {group_id: set().union(*map(_world, deployment.group(group_id)["IpPermissions"])) for group_id in created}
        assert after[wide] == {("tcp", 0, 21, "0.0.0.0/0"), ("tcp", 24, 3388, "0.0.0.0/0"), ("tcp", 3390, 5899, "0.0.0.0/0"),
                               ("tcp", 5901, 5984, "0.0.0.0/0"), ("tcp", 5987, 65535, "0.0.0.0/0")}
        assert after[halves] == {("tcp", 80, 80, "0.0.0.0/0")}
        evaluations = deployment.evaluations()
        assert evaluations[wide] == evaluations[halves] == ("COMPLIANT", None)
    finally:
        for group_id in created:
            ec2.delete_security_group(GroupId=group_id)


def test_destroy_leaves_nothing_of_the_stack(deployment: Deployment) -> None:
    command = deploy_local.destroy_command(ADMIN_CIDR, deployment.output_dir)
    _check(_run(command, deployment.env), "cdk destroy")
    stack = deployment.cloudformation.describe_stacks(StackName=deployment.stack_id)["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_COMPLETE"
    assert not {STACK, deploy_local.RULE_STACK} & {s["StackName"] for s in deployment.cloudformation.describe_stacks()["Stacks"]}
    assert deployment.config.describe_config_rules()["ConfigRules"] == []
    ec2 = deployment.ec2
    vpc_id = deployment.physical_id("Vpc", "AWS::EC2::VPC")
    assert vpc_id not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    group_ids = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    kinds = {
        "AWS::EC2::SecurityGroup": group_ids,
        "AWS::EC2::Subnet": {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]},
        "AWS::EC2::RouteTable": {t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]},
        "AWS::EC2::InternetGateway": {g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]},
    }
    left = [
        (logical, physical)
        for logical, (physical, kind) in deployment.physical.items()
        if kind in kinds and physical in kinds[kind]
    ]
    assert left == []
    states = {
        i["InstanceId"]: i["State"]["Name"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
    }
    for logical, (physical, kind) in deployment.physical.items():
        if kind == "AWS::EC2::Instance":
            assert states.get(physical, "terminated") == "terminated", logical
    assert deployment.audit().returncode == 0
