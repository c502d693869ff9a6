"""BastionSecurityGroup, WebServerSecurityGroup and BastionWebTier: rules, defaults and refusals."""

from __future__ import annotations

import ipaddress
import itertools
import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template
from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib import BastionSecurityGroup, BastionWebTier, WebServerSecurityGroup, acknowledge_admin_port_finding, add_admin_port_guard
from constructs_lib.policy import Rule
from constructs_lib.security_groups import WEB_SERVER_SSH_SOURCE
from spec import public_blocks

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}
ADMIN_ADVICE = "203.0.113.10/32"
_names = itertools.count()


def new_stack(context: dict | None = None) -> tuple[cdk.Stack, ec2.IVpc]:
    """A bare stack with an imported VPC: cheap to build and to synthesize."""
    stack = cdk.Stack(cdk.App(context=context), f"Test{next(_names)}")
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
    return stack, vpc


@pytest.fixture(scope="module")
def scratch() -> tuple[cdk.Stack, ec2.IVpc]:
    """One stack for constructions that must fail (a refused construct adds nothing to it)."""
    return new_stack()


def groups(template: Template) -> dict[str, dict]:
    return template.find_resources("AWS::EC2::SecurityGroup")


def only(resources: dict[str, dict]) -> tuple[str, dict]:
    assert len(resources) == 1, resources
    return next(iter(resources.items()))


def getatt(logical_id: str) -> dict:
    return {"Fn::GetAtt": [logical_id, "GroupId"]}


# --------------------------------------------------------------------------------------------------
# BastionSecurityGroup
# --------------------------------------------------------------------------------------------------


def test_bastion_without_sources_has_no_inbound_and_no_outbound():
    # GIVEN a bastion group with no admin sources
    stack, vpc = new_stack()
    bastion = BastionSecurityGroup(stack, "Bastion", vpc=vpc)
    # WHEN synthesized
    template = Template.from_stack(stack)
    # THEN no ingress rule exists and egress is CDK's match-nothing placeholder (no allow-all outbound)
    logical_id, group = only(groups(template))
    assert "SecurityGroupIngress" not in group["Properties"]
    assert group["Properties"]["GroupDescription"] == "Bastion: SSH only from named admin sources"
    [egress] = group["Properties"]["SecurityGroupEgress"]
    assert (egress["CidrIp"], egress["Description"]) == ("255.255.255.255/32", "Disallow all traffic")
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    # AND its id and its connections are that one group
    assert stack.resolve(bastion.security_group_id) == getatt(logical_id)
    assert [stack.resolve(g.security_group_id) for g in bastion.connections.security_groups] == [getatt(logical_id)]


TRUSTED_PREFIX_LIST = {"admin-port-guard": {"trustedPrefixLists": {"pl-0123456789abcdef0": "corporate VPN egress (NET-12)"}}}


def test_bastion_admits_ssh_from_each_kind_of_admin_source_only():
    # GIVEN IPv4 and IPv6 CIDRs, a prefix-list id the app trusts, a CIDR peer and another security group
    stack, vpc = new_stack(TRUSTED_PREFIX_LIST)
    jump = ec2.SecurityGroup(stack, "Jump", vpc=vpc)
    BastionSecurityGroup(
        stack,
        "Bastion",
        vpc=vpc,
        admin_sources=["203.0.113.10/32", "2001:DB8::/64", "pl-0123456789abcdef0", ec2.Peer.ipv4("198.51.100.0/24"), jump],
    )
    # WHEN synthesized
    template = Template.from_stack(stack)
    bastion_id = next(lid for lid in groups(template) if lid.startswith("Bastion"))
    # THEN CIDRs are inline tcp/22 rules (IPv6 normalized), prefix list and group are standalone tcp/22 rules
    inline = groups(template)[bastion_id]["Properties"]["SecurityGroupIngress"]
    assert sorted((r.get("CidrIp") or r.get("CidrIpv6")) for r in inline) == [
        "198.51.100.0/24",
        "2001:db8::/64",
        "203.0.113.10/32",
    ]
    assert all({k: r[k] for k in SSH} == SSH for r in inline)
    standalone = list(template.find_resources("AWS::EC2::SecurityGroupIngress").values())
    assert len(standalone) == 2
    assert all({k: r["Properties"][k] for k in SSH} == SSH for r in standalone)
    sources = [r["Properties"].get("SourcePrefixListId") or r["Properties"].get("SourceSecurityGroupId") for r in standalone]
    jump_id = next(lid for lid in groups(template) if lid.startswith("Jump"))
    assert sorted(sources, key=str) == sorted(["pl-0123456789abcdef0", getatt(jump_id)], key=str)


