"""The exposure analysis (``analyse``): what a port scan of each interface would find, per source.

GIVEN templates whose reach per protocol, port and source is worked out by hand
WHEN  the core analyses them
THEN  each interface (or group on none) lists the protocols and port ranges open to the whole internet,
      to too-broad ranges, to each named CIDR and each other group, and what is unknown.
"""

from __future__ import annotations

import pytest

from constructs_lib.policy import GuardPolicy, Template, Thresholds
from constructs_lib.policy.exposure import analyse, ports_text
from guard_cases import group, ingress

ALL = (0, 65535)


def rule(protocol: object, low: object = None, high: object = None, **source: object) -> dict:
    entry = {"IpProtocol": protocol, **source}
    if low is not None:
        entry.update(FromPort=low, ToPort=high if high is not None else low)
    return entry


def analysed(resources: dict, policy: GuardPolicy | None = None, **sections: object):
    return analyse([Template("S", "S.json", {"Resources": resources, **sections})], policy)


def test_reach_per_protocol_merges_ranges_and_splits_where_sources_change() -> None:
    report = analysed({"A": group(
        rule("tcp", 20, 22, CidrIp="0.0.0.0/0"), rule("tcp", 23, 25, CidrIp="0.0.0.0/0"), rule("tcp", 30, 40, CidrIp="0.0.0.0/0"),
        rule("udp", 53, CidrIp="0.0.0.0/1"), rule("udp", 50, 60, CidrIp="128.0.0.0/1"),
        rule("icmp", -1, -1, CidrIpv6="::/0"), rule("50", CidrIp="0.0.0.0/0"), rule("17", 1000, 2000, CidrIp="0.0.0.0/1"),
        rule("tcp", 8080, CidrIp="8.0.0.0/7"), rule("tcp", 8080, CidrIp="100.0.0.0/8"),
    )})
    target = report.target("A")
    assert target.internet == {4: {"50": (), "tcp": ((20, 25), (30, 40)), "udp": ((53, 53),)}, 6: {"icmp": ()}}
    assert target.broad == {4: {"tcp": ((8080, 8080),), "udp": ((50, 52), (54, 60), (1000, 2000))}}
    assert target.internet_reach() == {"50": (), "icmp": (), "tcp": ((20, 25), (30, 40)), "udp": ((53, 53),)}
    assert [(row.cidr, row.scope) for row in target.cidrs] == [
        ("0.0.0.0/0", "world"), ("0.0.0.0/1", "public"), ("8.0.0.0/7", "public"), ("100.0.0.0/8", "public"), ("128.0.0.0/1", "public"),
        ("::/0", "world")]
    beyond = {row.cidr: row.beyond_internet for row in target.cidrs}
    assert beyond == {"0.0.0.0/0": {}, "0.0.0.0/1": {"udp": ((1000, 2000),)}, "8.0.0.0/7": {"tcp": ((8080, 8080),)},
                      "100.0.0.0/8": {"tcp": ((8080, 8080),)}, "128.0.0.0/1": {"udp": ((50, 52), (54, 60))}, "::/0": {}}
    assert [row.network() for row in target.cidrs][0].prefixlen == 0


def test_all_traffic_from_the_internet_covers_every_protocol() -> None:
    report = analysed({"A": group(rule("-1", CidrIp="0.0.0.0/0"), rule("tcp", 22, CidrIp="0.0.0.0/0"), rule("icmp", -1, -1, CidrIp="8.8.8.0/24"))})
    target = report.target("A")
    assert target.internet == {4: {"all": ()}}
    assert {row.cidr: row.beyond_internet for row in target.cidrs} == {"0.0.0.0/0": {}, "8.8.8.0/24": {}}
    assert target.allows("udp", 9) and target.allows("icmp", None) and target.allows("tcp", 65535)


def test_what_a_host_may_reach_from_a_given_address_or_group() -> None:
    resources = {"Bastion": group(), "Spare": group(), "Web": group(rule("tcp", 22, SourceSecurityGroupId={"Ref": "Bastion"}), rule("tcp", 3389, CidrIp="10.0.0.0/8"),
                                            rule("udp", 53, SourceSecurityGroupId={"Ref": "Spare"}),
                                            rule("icmp", -1, -1, CidrIp="10.0.0.0/8"), rule("tcp", 80, 81, CidrIpv6="2001:db8::/32")),
                 "Host": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [{"Ref": "Bastion"}]},
                          "Metadata": {"aws:cdk:path": "App/Jump/Resource"}},
                 "Host2": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [{"Ref": "Bastion"}]}}}
    web = analysed(resources).target("Web")
    assert (web.kind, web.key, web.name, web.groups, web.attached) == ("security group", "S:Web", "Web", ("S:Web",), False)
    assert [(row.group, row.name, row.reach) for row in web.security_groups] == [
        ("S:Bastion", "Jump, Host2", {"tcp": ((22, 22),)}), ("S:Spare", "Spare", {"udp": ((53, 53),)})]
    assert web.allows("tcp", 22, source="host", address="203.0.113.1", source_groups=["S:Bastion"])
    assert not web.allows("tcp", 23, source="host", address="203.0.113.1", source_groups=["S:Bastion"])
    assert web.allows("tcp", 3389, source="host", address="10.1.2.3") and not web.allows("tcp", 3389, source="host", address="11.1.2.3")
    assert web.allows("icmp", None, source="host", address="10.1.2.3") and not web.allows("udp", 3389, source="host", address="10.1.2.3")
    assert web.allows("tcp", 81, source="host", address="2001:db8::5") and not web.allows("tcp", 82, source="host", address="2001:db8::5")
    assert not web.allows("tcp", 3389, source="host") and not web.allows("tcp", None, source="host", address="10.1.2.3")
    assert not web.allows("tcp", 22) and not web.allows("icmp", None)


