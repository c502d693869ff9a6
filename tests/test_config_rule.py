"""The AWS Config rule: its handler against configuration items in the shape AWS documents, and its construct.

Configuration items (``tests/fixtures/config``) follow the Config developer guide's example events and the
``AWS::EC2::SecurityGroup`` schema of awslabs/aws-config-resource-schema (camelCase, ``ipRanges`` next to
``ipv4Ranges``). AWS is moto in-process, with ``scripts/moto_patches.apply_evaluations()``: stock moto
stores no evaluation, the patch stores them and answers ``GetComplianceDetailsByConfigRule``, so each test
reads back through the real API what the handler put. moto records no configuration item of a security group
(``GetResourceConfigHistory`` raises ``ResourceNotDiscoveredException``), so the oversized-item test serves
the documented response with botocore's ``Stubber``, which checks request and response against the API model.
"""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needs import needs  # noqa: E402

boto3 = needs("boto3", "the Config rule tests")
moto = needs("moto", "the Config rule tests")

from botocore.stub import Stubber  # noqa: E402

from constructs_lib.config_rule import handler, remediate  # noqa: E402
from constructs_lib.config_rule.asset import build_asset, source_files  # noqa: E402
from constructs_lib.guard import live  # noqa: E402
from constructs_lib.policy import Finding, GuardPolicy, Location, PolicyError, Rule, Template, check_templates  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "config"
sys.path.insert(0, str(ROOT / "scripts"))

import moto_patches  # noqa: E402

REGION = "us-east-1"
_names = itertools.count()
ACCOUNT = "123456789012"
RULE = "admin-port-guard"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:admin-port-guard"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def event(invoking: dict, policy: dict | None = None, **extra: object) -> dict:
    """A Config rule event as the developer guide shows it (``invokingEvent`` and ``ruleParameters`` are JSON strings)."""
    return {
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps({"policy": json.dumps(policy)} if policy is not None else {}),
        "resultToken": moto_patches.result_token(RULE),
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/config-role",
        "configRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-0123456",
        "configRuleName": RULE,
        "configRuleId": "config-rule-0123456",
        "accountId": ACCOUNT,
        "version": "1.0",
        **extra,
    }


def change(item: dict, **extra: object) -> dict:
    invoking = {"configurationItem": item, "notificationCreationTime": "2026-11-25T03:14:30.000Z",
                "messageType": handler.CHANGE, "recordVersion": "1.3"}
    return event(invoking, **extra)


def scheduled(**extra: object) -> dict:
    invoking = {"awsAccountId": ACCOUNT, "notificationCreationTime": "2026-11-25T06:00:00.373Z",
                "messageType": handler.SCHEDULED, "recordVersion": "1.0"}
    return event(invoking, **extra)


class Aws:
    """moto for one account: clients, a VPC, and the Lambda function a rule needs (moto only stores it)."""

    def __init__(self, session: boto3.Session | None = None) -> None:
        self.session = session or boto3.Session(region_name=REGION)
        self.ec2 = self.client("ec2")
        self.config = self.client("config")
        self.vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        role = self.client("iam").create_role(RoleName="rule-function", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("index.py", "")
        self.function = self.client("lambda").create_function(
            FunctionName="admin-port-guard", Runtime="python3.14", Role=role, Handler="index.handler", Code={"ZipFile": code.getvalue()}
        )["FunctionArn"]
        self.new_rule()

    def new_rule(self, parameters: dict | None = None) -> None:
        """The rule ``RULE`` (with ``parameters``), created afresh: no evaluation stored yet."""
        if self.config.describe_config_rules()["ConfigRules"]:
            self.config.delete_config_rule(ConfigRuleName=RULE)
        self.config.put_config_rule(ConfigRule={"ConfigRuleName": RULE, "Source": {
            "Owner": "CUSTOM_LAMBDA", "SourceIdentifier": self.function,
            "SourceDetails": [{"EventSource": "aws.config", "MessageType": handler.CHANGE}]},
            **({"InputParameters": json.dumps(parameters)} if parameters else {})})

    def client(self, service: str):
        return self.session.client(service, region_name=REGION)

    def group(self, name: str, *permissions: dict) -> str:
        group_id = self.ec2.create_security_group(GroupName=f"{name}-{next(_names)}", Description=name, VpcId=self.vpc)["GroupId"]
        if permissions:
            self.ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(permissions))
        return group_id

    def stored(self) -> dict[str, tuple[str, str | None]]:
        """What Config holds for the rule: ``{resource id: (compliance, annotation)}``."""
        pages = self.config.get_paginator("get_compliance_details_by_config_rule").paginate(ConfigRuleName=RULE)
        return {
            r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: (r["ComplianceType"], r.get("Annotation"))
            for page in pages for r in page["EvaluationResults"]
        }


