"""Property-based tests: the policy core against a separate brute-force oracle.

The oracle shares no code with the core. It knows only the specification: the non-public address
blocks (as integer intervals), and for every admin port it tests each rule's protocol and port range
one by one, then sweeps the address line in elementary segments to decide whether the union of the
allowed CIDRs covers every public address.
"""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib.policy import Template, check_templates

ADMIN_PORTS = (22, 23, 3389, 5900, 5985, 5986)

# The specification, written out independently of constructs_lib.policy.cidr.
NON_PUBLIC = {
    4: [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    ],
    6: ["::/3", "4000::/2", "8000::/1", "2001:db8::/32", "3fff::/20"],  # everything outside 2000::/3, and docs
}
BITS = {4: 32, 6: 128}


def _interval(cidr: str) -> tuple[int, int]:
    network = ipaddress.ip_network(cidr)
    start = int(network.network_address)
    return start, start + network.num_addresses  # half-open


def oracle_world_open(rules: list[dict]) -> set[int]:
    """Admin ports whose allowed CIDRs cover all public IPv4 or all global-unicast IPv6 addresses."""
    open_ports = set()
    for port in ADMIN_PORTS:
        for family, field in ((4, "CidrIp"), (6, "CidrIpv6")):
            allowed = [_interval(r[field]) for r in rules if field in r and _reaches(r, port)]
            if allowed and _covers_public(allowed, family):
                open_ports.add(port)
    return open_ports


def _reaches(rule: dict, port: int) -> bool:
    protocol = str(rule["IpProtocol"]).lower()
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    return port in range(int(rule["FromPort"]), int(rule["ToPort"]) + 1)


def _covers_public(allowed: list[tuple[int, int]], family: int) -> bool:
    holes = [_interval(cidr) for cidr in NON_PUBLIC[family]]
    points = sorted({0, 2 ** BITS[family]} | {p for interval in allowed + holes for p in interval})
    for start in points[:-1]:  # each elementary segment [start, next point) is uniform
        public = not any(low <= start < high for low, high in holes)
        covered = any(low <= start < high for low, high in allowed)
        if public and not covered:
            return False
    return True


# --- strategies ----------------------------------------------------------------------------------


def _cidr(family: int, max_prefix: int):
    network_type = ipaddress.IPv4Network if family == 4 else ipaddress.IPv6Network

    def build(bits: int, prefix: int) -> str:
        return str(network_type((bits, prefix), strict=False))

    return st.builds(build, st.integers(0, 2 ** BITS[family] - 1), st.integers(0, max_prefix))


NEAR_BOUNDARY = {
    4: NON_PUBLIC[4] + ["8.8.8.0/24", "1.0.0.0/8", "100.0.0.0/10", "128.0.0.0/1", "223.255.255.0/24"],
    6: NON_PUBLIC[6] + ["2600::/12", "2001::/32", "3ffe::/16", "2000::/4"],
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
    """Mostly one shared protocol/port spec (so unions can cover an admin port), with random deviations."""
    shared = draw(port_specs())
    cidrs = draw(partitions(4)) + draw(partitions(6))
    cidrs += draw(st.lists(st.one_of(_cidr(4, 12), _cidr(6, 12)), max_size=3))
    rules = []
    for cidr in cidrs:
        protocol, low, high = shared if draw(st.integers(0, 9)) else draw(port_specs())
        field = "CidrIpv6" if ":" in cidr else "CidrIp"
        rules.append({"IpProtocol": protocol, "FromPort": low, "ToPort": high, field: cidr})
    return rules


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets(), st.integers(1, 4))
def test_core_agrees_with_brute_force_oracle(rules: list[dict], pieces: int) -> None:
    # GIVEN a random rule set, spread over the inline rules and `pieces` standalone ingress resources
    inline, standalone = rules[::2], rules[1::2]
    resources = {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": inline}}}
    for index, rule in enumerate(standalone):
        resources[f"Extra{index % pieces}x{index}"] = {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}, **rule},
        }
    # WHEN the core checks it
    findings = check_templates([Template("t", "t.json", {"Resources": resources})])
    # THEN it finds exactly the admin ports the oracle finds world-open, and nothing else
    assert {f.rule_id for f in findings} <= {"WorldOpenAdminPort"}
    assert {f.port for f in findings} == oracle_world_open(rules)


@settings(max_examples=300, deadline=None)
@given(st.lists(_cidr(4, 32), min_size=1, max_size=6))
def test_world_verdict_does_not_depend_on_rule_order_or_duplicates(cidrs: list[str]) -> None:
    def verdict(order: list[str]) -> set:
        rules = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": cidr} for cidr in order]
        body = {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": rules}}}}
        return {(f.rule_id, f.port) for f in check_templates([Template("t", "t.json", body)])}

    assert verdict(cidrs) == verdict(list(reversed(cidrs)) + cidrs)
