"""Remediation of a NON_COMPLIANT security group: the core's plan and the EC2 requests that apply it.

GIVEN security groups as ``DescribeSecurityGroups`` returns them, WHEN the plan is applied to them by a small
EC2 model (rules are ``(protocol, from, to, source)``; authorize adds, revoke removes exactly), THEN the guard
finds no admin port world-open or too broad on the group or on the interface it shares, and a brute-force
admission oracle (which sources reach which protocol and port) shows that nothing else closed and nothing
new opened. Pure: no boto3, no moto (the handler's AWS path is tested in tests/test_config_rule.py).
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from constructs_lib.config_rule import remediate
from constructs_lib.guard import live
from constructs_lib.policy import GuardPolicy, Rule, Template, check_templates, read_inventory, remediation

WORLD_OR_BROAD = {Rule.WORLD_OPEN_ADMIN_PORT, Rule.BROAD_ADMIN_SOURCE}
ADMIN = sorted(GuardPolicy().admin_ports)
CIDRS = ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "::/0", "2600::/16", "10.0.0.0/8", "8.8.0.0/15", "8.8.8.0/24", "198.51.100.0/24"]
OTHERS = [("PrefixListIds", {"PrefixListId": "pl-0123456789abcdef0"}), ("UserIdGroupPairs", {"GroupId": "sg-0000000000000beef"})]
PORTS = [0, 20, 22, 23, 24, 80, 443, 3389, 5900, 5985, 5986, 8080, 65535]
SAMPLE = sorted({p + d for p in PORTS + ADMIN for d in (-1, 0, 1) if 0 <= p + d <= 65535})


def source(cidr: str) -> tuple[str, dict]:
    return ("Ipv6Ranges", {"CidrIpv6": cidr}) if ":" in cidr else ("IpRanges", {"CidrIp": cidr})


def rule(protocol: str, low: int | None, high: int | None, *sources: tuple[str, dict]) -> dict:
    permission: dict = {"IpProtocol": protocol}
    if low is not None:
        permission.update(FromPort=low, ToPort=high)
    for field, item in sources:
        permission.setdefault(field, []).append(item)
    return permission


def group(group_id: str, *permissions: dict) -> dict:
    return {"GroupId": group_id, "GroupName": group_id, "VpcId": "vpc-1", "IpPermissions": list(permissions)}


def interface(*group_ids: str) -> dict:
    return {"NetworkInterfaceId": "eni-0123", "Groups": [{"GroupId": g} for g in group_ids]}


def rules_of(item: dict) -> set[tuple]:
    """The EC2 model: a group's rules, one source each."""
    return {_flat(entry) for entry in live.entry_permissions(item) if entry is not None}


