"""CIDR parsing and public-address arithmetic, judged against the standard library and ``tests/spec.py``.

GIVEN CIDR text as EC2 accepts or refuses it, and unions of blocks
WHEN  the core parses and measures them (``parse_cidr``, ``public_addresses``, ``verdict``, ...)
THEN  the result is what ``ipaddress`` and the specification's non-public blocks say.
"""

from __future__ import annotations

import ipaddress
import runpy

import pytest

from constructs_lib.policy.cidr import (
    PUBLIC_SIZE,
    has_host_bits,
    is_public,
    parse_address,
    parse_cidr,
    public_addresses,
    public_blocks,
    world_families,
)
from constructs_lib.policy.reach import DEFAULT_THRESHOLDS, Thresholds, verdict
from spec import public_blocks as spec_public_blocks

VALID = [
    "0.0.0.0/0", "10.0.0.0/8", "203.0.113.10/32", "255.255.255.255/32", "1.2.3.0/24", "100.64.0.0/10", "128.0.0.0/1",
    "::/0", "2000::/3", "2001:db8::/32", "2001:DB8::/32", "2001:0db8:0000:0000:0000:0000:0000:0000/32",
    "1:2:3:4:5:6:7:8/128", "1::8/128", "1:2:3:4:5:6:7::/112", "::2:3:4:5:6:7:8/128", "fe80::/10", "ffff::/16",
    "1:0:0:2::/64", "1:0:0:2:0:0:0:0/64", "0:0:1:0:0:1::/96", "::ffff:192.0.2.0/120", "::192.0.2.1/128",
    "64:ff9b::198.51.100.0/120", "1:2:3:4:5:6:1.2.3.4/128",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_blocks_parse_to_the_addresses_the_standard_library_gives(text: str) -> None:
    expected = ipaddress.ip_network(text)
    network = parse_cidr(text)
    assert (network.version, network.first, network.last, network.prefixlen) == (
        expected.version, int(expected.network_address), int(expected.broadcast_address), expected.prefixlen)
    assert network.num_addresses == expected.num_addresses
    assert repr(network) == f"Network({str(network)!r})"


@pytest.mark.parametrize(("text", "written"), [
    ("2001:0DB8:0:0:0:0:0:0/32", "2001:db8::/32"), ("0:0:0:0:0:0:0:0/0", "::/0"), ("1:0:0:2:0:0:0:0/64", "1:0:0:2::/64"),
    ("1:0:0:0:2:0:0:0/125", "1::2:0:0:0/125"), ("1:2:3:4:5:6:7:8/128", "1:2:3:4:5:6:7:8/128"),
    ("0:1:0:1:0:1:0:1/128", "0:1:0:1:0:1:0:1/128"), ("0:0:1:0:0:0:1:0/127", "0:0:1::1:0/127"), ("1:0:0:2:0:0:3:0/127", "1::2:0:0:3:0/127"),
    ("::ffff:192.0.2.0/120", "::ffff:c000:200/120"), ("8.8.4.0/22", "8.8.4.0/22"),
])
def test_blocks_are_written_back_in_rfc_5952_form(text: str, written: str) -> None:
    assert str(parse_cidr(text)) == written == str(ipaddress.ip_network(text))


@pytest.mark.parametrize(("text", "family", "says"), [
    ("0.0.0.0", None, "'0.0.0.0' is not a CIDR block of the form address/length (e.g. 203.0.113.10/32)"),
    ("0.0.0.0/", None, "is not a CIDR block of the form address/length"),
    ("0.0.0.0/00", None, "is not a CIDR block of the form address/length"),
    ("0.0.0.0/08", None, "is not a CIDR block of the form address/length"),
    ("::/0128", None, "is not a CIDR block of the form address/length"),
    ("0.0.0.0/+8", None, "is not a CIDR block of the form address/length"),
    ("0.0.0.0/٣", None, "is not a CIDR block of the form address/length"),
    (" 0.0.0.0/0", None, "' 0.0.0.0/0' is not a valid CIDR block: ' 0.0.0.0' is not an IPv4 or IPv6 address (write address/length, e.g. 203.0.113.10/32)"),
    ("1.2.3/24", None, "'1.2.3' is not an IPv4 or IPv6 address"),
    ("1.2.3.4.5/32", None, "is not an IPv4 or IPv6 address"),
    ("1.2.3.256/32", None, "is not an IPv4 or IPv6 address"),
    ("1.2.3.1000/32", None, "is not an IPv4 or IPv6 address"),
    ("01.2.3.4/32", None, "is not an IPv4 or IPv6 address"),
    ("1.2.3.٤/32", None, "is not an IPv4 or IPv6 address"),
    (f"1.2.3.{'9' * 5000}/32", None, "is not an IPv4 or IPv6 address"),
    ("1.2.3.-4/32", None, "is not an IPv4 or IPv6 address"),
    ("1:2:3:4:5:6:7/112", None, "is not an IPv4 or IPv6 address"),
    ("1:2:3:4:5:6:7:8:9/128", None, "is not an IPv4 or IPv6 address"),
    ("1::2::3/128", None, "is not an IPv4 or IPv6 address"),
    ("1:2:3:4::5:6:7:8/128", None, "is not an IPv4 or IPv6 address"),
    ("12345::/16", None, "is not an IPv4 or IPv6 address"),
    ("1:g::/32", None, "is not an IPv4 or IPv6 address"),
    ("1:::/32", None, "is not an IPv4 or IPv6 address"),
    (":1::/32", None, "is not an IPv4 or IPv6 address"),
    ("::1.2.3/128", None, "is not an IPv4 or IPv6 address"),
    ("1.2.3.4::/128", None, "is not an IPv4 or IPv6 address"),
    ("1:2:3:4:5:6:7:1.2.3.4/128", None, "is not an IPv4 or IPv6 address"),
    ("1:2:3:4:5:1.2.3.4/128", None, "is not an IPv4 or IPv6 address"),
    ("1:2:3:4:5:6:7:1.2.3.4/128", None, "is not an IPv4 or IPv6 address"),
    ("1::2:3:4:5:6:7:1.2.3.4/128", None, "is not an IPv4 or IPv6 address"),
    ("1.2.3.0/24/8", None, "'1.2.3.0/24/8' is not a CIDR block of the form address/length"),
    ("10.0.0.0/1000", None, "'10.0.0.0/1000' is not a CIDR block of the form address/length"),
    ("10.0.0.0/33", None, "'10.0.0.0/33' is not a valid CIDR block: /33 is longer than an IPv4 address"),
    ("::/129", None, "'::/129' is not a valid CIDR block: /129 is longer than an IPv6 address"),
    ("::/0", 4, "'::/0' is an IPv6 block where an IPv4 block is required"),
    ("0.0.0.0/0", 6, "'0.0.0.0/0' is an IPv4 block where an IPv6 block is required"),
])
def test_invalid_blocks_are_refused_saying_what_is_wrong(text: str, family: int | None, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_cidr(text, family=family)
    assert says in str(refused.value)
    with pytest.raises(ValueError, match="is not a string"):
        parse_cidr(None)


def test_a_refusal_is_the_same_on_the_second_call() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="host bits"):
            parse_cidr("192.0.2.1/24", exact=True)
        with pytest.raises(ValueError, match="longer than"):
            parse_cidr("192.0.2.1/33")


@pytest.mark.parametrize(("text", "network", "exactly"), [
    ("192.168.1.0/0", "0.0.0.0/0", "write 0.0.0.0/0 for the block, or the address with /32 for one host"),
    ("10.0.0.1/8", "10.0.0.0/8", "write 10.0.0.0/8 for the block"),
    ("1.2.3.5/16", "1.2.0.0/16", "EC2 keeps only its network part, 1.2.0.0/16, every address of it"),
    ("fd00::/0", "::/0", "write ::/0 for the block, or the address with /128 for one host"),
    ("2001:db8::1/32", "2001:db8::/32", "'2001:db8::1/32' has host bits set"),
])
def test_ec2_keeps_the_network_part_of_a_block_with_host_bits(text: str, network: str, exactly: str) -> None:
    """https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html: EC2 canonicalizes the block."""
    assert (str(parse_cidr(text)), has_host_bits(text)) == (network, True)
    assert not has_host_bits(network)
    with pytest.raises(ValueError) as refused:  # the constructs' input: refused, naming the block EC2 would keep
        parse_cidr(text, exact=True)
    assert exactly in str(refused.value)
    assert str(parse_cidr(network, exact=True)) == network


def test_addresses_outside_cidrs_parse_to_their_family_and_value() -> None:
    assert parse_address("192.0.2.1") == (4, 0xC0000201)
    assert parse_address("2001:db8::1") == (6, 0x20010DB8 << 96 | 1)
    assert parse_address("::ffff:192.0.2.1") == (6, 0xFFFF << 32 | 0xC0000201)
    assert parse_address("no address") is None and parse_address("1::x") is None
    network = parse_cidr("10.0.0.0/8")
    assert (4, 10 << 24) in network and (4, (11 << 24) - 1) in network
    assert (4, (10 << 24) - 1) not in network and (4, 11 << 24) not in network
    assert (6, 10 << 24) not in network and "10.0.0.1" not in network


def test_overlaps_needs_a_shared_address_of_the_same_family() -> None:
    ten = parse_cidr("10.0.0.0/8")
    assert ten.overlaps(parse_cidr("10.255.0.0/16")) and ten.overlaps(parse_cidr("0.0.0.0/0"))
    assert parse_cidr("10.0.0.0/16").overlaps(ten)
    assert not ten.overlaps(parse_cidr("11.0.0.0/8")) and not ten.overlaps(parse_cidr("9.0.0.0/8"))
    assert not ten.overlaps(parse_cidr("::a00:0/104"))
    for edge in ("10.0.0.0/32", "10.255.255.255/32"):  # sharing only the first or the last address
        assert ten.overlaps(parse_cidr(edge)) and parse_cidr(edge).overlaps(ten)


@pytest.mark.filterwarnings("ignore:'constructs_lib.policy.cidr' found in sys.modules:RuntimeWarning")
@pytest.mark.parametrize("family", [4, 6])
def test_the_public_internet_is_the_specification_s(family: int) -> None:
    # computed when the module is imported (and cached): a fresh run of the module computes it again
    fresh = runpy.run_module("constructs_lib.policy.cidr")
    for blocks, size in ((public_blocks(family), PUBLIC_SIZE[family]), (fresh["public_blocks"](family), fresh["PUBLIC_SIZE"][family])):
        assert [str(block) for block in blocks] == [str(block) for block in spec_public_blocks(family)]
        assert size == sum(block.num_addresses for block in spec_public_blocks(family))


def _public_in(cidrs: list[str], family: int) -> int:
    """Public addresses inside the union of ``cidrs`` of one family, by the standard library."""
    covered = ipaddress.collapse_addresses(ipaddress.ip_network(c) for c in cidrs if ipaddress.ip_network(c).version == family)
    covered = list(covered)
    return sum(
        (block.num_addresses if block.subnet_of(part) else part.num_addresses if part.subnet_of(block) else 0)
        for part in covered for block in spec_public_blocks(family)
    )


@pytest.mark.parametrize("cidrs", [
    ["0.0.0.0/1"], ["100.0.0.0/8"], ["192.168.0.0/15"], ["8.8.0.0/16", "8.8.0.0/17", "8.9.0.0/16"],
    ["9.255.255.0/24", "10.0.0.0/7"], ["223.255.255.0/24", "224.0.0.0/3"], ["0.0.0.0/0"],
    ["2000::/4", "2001:db8::/32", "3fff::/16"], ["::/0", "10.0.0.0/8"], ["1.0.0.0/8", "1.0.0.0/8", "3.0.0.0/8", "2.0.0.0/8"],
    ["3ffe::/16", "3fff:1000::/20", "2600::/12"], ["4.0.0.0/8", "5.0.0.0/8", "6.0.0.0/8"],
    ["8.0.0.0/8", "8.255.255.255/32"], ["8.0.0.0/31", "8.0.0.3/32"], ["9.255.255.255/32"], ["10.0.0.0/8", "11.0.0.0/32"],
])
def test_public_addresses_count_the_union_less_what_is_not_public(cidrs: list[str]) -> None:
    networks = [parse_cidr(cidr) for cidr in cidrs]
    assert public_addresses(networks) == (_public_in(cidrs, 4), _public_in(cidrs, 6))


def test_whole_families_and_public_blocks() -> None:
    assert world_families([parse_cidr("0.0.0.0/1"), parse_cidr("128.0.0.0/1")]) == (4,)
    assert world_families([parse_cidr("2000::/3"), parse_cidr("0.0.0.0/0")]) == (4, 6)
    assert world_families([parse_cidr("8.0.0.0/7")]) == ()
    assert is_public(parse_cidr("8.8.8.8/32")) and is_public(parse_cidr("2600::/12"))
    assert not is_public(parse_cidr("10.0.0.0/8")) and not is_public(parse_cidr("2001:db8::/32"))
    assert not is_public(parse_cidr("224.0.0.0/3"))


# --- verdict: world and broad per family ------------------------------------------------------------


def _verdict(*cidrs: str, thresholds: Thresholds | None = DEFAULT_THRESHOLDS):
    return verdict([parse_cidr(cidr) for cidr in cidrs], thresholds)


def test_a_public_slash_16_is_at_the_default_limit_and_a_slash_15_beyond_it() -> None:
    assert _verdict("8.8.0.0/16") == (None, (), ())
    assert _verdict("8.8.0.0/15") == ((131072, 0), (), (4,))
    assert _verdict("8.8.0.0/15").families == (4,)
    assert _verdict("2600:1f18:abcd::/48") == (None, (), ())
    assert _verdict("2600:1f18:abcc::/47") == ((0, 2 ** 81), (), (6,))


def test_the_limits_count_public_addresses_not_block_sizes() -> None:
    # 192.168.0.0/15 is 131,072 addresses, of which 65,536 are public: at the limit, not beyond it
    assert _verdict("192.168.0.0/15") == ((65536, 0), (), ())
    assert _verdict("2001:db8::/31") == ((0, 2 ** 96), (), (6,))


def test_the_whole_internet_is_world_and_not_broad() -> None:
    everything = _verdict("0.0.0.0/0", "2000::/3")
    assert everything.world == (4, 6) and everything.broad == () and everything.families == (4, 6)
    assert everything.public == (PUBLIC_SIZE[4], PUBLIC_SIZE[6])
    mixed = _verdict("0.0.0.0/0", "2000::/4")
    assert (mixed.world, mixed.broad, mixed.families) == ((4,), (6,), (4,))


def test_without_thresholds_only_the_whole_internet_counts() -> None:
    assert _verdict("0.0.0.0/1", thresholds=None) == (None, (), ())
    assert _verdict("0.0.0.0/1", "128.0.0.0/1", thresholds=None).world == (4,)
    assert _verdict("::/0", thresholds=None) == ((0, PUBLIC_SIZE[6]), (6,), ())


def test_without_thresholds_every_public_block_together_is_the_world() -> None:
    for family in (4, 6):
        assert _verdict(*(str(block) for block in spec_public_blocks(family)), thresholds=None).world == (family,)


def test_custom_limits_apply_per_family() -> None:
    assert _verdict("8.8.8.0/31", "8.8.8.2/32", thresholds=Thresholds(2, 48)).broad == (4,)
    narrow = Thresholds(256, 64)
    assert _verdict("8.8.8.0/24", thresholds=narrow) == (None, (), ())
    assert _verdict("8.8.8.0/23", thresholds=narrow).broad == (4,)
    assert _verdict("2600::/64", thresholds=narrow) == (None, (), ())
    assert _verdict("2600::/63", thresholds=narrow).broad == (6,)
    assert narrow.limit(4) == 256 and narrow.limit(6) == 2 ** 64


@pytest.mark.parametrize(("thresholds", "ipv4", "ipv6"), [
    (DEFAULT_THRESHOLDS, "65,536 addresses (a /16)", "a /48"),
    (Thresholds(1, 128), "1 addresses (a /32)", "a /128"),
    (Thresholds(1000, 56), "1,000 addresses", "a /56"),
    (Thresholds(1 << 32, 1), "4,294,967,296 addresses (a /0)", "a /1"),
])
def test_limits_describe_themselves(thresholds: Thresholds, ipv4: str, ipv6: str) -> None:
    assert (thresholds.describe(4), thresholds.describe(6)) == (ipv4, ipv6)
