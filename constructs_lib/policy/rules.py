"""The rule: no admin port may be reachable from the whole internet.

For each security group and admin port, the CIDRs allowed to reach that TCP port (rules for TCP or
for all protocols) are united; if the union covers every public IPv4 address or every global-unicast
IPv6 address, the port is world-open. Rules whose protocol, ports or source are unknown at synth
time are reported when they could make an admin port world-open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from .cidr import PUBLIC_IPV4, PUBLIC_IPV6, world_families
from .findings import Finding, Location, Rule
from .ingress import Inventory, Permission

#: Ports that give a shell or a desktop on the host. Extend or replace them with ``admin_ports``.
DEFAULT_ADMIN_PORTS: Mapping[int, str] = {
    22: "SSH",
    23: "Telnet",
    3389: "RDP",
    5900: "VNC",
    5985: "WinRM over HTTP",
    5986: "WinRM over HTTPS",
}


def parse_admin_ports(text: str) -> dict[int, str]:
    """Parse ``"22,3389,8443"`` into admin ports, naming the well-known ones; ``ValueError`` if malformed."""
    ports: dict[int, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item.isdigit() or not 0 < int(item) <= 65535:
            raise ValueError(f"admin port {item!r} is not a TCP port number 1-65535")
        ports[int(item)] = DEFAULT_ADMIN_PORTS.get(int(item), "admin")
    return ports


def normalize_admin_ports(ports: Iterable[int] | Mapping[int, str] | None) -> dict[int, str]:
    """Admin ports as ``{port: name}``; ``None`` means the defaults. ``ValueError`` for a bad port."""
    if ports is None:
        return dict(DEFAULT_ADMIN_PORTS)
    names = ports if isinstance(ports, Mapping) else {port: DEFAULT_ADMIN_PORTS.get(port, "admin") for port in ports}
    for port in names:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= 65535:
            raise ValueError(f"admin port {port!r} is not a TCP port number 1-65535")
    if not names:
        raise ValueError("the set of admin ports is empty; the guard would check nothing")
    return dict(names)


def evaluate(inventory: Inventory, admin_ports: Mapping[int, str]) -> list[Finding]:
    """All findings: those found while reading the rules, plus world-open and unverifiable admin ports."""
    findings = list(inventory.findings)
    lowest, highest = min(admin_ports), max(admin_ports)
    by_group: dict[str, list[Permission]] = defaultdict(list)  # rules that may reach some admin port
    for permission in inventory.permissions:
        if (
            permission.source.kind != "security-group"
            and permission.reaches_tcp_port_range(lowest, highest)
        ):
            by_group[permission.group].append(permission)
    doubtful: dict[tuple[Location, str, str], list[int]] = defaultdict(list)
    ports_in_order = sorted(admin_ports.items())
    for group, permissions in by_group.items():
        anchor = inventory.groups[group].location
        for port, name in ports_in_order:
            reaching = [p for p in permissions if p.ports[0] <= port <= p.ports[1]]
            if not reaching:
                continue
            definite = [p for p in reaching if p.certain and p.source.network is not None]
            open_families = world_families(p.source.network for p in definite)
            if open_families:
                findings.append(_world_open(anchor, port, name, open_families, definite))
                continue
            for permission in reaching:
                if permission.certain and permission.source.network is not None:
                    continue
                if _could_open(permission, definite):
                    doubtful[(permission.origin, permission.rule_label, _doubt(permission))].append(port)
    for (origin, label, reason), ports in doubtful.items():
        port_list = ", ".join(f"{port} ({admin_ports[port]})" for port in ports)
        findings.append(
            Finding(
                origin,
                Rule.UNVERIFIABLE_INGRESS,
                f"{label} may open admin port {port_list} to the internet: {reason}",
                port=ports[0],
            )
        )
    return sorted(set(findings), key=Finding.sort_key)


def _could_open(permission: Permission, definite: Sequence[Permission]) -> bool:
    """Whether an uncertain permission, at its widest, would make the port world-open."""
    if permission.source.network is None:
        return True  # an unknown source may be 0.0.0.0/0
    return bool(world_families([permission.source.network, *(p.source.network for p in definite)]))


def _doubt(permission: Permission) -> str:
    if permission.source.network is None:
        return permission.source.label
    return f"its protocol or ports are unknown at synth time (source {permission.source.label})"


def _world_open(
    anchor: Location, port: int, name: str, families: tuple[int, ...], definite: Sequence[Permission]
) -> Finding:
    public = {4: PUBLIC_IPV4, 6: PUBLIC_IPV6}
    contributing = [
        p
        for p in definite
        if p.source.network.version in families
        and any(p.source.network.overlaps(block) for block in public[p.source.network.version])
    ]
    sources = tuple(sorted({p.source.label for p in contributing}))
    protocols = ",".join(sorted({p.protocol for p in contributing}))
    contributors = tuple(sorted({p.rule_label for p in contributing}))
    internet = " and ".join(f"IPv{family}" for family in families)
    return Finding(
        anchor,
        Rule.WORLD_OPEN_ADMIN_PORT,
        f"security group {anchor.logical_id} allows tcp/{port} ({name}) from the whole {internet} internet "
        f"via {', '.join(sources)} (protocol {protocols}; rules: {'; '.join(contributors)})",
        port=port,
        protocol=protocols,
        sources=sources,
        contributors=contributors,
    )