def test_bastion_allow_ssh_from_adds_a_checked_source():
    # GIVEN a bastion with one admin CIDR, in an app that turns the broad-source limit off
    stack, vpc = new_stack({"admin-port-guard": {"broadSources": False}})
    bastion = BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=["0.0.0.0/1"])
    # WHEN another admin CIDR is added, and then the other half of the IPv4 internet
    bastion.allow_ssh_from("2001:db8::10/128", "VPN")
    with pytest.raises(ValueError) as error:
        bastion.allow_ssh_from("128.0.0.0/1")
    # THEN the second addition is refused, naming both halves, and the template has only the first two
    message = str(error.value)
    assert "'128.0.0.0/1'" in message and "'0.0.0.0/1' (already allowed)" in message
    assert "whole public IPv4 internet" in message
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [{**SSH, "CidrIp": "0.0.0.0/1"}, {**SSH, "CidrIpv6": "2001:db8::10/128", "Description": "VPN"}]},
    )


def test_bastion_is_connectable_for_intent_based_egress():
    # GIVEN a bastion and a database group
    stack, vpc = new_stack()
    bastion = BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=["203.0.113.10/32"])
    database = ec2.SecurityGroup(stack, "Db", vpc=vpc, allow_all_outbound=False)
    # WHEN the database admits the bastion by intent (the bastion is an IConnectable)
    database.connections.allow_from(bastion, ec2.Port.tcp(5432), "psql from the bastion")
    template = Template.from_stack(stack)
    # THEN the bastion gets the matching egress rule
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress", {"FromPort": 5432, "ToPort": 5432, "IpProtocol": "tcp"}
    )


WORLD = [
    pytest.param(["0.0.0.0/0"], "'0.0.0.0/0'", "IPv4", id="ipv4-slash-0"),
    pytest.param(["::/0"], "'::/0'", "IPv6", id="ipv6-slash-0"),
    pytest.param(["::0/0"], "'::0/0'", "IPv6", id="ipv6-zero-spelling"),
    pytest.param(["0::/0"], "'0::/0'", "IPv6", id="ipv6-other-spelling"),
    pytest.param(["0:0:0:0:0:0:0:0/0"], "'0:0:0:0:0:0:0:0/0'", "IPv6", id="ipv6-long-spelling"),
    pytest.param(["2000::/3"], "'2000::/3'", "IPv6", id="global-unicast"),
    pytest.param(["0.0.0.0/1", "128.0.0.0/1"], "'0.0.0.0/1', '128.0.0.0/1'", "IPv4", id="split-halves"),
    pytest.param(lambda: [ec2.Peer.any_ipv4()], "peer '0.0.0.0/0'", "IPv4", id="Peer.any_ipv4"),
    pytest.param(lambda: [ec2.Peer.any_ipv6()], "peer '::/0'", "IPv6", id="Peer.any_ipv6"),
    pytest.param(lambda: [ec2.Peer.ipv6("::0/0")], "peer '::0/0'", "IPv6", id="Peer.ipv6-zero"),
    pytest.param(lambda: [ec2.Peer.ipv4("0.0.0.0/1"), "128.0.0.0/1"], "'128.0.0.0/1'", "IPv4", id="peer-plus-string"),
]


@pytest.mark.parametrize(("sources", "named", "family"), WORLD)
def test_bastion_refuses_the_whole_internet(scratch, sources, named, family):
    # GIVEN admin sources that, alone or together, cover the whole public internet
    stack, vpc = scratch
    sources = sources() if callable(sources) else sources
    children = len(stack.node.children)
    # WHEN the bastion is built
    with pytest.raises(ValueError) as error:
        BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=sources)
    # THEN one ValueError names the value, the family and what to do instead; nothing was added
    message = str(error.value)
    assert named in message
    assert f"whole public {family} internet" in message
    assert ADMIN_ADVICE in message and "Session Manager" in message
    assert len(stack.node.children) == children


