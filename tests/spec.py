"""The specification the tests judge the core against, written out independently of ``constructs_lib``.

It shares no code with the implementation: the non-public address blocks (RFC 6890 special-purpose
registry; IPv6 outside global unicast ``2000::/3`` and the documentation prefixes), the default admin
ports, and the public internet computed from them with the standard library's ``ipaddress``.
"""

from __future__ import annotations

import ipaddress

ADMIN_PORTS = (22, 23, 3389, 5900, 5985, 5986)

NON_PUBLIC = {
    4: [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    ],
    6: ["::/3", "4000::/2", "8000::/1", "2001:db8::/32", "3fff::/20"],
}
BITS = {4: 32, 6: 128}

#: Too broad for an admin source: more than this many public IPv4 addresses, or more IPv6 space than a /48.
BROAD_IPV4_ADDRESSES = 65536
BROAD_IPV6_PREFIX = 48


def public_blocks(family: int) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The public internet of one family as CIDR blocks (the whole space minus the non-public blocks)."""
    blocks = [ipaddress.ip_network("0.0.0.0/0" if family == 4 else "::/0")]
    for hole in map(ipaddress.ip_network, NON_PUBLIC[family]):
        next_blocks = []
        for block in blocks:
            if hole.subnet_of(block):
                next_blocks.extend(block.address_exclude(hole))
            elif not block.subnet_of(hole):
                next_blocks.append(block)
        blocks = next_blocks
    return sorted(ipaddress.collapse_addresses(blocks))
