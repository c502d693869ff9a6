"""The guard's case matrix: named templates and the findings each must produce.

Every case is run through the policy core, the CLI and the cdk-nag pack (see the test modules), so
the three front ends are held to one expectation. ``expected`` is a set of ``(rule id, port)``;
port is ``None`` for findings that are not about one admin port.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spec import ADMIN_PORTS, public_blocks

WORLD, BROAD, UNVERIFIABLE, MALFORMED = "WorldOpenAdminPort", "BroadAdminSource", "UnverifiableIngress", "MalformedIngress"
MALFORMED_TEMPLATE = "MalformedTemplate"
ALL_ADMIN = ADMIN_PORTS


@dataclass(frozen=True)
class Case:
    name: str
    resources: dict[str, Any]
    expected: frozenset[tuple[str, int | None]]
    parameters: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    #: False for templates CDK cannot synthesize (a malformed template): checked by the core and the CLI only.
    synthesizable: bool = True

    def template(self) -> dict[str, Any]:
        """The case as a template. ``Flag`` may be true or false (it compares a parameter without AllowedValues)."""
        body: dict[str, Any] = {"Resources": self.resources}
        body["Parameters"] = {"Stage": {"Type": "String", "Default": "dev"}, **self.parameters}
        if self.mappings:
            body["Mappings"] = self.mappings
        body["Conditions"] = {"Flag": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, **self.conditions}
        return body


def rule(protocol: Any = "tcp", from_port: Any = 22, to_port: Any = 22, **source: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"IpProtocol": protocol}
    if from_port is not None:
        entry["FromPort"] = from_port
    if to_port is not None:
        entry["ToPort"] = to_port
    entry.update(source)
    return entry


def group(*entries: dict[str, Any], **properties: Any) -> dict[str, Any]:
    body = {"GroupDescription": "test group", **properties}
    if entries:
        body["SecurityGroupIngress"] = list(entries)
    return {"Type": "AWS::EC2::SecurityGroup", "Properties": body}


def ingress(group_id: Any, entry: dict[str, Any], key: str = "GroupId") -> dict[str, Any]:
    return {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {key: group_id, **entry}}


def nodegroup(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::EKS::Nodegroup", "Properties": {"ClusterName": "c", "NodeRole": "arn:aws:iam::123456789012:role/n",
                                                          "Subnets": ["subnet-1"], **properties}}


def beanstalk(kind: str, **options: str) -> dict[str, Any]:
    settings = [{"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": name, "Value": value} for name, value in options.items()]
    return {"Type": f"AWS::ElasticBeanstalk::{kind}", "Properties": {"ApplicationName": "app", "SolutionStackName": "64bit Amazon Linux 2023",
                                                                      "OptionSettings": settings}}


def lightsail(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::Lightsail::Instance", "Properties": {"InstanceName": "box", "BlueprintId": "amazon_linux_2023",
                                                               "BundleId": "nano_3_0", **properties}}


def gamelift(*permissions: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::GameLift::Fleet", "Properties": {"Name": "fleet", "EC2InstanceType": "c5.large", "EC2InboundPermissions": list(permissions)}}


def halves() -> dict[str, Any]:
    return {"Low": group(rule(CidrIp="0.0.0.0/1")), "High": group(rule(CidrIp="128.0.0.0/1"))}


def instance(*groups: str) -> dict[str, Any]:
    return {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", "SecurityGroupIds": [{"Fn::GetAtt": [g, "GroupId"]} for g in groups]}}


def instance_with_interfaces(*interfaces: list[str]) -> dict[str, Any]:
    return {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1", "NetworkInterfaces": [
        {"DeviceIndex": str(index), "SubnetId": "subnet-1", "GroupSet": [{"Ref": g} for g in groups]} for index, groups in enumerate(interfaces)]}}


def launch_template(*groups: str) -> dict[str, Any]:
    return {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {"SecurityGroupIds": [{"Ref": g} for g in groups]}}}


def network_lb(listen: int, target: int, lb_rule: dict[str, Any] | None = None, **balancer: Any) -> dict[str, Any]:
    """A Network Load Balancer (with a security group admitting ``lb_rule``, if given) forwarding ``listen`` to ``target``."""
    resources: dict[str, Any] = {
        "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Type": "network", "Subnets": ["subnet-1"], **balancer}},
        "Targets": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": target, "Protocol": "TCP", "VpcId": "vpc-1"}},
        "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
            "LoadBalancerArn": {"Ref": "Lb"}, "Port": listen, "Protocol": "TCP" if balancer.get("Type", "network") == "network" else "HTTP",
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Targets"}}]}},
    }
    if lb_rule is not None:
        resources["LbSg"] = group(lb_rule)
        resources["Lb"]["Properties"]["SecurityGroups"] = [{"Ref": "LbSg"}]
    return resources


def world(*ports: int) -> frozenset[tuple[str, int | None]]:
    return frozenset((WORLD, port) for port in ports)


def broad(*ports: int) -> frozenset[tuple[str, int | None]]:
    return frozenset((BROAD, port) for port in ports)


def one(rule_id: str, port: int | None = None) -> frozenset[tuple[str, int | None]]:
    return frozenset({(rule_id, port)})


NONE: frozenset[tuple[str, int | None]] = frozenset()

CASES = [
    # --- non-compliant: admin ports open to the whole internet -------------------------------
    Case("ipv4-any", {"Sg": group(rule(CidrIp="0.0.0.0/0"))}, world(22)),
    Case("ipv6-any", {"Sg": group(rule(CidrIpv6="::/0"))}, world(22)),
    Case("ipv6-any-spelled-colons-zero", {"Sg": group(rule(CidrIpv6="::0/0"))}, world(22)),
    Case("ipv6-any-spelled-zero-colons", {"Sg": group(rule(CidrIpv6="0::/0"))}, world(22)),
    Case("ipv6-any-spelled-long", {"Sg": group(rule(CidrIpv6="0:0:0:0:0:0:0:0/0"))}, world(22)),
    Case("ipv6-global-unicast", {"Sg": group(rule(CidrIpv6="2000::/3"))}, world(22)),
    Case(
        "ipv6-global-unicast-in-two-halves",
        {"Sg": group(rule(CidrIpv6="2000::/4"), rule(CidrIpv6="3000::/4"))},
        world(22),
    ),
    Case("ipv4-halves-in-one-list", {"Sg": group(rule(CidrIp="0.0.0.0/1"), rule(CidrIp="128.0.0.0/1"))}, world(22)),
    Case(
        "ipv4-halves-in-standalone-resources",
        {
            "Sg": group(),
            "Low": ingress({"Ref": "Sg"}, rule(CidrIp="0.0.0.0/1")),
            "High": ingress({"Fn::GetAtt": ["Sg", "GroupId"]}, rule(CidrIp="128.0.0.0/1")),
        },
        world(22),
    ),
    Case(
        "ipv4-half-inline-half-standalone",
        {"Sg": group(rule(CidrIp="0.0.0.0/1")), "High": ingress({"Ref": "Sg"}, rule(CidrIp="128.0.0.0/1"))},
        world(22),
    ),
    Case(
        "every-public-block-without-private-ranges",
        {"Sg": group(*(rule(CidrIp=str(block)) for block in public_blocks(4)))},
        world(22),
    ),
    Case("rdp", {"Sg": group(rule(from_port=3389, to_port=3389, CidrIp="0.0.0.0/0"))}, world(3389)),
    Case("telnet", {"Sg": group(rule(from_port=23, to_port=23, CidrIp="0.0.0.0/0"))}, world(23)),
    Case("winrm", {"Sg": group(rule(from_port=5985, to_port=5986, CidrIp="0.0.0.0/0"))}, world(5985, 5986)),
    Case("vnc-ipv6", {"Sg": group(rule(from_port=5900, to_port=5900, CidrIpv6="::/0"))}, world(5900)),
    Case("all-traffic-string", {"Sg": group(rule("-1", None, None, CidrIp="0.0.0.0/0"))}, world(*ALL_ADMIN)),
    Case("all-traffic-integer", {"Sg": group(rule(-1, None, None, CidrIpv6="::/0"))}, world(*ALL_ADMIN)),
    Case("all-traffic-with-ports", {"Sg": group(rule("-1", 80, 80, CidrIp="0.0.0.0/0"))}, world(*ALL_ADMIN)),
    Case("tcp-all-ports", {"Sg": group(rule("tcp", 0, 65535, CidrIp="0.0.0.0/0"))}, world(*ALL_ADMIN)),
    Case("tcp-minus-one-ports", {"Sg": group(rule("tcp", -1, -1, CidrIp="0.0.0.0/0"))}, world(*ALL_ADMIN)),
    Case("port-range-20-25", {"Sg": group(rule("tcp", 20, 25, CidrIp="0.0.0.0/0"))}, world(22, 23)),
    Case("protocol-uppercase", {"Sg": group(rule("TCP", CidrIp="0.0.0.0/0"))}, world(22)),
    Case("protocol-number-string", {"Sg": group(rule("6", CidrIp="0.0.0.0/0"))}, world(22)),
    Case("protocol-number-integer", {"Sg": group(rule(6, CidrIp="0.0.0.0/0"))}, world(22)),
    Case("ports-as-strings", {"Sg": group(rule("tcp", "22", "22", CidrIp="0.0.0.0/0"))}, world(22)),
    Case(
        "parameter-default",
        {"Sg": group(rule(CidrIp={"Ref": "Cidr"}))},
        world(22),
        parameters={"Cidr": {"Type": "String", "Default": "0.0.0.0/0"}},
    ),
    Case(
        "parameter-allowed-value",
        {"Sg": group(rule(CidrIp={"Ref": "Cidr"}))},
        world(22),
        parameters={"Cidr": {"Type": "String", "Default": "10.0.0.0/8", "AllowedValues": ["10.0.0.0/8", "0.0.0.0/0"]}},
    ),
    Case("fn-if-either-branch", {"Sg": group(rule(CidrIp={"Fn::If": ["Flag", "10.0.0.0/8", "0.0.0.0/0"]}))}, world(22)),
    Case(
        "fn-if-whole-entry",
        {"Sg": group({"Fn::If": ["Flag", rule(CidrIp="0.0.0.0/0"), {"Ref": "AWS::NoValue"}]})},
        world(22),
    ),
    Case("fn-join", {"Sg": group(rule(CidrIp={"Fn::Join": ["/", ["0.0.0.0", "0"]]}))}, world(22)),
    Case(
        "fn-sub-with-parameter",
        {"Sg": group(rule(CidrIp={"Fn::Sub": "0.0.0.0/${Bits}"}))},
        world(22),
        parameters={"Bits": {"Type": "Number", "Default": 0}},
    ),
    Case(
        "fn-sub-with-variables",
        {"Sg": group(rule(CidrIpv6={"Fn::Sub": ["${Net}/0", {"Net": "::"}]}))},
        world(22),
    ),
    Case("fn-select", {"Sg": group(rule(CidrIp={"Fn::Select": [1, ["10.0.0.0/8", "0.0.0.0/0"]]}))}, world(22)),
    Case(
        "fn-select-of-fn-split",
        {"Sg": group(rule(CidrIp={"Fn::Select": ["1", {"Fn::Split": [",", "10.0.0.0/8,0.0.0.0/0"]}]}))},
        world(22),
    ),
    Case(
        "fn-cidr",
        {"Sg": group(rule(CidrIp={"Fn::Select": [0, {"Fn::Cidr": ["0.0.0.0/0", 1, 32]}]}))},
        world(22),
    ),
    Case(
        "fn-find-in-map",
        {"Sg": group(rule(CidrIp={"Fn::FindInMap": ["Nets", "Admin", "Cidr"]}))},
        world(22),
        mappings={"Nets": {"Admin": {"Cidr": "0.0.0.0/0"}}},
    ),
    Case(
        "fn-find-in-map-by-region",
        {"Sg": group(rule(CidrIp={"Fn::FindInMap": ["Nets", {"Ref": "AWS::Region"}, "Cidr"]}))},
        world(22),
        mappings={"Nets": {"eu-west-1": {"Cidr": "10.0.0.0/8"}, "us-east-1": {"Cidr": "0.0.0.0/0"}}},
    ),
    Case(
        "group-name-reference",
        {"Sg": group(GroupName="web"), "Open": ingress("web", rule(CidrIp="0.0.0.0/0"), key="GroupName")},
        world(22),
    ),
    Case("literal-group-id", {"Open": ingress("sg-0123456789abcdef0", rule(CidrIp="0.0.0.0/0"))}, world(22)),
    Case(
        "prefix-list-in-template",
        {
            "Everyone": {
                "Type": "AWS::EC2::PrefixList",
                "Properties": {"AddressFamily": "IPv4", "MaxEntries": 1, "PrefixListName": "x",
                               "Entries": [{"Cidr": "0.0.0.0/0"}]},
            },
            "Sg": group(rule(SourcePrefixListId={"Ref": "Everyone"})),
        },
        world(22),
    ),
    Case(
        "conditional-resource",
        {"Sg": {**group(rule(CidrIp="0.0.0.0/0")), "Condition": "Flag"}},
        world(22),
    ),
    # --- compliant ------------------------------------------------------------------------------
    Case("this-network-slash-8", {"Sg": group(rule(CidrIp="0.0.0.0/8"))}, NONE),
    Case("private-and-admin-cidrs", {"Sg": group(rule(CidrIp="10.0.0.0/8"), rule(CidrIp="203.0.113.10/32"))}, NONE),
    Case("one-half-only", {"Sg": group(rule(CidrIp="0.0.0.0/1"))}, broad(22)),
    Case("ipv6-one-eighth", {"Sg": group(rule(CidrIpv6="2000::/4"))}, broad(22)),
    Case(
        "every-public-block-but-one",
        {"Sg": group(*(rule(CidrIp=str(block)) for block in public_blocks(4) if str(block) != "8.0.0.0/7"))},
        broad(22),
    ),
    Case("web-ports-open", {"Sg": group(rule("tcp", 80, 80, CidrIp="0.0.0.0/0"), rule("tcp", 443, 443, CidrIpv6="::/0"))}, NONE),
    Case("udp-22", {"Sg": group(rule("udp", 22, 22, CidrIp="0.0.0.0/0"))}, NONE),
    Case("udp-number-3389", {"Sg": group(rule("17", 3389, 3389, CidrIp="0.0.0.0/0"))}, NONE),
    Case("icmp", {"Sg": group(rule("icmp", -1, -1, CidrIp="0.0.0.0/0"))}, NONE),
    Case("icmpv6", {"Sg": group(rule("58", -1, -1, CidrIpv6="::/0"))}, NONE),
    Case("esp-protocol-50", {"Sg": group(rule("50", None, None, CidrIp="0.0.0.0/0"))}, NONE),
    Case("ssh-from-security-group", {"Sg": group(rule(SourceSecurityGroupId={"Ref": "Bastion"})), "Bastion": group()}, NONE),
    Case("ssh-from-group-name", {"Sg": group(rule(SourceSecurityGroupName="bastion"))}, NONE),
    Case("fn-if-private-branches", {"Sg": group(rule(CidrIp={"Fn::If": ["Flag", "10.0.0.0/8", "192.168.0.0/16"]}))}, NONE),
    Case(
        "parameter-private-default",
        {"Sg": group(rule(CidrIp={"Ref": "Cidr"}))},
        NONE,
        parameters={"Cidr": {"Type": "String", "Default": "10.0.0.0/8"}},
    ),
    Case(
        "vpc-cidr-attribute",
        {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Sg": group(rule(CidrIp={"Fn::GetAtt": ["Vpc", "CidrBlock"]})),
        },
        NONE,
    ),
    Case(
        "fn-cidr-small-subnet",
        {"Sg": group(rule(CidrIp={"Fn::Select": [1, {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}]}))},
        NONE,
    ),
    Case("egress-is-ignored", {"Sg": group(SecurityGroupEgress=[rule(CidrIp="0.0.0.0/0")])}, NONE),
    Case(
        "unknown-source-on-web-port-only",
        {"Sg": group(rule("tcp", 443, 443, CidrIp={"Fn::ImportValue": "Elsewhere"}))},
        NONE,
    ),
    Case(
        "unknown-port-private-source",
        {"Sg": group(rule("tcp", {"Ref": "Port"}, {"Ref": "Port"}, CidrIp="10.0.0.0/8"))},
        NONE,
        parameters={"Port": {"Type": "Number"}},
    ),
    # --- unverifiable at synth time --------------------------------------------------------------
    Case(
        "parameter-without-default",
        {"Sg": group(rule(CidrIp={"Ref": "Cidr"}))},
        one(UNVERIFIABLE, 22),
        parameters={"Cidr": {"Type": "String"}},
    ),
    Case(
        "ssm-parameter",
        {"Sg": group(rule(CidrIp={"Ref": "Cidr"}))},
        one(UNVERIFIABLE, 22),
        parameters={"Cidr": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/net/admin"}},
    ),
    Case("import-value", {"Sg": group(rule(CidrIp={"Fn::ImportValue": "AdminCidr"}))}, one(UNVERIFIABLE, 22)),
    Case("pseudo-parameter", {"Sg": group(rule(CidrIp={"Fn::Sub": "${AWS::Region}/0"}))}, one(UNVERIFIABLE, 22)),
    Case("external-prefix-list", {"Sg": group(rule(SourcePrefixListId="pl-0123456789abcdef0"))}, one(UNVERIFIABLE, 22)),
    Case(
        "unknown-port-world-source",
        {"Sg": group(rule("tcp", {"Ref": "Port"}, {"Ref": "Port"}, CidrIp="0.0.0.0/0"))},
        one(UNVERIFIABLE, 22),
        parameters={"Port": {"Type": "Number"}},
    ),
    Case(
        "unknown-protocol-world-source",
        {"Sg": group(rule({"Ref": "Proto"}, 22, 22, CidrIp="0.0.0.0/0"))},
        one(UNVERIFIABLE, 22),
        parameters={"Proto": {"Type": "String"}},
    ),
    Case("unknown-rule-list", {"Sg": group(SecurityGroupIngress={"Fn::GetAtt": ["Other", "Rules"]})}, one(UNVERIFIABLE)),
    Case(
        "nested-stack-template-missing",
        {"Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://example.invalid/t"}}},
        one(UNVERIFIABLE),
    ),
    Case(
        "fn-for-each",
        {"Fn::ForEach::Groups": ["Name", ["A", "B"], {"Sg${Name}": group(rule(CidrIp="0.0.0.0/0"))}]},
        one(UNVERIFIABLE),
    ),
    Case(
        "properties-from-an-intrinsic",
        {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"Fn::If": ["Flag", {"Fn::ImportValue": "props"}, {}]}}},
        one(UNVERIFIABLE),
    ),
    Case(  # both branches are literal: each is read, as CloudFormation deploys one of them
        "properties-chosen-by-a-condition",
        {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"Fn::If": ["Flag", {"GroupDescription": "closed"},
                                                                                      group(rule(CidrIp="0.0.0.0/0"))["Properties"]]}}},
        world(22),
    ),
    Case(
        "properties-chosen-by-a-condition-both-closed",
        {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"Fn::If": ["Flag", {"GroupDescription": "a"}, {"Ref": "AWS::NoValue"}]}}},
        frozenset(),
    ),
    Case(
        "properties-with-an-include-transform",
        {"Sg": group(**{"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://bucket/rules.yaml"}}})},
        one(UNVERIFIABLE),
    ),
    # --- malformed -------------------------------------------------------------------------------
    Case("cidr-leading-space", {"Sg": group(rule(CidrIp=" 0.0.0.0/0"))}, one(MALFORMED)),
    Case("cidr-double-zero-prefix", {"Sg": group(rule(CidrIp="0.0.0.0/00"))}, one(MALFORMED)),
    # EC2 keeps the network part of a block with host bits (API_IpRange): what it deploys is judged
    Case("cidr-host-bits-is-the-block-ec2-keeps", {"Sg": group(rule(CidrIp="10.0.0.0/0"))}, world(22)),
    Case("ssh-location-default-of-aws-samples", {"Sg": group(rule(CidrIp="192.168.1.0/0"))}, world(22)),
    Case("ipv6-host-bits-is-the-block-ec2-keeps", {"Sg": group(rule(CidrIpv6="fd00::/0"))}, world(22)),
    Case("host-bits-on-a-non-admin-port", {"Sg": group(rule("tcp", 443, 443, CidrIp="1.2.3.5/16"))}, frozenset()),
    Case("cidr-without-length", {"Sg": group(rule(CidrIp="0.0.0.0"))}, one(MALFORMED)),
    Case("cidr-garbage", {"Sg": group(rule(CidrIp="everyone"))}, one(MALFORMED)),
    Case("cidr-ipv6-in-cidrip", {"Sg": group(rule(CidrIp="::/0"))}, one(MALFORMED)),
    Case("cidr-ipv4-in-cidripv6", {"Sg": group(rule(CidrIpv6="0.0.0.0/0"))}, one(MALFORMED)),
    Case("cidr-not-a-string", {"Sg": group(rule(CidrIp=0))}, one(MALFORMED)),
    Case("from-above-to", {"Sg": group(rule("tcp", 25, 20, CidrIp="10.0.0.0/8"))}, one(MALFORMED)),
    Case("port-out-of-range", {"Sg": group(rule("tcp", 22, 70000, CidrIp="10.0.0.0/8"))}, one(MALFORMED)),
    Case("port-not-a-number", {"Sg": group(rule("tcp", "ssh", "ssh", CidrIp="10.0.0.0/8"))}, one(MALFORMED)),
    Case("protocol-missing", {"Sg": group({"FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"})}, one(MALFORMED)),
    Case("protocol-unknown-name", {"Sg": group(rule("tcpx", CidrIp="0.0.0.0/0"))}, one(MALFORMED)),
    Case("protocol-out-of-range", {"Sg": group(rule("300", CidrIp="0.0.0.0/0"))}, one(MALFORMED)),
    Case("no-source", {"Sg": group(rule())}, one(MALFORMED)),
    Case("two-sources", {"Sg": group(rule(CidrIp="10.0.0.0/8", CidrIpv6="2001:db8::/32"))}, one(MALFORMED)),
    Case("rules-not-a-list", {"Sg": group(SecurityGroupIngress=rule(CidrIp="10.0.0.0/8"))}, one(MALFORMED)),
    Case("standalone-without-group", {"Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": rule(CidrIp="10.0.0.0/8")}}, one(MALFORMED)),

    # --- services that open admin ports themselves (issue 10) -------------------------------------
    Case("eks-ssh-key-without-source-groups", {"Nodes": nodegroup(RemoteAccess={"Ec2SshKey": "ops"})}, world(22)),
    Case("eks-windows-ssh-key-without-source-groups",
         {"Nodes": nodegroup(AmiType="WINDOWS_CORE_2022_x86_64", RemoteAccess={"Ec2SshKey": "ops"})}, world(3389)),
    Case("eks-ami-type-unknown", {"Nodes": nodegroup(AmiType={"Ref": "Ami"}, RemoteAccess={"Ec2SshKey": "ops"})}, world(22, 3389),
         parameters={"Ami": {"Type": "String"}}),
    Case("eks-ssh-key-with-source-groups",
         {"Nodes": nodegroup(RemoteAccess={"Ec2SshKey": "ops", "SourceSecurityGroups": ["sg-0123456789abcdef0"]})}, NONE),
    Case("eks-without-remote-access", {"Nodes": nodegroup()}, NONE),
    Case("beanstalk-environment-world-ssh-restriction",
         {"Env": beanstalk("Environment", EC2KeyName="ops", SSHSourceRestriction="tcp, 22, 22, 0.0.0.0/0")}, world(22)),
    Case("beanstalk-configuration-template-world-ssh-restriction",
         {"Saved": beanstalk("ConfigurationTemplate", SSHSourceRestriction="tcp,22,22,0.0.0.0/0")}, world(22)),
    Case("beanstalk-key-pair-without-restriction", {"Env": beanstalk("Environment", EC2KeyName="ops")}, world(22)),
    Case("beanstalk-key-pair-restricted-to-admin-network",
         {"Env": beanstalk("Environment", EC2KeyName="ops", SSHSourceRestriction="tcp, 22, 22, 203.0.113.10/32")}, NONE),
    Case("beanstalk-key-pair-restricted-to-a-group",
         {"Env": beanstalk("Environment", EC2KeyName="ops", SSHSourceRestriction="tcp, 22, 22, sg-0123456789abcdef0")}, NONE),
    Case("beanstalk-default-group-disabled",
         {"Env": beanstalk("Environment", EC2KeyName="ops", DisableDefaultEC2SecurityGroup="true")}, NONE),
    Case("beanstalk-key-pair-from-saved-configuration-in-the-template",
         {"Saved": beanstalk("ConfigurationTemplate", EC2KeyName="ops"),
          "Env": {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"ApplicationName": "app", "TemplateName": {"Ref": "Saved"}}}},
         world(22)),
    Case("beanstalk-saved-configuration-elsewhere",
         {"Env": {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"ApplicationName": "app", "TemplateName": "shared-config"}}},
         one(UNVERIFIABLE)),
    Case("lightsail-default-firewall", {"Box": lightsail()}, world(22)),
    Case("lightsail-windows-default-firewall", {"Box": lightsail(BlueprintId="windows_server_2022")}, world(22, 3389)),
    Case("lightsail-explicit-world-ssh", {"Box": lightsail(Networking={"Ports": [{"FromPort": 22, "ToPort": 22, "Protocol": "tcp", "Cidrs": ["0.0.0.0/0"]}]})}, world(22)),
    Case("lightsail-ssh-from-one-address-web-from-anywhere",
         {"Box": lightsail(Networking={"Ports": [{"FromPort": 22, "ToPort": 22, "Protocol": "tcp", "Cidrs": ["203.0.113.10"]},
                                                 {"FromPort": 443, "ToPort": 443, "Protocol": "tcp"}]})}, NONE),
    Case("lightsail-ssh-from-the-console-client-only",
         {"Box": lightsail(Networking={"Ports": [{"FromPort": 22, "ToPort": 22, "Protocol": "tcp", "CidrListAliases": ["lightsail-connect"]}]})}, NONE),
    Case("lightsail-private-port", {"Box": lightsail(Networking={"Ports": [{"FromPort": 22, "ToPort": 22, "AccessType": "private"}]})}, NONE),
    Case("lightsail-all-protocols-unrestricted", {"Box": lightsail(Networking={"Ports": [{"Protocol": "all"}]})}, world(*ALL_ADMIN)),
    Case("gamelift-world-ssh", {"Fleet": gamelift({"FromPort": 22, "ToPort": 22, "IpRange": "0.0.0.0/0", "Protocol": "TCP"})}, world(22)),
    Case("gamelift-game-ports-only", {"Fleet": gamelift({"FromPort": 7777, "ToPort": 7780, "IpRange": "0.0.0.0/0", "Protocol": "UDP"})}, NONE),
    # --- groups united on one network interface (issue 10) ----------------------------------------
    Case("instance-with-two-halves-of-ipv4", {**halves(), "Host": instance("Low", "High")}, broad(22) | world(22)),
    Case("two-halves-of-ipv4-on-two-instances", {**halves(), "One": instance("Low"), "Two": instance("High")}, broad(22)),
    Case("instance-interfaces-are-not-united", {**halves(), "Host": instance_with_interfaces(["Low"], ["High"])}, broad(22)),
    Case("launch-template-with-two-halves", {**halves(), "Template": launch_template("Low", "High")}, broad(22) | world(22)),
    Case("network-interface-with-two-halves", {**halves(), "Eni": {"Type": "AWS::EC2::NetworkInterface", "Properties": {
        "SubnetId": "subnet-1", "GroupSet": [{"Ref": "Low"}, {"Ref": "High"}]}}}, broad(22) | world(22)),
    Case("ecs-service-with-two-halves", {**halves(), "Service": {"Type": "AWS::ECS::Service", "Properties": {"NetworkConfiguration": {
        "AwsvpcConfiguration": {"SecurityGroups": [{"Ref": "Low"}, {"Ref": "High"}], "Subnets": ["subnet-1"]}}}}}, broad(22) | world(22)),
    Case("instance-with-two-small-ranges-that-are-broad-together",
         {"A": group(rule(CidrIp="8.8.0.0/16")), "B": group(rule(CidrIp="9.9.0.0/16")), "Host": instance("A", "B")}, broad(22)),
    Case("instance-halves-of-ipv6", {"A": group(rule(CidrIpv6="2000::/4")), "B": group(rule(CidrIpv6="3000::/4")), "Host": instance("A", "B")},
         broad(22) | world(22)),
    # --- conditions (issue 10) ---------------------------------------------------------------------
    Case("condition-never-true-given-allowed-values", {"Sg": {**group(rule(CidrIp="0.0.0.0/0")), "Condition": "IsProd"}}, NONE,
         parameters={"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "test"]}},
         conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}),
    Case("condition-true-for-an-allowed-value", {"Sg": {**group(rule(CidrIp="0.0.0.0/0")), "Condition": "IsProd"}}, world(22),
         parameters={"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}},
         conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}),
    Case("condition-on-a-free-parameter", {"Sg": {**group(rule(CidrIp="0.0.0.0/0")), "Condition": "IsProd"}}, world(22),
         parameters={"Env": {"Type": "String", "Default": "dev"}}, conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}),
    Case("fn-if-branch-that-cannot-be-taken",
         {"Sg": group(rule(CidrIp={"Fn::If": ["IsProd", "0.0.0.0/0", "10.0.0.0/8"]}))}, NONE,
         parameters={"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "test"]}},
         conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}),
    Case("condition-and-or-not", {"Sg": {**group(rule(CidrIp="0.0.0.0/0")), "Condition": "Never"}}, NONE,
         parameters={"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "test"]}},
         conditions={"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}, "IsTest": {"Fn::Equals": [{"Ref": "Env"}, "test"]},
                     "Never": {"Fn::And": [{"Fn::Not": [{"Condition": "IsDev"}]}, {"Fn::Not": [{"Fn::Or": [{"Condition": "IsTest"}, {"Condition": "IsDev"}]}]}]}}),
    Case("condition-undefined", {"Sg": {**group(rule(CidrIp="0.0.0.0/0")), "Condition": "Missing"}},
         frozenset({(MALFORMED_TEMPLATE, None), (WORLD, 22)}), synthesizable=False),
    # --- broad admin sources: the limits and around them (issue 10) ---------------------------------
    Case("public-slash-16-is-not-broad", {"Sg": group(rule(CidrIp="8.8.0.0/16"))}, NONE),
    Case("public-slash-15-is-broad", {"Sg": group(rule(CidrIp="8.8.0.0/15"))}, broad(22)),
    Case("public-slash-24-is-not-broad", {"Sg": group(rule(CidrIp="8.8.8.0/24"))}, NONE),
    Case("private-slash-8-is-not-broad", {"Sg": group(rule(CidrIp="10.0.0.0/8"))}, NONE),
    Case("shared-address-space-inside-is-not-counted", {"Sg": group(rule(CidrIp="100.0.0.0/8"))}, broad(22)),
    Case("a-slash-15-half-private-is-not-broad", {"Sg": group(rule(CidrIp="192.168.0.0/15"))}, NONE),
    Case("two-public-slash-16s-together-are-broad", {"Sg": group(rule(CidrIp="8.8.0.0/16"), rule(CidrIp="9.9.0.0/16"))}, broad(22)),
    Case("ipv6-slash-48-site-is-not-broad", {"Sg": group(rule(CidrIpv6="2600:1f18:abcd::/48"))}, NONE),
    Case("ipv6-slash-47-is-broad", {"Sg": group(rule(CidrIpv6="2600:1f18:abcc::/47"))}, broad(22)),
    Case("ipv6-slash-32-is-broad", {"Sg": group(rule(CidrIpv6="2600::/32"))}, broad(22)),
    Case("ipv6-documentation-slash-32-is-not-broad", {"Sg": group(rule(CidrIpv6="2001:db8::/32"))}, NONE),
    Case("broad-on-every-admin-port", {"Sg": group(rule("-1", None, None, CidrIp="0.0.0.0/1"))}, broad(*ALL_ADMIN)),
    Case("broad-ipv4-and-world-ipv6-is-world", {"Sg": group(rule(CidrIp="0.0.0.0/1"), rule(CidrIpv6="::/0"))}, world(22)),
    # --- templates CloudFormation refuses (issue 9) --------------------------------------------------
    Case("resource-not-a-mapping", {"S": "x"}, one(MALFORMED_TEMPLATE), synthesizable=False),
    Case("resource-without-type", {"S": {"Properties": {}}}, one(MALFORMED_TEMPLATE), synthesizable=False),
    Case("type-not-a-string", {"S": {"Type": ["AWS::EC2::SecurityGroup"]}}, one(MALFORMED_TEMPLATE), synthesizable=False),
    Case("properties-not-a-mapping", {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": [rule(CidrIp="0.0.0.0/0")]}},
         one(MALFORMED_TEMPLATE), synthesizable=False),
    Case("unknown-resource-attribute", {"Sg": {**group(rule(CidrIp="10.0.0.0/8")), "Propertie": {}}}, one(MALFORMED_TEMPLATE), synthesizable=False),
    Case("logical-id-not-alphanumeric", {"Web-Sg": group(rule(CidrIp="10.0.0.0/8"))}, one(MALFORMED_TEMPLATE), synthesizable=False),
    Case("world-open-branch-beside-a-malformed-one", {"Sg": group(rule(CidrIp={"Fn::If": ["Flag", "0.0.0.0/0", "everyone"]}))},
         frozenset({(MALFORMED, None), (WORLD, 22)})),
    Case("rule-with-an-unknown-key", {"Sg": group({**rule(CidrIp="10.0.0.0/8"), "CidrIP": "0.0.0.0/0"})}, one(MALFORMED)),
    # --- load balancers forwarding a listener to an admin port of their targets (issue 10) ----------
    Case("nlb-forwards-2222-to-ssh-of-its-targets", network_lb(2222, 22, lb_rule=rule(from_port=2222, to_port=2222, CidrIp="0.0.0.0/0")), world(22)),
    Case("nlb-without-security-groups-forwards-ssh", network_lb(22, 22), world(22)),
    Case("nlb-listener-open-to-the-admin-network-only", network_lb(2222, 22, lb_rule=rule(from_port=2222, to_port=2222, CidrIp="203.0.113.10/32")), NONE),
    Case("nlb-internal", network_lb(22, 22, Scheme="internal"), NONE),
    Case("nlb-forwards-https-only", network_lb(443, 443), NONE),
    Case("alb-forwarding-http-to-port-22-carries-no-ssh", network_lb(80, 22, Type="application"), NONE),
    Case("classic-lb-tcp-listener-to-rdp",
         {"Lb": {"Type": "AWS::ElasticLoadBalancing::LoadBalancer", "Properties": {"Listeners": [
             {"LoadBalancerPort": "3390", "InstancePort": "3389", "Protocol": "TCP"}], "SecurityGroups": [{"Ref": "LbSg"}]}},
          "LbSg": group(rule(from_port=3390, to_port=3390, CidrIpv6="::/0"))}, world(3389)),
    Case("classic-lb-http-listener",
         {"Lb": {"Type": "AWS::ElasticLoadBalancing::LoadBalancer", "Properties": {"Listeners": [
             {"LoadBalancerPort": "80", "InstancePort": "22", "Protocol": "HTTP"}], "SecurityGroups": [{"Ref": "LbSg"}]}},
          "LbSg": group(rule(from_port=80, to_port=80, CidrIp="0.0.0.0/0"))}, NONE),
]

# --- templates a resource deploys as stacks of their own (issue 19) ------------------------------------


def stack_set(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::CloudFormation::StackSet", "Properties": {"StackSetName": "baseline", "PermissionModel": "SELF_MANAGED", **properties}}


def template_text(resources: dict[str, Any], **sections: Any) -> str:
    import json

    return json.dumps({"Resources": resources, **sections})


ADMIN_CIDR_PARAMETER = {"AdminCidr": {"Type": "String", "Default": "10.0.0.0/8"}}

CASES += [
    Case("stack-set-inline-template-world-ssh", {"Set": stack_set(TemplateBody=template_text({"Sg": group(rule(CidrIp="0.0.0.0/0"))}))}, world(22)),
    Case("stack-set-inline-yaml-template-world-rdp",
         {"Set": stack_set(TemplateBody="Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: rdp\n"
                                        "      SecurityGroupIngress:\n        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIpv6: '::/0'}\n")},
         world(3389)),
    Case("stack-set-inline-template-admin-network",
         {"Set": stack_set(TemplateBody=template_text({"Sg": group(rule(CidrIp="203.0.113.10/32"))}))}, NONE),
    Case("stack-set-passes-the-world-to-a-closed-default",
         {"Set": stack_set(TemplateBody=template_text({"Sg": group(rule(CidrIp={"Ref": "AdminCidr"}))}, Parameters=ADMIN_CIDR_PARAMETER),
                           Parameters=[{"ParameterKey": "AdminCidr", "ParameterValue": "0.0.0.0/0"}])}, world(22)),
    Case("stack-set-instances-override-parameters",
         {"Set": stack_set(TemplateBody=template_text({"Sg": group(rule(CidrIp={"Ref": "AdminCidr"}))}, Parameters=ADMIN_CIDR_PARAMETER),
                           StackInstancesGroup=[{"Regions": ["us-east-1"], "DeploymentTargets": {"Accounts": ["111111111111"]},
                                                 "ParameterOverrides": [{"ParameterKey": "AdminCidr", "ParameterValue": "10.1.0.0/16"}]}])},
         one(UNVERIFIABLE)),
    Case("stack-set-template-url-elsewhere", {"Set": stack_set(TemplateURL="https://s3.amazonaws.com/templates/baseline.json")}, one(UNVERIFIABLE)),
    Case("stack-set-template-body-from-an-intrinsic", {"Set": stack_set(TemplateBody={"Fn::Sub": "${Body}"})}, one(UNVERIFIABLE)),
    Case("stack-set-template-body-unreadable", {"Set": stack_set(TemplateBody="{not a template")}, frozenset({(MALFORMED_TEMPLATE, None), (UNVERIFIABLE, None)})),
    Case("product-version-template-elsewhere",
         {"Product": {"Type": "AWS::ServiceCatalog::CloudFormationProduct", "Properties": {"Name": "web", "Owner": "it", "ProvisioningArtifactParameters": [
             {"Name": "v1", "Info": {"LoadTemplateFromURL": "https://s3.amazonaws.com/templates/web.json"}}]}}}, one(UNVERIFIABLE)),
    Case("product-version-imported-from-a-stack",
         {"Product": {"Type": "AWS::ServiceCatalog::CloudFormationProduct", "Properties": {"Name": "web", "Owner": "it", "ProvisioningArtifactParameters": [
             {"Name": "v1", "Info": {"ImportFromPhysicalId": "arn:aws:cloudformation:us-east-1:123456789012:stack/web/1"}}]}}}, one(UNVERIFIABLE)),
]

# --- deploy-time API calls: custom resources (issue 19) -------------------------------------------------

SDK_HANDLER = "AWS679f53fac002430cb0da5b7982bd22872D164C4C"  # the singleton handler of every AwsCustomResource


def function(role: Any = None, logical_id_role: str = "HandlerRole") -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "index.handler", "Runtime": "nodejs22.x", "Code": {"ZipFile": "x"},
                                                              "Role": role or {"Fn::GetAtt": [logical_id_role, "Arn"]}}}


def role(*actions: str) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "ManagedPolicyArns": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}],
        "Policies": [{"PolicyName": "handler", "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}]}}


def sdk_call(service: str, action: str, parameters: Any, field: str = "Create") -> dict[str, Any]:
    """An AwsCustomResource as CDK writes it: the call as a JSON string, tokens spliced in with Fn::Join."""
    import json

    marker = "\u2063"  # where a token goes: parameters hold {"Token": node}
    tokens: list[Any] = []

    def mark(node: Any) -> Any:
        if isinstance(node, dict) and list(node) == ["Token"]:
            tokens.append(node["Token"])
            return marker
        if isinstance(node, dict):
            return {key: mark(value) for key, value in node.items()}
        if isinstance(node, list):
            return [mark(value) for value in node]
        return node

    text = json.dumps({"service": service, "action": action, "parameters": mark(parameters), "physicalResourceId": {"id": "call"}}, ensure_ascii=False)
    pieces = text.split(marker)
    value: Any = text
    if tokens:
        parts: list[Any] = [pieces[0]]
        for token, piece in zip(tokens, pieces[1:]):
            parts += [token, piece]
        value = {"Fn::Join": ["", parts]}
    return {SDK_HANDLER: function(), "HandlerRole": role("ec2:AuthorizeSecurityGroupIngress"),
            "Call": {"Type": "Custom::AWS", "Properties": {"ServiceToken": {"Fn::GetAtt": [SDK_HANDLER, "Arn"]}, field: value}}}


def custom(kind: str = "Custom::Thing", token: Any = None, **resources: Any) -> dict[str, Any]:
    return {"Thing": {"Type": kind, "Properties": {"ServiceToken": token or {"Fn::GetAtt": ["Handler", "Arn"]}}}, **resources}


WORLD_SSH_PERMISSION = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}

CASES += [
    Case("aws-custom-resource-authorizes-world-ssh",
         {"Sg": group(), **sdk_call("EC2", "authorizeSecurityGroupIngress",
                                    {"GroupId": {"Token": {"Fn::GetAtt": ["Sg", "GroupId"]}}, "IpPermissions": [WORLD_SSH_PERMISSION]})}, world(22)),
    Case("aws-custom-resource-sdk-v3-authorizes-world-ssh-on-update",
         {"Sg": group(), **sdk_call("@aws-sdk/client-ec2", "AuthorizeSecurityGroupIngressCommand",
                                    {"GroupId": {"Token": {"Ref": "Sg"}}, "IpPermissions": [
                                        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]}, field="Update")},
         world(22)),
    Case("aws-custom-resource-authorizes-ssh-from-the-admin-network",
         {"Sg": group(), **sdk_call("EC2", "authorizeSecurityGroupIngress", {"GroupId": {"Token": {"Ref": "Sg"}}, "IpPermissions": [
             {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.10/32"}]}]})}, NONE),
    Case("aws-custom-resource-reads-an-ssm-parameter", sdk_call("@aws-sdk/client-ssm", "GetParameter", {"Name": "/admin/cidr"}), NONE),
    Case("aws-custom-resource-modifies-a-rule-to-world-rdp",
         sdk_call("ec2", "modifySecurityGroupRules", {"GroupId": "sg-0123456789abcdef0", "SecurityGroupRules": [
             {"SecurityGroupRuleId": "sgr-0123456789abcdef0", "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIpv4": "0.0.0.0/0"}}]}),
         world(3389)),
    Case("aws-custom-resource-puts-two-halves-on-an-instance",
         {**halves(), **sdk_call("EC2", "modifyInstanceAttribute", {"InstanceId": "i-0123456789abcdef0",
                                                                    "Groups": [{"Token": {"Ref": "Low"}}, {"Token": {"Ref": "High"}}]})},
         broad(22) | world(22)),
    Case("aws-custom-resource-call-from-an-intrinsic",
         {**sdk_call("EC2", "describeSecurityGroups", {}), "Call": {"Type": "Custom::AWS", "Properties": {
             "ServiceToken": {"Fn::GetAtt": [SDK_HANDLER, "Arn"]}, "Create": {"Fn::Sub": "${Call}"}}}}, one(UNVERIFIABLE)),
    Case("custom-resource-whose-handler-may-authorize-ingress",
         custom(Handler=function(), HandlerRole=role("ec2:*")), one(UNVERIFIABLE)),
    Case("custom-resource-whose-provider-invokes-a-handler-that-may-modify-rules",
         custom(Handler=function(logical_id_role="FrameworkRole"),
                FrameworkRole={**role("lambda:InvokeFunction")},
                Inner=function(logical_id_role="InnerRole"), InnerRole=role("ec2:ModifySecurityGroupRules"),
                FrameworkPolicy={"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "invoke", "Roles": [{"Ref": "FrameworkRole"}],
                    "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                      "Resource": [{"Fn::GetAtt": ["Inner", "Arn"]}, {"Fn::Join": ["", [{"Fn::GetAtt": ["Inner", "Arn"]}, ":*"]]}]}]}}}),
         one(UNVERIFIABLE)),
    Case("custom-resource-whose-handler-reads-s3-only", custom(Handler=function(), HandlerRole=role("s3:GetObject", "logs:*")), NONE),
    Case("custom-resource-whose-handler-is-elsewhere", custom(token="arn:aws:lambda:us-east-1:123456789012:function:ops"), one(UNVERIFIABLE)),
    Case("cdk-vpc-default-group-restriction",
         custom("Custom::VpcRestrictDefaultSG", {"Fn::GetAtt": ["CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E", "Arn"]},
                CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E=function(),
                HandlerRole=role("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress")), NONE),
]

# --- what only the registry or deploy time knows (issue 19) ---------------------------------------------

CASES += [
    Case("registry-module", {"Network": {"Type": "Acme::Network::Baseline::MODULE", "Properties": {"VpcId": "vpc-0123456789abcdef0"}}},
         one(UNVERIFIABLE)),
    Case("cidr-from-an-ssm-dynamic-reference", {"Sg": group(rule(CidrIp="{{resolve:ssm:/network/admin-cidr}}"))}, one(UNVERIFIABLE, 22)),
    Case("cidr-from-a-secrets-manager-dynamic-reference",
         {"Sg": group(rule(from_port=3389, to_port=3389, CidrIp="{{resolve:secretsmanager:admin:SecretString:cidr}}"))}, one(UNVERIFIABLE, 3389)),
    Case("cidr-from-an-ssm-secure-dynamic-reference", {"Sg": group(rule(CidrIpv6="{{resolve:ssm-secure:/network/admin-cidr6:1}}"))},
         one(UNVERIFIABLE, 22)),
    Case("web-port-from-a-dynamic-reference", {"Sg": group(rule(from_port=443, to_port=443, CidrIp="{{resolve:ssm:/network/edge}}"))}, NONE),
]