def test_groups_on_attachments_are_analysed_there_and_named_by_them() -> None:
    resources = {"Low": group(rule("tcp", 22, CidrIp="0.0.0.0/1")), "High": group(rule("tcp", 22, 23, CidrIp="128.0.0.0/1")),
                 "Spare": group(), "Host": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [{"Ref": "Low"}, {"Ref": "High"}]}},
                 "Other": {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": {"Fn::ImportValue": "x"}}}}
    report = analysed(resources)
    assert [(t.kind, t.name, t.attached) for t in report.targets] == [
        ("instance", "Host", True), ("instance", "Other", True), ("security group", "Spare", False)]
    host = report.target("S:Host")
    assert host.internet == {4: {"tcp": ((22, 22),)}} and host.broad == {4: {"tcp": ((23, 23),)}}
    assert report.target("Other").uncertain == ["security group unknown at synth time: Fn::ImportValue 'x' comes from a stack outside this input"]
    with pytest.raises(KeyError, match="no attachment or security group named 'Nope' in the analysis"):
        report.target("Nope")


def test_without_broad_sources_only_the_whole_internet_is_reported() -> None:
    resources = {"A": group(rule("tcp", 22, CidrIp="0.0.0.0/1"), rule("tcp", 23, CidrIp="8.8.0.0/16"))}
    assert analysed(resources, GuardPolicy(thresholds=None)).target("A").broad == {}
    assert analysed(resources).target("A").broad == {4: {"tcp": ((22, 22),)}}
    assert analysed(resources, GuardPolicy(thresholds=Thresholds(1000, 48))).target("A").broad == {4: {"tcp": ((22, 23),)}}


def test_what_cannot_be_known_is_listed_and_trusted_prefix_lists_say_why() -> None:
    pl, other = "pl-0123456789abcdef0", "pl-00000000"
    resources = {"A": group(rule("tcp", 22, SourcePrefixListId=pl), rule("udp", 53, SourcePrefixListId=other), rule("tcp", 80, CidrIp="8.8.8.0/24"),
                         rule({"Ref": "Proto"}, 22, CidrIp="0.0.0.0/0"), rule("icmp", -1, -1, CidrIp={"Ref": "Who"}),
                         rule("tcp", 22, CidrIp="10.0.0.0/33"), rule("tcp", 22, SourceSecurityGroupId="sg-0123456789abcdef0"))}
    report = analysed(resources, GuardPolicy(trusted_prefix_lists={pl: "corporate VPN egress (NET-12)"}),
                      Parameters={"Proto": {"Type": "String"}, "Who": {"Type": "String"}})
    assert report.target("A").uncertain == [
        f"A.SecurityGroupIngress[0]: from prefix list {pl}, trusted: corporate VPN egress (NET-12)",
        f"A.SecurityGroupIngress[1]: udp 53 from {other}",
        "A.SecurityGroupIngress[3]: unknown 0-65535 from 0.0.0.0/0 (protocol or ports unknown)",
        "A.SecurityGroupIngress[4]: icmp  from CidrIp unknown at synth time: parameter Who has no Default and no AllowedValues",
    ]
    assert report.notes == ["MalformedIngress S:A: A.SecurityGroupIngress[5]: CidrIp '10.0.0.0/33' is not a valid CIDR block: "
                            "/33 is longer than an IPv4 address"]


def test_reach_combines_all_traffic_rules_with_each_protocol_and_family() -> None:
    target = analysed({"A": group(rule("-1", CidrIp="0.0.0.0/1"), rule("tcp", 22, CidrIp="128.0.0.0/1"), rule("icmp", -1, -1, CidrIp="128.0.0.0/1"),
                               rule("-1", CidrIp="0.0.0.0/0"), rule("tcp", 22, CidrIpv6="::/0"), rule("tcp", 42, 43, CidrIpv6="::/0"),
                               rule("tcp", 45, CidrIpv6="::/0"))}).target("A")
    assert target.internet == {4: {"all": ()}, 6: {"tcp": ((22, 22), (42, 43), (45, 45))}}
    half = analysed({"A": group(rule("-1", CidrIp="0.0.0.0/1"), rule("tcp", 22, CidrIp="128.0.0.0/1"), rule("icmp", -1, -1, CidrIp="128.0.0.0/1"),
                             rule("udp", 53, CidrIp="0.0.0.0/1"))}).target("A")
    assert (half.internet, half.broad) == ({4: {"icmp": (), "tcp": ((22, 22),)}}, {4: {"all": ()}})
    beyond = {row.cidr: row.beyond_internet for row in half.cidrs}
    assert beyond == {"0.0.0.0/1": {"all": (), "udp": ((53, 53),)}, "128.0.0.0/1": {}}
    split = analysed({"A": group(rule("icmp", -1, -1, CidrIp="0.0.0.0/1"), rule("icmp", -1, -1, CidrIp="128.0.0.0/1"),
                              rule("tcp", 22, CidrIp="0.0.0.0/1"))}).target("A")
    assert {row.cidr: row.beyond_internet for row in split.cidrs} == {"0.0.0.0/1": {"tcp": ((22, 22),)}, "128.0.0.0/1": {}}


def test_open_reach_counts_only_certain_cidr_sources() -> None:
    from constructs_lib.policy import read_inventory
    from constructs_lib.policy.reach import open_reach

    body = {"Parameters": {"Port": {"Type": "Number"}}, "Resources": {"A": group(rule("tcp", {"Ref": "Port"}, 22, CidrIp="0.0.0.0/0"))}}
    permissions = read_inventory([Template("S", "S.json", body)]).permissions
    assert [p.certain for p in permissions] == [False] and open_reach(permissions, None, "world") == {}


def test_port_ranges_are_written_as_one_port_or_a_range() -> None:
    assert (ports_text((22, 22)), ports_text((0, 65535)), ports_text(None)) == ("22", "0-65535", "")


@pytest.mark.parametrize("name", [
    "aws-custom-resource-authorizes-world-ssh", "aws-custom-resource-sdk-v3-authorizes-world-ssh-on-update",
    "aws-custom-resource-authorizes-ssh-from-the-admin-network", "aws-custom-resource-reads-an-ssm-parameter",
    "aws-custom-resource-modifies-a-rule-to-world-rdp", "aws-custom-resource-puts-two-halves-on-an-instance",
])
def test_the_exposure_report_agrees_with_the_guard_on_rules_made_by_custom_resources(name: str) -> None:
    """What an AwsCustomResource opens at deploy time is in the port-scan prediction too, port for port."""
    from guard_cases import CASES

    case = next(case for case in CASES if case.name == name)
    world_ports = {port for rule, port in case.expected if rule == "WorldOpenAdminPort"}
    analysis = analyse([Template("S", "S.json", case.template())])
    predicted = {port for port in (22, 3389) if any(target.allows("tcp", port) for target in analysis.targets)}
    assert predicted == world_ports


def test_a_group_of_a_template_file_with_a_colon_in_its_name_is_named_by_its_logical_id() -> None:
    # GIVEN a raw template whose file name holds a colon (outside an assembly a template is named by its file),
    #       with a group Db on no instance, open to group Web
    # WHEN  the exposure is analysed
    # THEN  Db's target and Web's security-group row name the groups Db and Web, not by part of the file name
    body = {"Resources": {"Web": group(rule("tcp", 22, CidrIp="10.0.0.0/8")), "Db": group(rule("tcp", 5432, SourceSecurityGroupId={"Ref": "Web"}))}}
    report = analyse([Template("a:b.json", "a:b.json", body)])
    assert sorted((t.key, t.name) for t in report.targets) == [("a:b.json:Db", "Db"), ("a:b.json:Web", "Web")]
    assert [(row.group, row.name) for row in report.target("Db").security_groups] == [("a:b.json:Web", "Web")]


def test_a_group_known_by_an_export_or_id_with_colons_keeps_its_whole_name() -> None:
    # GIVEN ingress resources on a group imported by an export name with a colon (Stack:WebSg, the usual way to
    #       name exports) and on a group id written with a colon
    # WHEN  the exposure is analysed
    # THEN  each target is named by the whole id or by what the import names, not by what follows its last colon
    report = analysed({"Shared": ingress({"Fn::ImportValue": "Shared:WebSg"}, rule("tcp", 80, CidrIp="0.0.0.0/0")),
                       "Odd": ingress("sg-0123:odd", rule("tcp", 80, CidrIp="0.0.0.0/0"))})
    assert sorted(t.name for t in report.targets) == [
        "GroupId of Shared (Fn::ImportValue 'Shared:WebSg' comes from a stack outside this input)", "sg-0123:odd"]


def test_a_group_named_with_colons_keeps_its_whole_name() -> None:
    # GIVEN a group known only by its name team:web (a GroupName may hold colons), opened by an ingress resource
    #       and named as the source of a rule of group Web
    # WHEN  the exposure is analysed
    # THEN  both its own target and Web's security-group row name it team:web, whole
    report = analysed({"Open": ingress("team:web", rule("tcp", 22, CidrIp="0.0.0.0/0"), "GroupName"),
                       "Web": group(rule("tcp", 22, SourceSecurityGroupName="team:web"))})
    assert [(t.key, t.name) for t in report.targets] == [("S:Web", "Web"), ("name:team:web", "team:web")]
    assert [(row.group, row.name) for row in report.target("Web").security_groups] == [("name:team:web", "team:web")]
