"""The smallest change to one group that closes the admin ports the guard reports on it.

``plan(inventory, group_key, policy)`` looks at one group and at every attachment (network interface) it
sits on, port by port. For each admin port whose CIDR sources are world-open or too broad (``reach.verdict``,
the guard's own decision) it picks the fewest of the group's own permissions whose removal makes the group,
and each of its attachments with the other groups' rules as they are, neither world-open nor too broad.
A picked permission is *cut*: revoked, and its source re-authorized for everything else it admitted
(a range minus the admin ports, all traffic as TCP ranges, UDP and ICMP), so nothing but the admin ports
closes. Never cut: rules from security groups, prefix lists (their entries are managed elsewhere), private
ranges (they hold no public address), permissions the caller keeps (``keep``: rule labels), and rules of
other groups. Apply it as ``Plan.authorize`` first, then ``Plan.cuts``' revokes: no instant admits more
than before.

All traffic (``-1``) admits every IP protocol; a security group can name the other protocol numbers only as
one rule each, over 250 rules per source, far beyond the per-group rule quota ("Inbound or outbound rules per
security group", Amazon VPC quotas: https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
So a cut all-traffic rule is re-authorized for TCP, UDP and ICMP (ICMPv6 for an IPv6 source) and
``Cut.narrowed`` says which other protocols (GRE, ESP, ...) it no longer admits from that source.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Collection, Sequence
from itertools import combinations

from .cidr import Network, is_public, public_addresses
from .config import GuardPolicy
from .model import ALL_PORTS, Inventory, Permission
from .reach import merge, verdict

#: Exhaustive search for the fewest permissions up to this many candidates per port; a greedy pass beyond.
EXHAUSTIVE_LIMIT = 12

#: What to authorize: ``protocol`` tcp, udp, icmp or icmpv6; ``ports`` an inclusive range for tcp/udp,
#: ``None`` for every ICMP type; ``source`` the ``Source`` of the cut permission (a CIDR).
Grant = namedtuple("Grant", "protocol ports source")

#: One cut: the ``permission`` revoked, the admin ``ports`` it closes, the ``remainder`` that re-authorizes
#: the rest of it, and what it no longer admits that is no admin port (``narrowed``, text; empty for TCP ranges).
Cut = namedtuple("Cut", "permission ports remainder narrowed")

class Plan(namedtuple("Plan", "group cuts left_open")):
    """The change to one group: its ``cuts``; ``left_open``: ``(port, where)`` pairs no change to this group
    can close (other groups, prefix lists or kept rules open them), reported rather than "fixed" by cutting more."""

    __slots__ = ()

    @property
    def authorize(self) -> list[Grant]:
        """The grants of every cut's remainder, once each, in order: authorize these first."""
        return list(dict.fromkeys(grant for cut in self.cuts for grant in cut.remainder))

    @property
    def revoke(self) -> list[Permission]:
        """The permissions to revoke, after ``authorize``."""
        return [cut.permission for cut in self.cuts]


def plan(inventory: Inventory, group_key: str, policy: GuardPolicy, keep: Collection[str] = ()) -> Plan:
    """The change to ``group_key`` that closes its world-open and too-broad admin ports (see the module)."""
    scopes = [("the group", {group_key})]
    scopes += [(f"{a.kind} {a.name}", set(a.groups)) for a in inventory.attachments if group_key in a.groups and len(a.groups) > 1]
    definite = [p for p in inventory.permissions if p.certain and p.source.network is not None]
    closed: dict[Permission, list[int]] = {}
    left_open: list[tuple[int, str]] = []
    for port in sorted(policy.admin_ports):
        reaching = [p for p in definite if p.reaches_tcp_ports(port, port)]
        cuttable = sorted(
            (p for p in reaching if p.group == group_key and p.source.kind == "cidr" and p.rule_label not in keep and is_public(p.source.network)),
            key=lambda p: (-sum(public_addresses([p.source.network])), p.rule_label),
        )
        constraints: list[tuple[list[Network], list[Permission]]] = []
        for where, members in scopes:
            admitted = [p for p in reaching if p.group in members]
            if not verdict([p.source.network for p in admitted], policy.thresholds).families:
                continue  # not open here
            fixed = [p.source.network for p in admitted if p not in cuttable]
            if verdict(fixed, policy.thresholds).families:
                left_open.append((port, where))  # open without any permission this plan may cut
                continue
            constraints.append((fixed, [p for p in cuttable if p.group in members]))
        for permission in _fewest(cuttable, constraints, policy):
            closed.setdefault(permission, []).append(port)
    cuts = [_cut(permission, ports) for permission, ports in sorted(closed.items(), key=lambda item: item[0].rule_label)]
    return Plan(group_key, tuple(cuts), tuple(left_open))


def _fewest(candidates: Sequence[Permission], constraints: list[tuple[list[Network], list[Permission]]], policy: GuardPolicy) -> Sequence[Permission]:
    """The fewest ``candidates`` whose removal closes every constraint (widest first among equals)."""
    if not constraints:
        return ()

    def closes(removed: Collection[Permission]) -> bool:
        return not any(
            verdict([*fixed, *(p.source.network for p in cuttable if p not in removed)], policy.thresholds).families
            for fixed, cuttable in constraints
        )

    removed: tuple[Permission, ...] | list[Permission]
    if len(candidates) <= EXHAUSTIVE_LIMIT:
        for size in range(1, len(candidates) + 1):
            for removed in combinations(candidates, size):
                if closes(removed):
                    return removed
    removed = []
    for permission in candidates:  # widest first until closed, then give back what is not needed
        removed.append(permission)
        if closes(removed):
            break
    for permission in reversed(removed[:-1]):
        if closes([p for p in removed if p is not permission]):
            removed.remove(permission)
    return removed


def _cut(permission: Permission, ports: Sequence[int]) -> Cut:
    """Revoke ``permission`` on ``ports`` only: the grants that keep the rest of what it admits."""
    source = permission.source
    low, high = permission.ports if permission.protocol == "tcp" else ALL_PORTS
    kept = _without((low, high), ports)
    remainder = [Grant("tcp", span, source) for span in kept]
    narrowed = ""
    if permission.protocol == "all":
        icmp = "icmp" if source.network.version == 4 else "icmpv6"
        remainder += [Grant("udp", ALL_PORTS, source), Grant(icmp, None, source)]
        narrowed = f"IP protocols other than TCP, UDP and {icmp.upper()} (GRE, ESP, SCTP, ...) from {source.label}"
    return Cut(permission, tuple(ports), tuple(remainder), narrowed)


def _without(span: tuple[int, int], ports: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """The port range ``span`` without ``ports``, as merged ranges."""
    low, high = span
    pieces, start = [], low
    for port in sorted(p for p in ports if low <= p <= high):
        if start <= port - 1:
            pieces.append((start, port - 1))
        start = port + 1
    if start <= high:
        pieces.append((start, high))
    return merge(pieces)