@pytest.fixture(scope="module")
def account():
    """One moto account for the module (creating it is the slow part); each test gets a fresh rule."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
            patch.setenv(key, value)
        for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", handler.MEMBER_ROLE_ENV):
            patch.delenv(key, raising=False)
        moto_patches.apply_evaluations()
        with moto.mock_aws():
            yield Aws()


@pytest.fixture
def aws(account: Aws) -> Aws:
    account.new_rule()
    return account


def tcp(port: int, *cidrs: str) -> dict:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr} for cidr in cidrs]}


# --- the acceptance cases: configuration items in the documented shape -----------------------------


def test_ssh_from_the_two_halves_of_ipv4_is_non_compliant(aws: Aws) -> None:
    # GIVEN the configuration item of a group with tcp/22 from 0.0.0.0/1 and 128.0.0.0/1 (and HTTPS from anyone)
    item = fixture("ci-ssh-split-halves")
    # WHEN Config invokes the rule with it
    [evaluation] = handler.evaluate_event(change(item), aws.client)
    # THEN the group is NON_COMPLIANT for the same rule id as at synth, naming port and sources, and Config has it
    annotation = "WorldOpenAdminPort[22]: tcp/22 (SSH) from 0.0.0.0/1, 128.0.0.0/1"
    assert evaluation == {"ComplianceResourceType": "AWS::EC2::SecurityGroup", "ComplianceResourceId": item["resourceId"],
                          "ComplianceType": "NON_COMPLIANT", "OrderingTimestamp": item["configurationItemCaptureTime"],
                          "Annotation": annotation}
    assert aws.stored() == {item["resourceId"]: ("NON_COMPLIANT", annotation)}


def test_ssh_from_a_security_group_only_is_compliant(aws: Aws) -> None:
    # GIVEN a group with tcp/22 from the bastion's group only, HTTP and HTTPS from anyone
    item = fixture("ci-ssh-from-group")
    # WHEN evaluated THEN it is COMPLIANT
    [evaluation] = handler.evaluate_event(change(item), aws.client)
    assert evaluation["ComplianceType"] == "COMPLIANT" and "Annotation" not in evaluation
    assert aws.stored() == {item["resourceId"]: ("COMPLIANT", None)}


def test_an_oversized_item_is_fetched_from_config_history_and_judged(aws: Aws) -> None:
    # GIVEN an oversized notification (a summary only) and the item Config keeps for it
    invoking = fixture("oversized-invoking-event")
    summary = invoking["configurationItemSummary"]
    config = aws.client("config")
    stub = Stubber(config)
    stub.add_response(
        "get_resource_config_history",
        fixture("oversized-config-history"),
        {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": summary["resourceId"],
         "laterTime": summary["configurationItemCaptureTime"], "limit": 1},
    )
    annotation = "WorldOpenAdminPort[3389]: tcp/3389 (RDP) from ::/0"
    evaluation = {"ComplianceResourceType": "AWS::EC2::SecurityGroup", "ComplianceResourceId": summary["resourceId"],
                  "ComplianceType": "NON_COMPLIANT", "OrderingTimestamp": summary["configurationItemCaptureTime"], "Annotation": annotation}
    stub.add_response("put_evaluations", {"FailedEvaluations": []}, {"Evaluations": [evaluation], "ResultToken": moto_patches.result_token(RULE)})
    # WHEN the rule is invoked THEN it fetches the item (exactly that version) and puts the evaluation of its 122 rules
    with stub:
        assert handler.evaluate_event(event(invoking), lambda service: config if service == "config" else aws.client(service)) == [evaluation]
    stub.assert_no_pending_responses()


def test_a_deleted_group_or_one_that_left_the_scope_is_not_applicable(aws: Aws) -> None:
    deleted = fixture("ci-deleted")
    assert handler.evaluate_event(change(deleted), aws.client)[0]["ComplianceType"] == "NOT_APPLICABLE"
    not_recorded = {**deleted, "configurationItemStatus": "ResourceDeletedNotRecorded"}
    assert handler.evaluate_event(change(not_recorded), aws.client)[0]["ComplianceType"] == "NOT_APPLICABLE"
    left = fixture("ci-ssh-split-halves")
    [evaluation] = handler.evaluate_event(change(left, eventLeftScope=True), aws.client)
    assert (evaluation["ComplianceType"], evaluation["Annotation"]) == ("NOT_APPLICABLE", "the group left the rule's scope")
    # Config keeps the evaluation with the latest OrderingTimestamp: the deletion, captured after the scope change
    assert aws.stored() == {deleted["resourceId"]: ("NOT_APPLICABLE", "the security group was deleted")}


def _broken(path: tuple, value: object) -> dict:
    """A change event whose configuration item has ``value`` at ``path`` (``...`` deletes the key)."""
    item = fixture("ci-ssh-split-halves")
    node = item
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return change(item)


MALFORMED = {
    "not an object": ["invokingEvent"],
    "no invokingEvent": {k: v for k, v in change(fixture("ci-ssh-split-halves")).items() if k != "invokingEvent"},
    "invokingEvent not JSON": {**scheduled(), "invokingEvent": "{not json"},
    "invokingEvent a JSON list": {**scheduled(), "invokingEvent": "[]"},
    "invokingEvent an object, not a string": {**scheduled(), "invokingEvent": {"messageType": handler.SCHEDULED}},
    "unknown messageType": event({"messageType": "ConfigurationSnapshotDeliveryCompleted"}),
    "no resultToken": {k: v for k, v in scheduled().items() if k != "resultToken"},
    "eventLeftScope not a boolean": change(fixture("ci-ssh-split-halves"), eventLeftScope="false"),
    "no configurationItem": event({"messageType": handler.CHANGE}),
    "no resourceType": _broken(("resourceType",), ...),
    "no status": _broken(("configurationItemStatus",), ...),
    "status without configuration": _broken(("configurationItemStatus",), "ResourceNotRecorded"),
    "configuration null": _broken(("configuration",), None),
    "configuration of another group": _broken(("configuration", "groupId"), "sg-0123456789abcdef0"),
    "no ipPermissions": _broken(("configuration", "ipPermissions"), ...),
    "ipPermissions an object": _broken(("configuration", "ipPermissions"), {"ipProtocol": "tcp"}),
    "permission a string": _broken(("configuration", "ipPermissions", 0), "tcp/22 0.0.0.0/0"),
    "ipv4Ranges of strings": _broken(("configuration", "ipPermissions", 0, "ipv4Ranges"), ["0.0.0.0/0"]),
    "ipRanges of objects": _broken(("configuration", "ipPermissions", 0, "ipRanges"), [{"cidrIp": "0.0.0.0/0"}]),
    "userIdGroupPairs an object": _broken(("configuration", "ipPermissions", 0, "userIdGroupPairs"), {"groupId": "sg-1"}),
    "oversized without summary": event({"messageType": handler.OVERSIZED}),
    "scheduled without time": event({"messageType": handler.SCHEDULED}),
    "scheduled without rule name": {k: v for k, v in scheduled().items() if k != "configRuleName"},
    "unknown rule parameter": {**scheduled(), "ruleParameters": json.dumps({"adminPorts": "22"})},
    "rule parameters not JSON": {**scheduled(), "ruleParameters": "adminPorts=22"},
    "policy not JSON": {**scheduled(), "ruleParameters": json.dumps({"policy": "{adminPorts"})},
    "policy with a bad port": scheduled(policy={"adminPorts": [0]}),
    "policy with an untrusted reason": scheduled(policy={"trustedPrefixLists": {"pl-0123456789abcdef0": "ok"}}),
    "policy with an unknown key": scheduled(policy={"adminPort": [22]}),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_event_raises_and_puts_nothing(aws: Aws, name: str) -> None:
    # GIVEN an event Config does not send WHEN the rule is invoked THEN it raises (Config records the error)
    with pytest.raises((handler.MalformedEvent, PolicyError)):
        handler.evaluate_event(MALFORMED[name], aws.client)
    # AND nothing was put: no COMPLIANT, no evaluation at all
    assert aws.stored() == {}


def test_an_evaluation_config_refuses_is_an_error() -> None:
    config = SimpleNamespace(put_evaluations=lambda **_: {"FailedEvaluations": [{"ComplianceResourceId": "sg-1"}]})
    with pytest.raises(RuntimeError, match="refused 1 evaluation"):
        handler.put_evaluations(config, [{"ComplianceResourceId": "sg-1"}], "token")


# --- one adapter: a configuration item judges exactly as the same rules at synth and in the live audit --------


CASES = [
    # (configuration ipPermissions, the same rules as CloudFormation ingress, expected findings)
    ([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/1"}], "ipRanges": ["0.0.0.0/1", "128.0.0.0/1"]}],
     [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/1"}, {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "128.0.0.0/1"}],
     {("WorldOpenAdminPort", 22)}),
    ([{"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipv6Ranges": [{"cidrIpv6": "2000::/3"}]}],
     [{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIpv6": "2000::/3"}],
     {("WorldOpenAdminPort", 3389)}),
    ([{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}],
     [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}],
     {("WorldOpenAdminPort", port) for port in (22, 23, 3389, 5900, 5985, 5986)}),
    ([{"ipProtocol": "tcp", "fromPort": 0, "toPort": 65535, "ipv4Ranges": [{"cidrIp": "11.0.0.0/8"}], "ipRanges": ["11.0.0.0/8"]}],
     [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "CidrIp": "11.0.0.0/8"}],
     {("BroadAdminSource", port) for port in (22, 23, 3389, 5900, 5985, 5986)}),
    ([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "prefixListIds": [{"prefixListId": "pl-0123456789abcdef0"}]}],
     [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourcePrefixListId": "pl-0123456789abcdef0"}],
     {("UnverifiableIngress", None)}),
    ([{"ipProtocol": "tcp", "fromPort": 25, "toPort": 20, "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}], "ipRanges": ["10.0.0.0/8"]}],
     [{"IpProtocol": "tcp", "FromPort": 25, "ToPort": 20, "CidrIp": "10.0.0.0/8"}],
     {("MalformedIngress", None)}),
    ([{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": None}]}],
     [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": None}],
     {("MalformedIngress", None)}),
    ([{"ipProtocol": "udp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]},
      {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "userIdGroupPairs": [{"groupId": "sg-0b1a5710b1a571000", "userId": ACCOUNT}]},
      {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/8"}, {"cidrIp": "203.0.113.10/32"}]}],
     [{"IpProtocol": "udp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"},
      {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourceSecurityGroupId": "sg-0b1a5710b1a571000"},
      {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/8"},
      {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "203.0.113.10/32"}],
     set()),
]


def _configuration(permissions: list[dict], group_id: str = "sg-0a1b2c3d4e5f60718") -> dict:
    return {"groupId": group_id, "groupName": "g", "description": "g", "vpcId": "vpc-0123456789abcdef0", "ownerId": ACCOUNT,
            "ipPermissions": permissions, "ipPermissionsEgress": []}


@pytest.mark.parametrize(("permissions", "ingress", "expected"), CASES)
def test_a_configuration_item_gets_the_rule_ids_it_gets_at_synth(permissions, ingress, expected) -> None:
    group = handler.group_from_configuration(_configuration(permissions), "sg-0a1b2c3d4e5f60718")
    findings = handler.judge([group], [], {}, GuardPolicy(), REGION)["sg-0a1b2c3d4e5f60718"]
    synth = check_templates([Template("synth", "synth.json", {"Resources": {
        "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "g", "SecurityGroupIngress": ingress}}}})])
    assert {(f.rule_id, f.port if f.rule.per_port else None) for f in findings} == expected
    assert {(f.rule_id, f.port if f.rule.per_port else None) for f in synth} == expected


def test_the_configuration_adapter_gives_the_live_audit_the_template_describe_gives_it(aws: Aws) -> None:
    # GIVEN a group created through the EC2 API with every kind of source, read back with DescribeSecurityGroups
    other = aws.group("bastion")
    prefix_list = aws.ec2.create_managed_prefix_list(
        PrefixListName="office", AddressFamily="IPv4", MaxEntries=2, Entries=[{"Cidr": "198.51.100.0/24"}])["PrefixList"]["PrefixListId"]
    group_id = aws.group(
        "web",
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": other}],
         "PrefixListIds": [{"PrefixListId": prefix_list}]},
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    )
    [described] = live.read_security_groups(aws.ec2, [group_id])
    # AND the configuration item AWS Config records for the same group (hand-written in Config's shape)
    configuration = {
        "groupId": group_id, "groupName": described["GroupName"], "description": "web", "vpcId": aws.vpc, "ownerId": ACCOUNT,
        "ipPermissionsEgress": [],
        "ipPermissions": [
            {"fromPort": 443, "ipProtocol": "tcp", "toPort": 443, "userIdGroupPairs": [], "prefixListIds": [],
             "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": "https"}], "ipRanges": ["0.0.0.0/0"], "ipv6Ranges": [{"cidrIpv6": "::/0"}]},
            {"fromPort": 22, "ipProtocol": "tcp", "toPort": 22, "ipv4Ranges": [], "ipRanges": [], "ipv6Ranges": [],
             "userIdGroupPairs": [{"groupId": other, "userId": ACCOUNT}], "prefixListIds": [{"prefixListId": prefix_list}]},
            {"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}], "ipRanges": ["10.0.0.0/8"], "ipv6Ranges": [],
             "prefixListIds": [], "userIdGroupPairs": []},
        ],
    }
    # WHEN both go through the live audit's adapter THEN the templates are the same
    def body(group: dict) -> dict:
        resource = live.template_body([group])["Resources"][f"{group_id} ({described['GroupName']})"]
        resource["Properties"]["SecurityGroupIngress"].sort(key=json.dumps)
        return resource
    assert body(handler.group_from_configuration(configuration, group_id)) == body(described)


# --- policy: the rule parameters carry the guard's policy ------------------------------------------


def test_rule_parameters_carry_admin_ports_thresholds_and_trust(aws: Aws) -> None:
    # GIVEN groups with SSH from a public /8, SSH from a prefix list that cannot be read, RDP from anywhere
    items = {}
    for name, permission in {
        "broad": {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "11.0.0.0/8"}]},
        "vpn": {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "prefixListIds": [{"prefixListId": "pl-0123456789abcdef0"}]},
        "rdp": {"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipv6Ranges": [{"cidrIpv6": "::/0"}]},
    }.items():
        items[name] = fixture("ci-ssh-split-halves")
        items[name]["resourceId"] = items[name]["configuration"]["groupId"] = f"sg-{name.encode().hex():0>17}"
        items[name]["configuration"]["ipPermissions"] = [permission]
    # WHEN evaluated with the default policy THEN each is NON_COMPLIANT for its own rule
    defaults = {name: handler.evaluate_event(change(item), aws.client)[0]["Annotation"] for name, item in items.items()}
    assert defaults["broad"] == "BroadAdminSource[22]: tcp/22 (SSH) from 11.0.0.0/8"
    assert defaults["vpn"].startswith("UnverifiableIngress: ") and "pl-0123456789abcdef0" in defaults["vpn"]
    assert defaults["rdp"] == "WorldOpenAdminPort[3389]: tcp/3389 (RDP) from ::/0"
    # WHEN the rule parameters set SSH only, no broad-source limit, and trust the prefix list THEN all are COMPLIANT
    policy = {"adminPorts": [22], "broadSources": False, "trustedPrefixLists": {"pl-0123456789abcdef0": "corporate VPN egress (NET-12)"}}
    for item in items.values():
        assert handler.evaluate_event(change(item, policy=policy), aws.client)[0]["ComplianceType"] == "COMPLIANT"


def test_the_periodic_trigger_puts_only_what_changed(aws: Aws) -> None:
    # GIVEN a first periodic run, which puts an evaluation for every group
    drifting = aws.group("drifting", tcp(443, "0.0.0.0/0"))
    first = handler.evaluate_event(scheduled(), aws.client)
    assert {e["ComplianceResourceId"] for e in first} == set(aws.stored()) >= {drifting}
    # WHEN nothing changed THEN the next run puts nothing (Config bills each evaluation put)
    later = {"invokingEvent": json.dumps({"messageType": handler.SCHEDULED, "notificationCreationTime": "2026-11-25T07:00:00.000Z"})}
    assert handler.evaluate_event(scheduled(**later), aws.client) == []
    # WHEN one group opens RDP to the world THEN only that group's evaluation is put
    aws.ec2.authorize_security_group_ingress(GroupId=drifting, IpPermissions=[tcp(3389, "0.0.0.0/0")])
    [evaluation] = handler.evaluate_event(scheduled(**later), aws.client)
    assert (evaluation["ComplianceResourceId"], evaluation["ComplianceType"]) == (drifting, "NON_COMPLIANT")
    assert aws.stored()[drifting] == ("NON_COMPLIANT", "WorldOpenAdminPort[3389]: tcp/3389 (RDP) from 0.0.0.0/0")


# --- attachments: the groups on one network interface --------------------------------------------


def test_groups_that_open_ssh_together_on_one_interface_are_non_compliant_on_both_triggers(aws: Aws) -> None:
    # GIVEN two groups that each admit half of IPv4 to tcp/22, a harmless third, all on one network interface
    # (broad sources allowed, so that no group is non-compliant alone)
    policy = {"broadSources": False}
    low = aws.group("low", tcp(22, "0.0.0.0/1"))
    high = aws.group("high", tcp(22, "128.0.0.0/1"))
    quiet = aws.group("quiet", tcp(443, "0.0.0.0/0"))
    alone = aws.group("alone", tcp(22, "0.0.0.0/1"))
    subnet = aws.ec2.create_subnet(VpcId=aws.vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    interface = aws.ec2.create_network_interface(SubnetId=subnet, Groups=[low, high, quiet])["NetworkInterface"]["NetworkInterfaceId"]
    # WHEN the periodic trigger runs
    evaluations = handler.evaluate_event(scheduled(policy=policy), aws.client)
    # THEN every group of the account is evaluated; the two halves are NON_COMPLIANT, naming the interface
    stored = aws.stored()
    assert {e["ComplianceResourceId"] for e in evaluations} == {g["GroupId"] for g in live.read_security_groups(aws.ec2)} == set(stored)
    for group in (low, high):
        compliance, annotation = stored[group]
        assert compliance == "NON_COMPLIANT"
        assert annotation.startswith("WorldOpenAdminPort[22]: tcp/22 (SSH) from 0.0.0.0/1, 128.0.0.0/1 with the other groups on ")
        assert interface in annotation
    assert stored[quiet] == stored[alone] == ("COMPLIANT", None)
    # AND a later change to one of them, judged from its configuration item, keeps it NON_COMPLIANT
    item = fixture("ci-ssh-from-group")
    item["resourceId"] = item["configuration"]["groupId"] = low
    item["configuration"]["ipPermissions"] = [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/1"}]}]
    item["configurationItemCaptureTime"] = "2026-11-25T07:00:00.000Z"
    [evaluation] = handler.evaluate_event(change(item, policy=policy), aws.client)
    assert evaluation["ComplianceType"] == "NON_COMPLIANT" and interface in evaluation["Annotation"]


def test_an_event_from_a_member_account_is_evaluated_there_with_the_member_role(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an organization rule: the function runs in this account, the event comes from member account 111111111111
    member = "111111111111"
    credentials = aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/setup", RoleSessionName="setup")["Credentials"]
    member_aws = Aws(boto3.Session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                                   aws_session_token=credentials["SessionToken"], region_name=REGION))
    opened = member_aws.group("opened", tcp(22, "0.0.0.0/0"))
    context = SimpleNamespace(invoked_function_arn=FUNCTION_ARN)
    # WHEN no member role is configured THEN the invocation fails, saying what is missing
    with pytest.raises(RuntimeError, match=handler.MEMBER_ROLE_ENV):
        handler.handler(scheduled(accountId=member), context)
    # WHEN it is THEN the member account's groups are evaluated and the evaluations put there, not here
    monkeypatch.setenv(handler.MEMBER_ROLE_ENV, "AdminPortGuardConfigRuleMember")
    handler.handler(scheduled(accountId=member), context)
    assert member_aws.stored()[opened][0] == "NON_COMPLIANT"
    assert opened not in aws.stored()


# --- annotations: at most 256 characters, naming port and sources -----------------------------------


def test_a_long_list_of_findings_is_cut_to_256_characters_most_severe_first(aws: Aws) -> None:
    blocks = [f"{first}.0.0.0/6" for first in range(0, 256, 4)]
    item = fixture("ci-ssh-split-halves")
    item["configuration"]["ipPermissions"] = [{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": b} for b in blocks], "ipRanges": blocks},
                                              {"ipProtocol": "tcp", "fromPort": 9, "toPort": 1, "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}]}]
    [evaluation] = handler.evaluate_event(change(item), aws.client)
    annotation = evaluation["Annotation"]
    assert len(annotation) <= handler.ANNOTATION_LIMIT
    assert annotation.startswith("WorldOpenAdminPort[22]: tcp/22 (SSH) from 0.0.0.0/6, 100.0.0.0/6, 104.0.0.0/6, 108.0.0.0/6 +52 more; ")
    assert annotation.endswith(" more")


findings_strategy = st.lists(
    st.builds(
        lambda rule, port, sources, message: Finding(Location("live", "sg-1 (g)"), rule, message, port if rule.per_port else None, "tcp", sources),
        st.sampled_from([Rule.WORLD_OPEN_ADMIN_PORT, Rule.BROAD_ADMIN_SOURCE, Rule.UNVERIFIABLE_INGRESS, Rule.MALFORMED_INGRESS]),
        st.integers(1, 65535),
        st.lists(st.text(min_size=1, max_size=60), max_size=8).map(tuple),
        st.text(max_size=400),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(findings_strategy)
def test_an_annotation_never_exceeds_256_characters_and_starts_with_the_most_severe_finding(findings: list[Finding]) -> None:
    annotation = handler.annotation({"GroupId": "sg-1", "GroupName": "g"}, findings, GuardPolicy())
    assert 0 < len(annotation) <= handler.ANNOTATION_LIMIT
    first = min(findings, key=lambda f: ([Rule.WORLD_OPEN_ADMIN_PORT, Rule.BROAD_ADMIN_SOURCE, Rule.UNVERIFIABLE_INGRESS,
                                          Rule.MALFORMED_INGRESS].index(f.rule), f.port or 0))
    assert annotation.startswith(first.check_name[:40])


# --- the Lambda asset: only the handler, the adapter and the core ----------------------------------


def test_the_asset_holds_only_the_handler_the_adapter_and_the_core_and_runs_without_site_packages(tmp_path: Path) -> None:
    asset = build_asset(tmp_path)
    files = {path.relative_to(asset / "constructs_lib").as_posix() for path in asset.rglob("*") if path.is_file()}
    assert files == {path.as_posix() for path in source_files()}
    assert {"guard/live.py", "config_rule/handler.py", "policy/__init__.py"} <= files
    assert not {"__init__.py", "guard/__init__.py", "config_rule/__init__.py", "plugin.py"} & files
    assert build_asset(tmp_path) == asset  # same content, same directory
    item = json.dumps(fixture("ci-ssh-split-halves"))
    code = (
        f"import sys, json; sys.path.insert(0, {str(asset)!r})\n"
        "from constructs_lib.config_rule import handler\n"
        f"item = json.loads({item!r})\n"
        "group = handler.group_from_configuration(item['configuration'], item['resourceId'])\n"
        "findings = handler.judge([group], [], {}, handler.rule_policy(None), 'us-east-1')[item['resourceId']]\n"
        "print(handler.annotation(group, findings, handler.rule_policy(None)))\n"
        "print(sorted(m for m in ('aws_cdk', 'jsii', 'constructs', 'boto3', 'botocore', 'yaml') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-S", "-B", "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["WorldOpenAdminPort[22]: tcp/22 (SSH) from 0.0.0.0/1, 128.0.0.0/1", "[]"]


# --- remediation: the plan applied to the live group, only when safe ---------------------------------------------

WIDE = {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


def _evaluate(aws: Aws, mode: str) -> dict[str, tuple[str, str | None]]:
    """A periodic evaluation of the rule with remediation ``mode``; what Config then holds."""
    handler.evaluate_event(scheduled(ruleParameters=json.dumps({"remediation": mode})), aws.client)
    return aws.stored()


def _remediate(aws: Aws, group_id: str, clients=None) -> dict:
    return remediate.remediate({"remediate": {"groupId": group_id, "configRuleName": RULE}}, clients or aws.client)


def _records(capsys: pytest.CaptureFixture[str], action: str) -> dict[str, dict]:
    lines = [json.loads(line)["adminPortGuardRemediation"] for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return {record["groupId"]: record for record in lines if record["action"] == action}


def _ingress(aws: Aws, group_id: str) -> set[tuple]:
    [group] = aws.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return {(p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r.get("CidrIp") or r.get("CidrIpv6"))
            for p in group["IpPermissions"] for r in p.get("IpRanges", []) + p.get("Ipv6Ranges", [])}


def test_every_tcp_port_from_anyone_is_remediated_to_the_same_ranges_minus_the_admin_ports(aws: Aws, capsys) -> None:
    # GIVEN automatic remediation and a group open on every TCP port, which the rule finds NON_COMPLIANT
    aws.new_rule({"remediation": "automatic"})
    group_id = aws.group("wide", WIDE)
    assert _evaluate(aws, "automatic")[group_id][0] == "NON_COMPLIANT"
    planned = _records(capsys, "planned")[group_id]
    # WHEN Config runs the remediation (the Automation document invokes the function with this payload)
    record = handler.handler({"remediate": {"groupId": group_id, "configRuleName": RULE}}, SimpleNamespace(invoked_function_arn=FUNCTION_ARN))
    # THEN the same source keeps every other port, the change is logged with the evaluation it answers, and it is compliant
    kept = {("tcp", 0, 21, "0.0.0.0/0"), ("tcp", 24, 3388, "0.0.0.0/0"), ("tcp", 3390, 5899, "0.0.0.0/0"),
            ("tcp", 5901, 5984, "0.0.0.0/0"), ("tcp", 5987, 65535, "0.0.0.0/0")}
    assert _ingress(aws, group_id) == kept
    assert record["action"] == "remediated" and record["evaluation"].startswith(f"{RULE}/{group_id}@")
    assert record["revoke"] == [WIDE] and record["authorize"] == planned["authorize"] and len(record["authorize"]) == 5
    assert record["before"][0]["FromPort"] == 0 and len(record["after"]) == 5 and _records(capsys, "remediated")[group_id] == record
    assert _evaluate(aws, "automatic")[group_id] == ("COMPLIANT", None)


def test_the_two_halves_on_ssh_are_closed_on_ssh_only(aws: Aws) -> None:
    aws.new_rule({"remediation": "manual"})
    group_id = aws.group("halves", tcp(22, "0.0.0.0/1", "128.0.0.0/1"), tcp(80, "0.0.0.0/0"))
    _evaluate(aws, "manual")
    assert _remediate(aws, group_id)["action"] == "remediated"
    assert _ingress(aws, group_id) == {("tcp", 80, 80, "0.0.0.0/0")}


def test_notify_plans_and_reports_but_changes_nothing(aws: Aws, capsys) -> None:
    aws.new_rule({"remediation": "notify"})
    group_id = aws.group("notify", WIDE)
    assert _evaluate(aws, "notify")[group_id][0] == "NON_COMPLIANT"
    planned = _records(capsys, "planned")[group_id]
    assert planned["revoke"] == [WIDE] and planned["closes"] == [{"source": "0.0.0.0/0", "ports": [22, 23, 3389, 5900, 5985, 5986]}]
    assert _remediate(aws, group_id)["action"] == "refused"
    assert _ingress(aws, group_id) == {("tcp", 0, 65535, "0.0.0.0/0")}


def test_remediation_refuses_what_the_rule_did_not_find_non_compliant_and_opted_out_groups(aws: Aws) -> None:
    aws.new_rule({"remediation": "automatic"})
    opted_out = aws.group("opted-out", WIDE)
    aws.ec2.create_tags(Resources=[opted_out], Tags=[{"Key": "admin-port-guard:remediation", "Value": "off"}])
    _evaluate(aws, "automatic")
    later = aws.group("opened-after-the-evaluation", WIDE)  # never evaluated: not touched
    for group_id, reason in ((opted_out, "tagged admin-port-guard:remediation=off"), (later, "has not evaluated")):
        record = _remediate(aws, group_id)
        assert record["action"] == "refused" and reason in record["reason"]
        assert _ingress(aws, group_id) == {("tcp", 0, 65535, "0.0.0.0/0")}


def test_what_a_prefix_list_opens_is_reported_and_left_alone(aws: Aws) -> None:
    # GIVEN SSH from a prefix list whose entries hold the whole IPv4 internet (NON_COMPLIANT)
    aws.new_rule({"remediation": "automatic"})
    prefix_list = aws.ec2.create_managed_prefix_list(PrefixListName=f"everyone-{next(_names)}", AddressFamily="IPv4", MaxEntries=1,
                                                     Entries=[{"Cidr": "0.0.0.0/0"}])["PrefixList"]["PrefixListId"]
    group_id = aws.group("prefix-list", {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "PrefixListIds": [{"PrefixListId": prefix_list}]})
    assert _evaluate(aws, "automatic")[group_id][0] == "NON_COMPLIANT"
    # WHEN remediated THEN nothing changes (its entries are managed elsewhere) and the record says what stays open
    record = _remediate(aws, group_id)
    assert (record["action"], record["leftOpen"]) == ("unchanged", ["tcp/22 on the group"])
    [group] = aws.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert group["IpPermissions"][0]["PrefixListIds"] == [{"PrefixListId": prefix_list}]


def test_a_concurrent_fix_wins(aws: Aws) -> None:
    aws.new_rule({"remediation": "automatic"})
    group_id = aws.group("fixed-by-hand", tcp(22, "0.0.0.0/0"), tcp(443, "0.0.0.0/0"))
    _evaluate(aws, "automatic")
    aws.ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[tcp(22, "0.0.0.0/0")])
    assert _remediate(aws, group_id)["action"] == "unchanged"
    assert _ingress(aws, group_id) == {("tcp", 443, 443, "0.0.0.0/0")}


def test_a_rule_removed_between_authorize_and_revoke_takes_its_remainder_with_it(aws: Aws) -> None:
    # GIVEN a wide rule, and somebody who removes it right after the remainder was authorized
    aws.new_rule({"remediation": "automatic"})
    group_id = aws.group("racing", WIDE)
    _evaluate(aws, "automatic")

    class Racing:
        def __init__(self, ec2) -> None:
            self.ec2 = ec2

        def __getattr__(self, name: str):
            return getattr(self.ec2, name)

        def authorize_security_group_ingress(self, **request):
            result = self.ec2.authorize_security_group_ingress(**request)
            self.ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[WIDE])
            return result

    clients = lambda service: Racing(aws.client("ec2")) if service == "ec2" else aws.client(service)  # noqa: E731
    record = _remediate(aws, group_id, clients)
    # THEN nothing is left that the group did not admit when the remediation ended: no remainder of a rule gone
    assert record["alreadyGone"] == [WIDE] and _ingress(aws, group_id) == set()


def test_a_malformed_remediation_payload_raises(aws: Aws) -> None:
    for payload in ({"remediate": "sg-1"}, {"remediate": {"groupId": "sg-xyz", "configRuleName": RULE}}, {"remediate": {"groupId": "sg-0123456789abcdef0"}}):
        with pytest.raises(handler.MalformedEvent):
            remediate.remediate(payload, aws.client)
    with pytest.raises(handler.MalformedEvent, match="remediation 'fix'"):
        handler.rule_parameters(json.dumps({"remediation": "fix"}))


# --- the construct: synthesized with the guard and AwsSolutionsChecks ------------------------------


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory):
    import aws_cdk as cdk
    from aws_cdk import aws_config as config
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns
    from cdk_nag import AwsSolutionsChecks

    from constructs_lib import AdminPortGuardConfigRule, AdminPortGuardMemberRole, Remediation, add_admin_port_guard
    from constructs_lib.config_rule.construct import OrganizationOptions

    context = {"admin-port-guard": {"adminPorts": [22, 3389], "trustedPrefixLists": {"pl-0123456789abcdef0": "corporate VPN egress (NET-12)"}}}
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")), context=context)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    add_admin_port_guard(app)
    account = cdk.Stack(app, "Account")
    topic = sns.Topic(account, "Alerts", master_key=kms.Key(account, "Key", enable_key_rotation=True), enforce_ssl=True)
    rule = AdminPortGuardConfigRule(account, "Guard", notification_topic=topic,
                                    maximum_execution_frequency=config.MaximumExecutionFrequency.SIX_HOURS)
    organization = cdk.Stack(app, "Organization")
    org_rule = AdminPortGuardConfigRule(organization, "Guard", broad_sources=False, organization=OrganizationOptions(
        member_accounts=["111111111111", "222222222222"], excluded_accounts=["333333333333"]))
    member = cdk.Stack(app, "Member")
    AdminPortGuardMemberRole(member, "GuardMember", evaluator_role_arn="arn:aws:iam::123456789012:role/guard-function")
    remediated = cdk.Stack(app, "Remediated")
    AdminPortGuardConfigRule(remediated, "Automatic", remediation=Remediation.automatic(retries=3, retry_seconds=120))
    AdminPortGuardConfigRule(remediated, "Manual", remediation=Remediation.manual())
    AdminPortGuardConfigRule(remediated, "Notify", remediation=Remediation.notify())
    assembly = app.synth()
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    return SimpleNamespace(assembly=assembly, report=report, rule=rule, org_rule=org_rule,
                           template=lambda name: assembly.get_stack_by_name(name).template)


def _of_type(template: dict, kind: str) -> list[dict]:
    return [resource for resource in template["Resources"].values() if resource["Type"] == kind]


def test_the_stack_passes_the_guard_and_aws_solutions_with_reasoned_acknowledgements_only(synthesized) -> None:
    plugins = {p["pluginName"]: p for p in synthesized.report["pluginReports"]}
    assert plugins["AwsSolutions"]["conclusion"] == "success" and plugins["AwsSolutions"]["violations"] == []
    suppressed = {(s["acknowledgedId"], s["reason"]) for s in plugins["AwsSolutions"]["suppressedViolations"]}
    wildcard, groups = "AwsSolutions::AwsSolutions-IAM5[Resource::*]", (
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*]")
    assert {identifier for identifier, _ in suppressed} == {wildcard, groups}
    assert all("no resource-level permissions" in reason for identifier, reason in suppressed if identifier == wildcard)
    assert all("admin-port-guard:remediation=off" in reason for identifier, reason in suppressed if identifier == groups)
    guard_report = json.loads((Path(synthesized.assembly.directory) / "admin-port-guard-report.json").read_text())
    assert guard_report["findings"] == [] and len(guard_report["templates"]) == 4


def test_the_rule_runs_the_bundled_handler_on_security_group_changes_and_periodically(synthesized) -> None:
    template = synthesized.template("Account")
    [rule] = _of_type(template, "AWS::Config::ConfigRule")
    properties = rule["Properties"]
    assert properties["Scope"] == {"ComplianceResourceTypes": ["AWS::EC2::SecurityGroup"]}
    assert properties["Source"]["Owner"] == "CUSTOM_LAMBDA"
    assert properties["Source"]["SourceDetails"] == [
        {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
        {"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
        {"EventSource": "aws.config", "MessageType": "ScheduledNotification", "MaximumExecutionFrequency": "Six_Hours"},
    ]
    # the policy is the app's declared one, and the handler reads it back as such
    policy = handler.rule_policy(json.dumps(properties["InputParameters"]))
    assert sorted(policy.admin_ports) == [22, 3389]
    assert policy.trusted_prefix_lists == {"pl-0123456789abcdef0": "corporate VPN egress (NET-12)"}
    [function] = _of_type(template, "AWS::Lambda::Function")
    assert function["Properties"]["Runtime"] == "python3.14"
    assert function["Properties"]["Handler"] == "constructs_lib.config_rule.handler.handler"
    [permission] = _of_type(template, "AWS::Lambda::Permission")
    assert permission["Properties"]["Principal"] == "config.amazonaws.com"
    assert permission["Properties"]["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert rule["DependsOn"] == [next(k for k, v in template["Resources"].items() if v is permission)]


def test_the_function_role_may_only_read_groups_and_put_evaluations(synthesized) -> None:
    template = synthesized.template("Account")
    [role] = _of_type(template, "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"]
    [policy] = _of_type(template, "AWS::IAM::Policy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        (["ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces", "ec2:DescribeManagedPrefixLists",
          "ec2:GetManagedPrefixListEntries", "config:GetResourceConfigHistory", "config:PutEvaluations",
          "config:GetComplianceDetailsByConfigRule"], "*"),
        (["logs:CreateLogStream", "logs:PutLogEvents"], {"Fn::GetAtt": [next(k for k, v in template["Resources"].items()
                                                                              if v["Type"] == "AWS::Logs::LogGroup"), "Arn"]}),
    ]


def test_non_compliant_changes_reach_the_topic(synthesized) -> None:
    template = synthesized.template("Account")
    [rule] = _of_type(template, "AWS::Events::Rule")
    rule_id = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::Config::ConfigRule")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.config"], "detail-type": ["Config Rules Compliance Change"],
        "detail": {"configRuleName": [{"Ref": rule_id}], "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}},
    }
    assert rule["Properties"]["Targets"][0]["Arn"]["Ref"].startswith("Alerts")
    [key] = _of_type(template, "AWS::KMS::Key")  # EventBridge may encrypt for the topic's key
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} for s in key["Properties"]["KeyPolicy"]["Statement"])


def test_the_organization_rule_invokes_one_function_that_assumes_the_member_role(synthesized) -> None:
    template = synthesized.template("Organization")
    assert _of_type(template, "AWS::Config::ConfigRule") == []
    [rule] = _of_type(template, "AWS::Config::OrganizationConfigRule")
    metadata = rule["Properties"]["OrganizationCustomRuleMetadata"]
    assert rule["Properties"]["OrganizationConfigRuleName"] == "admin-port-guard"
    assert rule["Properties"]["ExcludedAccounts"] == ["333333333333"]
    assert metadata["OrganizationConfigRuleTriggerTypes"] == [handler.CHANGE, handler.OVERSIZED, handler.SCHEDULED]
    assert metadata["ResourceTypesScope"] == ["AWS::EC2::SecurityGroup"]
    assert metadata["MaximumExecutionFrequency"] == "TwentyFour_Hours"
    assert handler.rule_policy(metadata["InputParameters"]).thresholds is None
    sources = sorted(json.dumps(p["Properties"]["SourceAccount"]) for p in _of_type(template, "AWS::Lambda::Permission"))
    assert sources == ['"111111111111"', '"222222222222"', '{"Ref": "AWS::AccountId"}']
    assert len(rule["DependsOn"]) == 3
    [function] = _of_type(template, "AWS::Lambda::Function")
    assert function["Properties"]["Environment"]["Variables"] == {handler.MEMBER_ROLE_ENV: "AdminPortGuardConfigRuleMember"}
    [policy] = _of_type(template, "AWS::IAM::Policy")
    assume = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "sts:AssumeRole")
    assert [json.dumps(r) for r in assume["Resource"]] == [
        json.dumps({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{account}:role/AdminPortGuardConfigRuleMember"]]})
        for account in ("111111111111", "222222222222")
    ]
    [member_role] = _of_type(synthesized.template("Member"), "AWS::IAM::Role")
    assert member_role["Properties"]["RoleName"] == "AdminPortGuardConfigRuleMember"
    assert member_role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:role/guard-function"}


def test_props_problems_are_reported_together(synthesized) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns

    from constructs_lib import AdminPortGuardConfigRule
    from constructs_lib.config_rule.construct import OrganizationOptions

    stack = cdk.Stack(cdk.App(), "Scratch")
    topic = sns.Topic(stack, "Topic")
    with pytest.raises(ValueError) as raised:
        AdminPortGuardConfigRule(stack, "Org", notification_topic=topic,
                                 organization=OrganizationOptions(member_accounts=[], excluded_accounts=["12345"]))
    message = str(raised.value)
    assert "3 problems" in message and "member_accounts" in message and "'12345'" in message and "per account" in message
    reasons = {f"pl-{index:017x}": "a reason long enough to be specific, " * 3 for index in range(10)}
    with pytest.raises(ValueError, match="more than AWS Config's 1024"):
        AdminPortGuardConfigRule(stack, "Long", trusted_prefix_lists=reasons)


def _resource(template: dict, kind: str, prefix: str) -> tuple[str, dict]:
    [found] = [(k, v) for k, v in template["Resources"].items() if v["Type"] == kind and k.startswith(prefix)]
    return found


def test_remediation_is_off_unless_asked_for(synthesized) -> None:
    template = synthesized.template("Account")
    assert _of_type(template, "AWS::Config::RemediationConfiguration") == [] and _of_type(template, "AWS::SSM::Document") == []
    [rule] = _of_type(template, "AWS::Config::ConfigRule")
    assert set(rule["Properties"]["InputParameters"]) == {"policy"}


def test_automatic_remediation_runs_the_projects_automation_document_which_invokes_the_rules_function(synthesized) -> None:
    template = synthesized.template("Remediated")
    rule_id, rule = _resource(template, "AWS::Config::ConfigRule", "Automatic")
    function_id, _ = _resource(template, "AWS::Lambda::Function", "Automatic")
    document_id, document = _resource(template, "AWS::SSM::Document", "Automatic")
    role_id, role = _resource(template, "AWS::IAM::Role", "AutomaticAutomationRole")
    _, remediation = _resource(template, "AWS::Config::RemediationConfiguration", "Automatic")
    assert handler.rule_parameters(json.dumps(rule["Properties"]["InputParameters"]))[1] == "automatic"
    assert remediation["Properties"] == {
        "ConfigRuleName": {"Ref": rule_id}, "TargetType": "SSM_DOCUMENT", "TargetId": {"Ref": document_id},
        "ResourceType": "AWS::EC2::SecurityGroup", "Automatic": True, "MaximumAutomaticAttempts": 3, "RetryAttemptSeconds": 120,
        "Parameters": {"GroupId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
                       "AutomationAssumeRole": {"StaticValue": {"Values": [{"Fn::GetAtt": [role_id, "Arn"]}]}}},
    }
    content = document["Properties"]["Content"]
    assert document["Properties"]["DocumentType"] == "Automation" and content["assumeRole"] == "{{ AutomationAssumeRole }}"
    [step] = content["mainSteps"]
    assert step["action"] == "aws:invokeLambdaFunction" and step["inputs"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert step["inputs"]["Payload"] == {"Fn::Join": ["", ['{"remediate": {"groupId": "{{ GroupId }}", "configRuleName": "', {"Ref": rule_id}, '"}}']]}
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"},
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]
    [invoke] = [s for r in _of_type(template, "AWS::IAM::Policy") if r["Properties"]["Roles"] == [{"Ref": role_id}]
                for s in r["Properties"]["PolicyDocument"]["Statement"]]
    assert (invoke["Action"], invoke["Resource"]) == ("lambda:InvokeFunction", {"Fn::GetAtt": [function_id, "Arn"]})


def _function_statements(template: dict, prefix: str) -> list[dict]:
    role_id, _ = _resource(template, "AWS::IAM::Role", f"{prefix}FunctionRole")
    return [s for r in _of_type(template, "AWS::IAM::Policy") if r["Properties"]["Roles"] == [{"Ref": role_id}]
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


def test_only_an_applying_remediation_may_change_ingress_rules_and_never_of_an_opted_out_group(synthesized) -> None:
    template = synthesized.template("Remediated")
    writes = ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]
    for prefix in ("Automatic", "Manual"):
        [statement] = [s for s in _function_statements(template, prefix) if s["Action"] == writes]
        assert statement["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ec2:", {"Ref": "AWS::Region"}, ":",
                                                           {"Ref": "AWS::AccountId"}, ":security-group/*"]]}
        assert statement["Condition"] == {"StringNotEquals": {"aws:ResourceTag/admin-port-guard:remediation": "off"}}
    assert not any("ec2:RevokeSecurityGroupIngress" in json.dumps(s) for s in _function_statements(template, "Notify"))
    _, manual = _resource(template, "AWS::Config::RemediationConfiguration", "Manual")
    assert manual["Properties"]["Automatic"] is False and "MaximumAutomaticAttempts" not in manual["Properties"]
    _, notify = _resource(template, "AWS::Config::ConfigRule", "Notify")
    assert handler.rule_parameters(json.dumps(notify["Properties"]["InputParameters"]))[1] == "notify"
    assert len(_of_type(template, "AWS::Config::RemediationConfiguration")) == 2 and len(_of_type(template, "AWS::SSM::Document")) == 2


def test_remediation_props_problems_are_reported_together(synthesized) -> None:
    import aws_cdk as cdk

    from constructs_lib import AdminPortGuardConfigRule, Remediation
    from constructs_lib.config_rule.construct import OrganizationOptions

    stack = cdk.Stack(cdk.App(), "Scratch")
    with pytest.raises(ValueError) as raised:
        AdminPortGuardConfigRule(stack, "Org", remediation=Remediation.automatic(retries=0, retry_seconds=3_000_000),
                                 organization=OrganizationOptions(member_accounts=["111111111111"]))
    message = str(raised.value)
    assert "3 problems" in message and "retries 0" in message and "retry_seconds 3000000" in message and "organization rule" in message
    with pytest.raises(ValueError, match="Remediation.notify"):
        AdminPortGuardConfigRule(stack, "Text", remediation="automatic")