MALFORMED = [
    " 203.0.113.10/32",
    "203.0.113.10/32 ",
    "203.0.113.10",
    "203.0.113.10/33",
    "10.0.0.0/00",
    "10.0.0.1/8",
    "10.0.0.0/0",
    "0.0.0.0/-1",
    "not-a-cidr",
    "2001:db8::1/64",
    "",
]


HOST_BITS = {"10.0.0.1/8": "10.0.0.0/8", "10.0.0.0/0": "0.0.0.0/0", "2001:db8::1/64": "2001:db8::/64"}


@pytest.mark.parametrize("value", MALFORMED)
def test_bastion_refuses_malformed_cidrs(scratch, value):
    # GIVEN a malformed CIDR string
    stack, vpc = scratch
    # WHEN the bastion is built THEN the error names the value and shows the expected form, or the block meant
    with pytest.raises(ValueError) as error:
        BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=[value])
    message = str(error.value)
    assert repr(value) in message
    if value in HOST_BITS:
        assert f"has host bits set: EC2 keeps only its network part, {HOST_BITS[value]}, every address of it" in message
    elif value == "203.0.113.10/33":
        assert "/33 is longer than an IPv4 address" in message
    else:
        assert message.count("address/length") == 1


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("pl-xyz", "is not a prefix-list id", id="bad-prefix-list"),
        pytest.param(lambda: ec2.Peer.ipv4("10.0.0.1/8"), "'10.0.0.1/8'", id="malformed-peer"),
        pytest.param(lambda: cdk.Fn.ref("AdminCidr"), "unresolved token", id="token-string"),
        pytest.param(lambda: ec2.Peer.ipv4(cdk.Fn.ref("AdminCidr")), "unresolved token", id="token-peer"),
        pytest.param(42, "is not a CIDR string, a prefix-list id (pl-...) or an ec2.IPeer", id="wrong-type"),
    ],
)
def test_bastion_refuses_unknown_or_wrong_sources(scratch, source, expected):
    # GIVEN a source that cannot be checked, or is not a source at all
    stack, vpc = scratch
    source = source() if callable(source) else source
    # WHEN the bastion is built THEN the error says why
    with pytest.raises(ValueError, match="BastionSecurityGroup 'Bastion'") as error:
        BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=[source])
    assert expected in str(error.value)


def test_bastion_lists_every_problem_in_one_error(scratch):
    # GIVEN three bad sources, a good one and a bad description
    stack, vpc = scratch
    # WHEN the bastion is built
    with pytest.raises(ValueError) as error:
        BastionSecurityGroup(
            stack, "Bastion", vpc=vpc, admin_sources=["0.0.0.0/0", "203.0.113.10/32", "10.0.0.1/8", "::/0"], description=""
        )
    # THEN all four problems are in one message, one line each, and the good source is not mentioned
    message = str(error.value)
    assert message.startswith("BastionSecurityGroup 'Bastion': 4 problems:")
    assert message.count("\n  - ") == 4
    assert "'203.0.113.10/32'" not in message.replace("(for example 203.0.113.10/32)", "")


def test_bastion_refuses_a_single_string_instead_of_a_list(scratch):
    stack, vpc = scratch
    with pytest.raises(ValueError, match=r"admin_sources must be a list of sources, not '203.0.113.10/32'"):
        BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources="203.0.113.10/32")  # type: ignore[arg-type]


def _partition(splits: list[int]) -> list[ipaddress.IPv4Network]:
    """Split 0.0.0.0/0 into halves, choosing which block to split from ``splits``."""
    blocks = [ipaddress.IPv4Network("0.0.0.0/0")]
    for choice in splits:
        block = blocks.pop(choice % len(blocks))
        if block.prefixlen == 32:
            blocks.append(block)
            continue
        blocks.extend(block.subnets(prefixlen_diff=1))
    return blocks


