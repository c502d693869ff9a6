"""Exposure analysis: what a port scan of each network interface would find reachable, from the templates.

For every attachment (an instance's interface, a launch template, an ENI ...) and every group on no
attachment, the analysis lists which protocols and ports are reachable

* from the **internet**: where the CIDRs allowed to a port cover the whole public IPv4 or IPv6
  internet (``reach.open_reach``, the rules' own decision), per family; and from **broad** public
  ranges (more public addresses than the policy's limit);
* from each **named CIDR**, marked ``world``, ``public`` (a part of the internet) or ``non-public``;
* from each **other security group**, named by the attachments in it;
* and what cannot be known at synth time.

Rendering (Markdown, Mermaid, JSON) is in ``constructs_lib.exposure``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence

from .cidr import Network, is_public, parse_address, parse_cidr, world_families
from .config import GuardPolicy
from .model import Inventory, Permission, group_name
from .reach import PORTED, Reach, merge, open_reach
from .readers import read_inventory
from .templates import Template

class CidrReach(namedtuple("CidrReach", "cidr scope reach beyond_internet")):
    """One named CIDR's reach: ``scope`` is ``world``, ``public`` or ``non-public``; ``beyond_internet`` what it adds."""

    __slots__ = ()

    def network(self) -> Network:
        return parse_cidr(self.cidr.split(" ", 1)[0])  # a label may note how EC2 reads a block with host bits


#: Reach from another group, named by the attachments in it.
GroupReach = namedtuple("GroupReach", "group name reach")


class Target:
    """An attachment, or a group on none (``kind`` names it: ``instance``, ``launch template``, ``security group``...)."""

    def __init__(self, kind: str, key: str, name: str, groups: tuple[str, ...], attached: bool) -> None:
        self.kind, self.key, self.name, self.groups, self.attached = kind, key, name, groups, attached
        self.internet: dict[int, Reach] = {}  # family -> reach from the whole internet
        self.broad: dict[int, Reach] = {}  # family -> reach from too-broad public ranges (not the whole internet)
        self.cidrs: list[CidrReach] = []
        self.security_groups: list[GroupReach] = []
        self.uncertain: list[str] = []

    def internet_reach(self) -> Reach:
        """Ports open from the internet in at least one family."""
        return union(list(self.internet.values()))

    def allows(self, protocol: str, port: int | None, *, source: str = "internet", address: str | None = None,
               source_groups: Iterable[str] = ()) -> bool:
        """Whether the analysis predicts ``protocol``/``port`` reachable from ``source``.

        ``source`` ``internet``: any public address; ``host``: a host at ``address`` (matched against the
        CIDR rows) launched in ``source_groups`` (matched against the security-group rows).
        """
        if source == "internet":
            return any(covers(reach, protocol, port) for reach in self.internet.values())
        parsed = parse_address(address) if address else None
        for row in self.cidrs:
            if parsed is not None and parsed in row.network() and covers(row.reach, protocol, port):
                return True
        groups = set(source_groups)
        return any(row.group in groups and covers(row.reach, protocol, port) for row in self.security_groups)


class Analysis:
    """The targets, and the findings met while reading (formatted one per line)."""

    def __init__(self, targets: list[Target], notes: list[str]) -> None:
        self.targets, self.notes = targets, notes

    def target(self, name: str) -> Target:
        for target in self.targets:
            if name in (target.name, target.key):
                return target
        raise KeyError(f"no attachment or security group named {name!r} in the analysis")


def union(reaches: Sequence[Reach]) -> Reach:
    combined: dict[str, list[tuple[int, int]]] = {}
    for reach in reaches:
        for protocol, ranges in reach.items():
            combined.setdefault(protocol, []).extend(ranges)
    return {protocol: merge(ranges) for protocol, ranges in sorted(combined.items())}


def covers(reach: Reach, protocol: str, port: int | None) -> bool:
    if "all" in reach:
        return True
    if protocol not in reach:
        return False
    if protocol not in PORTED:
        return True
    return port is not None and any(low <= port <= high for low, high in reach[protocol])


def minus(reach: Reach, covered: Reach) -> Reach:
    """What ``reach`` admits beyond ``covered``."""
    if "all" in covered:
        return {}
    result: Reach = {}
    for protocol, ranges in reach.items():
        if protocol in covered and protocol not in PORTED:
            continue
        remaining = _subtract(ranges, covered.get(protocol, ())) if protocol in PORTED else ranges
        if protocol not in PORTED or remaining:
            result[protocol] = remaining
    return result