def _flat(entry: dict) -> tuple:
    [(field, [item])] = [(k, v) for k, v in entry.items() if k in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs")]
    value = next(v for k, v in sorted(item.items()) if k != "Description")
    ports = (entry["FromPort"], entry["ToPort"]) if entry["IpProtocol"] != "-1" else None
    return entry["IpProtocol"], ports, field, value


def _unflat(rule_key: tuple) -> dict:
    protocol, ports, field, value = rule_key
    key = {"IpRanges": "CidrIp", "Ipv6Ranges": "CidrIpv6", "PrefixListIds": "PrefixListId", "UserIdGroupPairs": "GroupId"}[field]
    return rule(protocol, *(ports or (None, None)), (field, {key: value}))


def apply(item: dict, authorize: list[dict], revoke: list[dict]) -> dict:
    """Authorize, then revoke, as EC2 does: a duplicate authorize or an unknown revoke is an error."""
    rules = rules_of(item)
    for entry in authorize:
        assert _flat(entry) not in rules, f"EC2 refuses a duplicate: {entry}"
        rules.add(_flat(entry))
    for entry in revoke:
        assert _flat(entry) in rules, f"EC2 knows no such rule: {entry}"
        rules.remove(_flat(entry))
    return {**item, "IpPermissions": [_unflat(r) for r in sorted(rules, key=str)]}


def admitted(item: dict) -> set[tuple]:
    """Brute force: ``(protocol, port, source)`` for every sampled TCP/UDP port, ICMP and other protocols."""
    points = set()
    for protocol, ports, _, value in rules_of(item):
        icmp = "icmpv6" if ":" in str(value) else "icmp"
        if protocol == "-1":
            points |= {(p, port, value) for p in ("tcp", "udp") for port in SAMPLE} | {(icmp, None, value), ("other", None, value)}
        elif protocol in ("tcp", "udp"):
            points |= {(protocol, port, value) for port in SAMPLE if ports[0] <= port <= ports[1]}
        else:
            points.add((protocol, None, value))
    return points


def open_on(groups: list[dict], interfaces: list[dict], policy: GuardPolicy) -> set[tuple[str, int]]:
    """``(where, port)`` the guard reports world-open or too broad."""
    findings = check_templates([live.live_template(groups, None, "r", interfaces)], policy)
    return {(f.location.logical_id, f.port) for f in findings if f.rule in WORLD_OR_BROAD}


def remediated(groups: list[dict], interfaces: list[dict] = (), policy: GuardPolicy = GuardPolicy()):
    findings, plan, authorize, revoke = remediate.plan_requests(groups, interfaces, {}, policy, "r")
    return plan, apply(groups[0], authorize, revoke), authorize, revoke


def _tcp_ranges(item: dict, cidr: str) -> list[tuple[int, int]]:
    return sorted(ports for protocol, ports, _, value in rules_of(item) if value == cidr and protocol == "tcp")


# --- the acceptance cases ------------------------------------------------------------------------------------


def test_tcp_0_65535_from_the_world_keeps_every_port_but_the_admin_ports() -> None:
    plan, after, authorize, revoke = remediated([group("sg-1", rule("tcp", 0, 65535, source("0.0.0.0/0")))])
    assert _tcp_ranges(after, "0.0.0.0/0") == [(0, 21), (24, 3388), (3390, 5899), (5901, 5984), (5987, 65535)]
    assert revoke == [rule("tcp", 0, 65535, source("0.0.0.0/0"))]
    assert [c.ports for c in plan.cuts] == [tuple(ADMIN)] and plan.cuts[0].narrowed == ""


def test_the_two_halves_of_ipv4_on_22_are_closed_on_22_only() -> None:
    web = rule("tcp", 80, 80, source("0.0.0.0/0"))
    plan, after, authorize, revoke = remediated([group("sg-1", rule("tcp", 22, 22, source("0.0.0.0/1"), source("128.0.0.0/1")), web)])
    assert authorize == [] and sorted(r["IpRanges"][0]["CidrIp"] for r in revoke) == ["0.0.0.0/1", "128.0.0.0/1"]
    assert after["IpPermissions"] == [web]


def test_all_traffic_is_reexpressed_as_tcp_ranges_udp_and_icmp_and_says_what_else_it_no_longer_admits() -> None:
    plan, after, authorize, revoke = remediated([group("sg-1", rule("-1", None, None, source("0.0.0.0/0"), source("::/0")))])
    for cidr, icmp in (("0.0.0.0/0", "icmp"), ("::/0", "icmpv6")):
        assert _tcp_ranges(after, cidr) == [(0, 21), (24, 3388), (3390, 5899), (5901, 5984), (5987, 65535)]
        assert {(p, ports) for p, ports, _, value in rules_of(after) if value == cidr and p != "tcp"} == {("udp", (0, 65535)), (icmp, (-1, -1))}
    assert [c.narrowed.split(" (")[0] for c in plan.cuts] == ["IP protocols other than TCP, UDP and ICMP", "IP protocols other than TCP, UDP and ICMPV6"]


def test_group_sources_private_ranges_and_prefix_lists_stay() -> None:
    kept = [rule("tcp", 22, 22, source("10.0.0.0/8"), *OTHERS), rule("tcp", 0, 65535, ("UserIdGroupPairs", {"GroupId": "sg-0000000000000cafe"}))]
    plan, after, authorize, revoke = remediated([group("sg-1", *kept, rule("tcp", 22, 22, source("0.0.0.0/0")))])
    assert rules_of(after) == rules_of(group("sg-1", *kept))


def test_a_union_is_broken_at_the_fewest_permissions() -> None:
    # world only (no broad limit): 0.0.0.0/0 must go, and one half; the other half may stay
    permissions = rule("tcp", 22, 22, source("0.0.0.0/0"), source("0.0.0.0/1"), source("128.0.0.0/1"))
    plan, after, _, revoke = remediated([group("sg-1", permissions)], policy=GuardPolicy(thresholds=None))
    assert [r["IpRanges"][0]["CidrIp"] for r in revoke] == ["0.0.0.0/0", "0.0.0.0/1"]
    assert open_on([after], [], GuardPolicy(thresholds=None)) == set()


def test_groups_on_one_interface_this_group_closes_its_share() -> None:
    policy = GuardPolicy(thresholds=None)
    mine, theirs = group("sg-1", rule("tcp", 22, 22, source("0.0.0.0/1"))), group("sg-2", rule("tcp", 22, 22, source("128.0.0.0/1")))
    plan, after, _, revoke = remediated([mine, theirs], [interface("sg-1", "sg-2")], policy)
    assert [r["IpRanges"][0]["CidrIp"] for r in revoke] == ["0.0.0.0/1"] and plan.left_open == ()
    assert open_on([after, theirs], [interface("sg-1", "sg-2")], policy) == set()


def test_what_another_group_opens_alone_is_reported_not_chased() -> None:
    mine, theirs = group("sg-1", rule("tcp", 80, 80, source("0.0.0.0/0"))), group("sg-2", rule("tcp", 22, 22, source("0.0.0.0/0")))
    plan, after, authorize, revoke = remediated([mine, theirs], [interface("sg-1", "sg-2")])
    assert (revoke, authorize) == ([], []) and plan.left_open == ((22, "network interface eni-0123"),)


def test_the_remainder_keeps_the_cut_rules_description_or_says_where_it_comes_from() -> None:
    described = rule("tcp", 0, 65535, ("IpRanges", {"CidrIp": "0.0.0.0/0", "Description": "load test (OPS-7)"}))
    _, _, authorize, _ = remediated([group("sg-1", described, rule("-1", None, None, source("::/0")))])
    assert {p["IpRanges"][0]["Description"] for p in authorize if "IpRanges" in p} == {"load test (OPS-7)"}
    assert {p["Ipv6Ranges"][0]["Description"] for p in authorize if "Ipv6Ranges" in p} == {
        "admin-port-guard: rest of all traffic without tcp 22,23,3389,5900,5985,5986"}


def test_a_remainder_the_group_holds_already_is_not_authorized_twice() -> None:
    udp = rule("udp", 0, 65535, source("0.0.0.0/0"))
    _, after, authorize, _ = remediated([group("sg-1", rule("-1", None, None, source("0.0.0.0/0")), udp)])
    assert udp not in authorize and ("udp", (0, 65535), "IpRanges", "0.0.0.0/0") in rules_of(after)


# --- properties -------------------------------------------------------------------------------------------------

_port_range = st.tuples(st.sampled_from(PORTS), st.sampled_from(PORTS)).map(sorted)
_sources = st.lists(st.one_of(st.sampled_from(CIDRS).map(source), st.sampled_from(OTHERS)), min_size=1, max_size=3, unique_by=str)
_permission = st.one_of(
    st.builds(lambda ports, sources: rule("tcp", *ports, *sources), _port_range, _sources),
    st.builds(lambda ports, sources: rule("udp", *ports, *sources), _port_range, _sources),
    st.builds(lambda sources: rule("-1", None, None, *sources), _sources),
    st.builds(lambda sources: rule("icmp", -1, -1, *sources), _sources),
)


def _deduplicated(group_id: str, permissions: list[dict]) -> dict:
    """A group as EC2 holds it: no rule twice."""
    return {**group(group_id), "IpPermissions": [_unflat(r) for r in sorted(rules_of(group(group_id, *permissions)), key=str)]}


@settings(max_examples=150, deadline=None)
@given(
    mine=st.lists(_permission, max_size=5),
    theirs=st.lists(_permission, max_size=3),
    shared=st.booleans(),
    broad=st.booleans(),
)
def test_after_the_change_no_admin_port_is_open_nothing_else_closed_and_nothing_new_opened(mine, theirs, shared, broad) -> None:
    policy = GuardPolicy(thresholds=GuardPolicy().thresholds if broad else None)
    first, other = _deduplicated("sg-1", mine), _deduplicated("sg-2", theirs)
    interfaces = [interface("sg-1", "sg-2")] if shared else []
    groups = [first, other] if shared else [first]
    if shared and open_on([other], [], policy):
        other = group("sg-2")  # another group open alone is its own remediation's business (see above)
        groups = [first, other]
    plan, after, authorize, revoke = remediated(groups, interfaces, policy)

    # closed: on the group and on the interface it shares
    assert open_on([after, *groups[1:]], interfaces, policy) == set() and plan.left_open == ()
    before_points, after_points = admitted(first), admitted(after)
    # nothing admitted after that was not before
    assert after_points <= before_points
    # only the cut admin ports closed (and, for all traffic, the protocols the cut names)
    allowed = {("tcp", port, c.permission.source.label) for c in plan.cuts for port in c.ports}
    allowed |= {("other", None, c.permission.source.label) for c in plan.cuts if c.narrowed}
    assert before_points - after_points <= allowed
    # every cut is needed: giving back one source on one port opens that port again
    for cut, port in ((c, p) for c in plan.cuts for p in c.ports):
        back = apply(after, [rule("tcp", port, port, source(cut.permission.source.label))], [])
        assert port in {p for _, p in open_on([back, *groups[1:]], interfaces, policy)}, (cut, port)


def test_every_tcp_range_without_admin_ports_is_what_remains() -> None:
    for low, high in itertools.combinations([0, 21, 22, 23, 3389, 5900, 65535], 2):
        _, after, _, _ = remediated([group("sg-1", rule("tcp", low, high, source("0.0.0.0/0")))])
        kept = {port for a, b in _tcp_ranges(after, "0.0.0.0/0") for port in SAMPLE if a <= port <= b}
        assert kept == {port for port in SAMPLE if low <= port <= high and port not in ADMIN}


def test_past_the_exhaustive_limit_the_widest_are_cut_until_closed_and_the_needless_given_back() -> None:
    # GIVEN 14 public sources on 22 (more than remediation.EXHAUSTIVE_LIMIT): 0.0.0.0/1 twice (on 22 and on 20-25),
    #       which 0.0.0.0/2 and 64.0.0.0/2 cover again, 128.0.0.0/2 and 192.0.0.0/2, which nothing else covers, and eight /24s
    # WHEN  the plan cuts the widest first: both 0.0.0.0/1 (the whole internet stays open), then 128.0.0.0/2 (closed)
    # THEN  it gives both 0.0.0.0/1 back, no longer needed: only 128.0.0.0/2 is revoked, and nothing is open after
    small = [f"8.8.{n}.0/24" for n in range(8)]
    cidrs = ["0.0.0.0/1", "0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2", *small]
    policy = GuardPolicy(thresholds=None)
    telnet_too = rule("tcp", 20, 25, source("0.0.0.0/1"))
    plan, after, authorize, revoke = remediated([group("sg-1", rule("tcp", 22, 22, *map(source, cidrs)), telnet_too)], policy=policy)
    assert (authorize, revoke) == ([], [rule("tcp", 22, 22, source("128.0.0.0/2"))])
    assert open_on([after], [], policy) == set()


def test_up_to_the_exhaustive_limit_the_fewest_cuts_win_over_the_widest() -> None:
    # GIVEN 12 public sources on 22 (remediation.EXHAUSTIVE_LIMIT): 0.0.0.0/1 twice (on 22 and on 20-25), which
    #       nothing else covers but each other, 128.0.0.0/2 and 192.0.0.0/2, which nothing else covers, and eight /24s
    # WHEN  the plan tries every set of cuts, fewest first
    # THEN  it revokes one rule, 128.0.0.0/2 (cutting the widest first would revoke both 0.0.0.0/1 rules)
    policy = GuardPolicy(thresholds=None)
    cidrs = ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2", *(f"8.8.{n}.0/24" for n in range(8))]
    telnet_too = rule("tcp", 20, 25, source("0.0.0.0/1"))
    plan, after, authorize, revoke = remediated([group("sg-1", rule("tcp", 22, 22, *map(source, cidrs)), telnet_too)], policy=policy)
    assert (authorize, revoke) == ([], [rule("tcp", 22, 22, source("128.0.0.0/2"))])
    assert open_on([after], [], policy) == set()


# --- the planner on templates (remediation.plan) ---------------------------------------------------------------


def _plan(resources: dict, policy: GuardPolicy = GuardPolicy(), keep: tuple[str, ...] = ()) -> remediation.Plan:
    return remediation.plan(read_inventory([Template("S", "S.json", {"Resources": resources})]), "S:Sg", policy, keep)


def _sg(*entries: dict) -> dict:
    return {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "g", "SecurityGroupIngress": list(entries)}}