@settings(max_examples=60, deadline=None)
@given(
    splits=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=24),
    drop=st.one_of(st.none(), st.integers(min_value=0, max_value=1000)),
)
def test_bastion_refuses_a_partition_of_the_internet_unless_a_public_piece_is_missing(splits, drop):
    # GIVEN the IPv4 space cut into random CIDR blocks, maybe with one block left out
    blocks = _partition(splits)
    missing = blocks.pop(drop % len(blocks)) if drop is not None else None
    # brute-force oracle: a gap matters only if it holds a public address
    leaves_a_public_gap = missing is not None and any(missing.overlaps(public) for public in public_blocks(4))
    stack, vpc = new_stack({"admin-port-guard": {"broadSources": False}})  # the world rule alone
    # WHEN a bastion is built from the remaining blocks
    try:
        BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=[block.with_prefixlen for block in blocks])
        refused = False
    except ValueError as error:
        assert "whole public IPv4 internet" in str(error)
        refused = True
    # THEN it is refused exactly when the remaining blocks still cover every public IPv4 address
    assert refused is not leaves_a_public_gap


# --------------------------------------------------------------------------------------------------
# WebServerSecurityGroup
# --------------------------------------------------------------------------------------------------


def test_web_defaults_serve_http_and_https_to_any_ipv4_and_ipv6_and_nothing_else():
    # GIVEN a web group with default props
    stack, vpc = new_stack()
    WebServerSecurityGroup(stack, "Web", vpc=vpc)
    # WHEN synthesized
    template = Template.from_stack(stack)
    # THEN exactly tcp/80 and tcp/443 from 0.0.0.0/0 and ::/0, no SSH, no allow-all outbound
    _, group = only(groups(template))
    rules = {(r["FromPort"], r["ToPort"], r["IpProtocol"], r.get("CidrIp") or r.get("CidrIpv6")) for r in group["Properties"]["SecurityGroupIngress"]}
    assert rules == {(80, 80, "tcp", "0.0.0.0/0"), (443, 443, "tcp", "0.0.0.0/0"), (80, 80, "tcp", "::/0"), (443, 443, "tcp", "::/0")}
    assert group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)


def test_web_admits_ssh_only_from_the_bastion_group_and_the_bastion_gets_the_egress():
    # GIVEN a bastion and a web group that names it
    stack, vpc = new_stack()
    bastion = BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=["203.0.113.10/32"])
    WebServerSecurityGroup(stack, "Web", vpc=vpc, bastion=bastion)
    # WHEN synthesized
    template = Template.from_stack(stack)
    bastion_id = next(lid for lid in groups(template) if lid.startswith("Bastion"))
    web_id = next(lid for lid in groups(template) if lid.startswith("Web"))
    # THEN the web group admits tcp/22 from the bastion group by reference ...
    _, ingress = only(template.find_resources("AWS::EC2::SecurityGroupIngress"))
    properties = dict(ingress["Properties"])
    assert properties.pop("Description")
    assert properties == {**SSH, "GroupId": getatt(web_id), "SourceSecurityGroupId": getatt(bastion_id)}
    # ... no web rule covers port 22 from a CIDR ...
    web_rules = groups(template)[web_id]["Properties"]["SecurityGroupIngress"]
    assert sorted((r.get("CidrIp") or r.get("CidrIpv6"), r["FromPort"], r["ToPort"]) for r in web_rules) == [
        ("0.0.0.0/0", 80, 80), ("0.0.0.0/0", 443, 443), ("::/0", 80, 80), ("::/0", 443, 443)]
    # ... and the bastion may send tcp/22 to the web group
    _, egress = only(template.find_resources("AWS::EC2::SecurityGroupEgress"))
    assert egress["Properties"]["GroupId"] == getatt(bastion_id)
    assert egress["Properties"]["DestinationSecurityGroupId"] == getatt(web_id)
    assert (egress["Properties"]["FromPort"], egress["Properties"]["ToPort"]) == (22, 22)


