"""CIDR blocks as integer intervals, and the public internet as a set of addresses.

The public internet is every IPv4 address outside the special-purpose blocks of the IANA registry
(RFC 6890 and successors) and every global-unicast IPv6 address (``2000::/3``) outside the
documentation prefixes. Address sets are unions of ``Network`` intervals; what a set of sources
reaches is measured in public addresses (:func:`public_addresses`), so "the whole internet" and
"too broad" are the same arithmetic with different limits (see ``reach.py``).

Parsing is written out (no ``ipaddress``): it is the hot path of every check and of the CLI's start-up.
It accepts exactly what EC2 accepts in ``CidrIp``/``CidrIpv6``: ``address/length``, no spaces, no
leading zeros in IPv4 octets or in the length. A block with host bits set is EC2's too: EC2 keeps its
network part (``192.168.1.0/0`` is ``0.0.0.0/0``; https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html),
and so does ``parse_cidr``; ``has_host_bits`` tells, and ``exact=True`` refuses such a block (input to the constructs).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

BITS = {4: 32, 6: 128}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class Network(tuple["Any", ...]):
    """One CIDR block: ``version`` (4 or 6), the ``first`` and ``last`` address as integers, ``prefixlen``."""

    __slots__ = ()

    def __new__(cls, version: int, first: int, prefixlen: int) -> Network:
        return tuple.__new__(cls, (version, first, first + (1 << (BITS[version] - prefixlen)) - 1, prefixlen))

    version = property(lambda self: self[0])
    first = property(lambda self: self[1])
    last = property(lambda self: self[2])
    prefixlen = property(lambda self: self[3])

    @property
    def num_addresses(self) -> int:
        return self[2] - self[1] + 1

    def __contains__(self, address: object) -> bool:
        """Whether an address (``(version, integer)``) lies in the block."""
        return isinstance(address, tuple) and address[0] == self[0] and self[1] <= address[1] <= self[2]

    def overlaps(self, other: Network) -> bool:
        return self[0] == other[0] and self[1] <= other[2] and other[1] <= self[2]

    def __str__(self) -> str:
        return f"{format_address(self[0], self[1])}/{self[3]}"

    def __repr__(self) -> str:
        return f"Network({str(self)!r})"


# --- parsing -------------------------------------------------------------------------------------


def _ipv4(text: str) -> int | None:
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3 or (len(part) > 1 and part[0] == "0"):
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = value << 8 | octet
    return value


def _hex_groups(text: str) -> list[int] | None:
    if not text:
        return []
    groups = []
    for group in text.split(":"):
        if not 1 <= len(group) <= 4 or not _HEX_DIGITS.issuperset(group):
            return None
        groups.append(int(group, 16))
    return groups


def _ipv6(text: str) -> int | None:
    tail: list[int] = []
    if "." in text:  # an embedded IPv4 address in the last 32 bits: ::ffff:192.0.2.1
        head, _, last = text.rpartition(":")
        ipv4 = _ipv4(last)
        if ipv4 is None or not head:
            return None
        tail = [ipv4 >> 16, ipv4 & 0xFFFF]
        text = head + (":" if head.endswith(":") else "")
        if text.endswith(":") and not text.endswith("::"):
            text = text[:-1]
    if text.count("::") > 1:
        return None
    groups: list[int] | None
    if "::" in text:
        left_text, right_text = text.split("::")
        left, right = _hex_groups(left_text), _hex_groups(right_text)
        if left is None or right is None or len(left) + len(right) + len(tail) > 7:
            return None
        groups = left + [0] * (8 - len(left) - len(right) - len(tail)) + right + tail
    else:
        groups = _hex_groups(text)
        if groups is None or len(groups) + len(tail) != 8:
            return None
        groups += tail
    value = 0
    for group in groups:
        value = value << 16 | group
    return value


def parse_address(text: str) -> tuple[int, int] | None:
    """``(version, integer)`` of an IPv4 or IPv6 address in text, or ``None`` if it is not one."""
    if ":" in text:
        value = _ipv6(text)
        return None if value is None else (6, value)
    value = _ipv4(text)
    return None if value is None else (4, value)


def format_address(version: int, value: int) -> str:
    """An address as text: dotted quad, or RFC 5952 compressed IPv6 (``2001:db8::``)."""
    if version == 4:
        return ".".join(str(value >> shift & 0xFF) for shift in (24, 16, 8, 0))
    groups = [value >> shift & 0xFFFF for shift in range(112, -16, -16)]
    best_start, best_length, start = -1, 1, None  # the longest run of two or more zero groups
    for index, group in enumerate(groups + [1]):
        if group == 0 and start is None:
            start = index
        elif group != 0 and start is not None:
            if index - start > best_length:
                best_start, best_length = start, index - start
            start = None
    if best_start < 0:
        return ":".join(f"{group:x}" for group in groups)
    left = ":".join(f"{group:x}" for group in groups[:best_start])
    right = ":".join(f"{group:x}" for group in groups[best_start + best_length :])
    return f"{left}::{right}"


#: ``(text, family)`` -> the block (or why it is not one) and whether ``text`` has host bits set.
_parsed: dict[tuple[str, int | None], tuple[Network | str, bool]] = {}


def parse_cidr(text: object, *, family: int | None = None, exact: bool = False) -> Network:
    """Parse a CIDR as EC2 reads it: ``address/length``, no spaces; host bits are dropped, as EC2 drops them.

    ``family`` (4 or 6) restricts the address family, as ``CidrIp`` and ``CidrIpv6`` do; ``exact`` refuses a
    block with host bits set. Raises ``ValueError`` naming the value, what is wrong and, for host bits, the
    block EC2 would keep.
    """
    if not isinstance(text, str):
        raise ValueError(f"CIDR {text!r} is not a string")
    key = (text, family)
    cached = _parsed.get(key)
    if cached is None:
        cached = _parsed[key] = _parse(text, family)
    network, host_bits = cached
    if isinstance(network, str):
        raise ValueError(network)
    if exact and host_bits:
        raise ValueError(f"{text!r} has host bits set: EC2 keeps only its network part, {network}, every address of "
                         f"it; write {network} for the block, or the address with /{BITS[network.version]} for one host")
    return network


def has_host_bits(text: str, family: int | None = None) -> bool:
    """Whether the valid CIDR ``text`` has host bits set (EC2 reads it as its network part)."""
    parse_cidr(text, family=family)
    return _parsed[(text, family)][1]


def _parse(text: str, family: int | None) -> tuple[Network | str, bool]:
    address_text, slash, length_text = text.partition("/")
    valid_length = length_text.isascii() and length_text.isdigit() and (length_text == "0" or length_text[0] != "0")
    if not slash or not valid_length or len(length_text) > 3:
        return f"{text!r} is not a CIDR block of the form address/length (e.g. 203.0.113.10/32)", False
    address = parse_address(address_text)
    if address is None:
        return f"{text!r} is not a valid CIDR block: {address_text!r} is not an IPv4 or IPv6 address (write address/length, e.g. 203.0.113.10/32)", False
    version, value = address
    prefixlen = int(length_text)
    if prefixlen > BITS[version]:
        return f"{text!r} is not a valid CIDR block: /{prefixlen} is longer than an IPv{version} address", False
    if family is not None and version != family:
        return f"{text!r} is an IPv{version} block where an IPv{family} block is required", False
    host_mask = (1 << (BITS[version] - prefixlen)) - 1
    return Network(version, value & ~host_mask, prefixlen), bool(value & host_mask)


# --- the public internet -------------------------------------------------------------------------

#: Blocks that no host on the internet can send from (RFC 6890 special-purpose registry), per family.
NON_PUBLIC_BLOCKS = {
    4: (
        ("0.0.0.0/8", '"this network"'),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared address space (RFC 6598)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link local"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation (TEST-NET-1)"),
        ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation (TEST-NET-3)"),
        ("224.0.0.0/4", "multicast: never a source address"),
        ("240.0.0.0/4", "reserved, and the limited broadcast address"),
    ),
    6: (
        ("::/3", "outside global unicast"),
        ("4000::/2", "outside global unicast"),
        ("8000::/1", "outside global unicast"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
    ),
}


def _public_intervals(version: int) -> tuple[tuple[int, int], ...]:
    """The complement of the non-public blocks: the public address space as sorted, disjoint intervals."""
    holes = sorted((network.first, network.last) for network in (parse_cidr(b) for b, _ in NON_PUBLIC_BLOCKS[version]))
    intervals, start = [], 0
    for first, last in holes:
        if first > start:
            intervals.append((start, first - 1))
        start = max(start, last + 1)
    if start <= (1 << BITS[version]) - 1:
        intervals.append((start, (1 << BITS[version]) - 1))
    return tuple(intervals)


#: The public internet per family, as sorted disjoint ``(first, last)`` intervals, and its size.
PUBLIC_INTERVALS = {4: _public_intervals(4), 6: _public_intervals(6)}
PUBLIC_SIZE = {version: sum(last - first + 1 for first, last in PUBLIC_INTERVALS[version]) for version in (4, 6)}


def _blocks(version: int, first: int, last: int) -> list[Network]:
    """The fewest CIDR blocks covering exactly the addresses ``first``-``last``."""
    blocks = []
    while first <= last:
        host_bits = (first & -first).bit_length() - 1 if first else BITS[version]  # alignment of ``first``
        while 1 << host_bits > last - first + 1:
            host_bits -= 1
        blocks.append(Network(version, first, BITS[version] - host_bits))
        first += 1 << host_bits
    return blocks


_public_blocks: dict[int, tuple[Network, ...]] = {}


def public_blocks(version: int) -> tuple[Network, ...]:
    """The public internet of one family as the fewest CIDR blocks (for messages, docs and tests)."""
    if version not in _public_blocks:
        _public_blocks[version] = tuple(b for first, last in PUBLIC_INTERVALS[version] for b in _blocks(version, first, last))
    return _public_blocks[version]


def union(networks: list[Network]) -> list[tuple[int, int]]:
    """The union of blocks of one family as sorted, disjoint, non-adjacent ``(first, last)`` intervals."""
    merged: list[list[int]] = []
    for first, last in sorted((network[1], network[2]) for network in networks):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1][1] = last
        else:
            merged.append([first, last])
    return [(first, last) for first, last in merged]


def public_count(version: int, intervals: list[tuple[int, int]]) -> int:
    """How many public addresses the disjoint sorted ``intervals`` of one family hold."""
    public = PUBLIC_INTERVALS[version]
    count, index = 0, 0
    for first, last in intervals:
        while index < len(public) and public[index][1] < first:
            index += 1
        scan = index
        while scan < len(public) and public[scan][0] <= last:
            count += min(last, public[scan][1]) - max(first, public[scan][0]) + 1
            scan += 1
    return count


def public_addresses(networks: Sequence[Network]) -> tuple[int, int]:
    """Public IPv4 and IPv6 addresses in the union of ``networks``: ``(ipv4 count, ipv6 count)``."""
    by_family: tuple[list[Network], list[Network]] = ([], [])
    for network in networks:
        by_family[network[0] == 6].append(network)
    return (
        public_count(4, union(by_family[0])) if by_family[0] else 0,
        public_count(6, union(by_family[1])) if by_family[1] else 0,
    )


def is_public(network: Network) -> bool:
    """Whether ``network`` holds at least one public address."""
    return public_count(network[0], [(network[1], network[2])]) > 0


def world_families(networks: list[Network]) -> tuple[int, ...]:
    """The address families (4, 6) whose whole public internet lies inside the union of ``networks``."""
    ipv4, ipv6 = public_addresses(networks)
    return tuple(version for version, count in ((4, ipv4), (6, ipv6)) if count == PUBLIC_SIZE[version])
