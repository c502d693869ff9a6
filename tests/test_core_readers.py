"""The readers (RULES.md, *Resource types read*): what each resource type opens, and on which interfaces.

GIVEN one resource of each type read, written as its AWS documentation describes it (and wrongly)
WHEN  the core reads it (``read_inventory``)
THEN  its permissions are exactly what the service opens (protocol, ports, source, the property that
      opened it), its attachments are the groups that sit together on one interface, and what EC2 or
      CloudFormation would refuse or cannot know is a finding that says so.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.policy import Template, read_inventory
from constructs_lib.policy.readers import ec2
from guard_cases import group

WORLD4, WORLD6 = "0.0.0.0/0", "::/0"
ALL = (0, 65535)


def read(resources: dict, **sections: object):
    return read_inventory([Template("S", "S.json", {"Resources": resources, **sections})])


def permits(inventory) -> list[tuple]:
    """``(group, protocol, ports, source, rule label, certain)``; a non-CIDR source as ``kind label``."""
    return [(p.group.removeprefix("S:"), p.protocol, p.ports, p.source.label if p.source.kind == "cidr" else f"{p.source.kind} {p.source.label}",
             p.rule_label, p.certain) for p in inventory.permissions]


def found(inventory) -> list[tuple[str, str, str]]:
    return [(f.rule_id, f.location.logical_id, f.message) for f in inventory.findings]


def sg_rules(*rules: dict, **properties: object) -> dict:
    return {"Sg": group(*rules, **properties)}


def tcp22(**source: object) -> dict:
    return {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, **source}


@pytest.fixture(params=["plain", "general"])
def rule_path(request, monkeypatch) -> str:
    """Rules with one known value each (what CDK writes) take a fast path; the general one handles every value an
    intrinsic may take. Tests that use this fixture run through both, which must decide alike."""
    if request.param == "general":
        monkeypatch.setattr(ec2, "_plain_rule", lambda *arguments: None)
    return request.param


# --- EC2 security groups and ingress rules --------------------------------------------------------------


@pytest.mark.parametrize(("protocol", "from_port", "to_port", "expected"), [
    ("TCP", 22, 22, ("tcp", (22, 22))), ("6", "22", "23", ("tcp", (22, 23))), (6, 0, 65535, ("tcp", ALL)),
    ("006", 22, 22, ("tcp", (22, 22))), ("17", 53, 53, ("udp", (53, 53))), ("udp", -1, -1, ("udp", ALL)),
    ("-1", 80, 80, ("all", ALL)), (-1, None, None, ("all", ALL)), ("-01", None, None, ("all", ALL)),
    ("icmp", 8, -1, ("icmp", None)), ("1", -1, -1, ("icmp", None)), ("58", -1, -1, ("icmpv6", None)), ("ICMPV6", 1, 2, ("icmpv6", None)),
    ("50", None, None, ("50", None)), (0, None, None, ("0", None)), ("255", None, None, ("255", None)),
    ("tcp", None, None, ("tcp", ALL)), ("tcp", 22, None, ("tcp", ALL)), ("tcp", 22, "23", ("tcp", (22, 23))), ("tcp", "22", 23, ("tcp", (22, 23))), ("tcp", 0, 0, ("tcp", (0, 0))), ("tcp", 65535, 65535, ("tcp", (65535, 65535))),
])
def test_protocols_and_ports_are_read_as_ec2_reads_them(protocol, from_port, to_port, expected, rule_path) -> None:
    rule = {"IpProtocol": protocol, "CidrIp": WORLD4}
    rule.update({key: value for key, value in (("FromPort", from_port), ("ToPort", to_port)) if value is not None})
    for inventory in (read(sg_rules(rule)), read(sg_rules({**rule, "Description": {"Fn::Sub": "rule"}}))):
        assert permits(inventory) == [("Sg", *expected, WORLD4, "Sg.SecurityGroupIngress[0]", True)]
        assert (inventory.findings, inventory.rules_read) == ([], 1)


@pytest.mark.parametrize(("rule", "problem"), [
    ({"IpProtocol": "tcpx", "FromPort": 22, "ToPort": 22}, "IpProtocol 'tcpx' is not tcp, udp, icmp, icmpv6, -1 or a protocol number 0-255"),
    ({"IpProtocol": "256"}, "IpProtocol '256' is not tcp, udp, icmp, icmpv6, -1 or a protocol number 0-255"),
    ({"IpProtocol": "-2"}, "IpProtocol '-2' is not tcp, udp, icmp, icmpv6, -1 or a protocol number 0-255"),
    ({"IpProtocol": "1.5"}, "IpProtocol '1.5' is not tcp, udp, icmp, icmpv6, -1 or a protocol number 0-255"),
    ({"IpProtocol": True}, "IpProtocol true is not a protocol"),
    ({"IpProtocol": 6.0}, "IpProtocol 6.0 is not a protocol"),
    ({"IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22}, "FromPort 22.0 is not a whole number"),
    ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": True}, "ToPort true is not a whole number"),
    ({"IpProtocol": "tcp", "FromPort": "ssh", "ToPort": 22}, 'FromPort "ssh" is not a whole number'),
    ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 65536}, "port range 22-65536 is outside 0-65535"),
    ({"IpProtocol": "tcp", "FromPort": -2, "ToPort": 22}, "port range -2-22 is outside 0-65535"),
    ({"IpProtocol": "tcp", "FromPort": 65536, "ToPort": 65535}, "port range 65536-65535 is outside 0-65535"),
    ({"IpProtocol": [b"x"]}, "IpProtocol [\"b'x'\"] is not a protocol"),
    ({"IpProtocol": "tcp", "FromPort": [b"x"], "ToPort": 22}, "FromPort [\"b'x'\"] is not a whole number"),
    ({"IpProtocol": "tcp", "FromPort": 25, "ToPort": 20}, "FromPort 25 is greater than ToPort 20"),
    ({"FromPort": 22, "ToPort": 22}, "IpProtocol is missing"),
    ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIP": "x", "Cidr": "y"}, "Cidr, CidrIP are not properties of an ingress rule"),
    ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "GroupId": "sg-1"}, "GroupId is not a property of an ingress rule"),
])
def test_a_malformed_rule_is_reported_with_its_place(rule: dict, problem: str, rule_path) -> None:
    source = {} if "CidrIP" in rule else {"CidrIp": "10.0.0.0/8"}
    inventory = read(sg_rules({**rule, **source}))
    assert permits(inventory) == []
    assert found(inventory) == [("MalformedIngress", "Sg", f"Sg.SecurityGroupIngress[0]: {problem}")]


@pytest.mark.parametrize(("sources", "problem"), [
    ({}, "it names no source (CidrIp, CidrIpv6, SourcePrefixListId or SourceSecurityGroupId/Name)"),
    ({"CidrIp": "10.0.0.0/8", "CidrIpv6": "2001:db8::/32"}, "it names more than one source (CidrIp, CidrIpv6); EC2 takes exactly one"),
    ({"SourceSecurityGroupId": "sg-1", "CidrIp": {"Fn::If": ["Maybe", WORLD4, "0.0.0.0/1"]}},
     "it names more than one source (CidrIp, SourceSecurityGroupId); EC2 takes exactly one"),
    ({"CidrIpv6": WORLD4}, "CidrIpv6 '0.0.0.0/0' is an IPv4 block where an IPv6 block is required"),
    ({"CidrIp": 0}, "CidrIp 0 is not a CIDR string"),
    ({"SourceSecurityGroupId": 5}, "SourceSecurityGroupId 5 is not a security group"),
    ({"SourcePrefixListId": 5}, "SourcePrefixListId 5 is not a prefix-list id"),
    ({"SourcePrefixListId": [b"x"]}, "SourcePrefixListId [\"b'x'\"] is not a prefix-list id"),
    ({"SourceSecurityGroupId": [b"x"]}, "SourceSecurityGroupId [\"b'x'\"] is not a security group"),
    ({"CidrIp": [b"x"]}, "CidrIp [\"b'x'\"] is not a CIDR string"),
])
def test_a_rule_needs_exactly_one_valid_source(sources: dict, problem: str, rule_path) -> None:
    """EC2 refuses such a rule, so it grants nothing: only the finding says what is wrong (exit 1 either way)."""
    conditions = {"Conditions": {"Maybe": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
                  "Parameters": {"Env": {"Type": "String", "AllowedValues": ["prod", "dev"]}}}
    inline = read(sg_rules(tcp22(**sources)), **conditions)
    assert (found(inline), permits(inline)) == ([("MalformedIngress", "Sg", f"Sg.SecurityGroupIngress[0]: {problem}")], [])
    standalone = read({"Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": "sg-1", **tcp22(**sources)}}}, **conditions)
    assert (found(standalone), permits(standalone)) == ([("MalformedIngress", "Open", problem)], [])


@pytest.mark.parametrize(("source", "problem"), [
    ({}, "it names no source (CidrIp, CidrIpv6, SourcePrefixListId or SourceSecurityGroupId/Name)"),
    ({"CidrIp": 0}, "CidrIp 0 is not a CIDR string"),
])
def test_a_rule_without_a_valid_source_is_reported_for_its_source_alone(source: dict, problem: str, rule_path) -> None:
    inventory = read(sg_rules({"IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22, **source}))  # a malformed port too
    assert (found(inventory), permits(inventory)) == ([("MalformedIngress", "Sg", f"Sg.SecurityGroupIngress[0]: {problem}")], [])


_FIELD_VALUES = {
    "IpProtocol": ["tcp", "TCP", "6", "006", 6, "-1", -1, "udp", "icmp", "58", "50", "256", "tcpx", True, 6.0, ""],
    "FromPort": [22, 0, 65535, -1, "22", "022", 22.0, True, "ssh", 65536, None],
    "ToPort": [22, 23, 65535, -1, "3389", 20, False, None],
    "CidrIp": [WORLD4, "0.0.0.0/1", "10.0.0.1/8", " 0.0.0.0/0", "0.0.0.0/00", WORLD6, 0, "203.0.113.7/32"],
    "CidrIpv6": [WORLD6, "2000::/3", WORLD4, "2001:db8::/32"],
    "SourceSecurityGroupId": ["sg-0123456789abcdef0", {"Ref": "Other"}, {"Fn::GetAtt": ["Other", "GroupId"]}, 5],
    "SourceSecurityGroupName": ["other", "admins"],
    "SourcePrefixListId": ["pl-0123456789abcdef0", {"Ref": "Admins"}, 5],
    "Description": ["ssh", {"Fn::Sub": "rule"}],
    "CidrIP": [WORLD4],
}


def _written(value: object, how: int) -> object:
    """``value`` as a template may write it: plainly, through single-valued intrinsics, or with more values or none."""
    return [
        value,
        {"Fn::Select": [0, [value]]},
        {"Fn::If": ["Always", value, "never"]},
        {"Fn::If": ["Maybe", value, WORLD4]},
        {"Fn::ImportValue": "elsewhere"},
        {"Ref": "AWS::NoValue"},
    ][how]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(_FIELD_VALUES)), st.tuples(st.integers(0, 15), st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5])),
                       min_size=1, max_size=6), st.booleans())
def test_the_fast_path_for_plain_rules_decides_as_the_general_path(fields: dict, standalone: bool) -> None:
    """Whatever a rule holds, reading it through the fast path (rules with one known value each) and through the
    general path gives the same permissions and the same findings, message for message."""
    rule = {}
    for field, (index, how) in fields.items():
        values = _FIELD_VALUES[field]
        value = values[index % len(values)]
        if value is not None:
            rule[field] = _written(value, how)
    others = {
        "Other": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupName": "other"}},
        "Admins": {"Type": "AWS::EC2::PrefixList", "Properties": {"Entries": [{"Cidr": "0.0.0.0/1"}, {"Cidr": "128.0.0.0/1"}]}},
    }
    if standalone:
        resources = {"Rule": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Ref": "Other"}, **rule}}, **others}
    else:
        resources = {**sg_rules(rule), **others}
    sections = {
        "Parameters": {"Env": {"Type": "String", "AllowedValues": ["prod", "dev"]}},
        "Conditions": {"Always": {"Fn::Equals": ["a", "a"]}, "Maybe": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    }
    fast = read(resources, **sections)
    plain_rule = ec2._plain_rule
    ec2._plain_rule = lambda *arguments: None
    try:
        general = read(resources, **sections)
    finally:
        ec2._plain_rule = plain_rule
    assert (permits(fast), found(fast), fast.rules_read) == (permits(general), found(general), general.rules_read)


def test_sources_other_than_cidrs(rule_path) -> None:
    resources = {
        **sg_rules(tcp22(SourceSecurityGroupId={"Ref": "Bastion"}), tcp22(SourceSecurityGroupId="sg-0123456789abcdef0"),
                   tcp22(SourceSecurityGroupName="bastion"), tcp22(SourceSecurityGroupName="admins"),
                   tcp22(SourceSecurityGroupId={"Fn::ImportValue": "bastion-sg"}), tcp22(SourcePrefixListId="pl-0123456789abcdef0"),
                   tcp22(SourcePrefixListId={"Ref": "Admins"}), tcp22(SourcePrefixListId={"Ref": "Bastion"}),
                   tcp22(CidrIp={"Ref": "Bastion"}, SourceSecurityGroupOwnerId="123456789012"), tcp22(SourceSecurityGroupId="bastion"),
                   tcp22(CidrIp={"Ref": "AWS::Region"}), tcp22(SourcePrefixListId={"Fn::ImportValue": "admins-pl"})),
        "Bastion": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupName": "bastion"}},
        "Admins": {"Type": "AWS::EC2::PrefixList", "Properties": {"Entries": [{"Cidr": "203.0.113.0/24"}, {"Cidr": "198.51.100.7/32"}]}},
    }
    labels = [source for _, _, _, source, _, _ in permits(read(resources))]
    assert labels == [
        "security-group S:Bastion", "security-group id:sg-0123456789abcdef0", "security-group S:Bastion", "security-group name:admins",
        "security-group unresolved:SourceSecurityGroupId (Fn::ImportValue 'bastion-sg' comes from a stack outside this input)",
        "prefix-list pl-0123456789abcdef0", "203.0.113.0/24", "198.51.100.7/32",
        "unknown SourcePrefixListId is the deploy-time value of resource Bastion", "unknown CidrIp is the deploy-time value of resource Bastion",
        "security-group id:bastion", "unknown CidrIp unknown at synth time: pseudo parameter AWS::Region is known only at deploy time",
        "unknown SourcePrefixListId unknown at synth time: Fn::ImportValue 'admins-pl' comes from a stack outside this input",
    ]


def test_prefix_lists_of_the_templates_are_expanded_and_checked(rule_path) -> None:
    def labels(entries: object) -> list:
        inventory = read({**sg_rules(tcp22(SourcePrefixListId={"Ref": "Pl"})), "Pl": {"Type": "AWS::EC2::PrefixList", "Properties": {"Entries": entries}}},
                         Parameters={"Free": {"Type": "CommaDelimitedList"}})
        return [source for _, _, _, source, _, _ in permits(inventory)] + [message for _, _, message in found(inventory)]

    assert labels(["8.8.8.0/24", {"Cidr": {"Fn::Select": [0, ["9.9.9.0/24"]]}}]) == ["8.8.8.0/24", "9.9.9.0/24"]
    assert labels({"Ref": "Free"}) == ["unknown entries of prefix list Pl: parameter Free has no Default and no AllowedValues"]
    assert labels([{"Cidr": "10.0.0.1/8"}]) == ["10.0.0.1/8 (EC2 keeps its network part, 10.0.0.0/8)"]
    assert labels([{"Cidr": "10.0.0.0/33"}]) == [
        "Sg.SecurityGroupIngress[0]: prefix list Pl Cidr '10.0.0.0/33' is not a valid CIDR block: /33 is longer than an IPv4 address"]
    assert labels([{"Cidr": "2600::/12"}]) == ["2600::/12"]


def test_every_value_a_rule_may_deploy_as_is_a_permission() -> None:
    parameters = {"Port": {"Type": "Number", "Default": 22, "AllowedValues": [22, 3389]}, "Proto": {"Type": "String"}}
    conditions = {"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}}
    inventory = read(sg_rules(
        {"IpProtocol": "tcp", "FromPort": {"Ref": "Port"}, "ToPort": {"Ref": "Port"}, "CidrIp": {"Fn::If": ["Flag", WORLD4, "10.0.0.0/8"]}},
        {"IpProtocol": {"Ref": "Proto"}, "CidrIp": {"Fn::If": ["Flag", WORLD4, {"Ref": "AWS::NoValue"}]}, "CidrIpv6": WORLD6},
        {"Fn::If": ["Flag", tcp22(CidrIp="8.8.8.0/24"), {"Ref": "AWS::NoValue"}]},
        "not a rule",
    ), Parameters=parameters, Conditions=conditions)
    label = "Sg.SecurityGroupIngress[{}]".format
    # read once per value of Flag (first where it holds) and of Port: FromPort and ToPort have Port's one value
    assert [p for p in permits(inventory) if p[4] == label(0)] == [
        ("Sg", "tcp", (22, 22), WORLD4, label(0), True), ("Sg", "tcp", (3389, 3389), WORLD4, label(0), True),
        ("Sg", "tcp", (22, 22), "10.0.0.0/8", label(0), True), ("Sg", "tcp", (3389, 3389), "10.0.0.0/8", label(0), True),
    ]
    # where Flag holds, the rule has CidrIp and CidrIpv6, which EC2 refuses; where not, only CidrIpv6
    assert [p for p in permits(inventory) if p[4] == label(1)] == [("Sg", "unknown", ALL, WORLD6, label(1), False)]
    assert [p for p in permits(inventory) if p[4] == label(2)] == [("Sg", "tcp", (22, 22), "8.8.8.0/24", label(2), True)]
    assert found(inventory) == [
        ("MalformedIngress", "Sg", "Sg.SecurityGroupIngress[1]: it names more than one source (CidrIp, CidrIpv6); EC2 takes exactly one"),
        ("MalformedIngress", "Sg", "Sg.SecurityGroupIngress[3] is not an object"),
    ]
    assert inventory.rules_read == 3


def test_too_many_combinations_are_unverifiable() -> None:
    # 2 protocols x 2 x 2 ports x 9 sources = 72 values (the region decides each, unknown at synth time)
    many = {"IpProtocol": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Protocol"]}, "FromPort": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "From"]},
            "ToPort": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "To"]}, "CidrIp": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Cidr"]}}
    mappings = {"M": {f"r{n}": {"Cidr": f"{n}.0.0.0/8", "Protocol": ("tcp", "udp")[n % 2], "From": 1 + n % 2, "To": 3 + n % 2} for n in range(1, 10)}}
    inventory = read(sg_rules(many), Conditions={"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}}, Mappings=mappings)
    assert (permits(inventory), found(inventory)) == (
        [], [("UnverifiableIngress", "Sg", "Sg.SecurityGroupIngress[0] has more than 64 combinations of conditional values")])


def test_rule_lists_that_are_unknown_or_of_the_wrong_shape() -> None:
    assert found(read(sg_rules(SecurityGroupIngress={"Fn::GetAtt": ["Other", "Rules"]}))) == [
        ("UnverifiableIngress", "Sg", "SecurityGroupIngress is unknown at synth time: Fn::GetAtt of 'Other', which is not a resource of this template")]
    assert found(read(sg_rules(SecurityGroupIngress=tcp22(CidrIp=WORLD4)))) == [("MalformedIngress", "Sg", "SecurityGroupIngress is not a list")]
    assert read(sg_rules(SecurityGroupIngress={"Ref": "AWS::NoValue"})).permissions == []
    assert found(read({"Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": tcp22(CidrIp=WORLD4)}})) == [
        ("MalformedIngress", "Open", "the ingress resource names no GroupId or GroupName")]
    no_group = read({"Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Ref": "AWS::NoValue"}, **tcp22(CidrIp=WORLD4)}}})
    assert (no_group.permissions, no_group.findings, no_group.rules_read) == ([], [], 0)


def test_standalone_rules_land_on_every_group_they_may_name() -> None:
    resources = {"A": {"Type": "AWS::EC2::SecurityGroup"}, "Named": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupName": "web"}},
                 "ById": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Fn::If": ["Flag", {"Ref": "A"}, "sg-0123456789abcdef0"]},
                                                                                   **tcp22(CidrIp=WORLD4)}},
                 "ByName": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupName": {"Fn::If": ["Flag", "web", "other"]},
                                                                                     **tcp22(CidrIp=WORLD4)}},
                 "SgName": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupName": "sg-0123456789abcdef1", **tcp22(CidrIp=WORLD4)}},
                 "Attr": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Fn::GetAtt": ["A", "VpcId"]}, **tcp22(CidrIp=WORLD4)}},
                 "Odd": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Fn::Select": [0, [[1, {"b": 2, "a": 1}]]]},
                                                                                 **tcp22(CidrIp=WORLD4)}},
                 "Bytes": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": [b"x"], **tcp22(CidrIp=WORLD4)}},
                 "Numbered": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Fn::GetAtt": ["A", 5]}, **tcp22(CidrIp=WORLD4)}}}
    inventory = read(resources, Conditions={"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}})
    assert [p[0] for p in permits(inventory)] == ["A", "id:sg-0123456789abcdef0", "Named", "name:other", "id:sg-0123456789abcdef1", "A.VpcId",
                                                  'unresolved:[1, {"a": 1, "b": 2}]', 'unresolved:["b\'x\'"]', "A"]
    assert {key: (group.defined, group.location.logical_id, group.kind) for key, group in inventory.groups.items()} == {
        "S:A": (True, "A", "security group"), "S:Named": (True, "Named", "security group"), "id:sg-0123456789abcdef0": (False, "ById", "security group"),
        "name:other": (False, "ByName", "security group"), "id:sg-0123456789abcdef1": (False, "SgName", "security group"),
        "S:A.VpcId": (False, "Attr", "security group"), 'unresolved:[1, {"a": 1, "b": 2}]': (False, "Odd", "security group"),
        'unresolved:["b\'x\'"]': (False, "Bytes", "security group")}


# --- services that open ports themselves ----------------------------------------------------------------


def nodegroup(**properties: object) -> dict:
    return {"Nodes": {"Type": "AWS::EKS::Nodegroup", "Properties": properties}}


def test_eks_remote_access_opens_ssh_or_rdp_unless_source_groups_are_named() -> None:
    world = "RemoteAccess.Ec2SshKey without RemoteAccess.SourceSecurityGroups"
    assert permits(read(nodegroup(RemoteAccess={"Ec2SshKey": "ops"}))) == [("Nodes", "tcp", (22, 22), WORLD4, world, True)]
    assert permits(read(nodegroup(AmiType="windows_core_2022_x86_64", RemoteAccess={"Ec2SshKey": "ops", "SourceSecurityGroups": []}))) == [
        ("Nodes", "tcp", (3389, 3389), WORLD4, world, True)]
    assert [p[2] for p in permits(read(nodegroup(AmiType={"Ref": "Ami"}, RemoteAccess={"Ec2SshKey": "ops"}), Parameters={"Ami": {}}))] == [
        (22, 22), (3389, 3389)]
    assert permits(read(nodegroup(RemoteAccess={"Ec2SshKey": "ops", "SourceSecurityGroups": {"Fn::If": ["Flag", ["sg-1"], {"Fn::ImportValue": "bastion"}]}}))) == [
        ("Nodes", "tcp", (22, 22), "unknown SourceSecurityGroups: Fn::ImportValue 'bastion' comes from a stack outside this input",
         "RemoteAccess.SourceSecurityGroups", True),
        ("Nodes", "tcp", (22, 22), "security-group id:sg-1", "RemoteAccess.SourceSecurityGroups", True)]
    assert permits(read(nodegroup(RemoteAccess={"Ec2SshKey": "ops", "SourceSecurityGroups": {"Fn::ImportValue": "bastion"}}))) == [
        ("Nodes", "tcp", (22, 22), "unknown SourceSecurityGroups: Fn::ImportValue 'bastion' comes from a stack outside this input",
         "RemoteAccess.SourceSecurityGroups", True)]
    for no_key in ({}, {"Ec2SshKey": {"Ref": "AWS::NoValue"}}, {"Ec2SshKey": None}):
        assert permits(read(nodegroup(RemoteAccess=no_key))) == []
    inventory = read(nodegroup(RemoteAccess="ops"))
    assert found(inventory) == [("MalformedIngress", "Nodes", "RemoteAccess is not an object")]
    assert inventory.groups["S:Nodes"].kind == "EKS node group remote access"
    assert read(nodegroup()).groups == {}


def beanstalk(kind: str = "Environment", namespace: str = "aws:autoscaling:launchconfiguration", **options: object) -> dict:
    settings = [{"Namespace": namespace, "OptionName": name, "Value": value} for name, value in options.items()]
    return {"Type": f"AWS::ElasticBeanstalk::{kind}", "Properties": {"OptionSettings": settings}}


@pytest.mark.parametrize(("restriction", "expected"), [
    ("tcp, 22, 22, 0.0.0.0/0", ("tcp", (22, 22), WORLD4)),
    ("UDP,1000,2000,::/0", ("udp", (1000, 2000), WORLD6)),
    ("-1, 0, 0, 0.0.0.0/0", ("all", ALL, WORLD4)),
    ("all, 5, 6, 0.0.0.0/0", ("all", ALL, WORLD4)),
    ("tcp, 22, 22, sg-0123456789abcdef0", ("tcp", (22, 22), "security-group id:sg-0123456789abcdef0")),
    ("tcp, 22, 22, bastion", ("tcp", (22, 22), "security-group name:bastion")),
    ("tcp, 22, 22, 123456789012/bastion", ("tcp", (22, 22), "security-group name:123456789012/bastion")),
    ("tcp,0,65535,203.0.113.10/32", ("tcp", ALL, "203.0.113.10/32")),
])
def test_beanstalk_ssh_source_restriction(restriction: str, expected: tuple) -> None:
    inventory = read({"Env": beanstalk(EC2KeyName="ops", SSHSourceRestriction=restriction)})
    assert permits(inventory) == [("Env", *expected, "option SSHSourceRestriction", True)]
    assert inventory.groups["S:Env"].kind == "Elastic Beanstalk instance security group"


@pytest.mark.parametrize(("restriction", "problem"), [
    ("tcp, 22, 22", "is not 'protocol, fromPort, toPort, source' (e.g. 'tcp, 22, 22, 203.0.113.10/32')"),
    ("tcp, 22, x, 0.0.0.0/0", "is not 'protocol, fromPort, toPort, source' (e.g. 'tcp, 22, 22, 203.0.113.10/32')"),
    ("tcp, -1, 22, 0.0.0.0/0", "is not 'protocol, fromPort, toPort, source' (e.g. 'tcp, 22, 22, 203.0.113.10/32')"),
    ("icmp, 22, 22, 0.0.0.0/0", "has an unknown protocol or a bad port range"),
    ("tcp, 23, 22, 0.0.0.0/0", "has an unknown protocol or a bad port range"),
    ("tcp, 22, 65536, 0.0.0.0/0", "has an unknown protocol or a bad port range"),
])
def test_a_malformed_ssh_source_restriction_is_reported(restriction: str, problem: str) -> None:
    inventory = read({"Env": beanstalk(SSHSourceRestriction=restriction)})
    assert permits(inventory) == []
    assert found(inventory) == [("MalformedIngress", "Env", f"option SSHSourceRestriction {restriction!r} {problem}")]
    assert found(read({"Env": beanstalk(SSHSourceRestriction="tcp, 22, 22, 10.0.0.0/33")})) == [
        ("MalformedIngress", "Env", "option SSHSourceRestriction '10.0.0.0/33' is not a valid CIDR block: /33 is longer than an IPv4 address")]
    host_bits = read({"Env": beanstalk(SSHSourceRestriction="tcp, 22, 22, 10.0.0.1/8")})  # EC2 keeps the network part
    assert ([p[3] for p in permits(host_bits)], found(host_bits)) == (["10.0.0.1/8 (EC2 keeps its network part, 10.0.0.0/8)"], [])


def test_beanstalk_defaults_and_the_instances_groups() -> None:
    default = "option EC2KeyName without option SSHSourceRestriction (Beanstalk's default: SSH from anywhere)"
    assert permits(read({"Env": beanstalk(EC2KeyName="ops")})) == [("Env", "tcp", (22, 22), WORLD4, default, True)]
    assert permits(read({"Env": beanstalk(EC2KeyName="ops", namespace="aws:elasticbeanstalk:environment")})) == []
    for disabled in ("true", "TRUE"):
        assert permits(read({"Env": beanstalk(EC2KeyName="ops", DisableDefaultEC2SecurityGroup=disabled)})) == []
    assert permits(read({"Env": beanstalk(EC2KeyName="ops", DisableDefaultEC2SecurityGroup="false")})) == [
        ("Env", "tcp", (22, 22), WORLD4, default, True)]
    unknown = read({"Env": beanstalk(SSHSourceRestriction={"Ref": "Who"})}, Parameters={"Who": {}})
    assert permits(unknown) == [("Env", "tcp", (22, 22), "unknown option SSHSourceRestriction unknown at synth time: parameter Who has no "
                                 "Default and no AllowedValues", "option SSHSourceRestriction", True)]
    groups = read({"Env": beanstalk(SecurityGroups=" web , admin,", EC2KeyName={"Ref": "AWS::NoValue"}), "Web": {"Type": "AWS::EC2::SecurityGroup"}})
    assert [(a.key, a.kind, a.name, a.groups, a.unresolved) for a in groups.attachments] == [
        ("S:Env", "Elastic Beanstalk instances", "Env", ("S:Env", "name:web", "name:admin"), ())]
    assert permits(groups) == []
    refs = read({"Env": beanstalk(SecurityGroups={"Ref": "Web"}, DisableDefaultEC2SecurityGroup="true"), "Web": {"Type": "AWS::EC2::SecurityGroup"}})
    assert refs.attachments == []  # one group alone: nothing to unite
    imported = read({"Env": beanstalk(SecurityGroups={"Fn::ImportValue": "x"}, DisableDefaultEC2SecurityGroup="true")})
    assert [(a.groups, a.unresolved) for a in imported.attachments] == [((), ("Fn::ImportValue 'x' comes from a stack outside this input",))]


def test_beanstalk_saved_configurations() -> None:
    saved = beanstalk("ConfigurationTemplate", EC2KeyName="ops", SSHSourceRestriction="tcp, 22, 22, 0.0.0.0/0")
    saved["Properties"]["TemplateName"] = "ignored-on-a-configuration-template"
    own = beanstalk(SSHSourceRestriction="tcp, 22, 22, 203.0.113.10/32")
    own["Properties"]["TemplateName"] = {"Ref": "Saved"}
    inventory = read({"Saved": saved, "Env": own})
    assert [(p[0], p[3]) for p in permits(inventory)] == [("Saved", WORLD4), ("Env", "203.0.113.10/32")]
    assert found(inventory) == []
    elsewhere = {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"TemplateName": {"Fn::If": ["Flag", "shared", {"Ref": "Topic"}]}}}
    inventory = read({"Env": elsewhere, "Topic": {"Type": "AWS::SNS::Topic"}}, Conditions={"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}})
    assert found(inventory) == [
        ("UnverifiableIngress", "Env", "its option settings come from the saved configuration shared, outside the analysed templates"),
        ("UnverifiableIngress", "Env", "its option settings come from the saved configuration TemplateName, outside the analysed templates")]
    assert found(read({"Env": {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"TemplateName": {"Ref": "AWS::NoValue"}}}})) == []


def test_beanstalk_options_unknown_at_synth_time() -> None:
    unknown_settings = {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"OptionSettings": {"Ref": "Settings"}}}
    assert found(read({"Env": unknown_settings}, Parameters={"Settings": {"Type": "CommaDelimitedList"}})) == [
        ("UnverifiableIngress", "Env", "OptionSettings are unknown at synth time: parameter Settings has no Default and no AllowedValues")]
    settings = [{"Namespace": {"Ref": "Ns"}, "OptionName": {"Ref": "Name"}, "Value": "x"}, "not a setting",
                {"Namespace": {"Ref": "Ns"}, "OptionName": "EC2KeyName", "Value": "ops"}]
    inventory = read({"Env": {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"OptionSettings": settings}}},
                     Parameters={"Ns": {}, "Name": {}})
    assert found(inventory) == [("UnverifiableIngress", "Env", "an aws:autoscaling:launchconfiguration OptionName is unknown at synth time: "
                                                              "parameter Name has no Default and no AllowedValues")]
    assert [p[3] for p in permits(inventory)] == [WORLD4]
    imported = [{"Fn::ImportValue": "shared-setting"}, {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "EC2KeyName", "Value": "ops"}]
    inventory = read({"Env": {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"OptionSettings": imported}}})
    assert found(inventory) == [("UnverifiableIngress", "Env", "an option setting is unknown at synth time: Fn::ImportValue 'shared-setting' "
                                                              "comes from a stack outside this input")]
    assert [p[3] for p in permits(inventory)] == [WORLD4]


def lightsail(**properties: object) -> dict:
    return {"Box": {"Type": "AWS::Lightsail::Instance", "Properties": {"BlueprintId": "amazon_linux_2023", **properties}}}


def test_lightsail_keeps_its_default_firewall_without_ports() -> None:
    default = "default firewall (no Networking.Ports)"
    expected = [("Box", "tcp", (port, port), source, default, True) for port in (22, 80) for source in (WORLD4, WORLD6)]
    assert permits(read(lightsail())) == expected
    assert permits(read(lightsail(Networking={"Ports": []}))) == expected
    assert permits(read(lightsail(Networking={}))) == expected
    windows = [("Box", "tcp", (port, port), source, default, True) for port in (22, 80, 3389) for source in (WORLD4, WORLD6)]
    assert permits(read(lightsail(BlueprintId="Windows_Server_2022"))) == windows
    assert permits(read(lightsail(BlueprintId={"Ref": "Blueprint"}), Parameters={"Blueprint": {}})) == windows
    inventory = read(lightsail())
    assert inventory.groups["S:Box"].kind == "Lightsail instance firewall"


def test_lightsail_ports_replace_the_default_firewall() -> None:
    ports = [
        {"FromPort": 22, "ToPort": 22, "Cidrs": ["203.0.113.10", "8.8.8.0/24"], "Ipv6Cidrs": ["2600::1"]},
        {"FromPort": 443, "ToPort": 443, "Protocol": "TCP"},
        {"Protocol": "udp"},
        {"Protocol": "all", "CidrListAliases": ["lightsail-connect", "other"]},
        {"Protocol": "icmp", "FromPort": 8, "ToPort": -1, "Cidrs": ["8.8.8.8"]},
        {"FromPort": 22, "ToPort": 22, "AccessType": "PRIVATE"},
        {"FromPort": 3389, "ToPort": 3389, "AccessType": "Public", "Cidrs": ["10.0.0.0/8"]},
    ]
    label = "Networking.Ports[{}]".format
    assert permits(read(lightsail(Networking={"Ports": ports}))) == [
        ("Box", "tcp", (22, 22), "203.0.113.10/32", label(0), True), ("Box", "tcp", (22, 22), "8.8.8.0/24", label(0), True),
        ("Box", "tcp", (22, 22), "2600::1/128", label(0), True),
        ("Box", "tcp", (443, 443), WORLD4, label(1), True), ("Box", "tcp", (443, 443), WORLD6, label(1), True),
        ("Box", "udp", ALL, WORLD4, label(2), True), ("Box", "udp", ALL, WORLD6, label(2), True),
        ("Box", "all", ALL, "service lightsail-connect (the Lightsail console's browser client)", label(3), True),
        ("Box", "all", ALL, "unknown Networking.Ports[3].CidrListAliases 'other' is not a known alias", label(3), True),
        ("Box", "icmp", None, "8.8.8.8/32", label(4), True),
        ("Box", "tcp", (3389, 3389), "10.0.0.0/8", label(6), True),
    ]


def test_lightsail_ports_unknown_or_malformed() -> None:
    parameters = {"Any": {}, "List": {"Type": "CommaDelimitedList"}}
    inventory = read(lightsail(Networking={"Ports": [
        {"Protocol": {"Ref": "Any"}, "Cidrs": {"Ref": "List"}},
        {"FromPort": {"Ref": "Any"}, "ToPort": 22, "AccessType": {"Ref": "Any"}},
        {"Protocol": "sctp"}, {"FromPort": 22, "ToPort": 70000}, {"FromPort": 23, "ToPort": 22}, "x", {"Cidrs": ["10.0.0.1/8"]},
    ]}), Parameters=parameters)
    why = "parameter {} has no Default and no AllowedValues".format
    assert permits(inventory) == [
        ("Box", "unknown", ALL, f"unknown Networking.Ports[0].Cidrs unknown at synth time: {why('List')}", "Networking.Ports[0]", False),
        ("Box", "tcp", ALL, WORLD4, "Networking.Ports[1]", False), ("Box", "tcp", ALL, WORLD6, "Networking.Ports[1]", False),
    ]
    assert found(inventory) == [
        ("MalformedIngress", "Box", "Networking.Ports[2].Protocol 'sctp' is not tcp, udp, all, icmp or icmpv6"),
        ("MalformedIngress", "Box", "Networking.Ports[3]: port range 22-70000 is not within 0-65535"),
        ("MalformedIngress", "Box", "Networking.Ports[4]: port range 23-22 is not within 0-65535"),
        ("MalformedIngress", "Box", "Networking.Ports[5] is not an object"),
        ("MalformedIngress", "Box", "Networking.Ports[6].Cidrs '10.0.0.1/8' has host bits set: EC2 keeps only its network part, 10.0.0.0/8, every address of it; "
                                 "write 10.0.0.0/8 for the block, or the address with /32 for one host"),
    ]
    assert found(read(lightsail(Networking={"Ports": [{"Fn::ImportValue": "shared-port"}]}))) == [
        ("UnverifiableIngress", "Box", "Networking.Ports[0] is unknown at synth time: Fn::ImportValue 'shared-port' comes from a stack outside this input")]
    assert found(read(lightsail(Networking={"Ref": "Any"}), Parameters=parameters)) == [
        ("UnverifiableIngress", "Box", f"Networking is unknown at synth time: {why('Any')}")]
    assert found(read(lightsail(Networking={"Ports": {"Ref": "List"}}), Parameters=parameters)) == [
        ("UnverifiableIngress", "Box", f"Networking.Ports is unknown at synth time: {why('List')}")]


@pytest.mark.parametrize(("kind", "field", "group_kind"), [
    ("Fleet", "EC2InboundPermissions", "GameLift fleet instances"),
    ("ContainerFleet", "InstanceInboundPermissions", "GameLift container fleet instances"),
])
def test_gamelift_inbound_permissions(kind: str, field: str, group_kind: str) -> None:
    permissions = [
        {"FromPort": 22, "ToPort": 23, "IpRange": WORLD4, "Protocol": "TCP"},
        {"FromPort": 7777, "ToPort": 7780, "IpRange": "8.8.8.0/24", "Protocol": "udp"},
        {"FromPort": {"Ref": "Port"}, "ToPort": 22, "IpRange": WORLD4, "Protocol": "TCP"},
        {"FromPort": 22, "ToPort": 22, "IpRange": WORLD4, "Protocol": "ICMP"},
        {"FromPort": 0, "ToPort": 22, "IpRange": WORLD4, "Protocol": "TCP"},
        {"FromPort": 22, "ToPort": 22, "IpRange": "10.0.0.1/8", "Protocol": "TCP"},
        "x",
        {"FromPort": 22, "ToPort": 22, "IpRange": {"Ref": "Port"}, "Protocol": "TCP"},
    ]
    inventory = read({"Fleet": {"Type": f"AWS::GameLift::{kind}", "Properties": {field: permissions}}}, Parameters={"Port": {}})
    assert permits(inventory) == [
        ("Fleet", "tcp", (22, 23), WORLD4, f"{field}[0]", True), ("Fleet", "udp", (7777, 7780), "8.8.8.0/24", f"{field}[1]", True),
        ("Fleet", "unknown", ALL, WORLD4, f"{field}[2]", False),
        ("Fleet", "tcp", (22, 22), f"unknown {field}[7].IpRange unknown at synth time: parameter Port has no Default and no AllowedValues", f"{field}[7]",
         True)]
    assert found(inventory) == [
        ("MalformedIngress", "Fleet", f"{field}[3] is not a TCP/UDP port range within 1-60000"),
        ("MalformedIngress", "Fleet", f"{field}[4] is not a TCP/UDP port range within 1-60000"),
        ("MalformedIngress", "Fleet", f"{field}[5].IpRange '10.0.0.1/8' has host bits set: EC2 keeps only its network part, 10.0.0.0/8, every address of it; "
                                   "write 10.0.0.0/8 for the block, or the address with /32 for one host"),
        ("MalformedIngress", "Fleet", f"{field}[6] is not an object")]
    assert inventory.groups["S:Fleet"].kind == group_kind
    unknown = read({"Fleet": {"Type": f"AWS::GameLift::{kind}", "Properties": {field: {"Ref": "List"}}}}, Parameters={"List": {"Type": "CommaDelimitedList"}})
    assert found(unknown) == [("UnverifiableIngress", "Fleet", f"{field} is unknown at synth time: parameter List has no Default and no AllowedValues")]
    assert read({"Fleet": {"Type": f"AWS::GameLift::{kind}", "Properties": {}}}).groups == {}


# --- load balancers -------------------------------------------------------------------------------------


def nlb(listener: dict | None = None, groups: object = None, **balancer: object) -> dict:
    lb = {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Type": "network", **balancer}}
    if groups is not None:
        lb["Properties"]["SecurityGroups"] = groups
    return {
        "Lb": lb,
        "Targets": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": 22, "Targets": [{"Id": "i-1", "Port": 2222}, "x"]}},
        "More": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": "3389"}},
        "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
            "LoadBalancerArn": {"Ref": "Lb"}, "Port": 443, "Protocol": "TCP",
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Targets"},
                                "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": {"Ref": "More"}}, "x"]}}, "x"], **(listener or {})}},
    }


def test_a_network_load_balancer_forwards_its_listener_to_every_target_port() -> None:
    label = "listener port 443 forwarded to target port(s) 22, 2222, 3389 (the load balancer has no security group)"
    inventory = read(nlb())
    assert permits(inventory) == [("Listener", "tcp", (port, port), WORLD4, label, True) for port in (22, 2222, 3389)]
    assert inventory.groups["S:Listener"].kind == "load balancer listener"
    dualstack = read(nlb(IpAddressType="dualstack"))
    assert [p[3] for p in permits(dualstack)] == [WORLD4] * 3 + [WORLD6] * 3
    for protocol in ("TLS", "tcp_udp"):
        assert len(read(nlb({"Protocol": protocol})).permissions) == 3
    for closed in (nlb({"Protocol": "UDP"}), nlb(Scheme="internal"), nlb(Type="gateway"), nlb({"LoadBalancerArn": "arn:aws:x"})):
        assert read(closed).permissions == []


def test_a_load_balancer_with_groups_forwards_what_they_admit_on_the_listener_port() -> None:
    resources = {**nlb(groups={"Fn::If": ["Flag", [{"Ref": "LbSg"}], {"Fn::ImportValue": "x"}]}, Type={"Ref": "Kind"}, Scheme={"Ref": "Scheme"}),
                 "LbSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
                     {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "8.8.8.0/24"},
                     {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": WORLD4}]}}}
    resources["Targets"]["Properties"] = {"Port": 22}
    resources["Listener"]["Properties"]["DefaultActions"] = [{"TargetGroupArn": {"Ref": "Targets"}}]
    inventory = read(resources, Parameters={"Kind": {}, "Scheme": {}}, Conditions={"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}})
    label = "listener port 443 forwarded to target port(s) 22"
    assert [p for p in permits(inventory) if p[0] == "Listener"] == [  # where Flag holds, then where it does not
        ("Listener", "tcp", (22, 22), "8.8.8.0/24", f"{label}, admitted by LbSg.SecurityGroupIngress[0]", True),
        ("Listener", "tcp", (22, 22), "unknown SecurityGroups of the load balancer: Fn::ImportValue 'x' comes from a stack outside this input", label, True)]
    assert [(a.kind, a.name, a.groups) for a in inventory.attachments] == [("load balancer", "Lb", ("S:LbSg",)), ("load balancer", "Lb", ())]


def test_a_classic_load_balancer_forwards_tcp_and_ssl_listeners() -> None:
    listeners = [{"LoadBalancerPort": "2222", "InstancePort": "22", "Protocol": "TCP"},
                 {"LoadBalancerPort": 3390, "InstancePort": 3389, "Protocol": "ssl"},
                 {"LoadBalancerPort": "80", "InstancePort": "5985", "Protocol": "HTTP"}, "x"]
    inventory = read({"Lb": {"Type": "AWS::ElasticLoadBalancing::LoadBalancer", "Properties": {"Listeners": listeners}}})
    default = "unknown the load balancer has no SecurityGroups: the VPC's default group, whose rules are not in the template"
    assert permits(inventory) == [
        ("Lb", "tcp", (22, 22), default, "listener port 2222 forwarded to target port(s) 22 (the load balancer has no security group)", True),
        ("Lb", "tcp", (3389, 3389), default, "listener port 3390 forwarded to target port(s) 3389 (the load balancer has no security group)", True)]
    internal = read({"Lb": {"Type": "AWS::ElasticLoadBalancing::LoadBalancer", "Properties": {"Listeners": listeners, "Scheme": "internal"}}})
    assert internal.permissions == []


# --- attachments: the groups on one network interface -----------------------------------------------------


def groups_of(resources: dict, **sections: object) -> list[tuple]:
    return [(a.key.removeprefix("S:"), a.kind, a.name, tuple(g.removeprefix("S:") for g in a.groups), a.unresolved)
            for a in read({**resources, "A": {"Type": "AWS::EC2::SecurityGroup"}, "B": {"Type": "AWS::EC2::SecurityGroup"}}, **sections).attachments]


def test_instances_and_launch_templates_unite_per_interface() -> None:
    instance = {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [{"Ref": "A"}, {"Fn::GetAtt": ["A", "GroupId"]}],
                                                            "SecurityGroups": ["web", {"Ref": "B"}, {"Fn::ImportValue": "y"}]},
                "Metadata": {"aws:cdk:path": "App/Web/Resource"}}
    interfaces = {"Type": "AWS::EC2::Instance", "Properties": {"NetworkInterfaces": [
        {"DeviceIndex": "0", "GroupSet": [{"Ref": "A"}]}, {"GroupSet": {"Fn::If": ["Flag", [{"Ref": "B"}], {"Fn::ImportValue": "x"}]}}, {"DeviceIndex": 2}, "x"]}}
    template = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {"NetworkInterfaces": {"Fn::If": [
        "Flag", {"Ref": "AWS::StackName"}, [{"DeviceIndex": 1, "Groups": {"Fn::If": ["Flag", {"Fn::ImportValue": "z"}, ["sg-1"]]}}]]}}}}
    flag = {"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}}
    assert groups_of({"Host": instance, "Multi": interfaces, "Lt": template, "Empty": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {}}},
                     Conditions=flag) == [
        ("Host", "instance", "Web", ("A", "name:web", "B"), ("Fn::ImportValue 'y' comes from a stack outside this input",)),
        # read once per value of Flag: each interface has the groups of one branch, never both
        ("Multi#eth0", "instance", "Multi", ("A",), ()),
        ("Multi#eth1", "instance", "Multi eth1", ("B",), ()),
        ("Multi#eth0", "instance", "Multi", ("A",), ()),
        ("Multi#eth1", "instance", "Multi eth1", (), ("Fn::ImportValue 'x' comes from a stack outside this input",)),
        ("Lt#eth1", "launch template", "Lt eth1", ("id:sg-1",), ()),
    ]


def test_fleets_clusters_and_single_interface_resources() -> None:
    fleet = {"Type": "AWS::EC2::SpotFleet", "Properties": {"SpotFleetRequestConfigData": {"LaunchSpecifications": [
        {"SecurityGroups": [{"GroupId": {"Ref": "A"}}, {"GroupId": {"Ref": "AWS::NoValue"}}, {"GroupId": {"Fn::ImportValue": "y"}}, {"Ref": "A"},
                            {"GroupId": "sg-9", "Extra": 1}]},
        {"NetworkInterfaces": [{"DeviceIndex": 0, "Groups": [{"Ref": "B"}]}]}, "x"]}}}
    emr = {"Type": "AWS::EMR::Cluster", "Properties": {"Instances": {
        "EmrManagedMasterSecurityGroup": {"Ref": "A"}, "AdditionalMasterSecurityGroups": [{"Ref": "B"}, {"Ref": "A"}],
        "AdditionalSlaveSecurityGroups": [{"Ref": "B"}]}}, "Metadata": {"aws:cdk:path": "App/Cluster/Default"}}
    single = {
        "Eni": ("AWS::EC2::NetworkInterface", {"GroupSet": [{"Ref": "A"}]}),
        "Lc": ("AWS::AutoScaling::LaunchConfiguration", {"SecurityGroups": ["web", "sg-2"]}),
        "Svc": ("AWS::ECS::Service", {"NetworkConfiguration": {"AwsvpcConfiguration": {"SecurityGroups": [{"Ref": "A"}]}}}),
        "Set": ("AWS::ECS::TaskSet", {"NetworkConfiguration": {"AwsVpcConfiguration": {"SecurityGroups": [{"Ref": "B"}]}}}),
        "Batch": ("AWS::Batch::ComputeEnvironment", {"ComputeResources": {"SecurityGroupIds": [{"Ref": "A"}]}}),
        "Alb": ("AWS::ElasticLoadBalancingV2::LoadBalancer", {"SecurityGroups": [{"Ref": "B"}], "Tags": [{"Key": "Name", "Value": "App/public-alb/"}]}),
        "Bare": ("AWS::ECS::Service", {}),
    }
    resources = {"Fleet": fleet, "Emr": emr, "Empty": {"Type": "AWS::EMR::Cluster", "Properties": {"Instances": {}}},
                 **{name: {"Type": kind, "Properties": properties} for name, (kind, properties) in single.items()}}
    assert groups_of(resources) == [
        ("Fleet#spec0", "spot fleet", "Fleet spec 0", ("A", 'unresolved:{"Extra": 1, "GroupId": "sg-9"}'),
         ("Fn::ImportValue 'y' comes from a stack outside this input",)),
        ("Fleet#spec1#eth0", "spot fleet", "Fleet spec 1 eth0", ("B",), ()),
        ("Emr#master", "EMR cluster", "Cluster master nodes", ("A", "B"), ()),
        ("Emr#core", "EMR cluster", "Cluster core/task nodes", ("B",), ()),
        ("Eni", "network interface", "Eni", ("A",), ()),
        ("Lc", "launch configuration", "Lc", ("name:web", "id:sg-2"), ()),
        ("Svc", "ECS service", "Svc", ("A",), ()),
        ("Set", "ECS task set", "Set", ("B",), ()),
        ("Batch", "Batch compute environment", "Batch", ("A",), ()),
        ("Alb", "load balancer", "public-alb", ("B",), ()),
    ]


# --- what every resource shares -----------------------------------------------------------------------------


def test_resources_that_cannot_be_read_at_synth_time() -> None:
    inventory = read_inventory([
        Template("S", "S.json", {"Transform": ["AWS::LanguageExtensions", "My::Macro"], "Resources": {
            "Fn::ForEach::Groups": ["Name", ["A"], {"Sg${Name}": {"Type": "AWS::EC2::SecurityGroup"}}], "Child": {"Type": "AWS::CloudFormation::Stack"},
            "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"Fn::Transform": {"Name": "AWS::Include"}}},
            "Never": {"Type": "AWS::EC2::SecurityGroup", "Condition": "No", "Properties": {"SecurityGroupIngress": [tcp22(CidrIp=WORLD4)]}},
            "Odd": {"Type": "AWS::EC2::SecurityGroup", "Properties": {5: "x"}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"Fn::If": ["C", {}, {}]}},
        }, "Conditions": {"No": {"Fn::Equals": ["a", "b"]}}}),
        Template("S/Inner", "inner.json", {"Transform": "AWS::SecretsManager-2020-07-23", "Resources": {"Grandchild": {"Type": "AWS::CloudFormation::Stack"}}}),
    ])
    assert [(f.rule_id, f.location.template, f.location.logical_id, f.message) for f in inventory.findings] == [
        ("UnverifiableIngress", "S", "Transform", "the template transform 'My::Macro' may rewrite its resources at deploy time"),
        ("UnverifiableIngress", "S", "Fn::ForEach::Groups", "Fn::ForEach resources are expanded only at deploy time"),
        ("UnverifiableIngress", "S", "Child", "its nested stack template is not part of the input"),
        ("UnverifiableIngress", "S", "Sg", "its Properties are produced at deploy time (an intrinsic or a transform)"),
        ("UnverifiableIngress", "S/Inner", "Grandchild", "its nested stack template is not part of the input"),
    ]
    assert [p.origin.logical_id for p in inventory.permissions] == []
    assert inventory.templates == 2 and set(inventory.groups) == {"S:Sg", "S:Odd"}


def test_what_every_resource_shares_is_read_in_order_and_anchored_at_the_file() -> None:
    from constructs_lib.policy import Inventory, Location

    assert [getattr(Inventory(), name) for name in ("groups", "permissions", "attachments", "findings", "templates", "rules_read")] == [
        {}, [], [], [], 0, 0]
    rules = {"Fn::If": ["Flag", {"Ref": "AWS::NoValue"}, [tcp22(CidrIp=WORLD4)]]}
    body = {"Transform": "My::Macro", "Conditions": FLAG, "Resources": {
        "Fn::ForEach::X": [], "Str": "x", "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": rules}},
        "Gated": {"Type": "AWS::SNS::Topic", "Condition": "Missing"}}}
    inventory = read_inventory([Template("S", "S.json", body), Template("L", "L.json", {"Resources": ["x"]})])
    assert [p.source.label for p in inventory.permissions] == [WORLD4]
    assert [(f.rule_id, f.location, f.message.split(" (")[0]) for f in inventory.findings] == [
        ("UnverifiableIngress", Location("S", "Transform", None, "S.json"), "the template transform 'My::Macro' may rewrite its resources at deploy time"),
        ("UnverifiableIngress", Location("S", "Fn::ForEach::X", None, "S.json"), "Fn::ForEach resources are expanded only at deploy time"),
        ("MalformedTemplate", Location("S", "Gated", None, "S.json"), 'Resources.Gated.Condition: condition "Missing" is not defined in Conditions'),
    ]


def test_template_problems_are_findings_on_the_resource_they_are_in() -> None:
    problems = [("Resources.Sg.Properties.SecurityGroupIngress[0].CidrIp", "duplicate key 'CidrIp'"), ("Resources.Sg", "logical id problem"),
                ("Resources.Web[0]", "odd place"), ("Resources.", "empty"), ("line 3", "an alias"), ("Description", "a section")]
    template = Template("S", "S.json", {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup"}}}, {"Sg": "App/Sg/Resource"}, problems=problems)
    inventory = read_inventory([template])
    assert {f.location.template_path for f in inventory.findings} == {"S.json"}
    assert [(f.rule_id, f.location.logical_id, f.location.construct_path, f.message) for f in inventory.findings] == [
        ("MalformedTemplate", "Sg", "App/Sg/Resource", "Resources.Sg.Properties.SecurityGroupIngress[0].CidrIp: duplicate key 'CidrIp'"),
        ("MalformedTemplate", "Sg", "App/Sg/Resource", "logical id problem"),
        ("MalformedTemplate", "Web", None, "Resources.Web[0]: odd place"),
        ("MalformedTemplate", "Resources.", None, "empty"),
        ("MalformedTemplate", "line 3", None, "an alias"),
        ("MalformedTemplate", "Description", None, "a section"),
    ]
    assert inventory.groups["S:Sg"].location == ("S", "Sg", "App/Sg/Resource", "S.json")


FLAG = {"Flag": {"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}}


def test_prefix_lists_without_entries_give_no_source() -> None:
    no_source = [("MalformedIngress", "Sg", "Sg.SecurityGroupIngress[0]: it names no source (CidrIp, CidrIpv6, SourcePrefixListId or "
                                            "SourceSecurityGroupId/Name)")]
    for prefix_list in ({"Type": "AWS::EC2::PrefixList"}, {"Type": "AWS::EC2::PrefixList", "Properties": []}):
        assert found(read({**sg_rules(tcp22(SourcePrefixListId={"Ref": "Pl"})), "Pl": prefix_list})) == no_source
    entries = {"Fn::If": ["Flag", {"Ref": "Free"}, [{"Cidr": "8.8.8.0/24"}]]}
    inventory = read({**sg_rules(tcp22(SourcePrefixListId={"Ref": "Pl"})), "Pl": {"Type": "AWS::EC2::PrefixList", "Properties": {"Entries": entries}}},
                     Parameters={"Free": {"Type": "CommaDelimitedList"}}, Conditions=FLAG)
    assert [p[3] for p in permits(inventory)] == [
        "unknown entries of prefix list Pl: parameter Free has no Default and no AllowedValues", "8.8.8.0/24"]


def test_beanstalk_environments_take_their_saved_configuration_s_options() -> None:
    saved = beanstalk("ConfigurationTemplate", SSHSourceRestriction="tcp, 22, 22, 8.8.8.0/24")
    env = {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"TemplateName": {"Ref": "Saved"}}}
    assert [(p[0], p[3]) for p in permits(read({"Saved": saved, "Env": env}))] == [("Saved", "8.8.8.0/24"), ("Env", "8.8.8.0/24")]
    odd = read({"Saved": {"Type": "AWS::ElasticBeanstalk::ConfigurationTemplate", "Properties": []}, "Env": env})
    assert (odd.permissions, odd.findings) == ([], [])


def test_beanstalk_options_read_past_what_does_not_apply() -> None:
    settings = {"Fn::If": ["Flag", {"Ref": "Unknown"}, [
        {"Namespace": "aws:elasticbeanstalk:environment", "OptionName": "EnvironmentType", "Value": "SingleInstance"},
        {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": {"Fn::If": ["Other", {"Ref": "Name"}, "SSHSourceRestriction"]},
         "Value": "tcp, 22, 22, 8.8.8.0/24"}]]}
    inventory = read({"Env": {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {"OptionSettings": settings}}},
                     Parameters={"Unknown": {"Type": "CommaDelimitedList"}, "Name": {}},
                     Conditions={**FLAG, "Other": {"Fn::Equals": [{"Ref": "AWS::Region"}, "y"]}})
    assert [p[3] for p in permits(inventory)] == ["8.8.8.0/24"]
    assert [message for _, _, message in found(inventory)] == [
        "OptionSettings are unknown at synth time: parameter Unknown has no Default and no AllowedValues",
        "an aws:autoscaling:launchconfiguration OptionName is unknown at synth time: parameter Name has no Default and no AllowedValues"]
    assert found(read({"Env": beanstalk(SSHSourceRestriction="tcp, 22, 22, 10.0.0.0/8/x")})) == [
        ("MalformedIngress", "Env", "option SSHSourceRestriction '10.0.0.0/8/x' is not a CIDR block of the form address/length (e.g. 203.0.113.10/32)")]


def test_lightsail_port_details() -> None:
    ports = [{"Protocol": "icmpv6", "Ipv6Cidrs": ["2600::/12"]}, {"Protocol": "udp", "FromPort": 53, "ToPort": 53, "Cidrs": ["8.8.8.8"]},
             {"Protocol": {"Fn::If": ["Flag", "sctp", "tcp"]}, "FromPort": 22, "ToPort": {"Fn::If": ["Flag", 65536, 22]}, "Cidrs": ["8.8.8.8"]},
             {"FromPort": 22, "ToPort": 22, "Cidrs": {"Fn::If": ["Flag", {"Ref": "List"}, ["9.9.9.9"]]}},
             {"FromPort": 22, "ToPort": 22, "Cidrs": ["2600::/12"]},
             {"FromPort": 23, "ToPort": 23, "CidrListAliases": {"Ref": "List"}}]
    inventory = read({"Box": {"Type": "AWS::Lightsail::Instance", "Properties": {"Networking": {"Ports": ports}}}},
                     Parameters={"List": {"Type": "CommaDelimitedList"}}, Conditions=FLAG)
    label = "Networking.Ports[{}]".format
    unknown_list = "unknown at synth time: parameter List has no Default and no AllowedValues"
    aliases = ("Box", "tcp", (23, 23), f"unknown Networking.Ports[5].CidrListAliases {unknown_list}", label(5), True)
    common = [("Box", "icmpv6", None, "2600::/12", label(0), True), ("Box", "udp", (53, 53), "8.8.8.8/32", label(1), True)]
    assert permits(inventory) == [  # where Flag holds (Ports[2] is sctp: malformed), then where it does not (tcp 22-22)
        *common, ("Box", "tcp", (22, 22), f"unknown Networking.Ports[3].Cidrs {unknown_list}", label(3), True), aliases,
        *common, ("Box", "tcp", (22, 22), "8.8.8.8/32", label(2), True), ("Box", "tcp", (22, 22), "9.9.9.9/32", label(3), True), aliases]
    assert found(inventory) == [  # sctp is paired with ToPort 65536 only, tcp with 22: no port range is out of bounds
        ("MalformedIngress", "Box", "Networking.Ports[2].Protocol 'sctp' is not tcp, udp, all, icmp or icmpv6"),
        ("MalformedIngress", "Box", "Networking.Ports[4].Cidrs '2600::/12' is an IPv6 block where an IPv4 block is required"),
    ]
    no_blueprint = read({"Box": {"Type": "AWS::Lightsail::Instance", "Properties": {}}})
    assert [p[2] for p in permits(no_blueprint)] == [(22, 22), (22, 22), (80, 80), (80, 80)]


def test_gamelift_port_bounds() -> None:
    permission = {"FromPort": 1, "ToPort": 60000, "IpRange": WORLD4, "Protocol": "TCP"}
    inventory = read({"Fleet": {"Type": "AWS::GameLift::Fleet", "Properties": {"EC2InboundPermissions": [
        permission, {**permission, "ToPort": 65536}, {**permission, "ToPort": 60001}]}}})
    assert [p[2] for p in permits(inventory)] == [(1, 60000)]
    assert [message for _, _, message in found(inventory)] == [
        "EC2InboundPermissions[1] is not a TCP/UDP port range within 1-60000", "EC2InboundPermissions[2] is not a TCP/UDP port range within 1-60000"]


def test_load_balancer_details() -> None:
    resources = nlb()
    resources["Listener"]["Properties"]["DefaultActions"] = ["x", {"TargetGroupArn": {"Ref": "More"}}]
    assert [p[2] for p in permits(read(resources))] == [(3389, 3389)]
    resources = nlb()
    resources["Targets"] = {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup"}
    resources["Listener"]["Properties"]["DefaultActions"] = {"Fn::If": ["Flag", {"Ref": "Actions"}, [
        {"TargetGroupArn": {"Ref": "Targets"}}, {"TargetGroupArn": {"Ref": "More"}}]]}
    inventory = read(resources, Parameters={"Actions": {"Type": "CommaDelimitedList"}}, Conditions=FLAG)
    assert ([p[2] for p in permits(inventory)], inventory.findings) == ([(3389, 3389)], [])
    assert "make the load balancer internal" in inventory.groups["S:Listener"].fix
    unknown_port = nlb({"Port": {"Ref": "Port"}})
    not_a_resource = {**nlb(), "Lb": "not a resource"}
    for closed in (read(unknown_port, Parameters={"Port": {}}), read(not_a_resource), read(nlb({"LoadBalancerArn": "arn:aws:x"}))):
        assert (closed.permissions, closed.findings) == ([], [])
    uncertain = {**nlb(groups=[{"Ref": "LbSg"}]), "LbSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
        {"IpProtocol": "tcp", "FromPort": {"Ref": "Port"}, "ToPort": 443, "CidrIp": WORLD4}]}}}
    assert [(p[0], p[2], p[5]) for p in permits(read(uncertain, Parameters={"Port": {}})) if p[0] == "Listener"] == [
        ("Listener", (22, 22), False), ("Listener", (2222, 2222), False), ("Listener", (3389, 3389), False)]


def test_cloud_assembly_artifacts_of_the_wrong_shape_are_skipped(tmp_path) -> None:
    import json

    from constructs_lib.policy import load

    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {
        "Odd": "not an artifact", "S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.json"},
                                        "metadata": {"/XApp/Sg/Resource": [{"type": "aws:cdk:logicalId", "data": "Sg"}], "/XApp/Odd": 5}}}}))
    (tmp_path / "S.json").write_text(json.dumps({"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "x"}}}}))
    (tmp_path / "S.assets.json").write_text(json.dumps({"files": ["x"]}))
    [template] = load([tmp_path])
    assert (template.name, template.construct_paths) == ("S", {"Sg": "XApp/Sg/Resource"})


def test_reading_leaves_the_templates_as_it_found_them(rule_path) -> None:
    """The templates belong to the caller, who may check them again: resolving a rule's intrinsics must not write the
    resolved values into them."""
    resources = {
        **sg_rules(tcp22(SourceSecurityGroupId={"Fn::GetAtt": ["Bastion", "GroupId"]}), tcp22(CidrIp={"Fn::Select": [0, [WORLD4]]})),
        "Open": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Ref": "Bastion"}, **tcp22(CidrIpv6={"Fn::Sub": "::/0"})}},
        "Bastion": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
    }
    template = Template("S", "S.json", {"Resources": resources})
    before = copy.deepcopy(template.body)
    first = read_inventory([template])
    assert template.body == before
    assert permits(read_inventory([template])) == permits(first) and len(permits(first)) == 3


def test_lightsail_port_range_past_65535_is_malformed_and_quoted_as_written() -> None:
    # GIVEN a Lightsail port whose ToPort is 65536, both ports written as strings (the template's JSON allows either)
    # WHEN  the reader reads it
    # THEN  it grants nothing and the message quotes the range as written, without quotes around the strings
    inventory = read(lightsail(Networking={"Ports": [{"FromPort": "22", "ToPort": "65536", "Cidrs": ["8.8.8.8"]}]}))
    assert permits(inventory) == []
    assert found(inventory) == [("MalformedIngress", "Box", "Networking.Ports[0]: port range 22-65536 is not within 0-65535")]
