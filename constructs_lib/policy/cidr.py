"""CIDR parsing and the question "does this set of blocks cover the whole internet?".

The public internet is modelled as address sets, not strings: every IPv4 address outside the
special-purpose blocks of the IANA registry (RFC 6890 and successors) and every global-unicast
IPv6 address (``2000::/3``) outside the documentation prefixes. A set of CIDR blocks is
*world-wide* when its union contains one of those two sets entirely.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_PREFIX_SYNTAX = re.compile(r"^(?P<address>[0-9A-Fa-f:.]+)/(?P<length>0|[1-9][0-9]{0,2})$")

#: IPv4 blocks that no host on the internet can send from (RFC 6890 special-purpose registry).
NON_PUBLIC_IPV4 = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # shared address space (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link local
        "172.16.0.0/12",  # private (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private (RFC 1918)
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast: never a source address
        "240.0.0.0/4",  # reserved, and the limited broadcast address
    )
)

#: Global-unicast IPv6 space, and the documentation prefixes inside it.
GLOBAL_UNICAST_IPV6 = ipaddress.IPv6Network("2000::/3")
NON_PUBLIC_IPV6 = tuple(ipaddress.IPv6Network(block) for block in ("2001:db8::/32", "3fff::/20"))


def _complement(universe: IPNetwork, holes: Iterable[IPNetwork]) -> tuple[IPNetwork, ...]:
    remaining = [universe]
    for hole in holes:
        next_remaining = []
        for block in remaining:
            if hole.subnet_of(block):
                next_remaining.extend(block.address_exclude(hole))
            elif not block.subnet_of(hole):
                next_remaining.append(block)
        remaining = next_remaining
    return tuple(ipaddress.collapse_addresses(remaining))


#: The public internet as disjoint CIDR blocks, per address family.
PUBLIC_IPV4 = _complement(ipaddress.IPv4Network("0.0.0.0/0"), NON_PUBLIC_IPV4)
PUBLIC_IPV6 = _complement(GLOBAL_UNICAST_IPV6, NON_PUBLIC_IPV6)

_PUBLIC_SIZE = {
    4: sum(block.num_addresses for block in PUBLIC_IPV4),
    6: sum(block.num_addresses for block in PUBLIC_IPV6),
}


def parse_cidr(text: object, *, family: int | None = None) -> IPNetwork:
    """Parse a CIDR exactly as EC2 accepts it: ``address/length``, no spaces, no host bits.

    ``family`` (4 or 6) restricts the address family, as ``CidrIp`` and ``CidrIpv6`` do.
    Raises ``ValueError`` naming the value and what is wrong with it.
    """
    if not isinstance(text, str):
        raise ValueError(f"CIDR {text!r} is not a string")
    match = _PREFIX_SYNTAX.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a CIDR block of the form address/length (e.g. 203.0.113.10/32)")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a valid CIDR block: {error}") from None
    if family is not None and network.version != family:
        raise ValueError(f"{text!r} is an IPv{network.version} block where an IPv{family} block is required")
    return network


def world_families(blocks: Iterable[IPNetwork]) -> tuple[int, ...]:
    """The address families (4, 6) whose whole public internet lies inside the union of ``blocks``."""
    by_family: dict[int, list[IPNetwork]] = {4: [], 6: []}
    for block in blocks:
        by_family[block.version].append(block)
    public = {4: PUBLIC_IPV4, 6: PUBLIC_IPV6}
    covered = []
    for version, family_blocks in by_family.items():
        if not family_blocks:
            continue
        if sum(block.num_addresses for block in family_blocks) < _PUBLIC_SIZE[version]:
            continue  # too few addresses to cover the public space: skip the set algebra
        union = list(ipaddress.collapse_addresses(family_blocks))
        if all(any(target.subnet_of(block) for block in union) for target in public[version]):
            covered.append(version)
    return tuple(covered)