def test_web_custom_sources_and_ports():
    # GIVEN a web group for an internal load balancer range on 8080 and 8443
    stack, vpc = new_stack()
    WebServerSecurityGroup(stack, "Web", vpc=vpc, web_sources=["10.0.0.0/16", "pl-0123456789abcdef0"], web_ports=[8080, 8443])
    template = Template.from_stack(stack)
    # THEN only those sources and ports are admitted
    _, group = only(groups(template))
    assert [(r["CidrIp"], r["FromPort"]) for r in group["Properties"]["SecurityGroupIngress"]] == [("10.0.0.0/16", 8080), ("10.0.0.0/16", 8443)]
    prefix_rules = template.find_resources("AWS::EC2::SecurityGroupIngress")
    assert sorted(r["Properties"]["FromPort"] for r in prefix_rules.values()) == [8080, 8443]
    assert all(r["Properties"]["SourcePrefixListId"] == "pl-0123456789abcdef0" for r in prefix_rules.values())


def test_web_allow_ssh_from_an_imported_group():
    # GIVEN a web group and a security group of another stack, imported by id
    stack, vpc = new_stack()
    web = WebServerSecurityGroup(stack, "Web", vpc=vpc)
    other = ec2.SecurityGroup.from_security_group_id(stack, "Ops", "sg-0123456789abcdef0")
    # WHEN SSH is allowed from it
    web.allow_ssh_from(other, "SSH from the ops bastion")
    # THEN a tcp/22 rule references that group
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::SecurityGroupIngress", {**SSH, "SourceSecurityGroupId": "sg-0123456789abcdef0"}
    )


@pytest.mark.parametrize(
    ("source", "named"),
    [
        pytest.param("203.0.113.10/32", "'203.0.113.10/32'", id="cidr-string"),
        pytest.param("pl-0123456789abcdef0", "'pl-0123456789abcdef0'", id="prefix-list-string"),
        pytest.param(lambda: ec2.Peer.ipv4("203.0.113.10/32"), "'203.0.113.10/32'", id="cidr-peer"),
        pytest.param(lambda: ec2.Peer.any_ipv4(), "'0.0.0.0/0'", id="Peer.any_ipv4"),
        pytest.param(lambda: ec2.Peer.prefix_list("pl-0123456789abcdef0"), "'pl-0123456789abcdef0'", id="prefix-list-peer"),
        pytest.param(42, "42", id="number"),
    ],
)
def test_web_has_no_way_to_open_ssh_to_an_address_range(scratch, source, named):
    # GIVEN a web group
    stack, vpc = new_stack()
    web = WebServerSecurityGroup(stack, "Web", vpc=vpc)
    source = source() if callable(source) else source
    # WHEN SSH is asked from a CIDR, prefix list or anything that is not a security group
    with pytest.raises(TypeError) as error:
        web.allow_ssh_from(source)
    # THEN the error names it and points to the bastion's admin_sources
    assert named in str(error.value)
    assert "BastionSecurityGroup(admin_sources=[...])" in str(error.value)
    # AND the same holds for the bastion prop
    with pytest.raises(TypeError):
        WebServerSecurityGroup(scratch[0], "Web", vpc=scratch[1], bastion=source)


@pytest.mark.parametrize(("port", "name"), [(22, "SSH"), (23, "Telnet"), (3389, "RDP"), (5900, "VNC"), (5985, "WinRM over HTTP"), (5986, "WinRM over HTTPS")])
def test_web_refuses_admin_ports_in_web_ports(scratch, port, name):
    # GIVEN web_ports that include an admin port
    stack, vpc = scratch
    # WHEN the web group is built THEN the port is refused with what to do instead
    with pytest.raises(ValueError) as error:
        WebServerSecurityGroup(stack, "Web", vpc=vpc, web_ports=[80, port, 443])
    message = str(error.value)
    assert f"web port {port} ({name}) is an admin port" in message
    assert "allow_ssh_from(bastion)" in message


@pytest.mark.parametrize("port", [0, 65536, -1, "80", 80.0, True, None])
def test_web_refuses_ports_that_are_not_port_numbers(scratch, port):
    stack, vpc = scratch
    with pytest.raises(ValueError, match=r"is not a TCP port number \(1-65535\)"):
        WebServerSecurityGroup(stack, "Web", vpc=vpc, web_ports=[port])