def _subtract(ranges: Sequence[tuple[int, int]], minus_ranges: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    result = list(ranges)
    for m_low, m_high in minus_ranges:
        next_result = []
        for low, high in result:
            if m_high < low or m_low > high:
                next_result.append((low, high))
                continue
            if low < m_low:
                next_result.append((low, m_low - 1))
            if high > m_high:
                next_result.append((m_high + 1, high))
        result = next_result
    return tuple(result)


def reach_of(permissions: Iterable[Permission]) -> Reach:
    """Protocols and ports the permissions admit (ignoring their sources)."""
    reach: dict[str, list[tuple[int, int]]] = {}
    for permission in permissions:
        reach.setdefault(permission.protocol, []).extend([permission.ports] if permission.protocol in PORTED else [])
    return {protocol: merge(ranges) for protocol, ranges in sorted(reach.items())}


def scope(network: Network) -> str:
    if world_families([network]):
        return "world"
    return "public" if is_public(network) else "non-public"


def analyse(templates: Sequence[Template], policy: GuardPolicy | None = None, inventory: Inventory | None = None) -> Analysis:
    """The exposure of every attachment (and every group on none) of ``templates``."""
    policy = policy or GuardPolicy()
    inventory = inventory or read_inventory(templates)
    members: dict[str, list[str]] = {}
    targets = []
    for attachment in inventory.attachments:
        targets.append(Target(attachment.kind, attachment.key, attachment.name, attachment.groups, True))
        targets[-1].uncertain.extend(f"security group unknown at synth time: {reason}" for reason in attachment.unresolved)
        for group in attachment.groups:
            members.setdefault(group, []).append(attachment.name)
    by_group: dict[str, list[Permission]] = {}
    for permission in inventory.permissions:
        by_group.setdefault(permission.group, []).append(permission)
    for key, group in inventory.groups.items():  # a group defined elsewhere (sg-..., an import) counts once it gets rules
        if key not in members and (group.defined or key in by_group):
            targets.append(Target(group.kind, key, group_name(key), (key,), False))

    def source_name(key: str) -> str:
        return ", ".join(members.get(key, ())) or group_name(key)

    for target in targets:
        permissions = [p for group in target.groups for p in by_group.get(group, ())]
        definite = [p for p in permissions if p.certain and p.source.network is not None]
        target.internet = open_reach(definite, policy.thresholds, "world")
        if policy.thresholds is not None:
            target.broad = {
                family: reach
                for family, reach in ((f, minus(r, target.internet.get(f, {}))) for f, r in open_reach(definite, policy.thresholds, "broad").items())
                if reach
            }
        for label in sorted({p.source.label for p in definite}, key=_cidr_order):
            rows = [p for p in definite if p.source.label == label]
            network = rows[0].source.network
            reach = reach_of(rows)
            target.cidrs.append(CidrReach(label, scope(network), reach, minus(reach, target.internet.get(network.version, {}))))
        for source in sorted({p.source.label for p in permissions if p.certain and p.source.kind == "security-group"}):
            rows = [p for p in permissions if p.certain and p.source.label == source]
            target.security_groups.append(GroupReach(source, source_name(source), reach_of(rows)))
        for permission in permissions:
            source = permission.source
            trusted = source.kind == "prefix-list" and source.label in policy.trusted_prefix_lists
            if trusted:
                target.uncertain.append(f"{permission.rule_label}: from prefix list {source.label}, trusted: "
                                        f"{policy.trusted_prefix_lists[source.label]}")
            elif not permission.certain or source.kind not in ("cidr", "security-group"):
                target.uncertain.append(
                    f"{permission.rule_label}: {permission.protocol} {ports_text(permission.ports)} from "
                    f"{source.label}" + ("" if permission.certain else " (protocol or ports unknown)")
                )
    notes = [f"{f.rule_id} {f.location.template}:{f.location.logical_id}: {f.message}" for f in inventory.findings]
    return Analysis(targets, notes)


def _cidr_order(label: str) -> tuple[int, int, int]:
    network = parse_cidr(label.split(" ", 1)[0])
    return (network.version, network.first, network.prefixlen)


def ports_text(ports: tuple[int, int] | None) -> str:
    if ports is None:
        return ""
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"
