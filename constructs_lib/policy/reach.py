"""The one reach decision: how much of the public internet a set of permissions admits to a port.

Everything that asks "is this port open to the internet?" asks here: the rules (per group, per
attachment and admin port), the exposure report (per protocol and port range) and the scan harness.
A set of CIDR sources is measured in public addresses per family (``cidr.public_addresses``):

* **world**: it holds every public address of the family;
* **broad**: it holds more than the limit (``Thresholds``), but not the whole internet.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence

from .cidr import PUBLIC_SIZE, Network, public_addresses
from .model import Permission

PORTED = ("tcp", "udp")


class Thresholds(namedtuple("Thresholds", "max_public_ipv4 max_ipv6_prefix")):
    """Limits above which an admin source is too broad: more than ``max_public_ipv4`` public IPv4
    addresses, or public IPv6 space larger than one ``/max_ipv6_prefix``, in total."""

    __slots__ = ()

    def limit(self, version: int) -> int:
        return self.max_public_ipv4 if version == 4 else 1 << (128 - self.max_ipv6_prefix)

    def describe(self, version: int) -> str:
        if version == 6:
            return f"a /{self.max_ipv6_prefix}"
        prefix = 32 - (self.max_public_ipv4.bit_length() - 1)
        exact = self.max_public_ipv4 == 1 << (32 - prefix)
        return f"{self.max_public_ipv4:,} addresses" + (f" (a /{prefix})" if exact else "")


#: A public /16 (65,536 IPv4 addresses) and a /48 IPv6 site pass; anything larger is too broad.
DEFAULT_THRESHOLDS = Thresholds(65536, 48)


class Verdict(namedtuple("Verdict", "public world broad")):
    """``public``: ``(IPv4, IPv6)`` public addresses admitted; ``world``/``broad``: the families that are so."""

    __slots__ = ()

    @property
    def families(self) -> tuple[int, ...]:
        return self.world or self.broad


def verdict(networks: Sequence[Network], thresholds: Thresholds | None) -> Verdict:
    """World-open and too-broad families of the union of ``networks``; ``thresholds`` ``None``: no broad check.

    ``public`` is ``None`` when the blocks are too small to matter (then nothing is open).
    """
    sizes = [0, 0]
    for network in networks:
        sizes[network[0] == 6] += network[2] - network[1] + 1
    # below both the broad limit and the whole public space of a family: neither (a limit past it must not hide the world)
    limits = [PUBLIC_SIZE[v] - 1 if thresholds is None else min(thresholds.limit(v), PUBLIC_SIZE[v] - 1) for v in (4, 6)]
    if sizes[0] <= limits[0] and sizes[1] <= limits[1]:
        return Verdict(None, (), ())  # too few addresses in total: neither world nor broad
    public = public_addresses(networks)
    world = tuple(version for version, count in ((4, public[0]), (6, public[1])) if count == PUBLIC_SIZE[version])
    broad: tuple[int, ...] = ()
    if thresholds is not None:
        broad = tuple(
            version
            for version, count in ((4, public[0]), (6, public[1]))
            if version not in world and count > thresholds.limit(version)
        )
    return Verdict(public, world, broad)


def segments(permissions: Sequence[Permission], protocol: str) -> list[tuple[int, int, list[Permission]]]:
    """Elementary port ranges of ``protocol`` (tcp/udp) with the permissions admitting each: within one
    range the same permissions apply. Permissions for all protocols count for every protocol."""
    relevant = [p for p in permissions if p.protocol in (protocol, "all")]
    bounds = sorted({p.ports[0] for p in relevant} | {p.ports[1] + 1 for p in relevant})
    result = []
    for low, next_low in zip(bounds, bounds[1:]):
        admitted = [p for p in relevant if p.ports[0] <= low and next_low - 1 <= p.ports[1]]
        if admitted:
            result.append((low, next_low - 1, admitted))
    return result


#: ``{protocol: merged port ranges}``; ranges are ``()`` for protocols without ports (icmp, all, 50...).
Reach = dict[str, tuple[tuple[int, int], ...]]


def open_reach(permissions: Sequence[Permission], thresholds: Thresholds | None, kind: str) -> dict[int, Reach]:
    """Per family, the protocols and ports whose CIDR sources are ``kind`` (``world`` or ``broad``)."""
    cidr_permissions = [p for p in permissions if p.certain and p.source.network is not None]
    result: dict[int, dict[str, list[tuple[int, int]]]] = {}

    def families(admitted: Sequence[Permission]) -> tuple[int, ...]:
        found = verdict([p.source.network for p in admitted], thresholds)
        return found.world if kind == "world" else found.broad

    everything = [p for p in cidr_permissions if p.protocol == "all"]
    for family in families(everything) if everything else ():
        result.setdefault(family, {})["all"] = []
    for protocol in sorted({p.protocol for p in cidr_permissions} - {"all"}):
        if protocol in PORTED:
            pieces: list[tuple[int | None, int | None, list[Permission]]] = [
                (low, high, admitted) for low, high, admitted in segments(cidr_permissions, protocol)
            ]
        else:
            pieces = [(None, None, [p for p in cidr_permissions if p.protocol in (protocol, "all")])]
        for low, high, admitted in pieces:
            for family in families(admitted):
                reach = result.setdefault(family, {})
                if "all" in reach:
                    continue
                ranges = reach.setdefault(protocol, [])
                if low is not None:
                    ranges.append((low, high))  # type: ignore[arg-type]  # low and high are None together
    return {
        family: {protocol: merge(ranges) for protocol, ranges in sorted(reach.items())}
        for family, reach in sorted(result.items())
    }


def merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, merged port ranges (adjacent ranges join)."""
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple((low, high) for low, high in merged)