def test_web_refuses_malformed_web_sources_and_lists_every_problem(scratch):
    stack, vpc = scratch
    with pytest.raises(ValueError) as error:
        WebServerSecurityGroup(stack, "Web", vpc=vpc, web_sources=["0.0.0.0/00", "1.2.3.4"], web_ports=[22, 80])
    message = str(error.value)
    assert message.startswith("WebServerSecurityGroup 'Web': 3 problems:")
    assert "'0.0.0.0/00'" in message and "'1.2.3.4'" in message and "web port 22 (SSH)" in message


# --------------------------------------------------------------------------------------------------
# BastionWebTier
# --------------------------------------------------------------------------------------------------


def test_tier_wires_the_bastion_and_the_web_group():
    # GIVEN a tier with one admin CIDR
    stack, vpc = new_stack()
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    template = Template.from_stack(stack)
    # THEN the bastion admits the admin CIDR and the web group admits SSH from the bastion only
    assert isinstance(tier.bastion, BastionSecurityGroup) and isinstance(tier.web, WebServerSecurityGroup)
    bastion_id = next(lid for lid in groups(template) if "Bastion" in lid)
    template.has_resource_properties("AWS::EC2::SecurityGroup", {"SecurityGroupIngress": [{**SSH, "CidrIp": "203.0.113.10/32"}]})
    template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {**SSH, "SourceSecurityGroupId": getatt(bastion_id)})


def test_tier_reports_the_problems_of_both_groups_at_once(scratch):
    stack, vpc = scratch
    with pytest.raises(ValueError) as error:
        BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["::0/0"], web_ports=[3389])
    message = str(error.value)
    assert message.startswith("BastionWebTier 'Tier': 2 problems:")
    assert "'::0/0' is the whole public IPv6 internet" in message and "web port 3389 (RDP)" in message


# --- escape hatches: rules added behind the constructs' backs fail synthesis ---------------------


@pytest.mark.parametrize(
    ("widen", "expected"),
    [
        (lambda tier: tier.web.connections.allow_from_any_ipv4(ec2.Port.tcp(22)), "allows tcp/22 (SSH) from the whole IPv4 internet"),
        (lambda tier: tier.web.security_group.add_ingress_rule(ec2.Peer.ipv4("10.0.0.0/8"), ec2.Port.tcp(22)), "10.0.0.0/8"),
        (lambda tier: tier.web.connections.allow_from(ec2.Peer.any_ipv6(), ec2.Port.all_traffic()), "tcp/3389 (RDP)"),
        (lambda tier: tier.bastion.connections.allow_from_any_ipv4(ec2.Port.tcp(22)), "whole IPv4 internet"),
        (lambda tier: tier.bastion.security_group.add_ingress_rule(ec2.Peer.ipv6("2000::/3"), ec2.Port.tcp_range(20, 30)), "tcp/23 (Telnet)"),
    ],
)
def test_escape_hatches_that_open_admin_ports_fail_synthesis(widen, expected):
    # GIVEN a tier, in an app that does NOT register the AdminPortGuard pack
    stack, vpc = new_stack()
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    # WHEN a rule is added through the exposed connections / security_group
    widen(tier)
    # THEN synthesis fails with the construct's own check, reported by the guard, naming what was opened
    with pytest.raises(RuntimeError, match="ValidationFailed: ERROR ") as raised:
        Template.from_stack(stack)
    assert expected in str(raised.value) and "(AdminPortGuard)" in str(raised.value)


def test_escape_hatch_check_allows_what_the_constructs_intend():
    stack, vpc = new_stack()
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    tier.web.connections.allow_from_any_ipv4(ec2.Port.tcp(8080))  # another web port: fine
    tier.bastion.connections.allow_from(ec2.Peer.ipv4("198.51.100.0/24"), ec2.Port.tcp(22))  # another admin net
    Template.from_stack(stack).resource_count_is("AWS::EC2::SecurityGroup", 2)


# --- rules aimed at the groups from anywhere in the app, synthesized without the plugin ---------------

DISABLE_INLINE = {"@aws-cdk/aws-ec2.securityGroupDisableInlineRules": True}


