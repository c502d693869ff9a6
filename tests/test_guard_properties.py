"""Property-based tests: the policy core against a separate brute-force oracle.

The oracle shares no code with the core. It knows only the specification (``tests/spec.py``): the
non-public address blocks as integer intervals, the admin ports and the broad-source limits. For every
admin port it tests each rule's protocol and port range one by one, then sweeps the address line in
elementary segments to count the public addresses the allowed CIDRs cover: all of them is the whole
internet, more than the limit is too broad. It judges each group alone and the instance that carries
all of them (EC2 unites the rules of the groups on one interface).
"""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.policy import Template, check_templates
from spec import ADMIN_PORTS, BITS, BROAD_IPV4_ADDRESSES, BROAD_IPV6_PREFIX, NON_PUBLIC

LIMITS = {4: BROAD_IPV4_ADDRESSES, 6: 2 ** (128 - BROAD_IPV6_PREFIX)}


def _interval(cidr: str) -> tuple[int, int]:
    network = ipaddress.ip_network(cidr)
    start = int(network.network_address)
    return start, start + network.num_addresses  # half-open


def _public_count(allowed: list[tuple[int, int]], family: int) -> tuple[int, int]:
    """(public addresses inside ``allowed``, public addresses in all), by sweeping elementary segments."""
    holes = [_interval(cidr) for cidr in NON_PUBLIC[family]]
    points = sorted({0, 2 ** BITS[family]} | {p for interval in allowed + holes for p in interval})
    covered_public = total_public = 0
    for start, end in zip(points, points[1:]):  # each segment [start, end) is uniform
        if any(low <= start < high for low, high in holes):
            continue
        total_public += end - start
        if any(low <= start < high for low, high in allowed):
            covered_public += end - start
    return covered_public, total_public


def _reaches(rule: dict, port: int) -> bool:
    protocol = str(rule["IpProtocol"]).lower()
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    return port in range(int(rule["FromPort"]), int(rule["ToPort"]) + 1)


def oracle_verdict(rules: list[dict], port: int, broad: bool) -> str | None:
    """``WorldOpenAdminPort``, ``BroadAdminSource`` or ``None`` for one admin port of one rule set."""
    verdicts = set()
    for family, field in ((4, "CidrIp"), (6, "CidrIpv6")):
        allowed = [_interval(r[field]) for r in rules if field in r and _reaches(r, port)]
        covered, total = _public_count(allowed, family) if allowed else (0, 1)
        if covered == total:
            verdicts.add("WorldOpenAdminPort")
        elif broad and covered > LIMITS[family]:
            verdicts.add("BroadAdminSource")
    return "WorldOpenAdminPort" if "WorldOpenAdminPort" in verdicts else next(iter(verdicts), None)


def oracle_findings(groups: list[list[dict]], broad: bool) -> set[tuple[str, str, int]]:
    """``(rule id, resource, port)`` for each group alone and, for what no group opens as strongly, the instance."""
    expected = set()
    for port in ADMIN_PORTS:
        alone = [oracle_verdict(rules, port, broad) for rules in groups]
        for index, verdict in enumerate(alone):
            if verdict:
                expected.add((verdict, f"Sg{index}", port))
        together = oracle_verdict([rule for rules in groups for rule in rules], port, broad)
        stronger = "WorldOpenAdminPort" in alone or (together == "BroadAdminSource" and "BroadAdminSource" in alone)
        if together and not stronger and len(groups) > 1:
            expected.add((together, "Host", port))
    return expected


# --- strategies ----------------------------------------------------------------------------------


def _cidr(family: int, max_prefix: int):
    network_type = ipaddress.IPv4Network if family == 4 else ipaddress.IPv6Network

    def build(bits: int, prefix: int) -> str:
        return str(network_type((bits, prefix), strict=False))

    return st.builds(build, st.integers(0, 2 ** BITS[family] - 1), st.integers(0, max_prefix))


NEAR_BOUNDARY = {
    4: NON_PUBLIC[4] + ["8.8.8.0/24", "1.0.0.0/8", "100.0.0.0/10", "128.0.0.0/1", "223.255.255.0/24", "8.8.0.0/16", "8.8.0.0/15"],
    6: NON_PUBLIC[6] + ["2600::/12", "2001::/32", "3ffe::/16", "2000::/4", "2600::/48", "2600::/47"],
}