def _host(*groups: str) -> dict:
    return {"Type": "AWS::EC2::Instance", "Properties": {"SecurityGroupIds": [{"Ref": g} for g in groups]}}


def test_a_kept_open_rule_is_left_open_on_the_group_and_on_each_interface_it_shares() -> None:
    # GIVEN group Sg whose world-open SSH rule is kept, alone on instance Solo and with group Other on instance Pair,
    #       and instance Elsewhere whose two groups (not Sg) are world-open together
    # WHEN  the plan for Sg is made
    # THEN  it cuts nothing and says 22 stays open on the group and on Pair; Solo (Sg alone) and Elsewhere are no scope of it
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}
    plan = _plan({"Sg": _sg({**ssh, "CidrIp": "0.0.0.0/0"}), "Other": _sg(), "Low": _sg({**ssh, "CidrIp": "0.0.0.0/1"}),
                  "High": _sg({**ssh, "CidrIp": "128.0.0.0/1"}), "Solo": _host("Sg"), "Pair": _host("Sg", "Other"), "Elsewhere": _host("Low", "High")},
                 keep=("Sg.SecurityGroupIngress[0]",))
    assert (plan.group, plan.cuts, plan.left_open) == ("S:Sg", (), ((22, "the group"), (22, "instance Pair")))