def _synth_error(app: cdk.App) -> str:
    """The guard's report of a synth that fails (the constructs report through it, in an app without one too)."""
    with pytest.raises(RuntimeError, match="ValidationFailed: ERROR ") as raised:
        app.synth()
    return str(raised.value)


def test_a_standalone_world_ssh_rule_aimed_at_the_web_group_fails_synth_naming_its_path_and_logical_id():
    # GIVEN a hand-written CfnSecurityGroupIngress that targets the web group, in an app without the plugin
    stack, vpc = new_stack()
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    ec2.CfnSecurityGroupIngress(stack, "Naive", group_id=tier.web.security_group_id, ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/0")
    # WHEN synthesized THEN the web group's own check fails, naming the rule's logical id and construct path
    message = _synth_error(stack.node.root)
    assert f"{stack.stack_name}/Tier/Web/SecurityGroup/Resource (TierWebSecurityGroup" in message
    assert f"allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 (rule Naive at {stack.stack_name}/Naive)" in message


def test_allow_from_any_ipv4_under_the_disable_inline_rules_context_fails_synth():
    # GIVEN the context that makes CDK write every rule as a standalone resource
    stack, vpc = new_stack(DISABLE_INLINE)
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    tier.web.connections.allow_from_any_ipv4(ec2.Port.tcp(22))
    # WHEN synthesized THEN the standalone rule CDK wrote is found, with its logical id and path
    message = _synth_error(stack.node.root)
    assert "allows tcp/22 (SSH) from the whole IPv4 internet via 0.0.0.0/0 (rule TierWebSecurityGroupfrom0000022" in message
    assert f"at {stack.stack_name}/Tier/Web/SecurityGroup/from 0.0.0.0_0:22)" in message


def test_a_rule_added_from_another_stack_fails_synth():
    # GIVEN a second stack of the same app that opens RDP on the bastion to all of IPv6 (a cross-stack reference)
    stack, vpc = new_stack()
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    other = cdk.Stack(stack.node.root, f"{stack.stack_name}Other")
    ec2.CfnSecurityGroupIngress(other, "Rdp", group_id=tier.bastion.security_group_id, ip_protocol="tcp", from_port=3389, to_port=3389, cidr_ipv6="::/0")
    # WHEN the app is synthesized THEN the bastion's check sees the rule in the other stack
    message = _synth_error(stack.node.root)
    assert f"allows tcp/3389 (RDP) from the whole IPv6 internet via ::/0 (rule Rdp at {other.stack_name}/Rdp)" in message


def test_ssh_from_a_prefix_list_on_the_web_group_fails_synth_even_when_trusted():
    # GIVEN a web group given SSH from a prefix list, trusted or not
    for context in ({}, TRUSTED_PREFIX_LIST):
        stack, vpc = new_stack(context)
        tier = BastionWebTier(stack, "Tier", vpc=vpc)
        tier.web.security_group.add_ingress_rule(ec2.Peer.prefix_list("pl-0123456789abcdef0"), ec2.Port.tcp(22))
        # WHEN synthesized THEN web servers take SSH from security groups only
        message = _synth_error(stack.node.root)
        assert ("takes SSH only from security groups, but allows tcp/22 from pl-0123456789abcdef0 "
                "(rule TierWebSecurityGroupfrompl0123456789abcdef022") in message
        assert f"at {stack.stack_name}/Tier/Web/SecurityGroup/from pl-0123456789abcdef0:22)" in message  # the rule's construct path


def _guard_reports(app: cdk.App) -> list[dict]:
    """The AdminPortGuard reports of the app's validation-report.json."""
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AdminPortGuard"]


@pytest.mark.parametrize("registered", [False, True], ids=["without the plugin", "with the plugin"])
def test_the_constructs_findings_are_acknowledged_as_the_plugin_s(registered):
    # GIVEN world SSH on the web group through connections and SSH from a CIDR on it, both acknowledged with a reason
    stack, vpc = new_stack()
    if registered:
        add_admin_port_guard(stack.node.root)
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    tier.web.connections.allow_from_any_ipv4(ec2.Port.tcp(22))
    tier.web.connections.allow_from(ec2.Peer.ipv4("198.51.100.7/32"), ec2.Port.tcp(22))
    acknowledge_admin_port_finding(tier.web, Rule.WORLD_OPEN_ADMIN_PORT, "honeypot for the SOC, ticket SEC-9", port=22)
    acknowledge_admin_port_finding(tier.web, WEB_SERVER_SSH_SOURCE, "vendor jump host, ticket SEC-10")
    # WHEN synthesized THEN the synth passes, and the guard's report lists both under suppressedViolations, with the reasons
    app = stack.node.root
    app.synth()
    (guard,) = _guard_reports(app)
    suppressed = {(v["ruleName"], v["reason"]) for v in guard["suppressedViolations"]}
    assert suppressed == {
        ("AdminPortGuard-WorldOpenAdminPort[22]", "honeypot for the SOC, ticket SEC-9"),
        ("AdminPortGuard-WebServerSshSource", "vendor jump host, ticket SEC-10"),
    }
    assert not guard["violations"]


def test_with_the_plugin_the_constructs_findings_are_reported_once_by_it():
    # GIVEN an app with the plugin, world RDP on the bastion and SSH from a prefix list on the web group
    stack, vpc = new_stack()
    add_admin_port_guard(stack.node.root)
    tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"])
    tier.bastion.connections.allow_from_any_ipv4(ec2.Port.tcp(3389))
    tier.web.security_group.add_ingress_rule(ec2.Peer.prefix_list("pl-0123456789abcdef0"), ec2.Port.tcp(22))
    # WHEN synthesized THEN it fails with one report of the guard, each finding once (the core's and the construct's)
    message = _synth_error(stack.node.root)
    (guard,) = _guard_reports(stack.node.root)
    assert sorted(v["ruleName"] for v in guard["violations"]) == [
        "AdminPortGuard-UnverifiableIngress", "AdminPortGuard-WebServerSshSource", "AdminPortGuard-WorldOpenAdminPort[3389]",
    ]
    assert message.count("(AdminPortGuard)") == 3


def test_bastion_refuses_broad_sources_unless_accepted_with_a_reason(scratch):
    stack, vpc = scratch
    with pytest.raises(ValueError, match="broad_source_reason=") as error:
        BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=["0.0.0.0/1"])
    assert "'0.0.0.0/1' holds 2,092,957,696 public IPv4 addresses, more than the limit of 65,536 addresses (a /16)" in str(error.value)
    # a public /24, a public /16, a private /8 and an IPv6 /48 site are fine
    fine, vpc2 = new_stack()
    BastionSecurityGroup(fine, "Bastion", vpc=vpc2, admin_sources=["198.51.100.0/24", "8.8.0.0/16", "10.0.0.0/8", "2600:1f18:abcd::/48"])
    # accepted on purpose: recorded as an acknowledgement of the plugin's finding
    accepted, vpc3 = new_stack()
    group = BastionSecurityGroup(accepted, "Wide", vpc=vpc3, admin_sources=["100.0.0.0/8"], broad_source_reason="NOC ISP range, ticket NET-7")
    Template.from_stack(accepted)
    entries = [e.data for e in group.node.metadata if e.type == "aws:cdk:acknowledged-rules"]
    assert entries == [{"AdminPortGuard::AdminPortGuard-BroadAdminSource[22]": "NOC ISP range, ticket NET-7"}]


def test_a_prefix_list_managed_elsewhere_needs_a_trust_declaration(scratch):
    stack, vpc = scratch
    with pytest.raises(ValueError) as error:
        BastionSecurityGroup(stack, "Bastion", vpc=vpc, admin_sources=["pl-0123456789abcdef0"])
    assert '"trustedPrefixLists": {"pl-0123456789abcdef0": "<who manages it, and why it is safe>"}' in str(error.value)
    trusted, vpc2 = new_stack(TRUSTED_PREFIX_LIST)
    BastionSecurityGroup(trusted, "Bastion", vpc=vpc2, admin_sources=["pl-0123456789abcdef0"])
    Template.from_stack(trusted).has_resource_properties("AWS::EC2::SecurityGroupIngress", {"SourcePrefixListId": "pl-0123456789abcdef0"})