@st.composite
def partitions(draw, family: int):
    """The whole address space with a few holes cut out, split into random blocks: unions at the boundary."""
    blocks = [ipaddress.ip_network("0.0.0.0/0" if family == 4 else "::/0")]
    holes = draw(st.lists(st.one_of(st.sampled_from(NEAR_BOUNDARY[family]), _cidr(family, 24)), max_size=3))
    for hole in map(ipaddress.ip_network, holes):
        blocks = [part for block in blocks for part in _without(block, hole)]
    for _ in range(draw(st.integers(0, 6)) if blocks else 0):
        index = draw(st.integers(0, len(blocks) - 1))
        if blocks[index].prefixlen < 30:
            blocks[index : index + 1] = list(blocks[index].subnets())
    return [str(block) for block in blocks]


def _without(block, hole):
    if hole.subnet_of(block):
        return list(block.address_exclude(hole))
    return [] if block.subnet_of(hole) else [block]


PROTOCOLS = ["tcp", "TCP", "6", "udp", "17", "icmp", "-1", -1]
LOW_PORTS = [0, 20, 22, 23, 80, 443, 3389, 5900, 5985, 5986, 8080]


@st.composite
def port_specs(draw):
    low = draw(st.sampled_from(LOW_PORTS))
    high = min(low + draw(st.sampled_from([0, 1, 5, 3000, 65535])), 65535)
    return draw(st.sampled_from(PROTOCOLS)), low, high


@st.composite
def rule_sets(draw):
    """Mostly one shared protocol/port spec (so unions can cover an admin port), with random deviations;
    CIDRs near the internet's boundary, near the broad limits, and small."""
    shared = draw(port_specs())
    cidrs = draw(partitions(4)) + draw(partitions(6))
    cidrs += draw(st.lists(st.one_of(_cidr(4, 12), _cidr(6, 12), st.sampled_from(NEAR_BOUNDARY[4] + NEAR_BOUNDARY[6])), max_size=3))
    rules = []
    for cidr in cidrs:
        protocol, low, high = shared if draw(st.integers(0, 9)) else draw(port_specs())
        field = "CidrIpv6" if ":" in cidr else "CidrIp"
        rules.append({"IpProtocol": protocol, "FromPort": low, "ToPort": high, field: cidr})
    return rules


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets(), st.integers(1, 3), st.randoms(use_true_random=False), st.booleans())
def test_core_agrees_with_brute_force_oracle(rules: list[dict], group_count: int, random, broad: bool) -> None:
    # GIVEN a random rule set dealt out to `group_count` groups (inline or as standalone ingress resources),
    # all of them on one instance
    groups: list[list[dict]] = [[] for _ in range(group_count)]
    inline: list[list[dict]] = [[] for _ in range(group_count)]
    resources: dict = {}
    for index, rule in enumerate(rules):
        target = random.randrange(group_count)
        groups[target].append(rule)
        if random.random() < 0.5:
            inline[target].append(rule)
        else:
            group_id = {"Fn::GetAtt": [f"Sg{target}", "GroupId"]}
            resources[f"Extra{index}"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": group_id, **rule}}
    for index in range(group_count):
        resources[f"Sg{index}"] = {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": inline[index]}}
    resources["Host"] = {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [{"Ref": f"Sg{index}"} for index in range(group_count)]}}
    policy = None if broad else _policy_without_broad()
    # WHEN the core checks it
    findings = check_templates([Template("t", "t.json", {"Resources": resources})], policy)
    # THEN it finds exactly the (rule, resource, port) the oracle finds, and nothing else
    assert {(f.rule_id, f.location.logical_id, f.port) for f in findings} == oracle_findings(groups, broad)


def _policy_without_broad():
    from constructs_lib.policy import GuardPolicy

    return GuardPolicy(thresholds=None)


@settings(max_examples=200, deadline=None)
@given(st.lists(_cidr(4, 32), min_size=1, max_size=6))
def test_verdict_does_not_depend_on_rule_order_or_duplicates(cidrs: list[str]) -> None:
    def verdict(order: list[str]) -> set:
        rules = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": cidr} for cidr in order]
        body = {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": rules}}}}
        return {(f.rule_id, f.port) for f in check_templates([Template("t", "t.json", body)])}

    assert verdict(cidrs) == verdict(list(reversed(cidrs)) + cidrs)
