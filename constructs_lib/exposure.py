"""Exposure report: what a port scan of each instance would find reachable, read from the templates.

    python -m constructs_lib.exposure cdk.out --format markdown|json [--output FILE]

For every EC2 instance (and every security group attached to no instance) the report lists which
protocols and ports are reachable

* from the **internet**: where the CIDRs allowed to a port cover the whole public IPv4 or IPv6
  internet (the guard's own ``world_families``), per family;
* from each **named CIDR**: every CIDR source, marked ``world`` (alone covers the internet),
  ``public`` (a part of the internet) or ``non-public`` (no public address in it);
* from each **other security group**, named by the instances launched in it.

It reads ingress through the same policy core as the guard (``read_inventory``); it parses no rule
itself. Like the guard, it imports neither ``aws_cdk`` nor ``jsii``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .policy import Inventory, Permission, Template, TemplateError, load, read_inventory
from .policy.cidr import PUBLIC_IPV4, PUBLIC_IPV6, IPNetwork, world_families
from .policy.instances import Instance, read_instances

PORTED = ("tcp", "udp")
Ranges = tuple[tuple[int, int], ...]
#: ``{protocol: port ranges}``; ranges are ``()`` for protocols without ports (icmp, all, 50...).
Reach = dict[str, Ranges]


@dataclass(frozen=True)
class CidrReach:
    cidr: str
    scope: str  # "world", "public" (part of the internet) or "non-public" (private, documentation...)
    reach: Reach
    beyond_internet: Reach  # what this CIDR adds to the internet row (what the markdown shows)


@dataclass(frozen=True)
class GroupReach:
    group: str
    name: str
    reach: Reach


@dataclass
class Target:
    """An instance, or a security group attached to none (``kind`` ``instance``/``security-group``)."""

    kind: str
    key: str
    name: str
    groups: tuple[str, ...]
    internet: dict[int, Reach] = field(default_factory=dict)  # family -> reach
    cidrs: list[CidrReach] = field(default_factory=list)
    security_groups: list[GroupReach] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)

    def internet_reach(self) -> Reach:
        """Ports open from the internet in at least one family."""
        return _union(list(self.internet.values()))

    def allows(self, protocol: str, port: int | None, *, source: str = "internet",
               address: str | None = None, source_groups: Iterable[str] = ()) -> bool:
        """Whether the report predicts ``protocol``/``port`` reachable from ``source``.

        ``source`` ``internet``: any public address; ``host``: a host at ``address`` (matched against the
        CIDR rows) launched in ``source_groups`` (matched against the security-group rows).
        """
        if source == "internet":
            return any(_covers(reach, protocol, port) for reach in self.internet.values())
        ip = ipaddress.ip_address(address) if address else None
        for row in self.cidrs:
            if ip is not None and ip.version == ipaddress.ip_network(row.cidr).version and ip in ipaddress.ip_network(row.cidr):
                if _covers(row.reach, protocol, port):
                    return True
        groups = set(source_groups)
        return any(row.group in groups and _covers(row.reach, protocol, port) for row in self.security_groups)


@dataclass
class Report:
    targets: list[Target]
    findings: list[str]

    def target(self, name: str) -> Target:
        for target in self.targets:
            if name in (target.name, target.key):
                return target
        raise KeyError(f"no instance or security group named {name!r} in the report")

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": [
                {
                    "kind": t.kind,
                    "key": t.key,
                    "name": t.name,
                    "security_groups": list(t.groups),
                    "internet": {f"ipv{family}": _reach_json(reach) for family, reach in sorted(t.internet.items())},
                    "cidrs": [
                        {"cidr": c.cidr, "scope": c.scope, "reach": _reach_json(c.reach),
                         "beyond_internet": _reach_json(c.beyond_internet)}
                        for c in t.cidrs
                    ],
                    "from_security_groups": [
                        {"group": g.group, "name": g.name, "reach": _reach_json(g.reach)} for g in t.security_groups
                    ],
                    "uncertain": t.uncertain,
                }
                for t in self.targets
            ],
            "findings": self.findings,
        }


# --- port-range arithmetic --------------------------------------------------------------------------

def _merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple((low, high) for low, high in merged)


def _subtract(ranges: Ranges, minus: Ranges) -> Ranges:
    result = list(ranges)
    for m_low, m_high in minus:
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


def _union(reaches: Sequence[Reach]) -> Reach:
    combined: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for reach in reaches:
        for protocol, ranges in reach.items():
            combined[protocol].extend(ranges)
    return {protocol: _merge(ranges) for protocol, ranges in sorted(combined.items())}


def _reach_of(permissions: Iterable[Permission]) -> Reach:
    reach: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for permission in permissions:
        reach[permission.protocol].extend([permission.ports] if permission.protocol in PORTED else [])
    return {protocol: _merge(ranges) for protocol, ranges in sorted(reach.items())}


def _covers(reach: Reach, protocol: str, port: int | None) -> bool:
    if "all" in reach:
        return True
    if protocol not in reach:
        return False
    if protocol not in PORTED:
        return True
    return port is not None and any(low <= port <= high for low, high in reach[protocol])


def _minus(reach: Reach, covered: Reach) -> Reach:
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


# --- analysis --------------------------------------------------------------------------------------

def _world_reach(permissions: Sequence[Permission]) -> dict[int, Reach]:
    """Per address family, the protocols/ports whose allowed CIDRs together cover the public internet."""
    result: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    # "all traffic" first: where it is world-open, nothing else needs listing for that family.
    everything = [p for p in permissions if p.protocol == "all"]
    for family in world_families(p.source.network for p in everything):
        result[family]["all"] = []
    for protocol in sorted({p.protocol for p in permissions} - {"all"}):
        relevant = [p for p in permissions if p.protocol in (protocol, "all")]
        if protocol not in PORTED:
            for family in world_families(p.source.network for p in relevant):
                if "all" not in result[family]:
                    result[family][protocol] = []
            continue
        # Elementary port intervals between every rule boundary; within one, the same rules apply.
        bounds = sorted({p.ports[0] for p in relevant} | {p.ports[1] + 1 for p in relevant})
        for low, next_low in zip(bounds, bounds[1:]):
            high = next_low - 1
            networks = [p.source.network for p in relevant if p.ports[0] <= low and high <= p.ports[1]]
            for family in world_families(networks):
                if "all" not in result[family]:
                    result[family][protocol].append((low, high))
    return {
        family: {protocol: _merge(ranges) for protocol, ranges in sorted(reach.items())}
        for family, reach in sorted(result.items())
    }


def _scope(network: IPNetwork) -> str:
    if world_families([network]):
        return "world"
    public = PUBLIC_IPV4 if network.version == 4 else PUBLIC_IPV6
    return "public" if any(network.overlaps(block) for block in public) else "non-public"


def analyse(templates: Sequence[Template], inventory: Inventory | None = None) -> Report:
    """The exposure of every instance (and every unattached security group) of ``templates``."""
    inventory = inventory or read_inventory(templates)
    instances = read_instances(templates)
    members: dict[str, list[Instance]] = defaultdict(list)
    for instance in instances:
        for group in instance.groups:
            members[group].append(instance)

    def group_name(key: str) -> str:
        names = [instance.name for instance in members.get(key, ())]
        return ", ".join(names) if names else key.split(":", 1)[-1]

    by_group: dict[str, list[Permission]] = defaultdict(list)
    for permission in inventory.permissions:
        by_group[permission.group].append(permission)

    targets = [Target("instance", i.key, i.name, i.groups) for i in instances]
    for key in inventory.groups:
        if key not in members:
            targets.append(Target("security-group", key, key.split(":", 1)[-1], (key,)))
    for instance, target in zip(instances, targets):
        target.uncertain.extend(f"security group unknown at synth time: {reason}" for reason in instance.unresolved)

    for target in targets:
        permissions = [p for group in target.groups for p in by_group.get(group, ())]
        definite_cidrs = [p for p in permissions if p.certain and p.source.network is not None]
        target.internet = _world_reach(definite_cidrs)
        for cidr in sorted({p.source.label for p in definite_cidrs}, key=_cidr_sort_key):
            rows = [p for p in definite_cidrs if p.source.label == cidr]
            network = rows[0].source.network
            reach = _reach_of(rows)
            beyond = _minus(reach, target.internet.get(network.version, {}))
            target.cidrs.append(CidrReach(cidr, _scope(network), reach, beyond))
        for source in sorted({p.source.label for p in permissions if p.certain and p.source.kind == "security-group"}):
            rows = [p for p in permissions if p.certain and p.source.label == source]
            target.security_groups.append(GroupReach(source, group_name(source), _reach_of(rows)))
        for permission in permissions:
            if not permission.certain or permission.source.kind not in ("cidr", "security-group"):
                target.uncertain.append(
                    f"{permission.rule_label}: {permission.protocol} {_ports_text(permission.ports)} from "
                    f"{permission.source.label}" + ("" if permission.certain else " (protocol or ports unknown)")
                )
    findings = [f"{f.rule_id} {f.location.template}:{f.location.logical_id}: {f.message}" for f in inventory.findings]
    return Report(targets, findings)


def analyse_paths(paths: Iterable[str | Path]) -> Report:
    return analyse(load(paths))


def _cidr_sort_key(label: str) -> tuple:
    network = ipaddress.ip_network(label)
    return (network.version, network.network_address, network.prefixlen)


# --- rendering -------------------------------------------------------------------------------------

def _ports_text(ports: tuple[int, int] | None) -> str:
    if ports is None:
        return ""
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"


def reach_items(reach: Reach, *, bare_tcp: bool = False) -> list[str]:
    """``["tcp/22", "tcp/8000-8080", "icmp", "all traffic"]``; with ``bare_tcp`` TCP ports are plain numbers."""
    items = []
    for protocol, ranges in reach.items():
        if protocol == "all":
            items.append("all traffic")
        elif protocol in PORTED:
            for low_high in ranges:
                port = _ports_text(low_high)
                items.append(port if bare_tcp and protocol == "tcp" else f"{protocol}/{port}")
        else:
            items.append(protocol if not protocol.isdigit() else f"protocol {protocol}")
    return items


def _reach_json(reach: Reach) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for protocol, ranges in reach.items():
        if protocol in PORTED:
            rows.extend({"protocol": protocol, "from_port": low, "to_port": high} for low, high in ranges)
        else:
            rows.append({"protocol": protocol})
    return rows


def _internet_text(target: Target) -> str:
    families = {family: reach_items(reach) for family, reach in target.internet.items() if reach}
    if not families:
        return "—"
    if len(families) == 2 and families[4] == families[6]:
        return ", ".join(families[4]) + " (IPv4+IPv6)"
    return "; ".join(f"{', '.join(items)} (IPv{family})" for family, items in sorted(families.items()))


def _label(text: str) -> str:
    return text.replace('"', "'")


def to_mermaid(report: Report) -> str:
    lines = ["graph LR", '    internet(("Internet"))']
    nodes: dict[str, str] = {}
    edges: list[str] = []

    identifiers: dict[str, str] = {}

    def node(key: str, label: str, shape: str = "[{}]") -> str:
        if key not in identifiers:
            identifiers[key] = identifier = f"n{len(identifiers) + 1}"
            nodes[identifier] = f"    {identifier}{shape.format(chr(34) + _label(label) + chr(34))}"
        return identifiers[key]

    for target in report.targets:
        exposed = target.internet_reach()
        extra_cidrs = [c for c in target.cidrs if c.beyond_internet]
        if not (exposed or extra_cidrs or target.security_groups) and target.kind == "security-group":
            continue
        me = node(target.key, target.name if target.kind == "instance" else f"SG {target.name}")
        if exposed:
            edges.append(f'    internet -->|"{_label(", ".join(reach_items(exposed, bare_tcp=True)))}"| {me}')
        for row in extra_cidrs:
            source = node(f"cidr {row.cidr}", f"{row.cidr} ({row.scope})", "[/{}/]")
            edges.append(f'    {source} -->|"{_label(", ".join(reach_items(row.beyond_internet, bare_tcp=True)))}"| {me}')
        for row in target.security_groups:
            source_target = next((t for t in report.targets if row.group in t.groups and t.kind == "instance"), None)
            source = node(source_target.key, source_target.name) if source_target else node(row.group, f"SG {row.name}")
            if source_target and len([t for t in report.targets if row.group in t.groups]) > 1:
                source = node(row.group, f"SG {row.name}")
            edges.append(f'    {source} -->|"{_label(", ".join(reach_items(row.reach, bare_tcp=True)))}"| {me}')
    return "\n".join(lines + list(nodes.values()) + edges)


def to_markdown(report: Report) -> str:
    out = [
        "## Exposure report",
        "",
        "What a port scan would find reachable, per instance, read from the synthesized templates "
        "(the internet column: ports whose allowed CIDRs cover the whole public IPv4 or IPv6 internet).",
        "",
        "| Target | Security groups | From the internet | From named CIDRs | From other security groups | Unverifiable |",
        "|---|---|---|---|---|---|",
    ]
    for t in report.targets:
        cidrs = "<br>".join(
            f"`{c.cidr}` ({c.scope}): {', '.join(reach_items(c.beyond_internet))}" for c in t.cidrs if c.beyond_internet
        ) or "—"
        groups = "<br>".join(f"{g.name}: {', '.join(reach_items(g.reach))}" for g in t.security_groups) or "—"
        uncertain = "<br>".join(t.uncertain) or "—"
        kind = "" if t.kind == "instance" else " (no instance)"
        group_list = ", ".join(f"`{g.split(':', 1)[-1]}`" for g in t.groups) or "—"
        out.append(f"| **{t.name}**{kind} | {group_list} | {_internet_text(t)} | {cidrs} | {groups} | {uncertain} |")
    out += ["", "```mermaid", to_mermaid(report), "```"]
    if report.findings:
        out += ["", "Rules the report could not read exactly:", ""] + [f"- {f}" for f in report.findings]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m constructs_lib.exposure", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="cloud assembly directories (cdk.out) or template files")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--output", help="write the report here instead of standard output")
    args = parser.parse_args(argv)
    try:
        report = analyse_paths(args.paths)
    except TemplateError as error:
        print(f"exposure: {error}", file=sys.stderr)
        return 2
    text = to_markdown(report) if args.format == "markdown" else json.dumps(report.to_json(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"exposure report written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