def test_a_kept_broad_rule_is_left_open_not_chased() -> None:
    # GIVEN group Sg whose too-broad SSH rule (0.0.0.0/1, past the default /16 limit) is kept
    # WHEN  the plan for Sg is made
    # THEN  it cuts nothing and says 22 stays open (too broad) on the group
    plan = _plan({"Sg": _sg({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/1"})}, keep=("Sg.SecurityGroupIngress[0]",))
    assert (plan.cuts, plan.left_open) == ((), ((22, "the group"),))


def test_the_widest_source_is_cut_first_and_cuts_are_in_rule_order() -> None:
    # GIVEN (world only) IPv4 halves on 22: 0.0.0.0/1 (rule [0], the wider: 128.0.0.0/1 holds the reserved 224.0.0.0/3)
    #       and 128.0.0.0/1 on 20-22 (rule [1]); and ::/0 on 20-22 (rule [2])
    # WHEN  the plan for Sg is made
    # THEN  cutting one rule of each family closes 22: the wider half, [0], and ::/0, [2], in rule order
    plan = _plan({"Sg": _sg({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/1"},
                            {"IpProtocol": "tcp", "FromPort": 20, "ToPort": 22, "CidrIp": "128.0.0.0/1"},
                            {"IpProtocol": "tcp", "FromPort": 20, "ToPort": 22, "CidrIpv6": "::/0"})}, GuardPolicy(thresholds=None))
    assert [(cut.permission.rule_label, cut.ports) for cut in plan.cuts] == [("Sg.SecurityGroupIngress[0]", (22,)), ("Sg.SecurityGroupIngress[2]", (22,))]
