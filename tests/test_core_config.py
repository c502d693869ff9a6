"""The policy declaration (RULES.md, *The policy*): admin ports, limits, trusted prefix lists.

GIVEN the ``admin-port-guard`` object as a user writes it in cdk.json (or a wrong one)
WHEN  the core reads it (``GuardPolicy.from_mapping``, ``load_policy_file``, ``parse_admin_ports``)
THEN  it holds exactly what was declared, or refuses it with a message naming the place and the fix.
"""

from __future__ import annotations

import json

import pytest

from constructs_lib.policy import (
    DEFAULT_ADMIN_PORTS,
    DEFAULT_THRESHOLDS,
    GuardPolicy,
    PolicyError,
    Thresholds,
    normalize_admin_ports,
    parse_admin_ports,
)
from constructs_lib.policy.config import load_policy_file
from spec import ADMIN_PORTS, BROAD_IPV4_ADDRESSES, BROAD_IPV6_PREFIX

PL_SHORT, PL_LONG = "pl-0123abcd", "pl-0123456789abcdef0"
REASON = "corporate VPN egress, managed by NetOps (NET-12)"


def test_the_defaults_are_the_documented_ones() -> None:
    policy = GuardPolicy()
    assert sorted(policy.admin_ports) == list(ADMIN_PORTS)
    assert policy.admin_ports[22] == "SSH" and policy.admin_ports[5986] == "WinRM over HTTPS"
    assert policy.thresholds == (BROAD_IPV4_ADDRESSES, BROAD_IPV6_PREFIX) == DEFAULT_THRESHOLDS
    assert (policy.trusted_prefix_lists, policy.origin) == ({}, "defaults")
    assert policy.to_mapping() == {"adminPorts": list(ADMIN_PORTS),
                                   "broadSources": {"maxPublicIpv4Addresses": 65536, "maxIpv6Prefix": 48}, "trustedPrefixLists": {}}


def test_a_full_declaration_is_read_as_written() -> None:
    declared = {"adminPorts": [22, 8443], "broadSources": {"maxPublicIpv4Addresses": 256, "maxIpv6Prefix": 56},
                "trustedPrefixLists": {PL_LONG: f"  {REASON}  ", PL_SHORT: "office egress, IT-7"}}
    policy = GuardPolicy.from_mapping(declared, "cdk.json")
    assert policy.admin_ports == {22: "SSH", 8443: "admin"}
    assert policy.thresholds == Thresholds(256, 56)
    assert policy.trusted_prefix_lists == {PL_LONG: REASON, PL_SHORT: "office egress, IT-7"}
    assert policy.origin == "cdk.json"
    assert policy.to_mapping() == {"adminPorts": [22, 8443], "broadSources": {"maxPublicIpv4Addresses": 256, "maxIpv6Prefix": 56},
                                   "trustedPrefixLists": {PL_LONG: REASON, PL_SHORT: "office egress, IT-7"}}


@pytest.mark.parametrize(("broad", "thresholds"), [
    (False, None), (True, DEFAULT_THRESHOLDS), ({}, DEFAULT_THRESHOLDS),
    ({"maxPublicIpv4Addresses": 1}, Thresholds(1, 48)), ({"maxIpv6Prefix": 128}, Thresholds(65536, 128)),
    ({"maxPublicIpv4Addresses": 1 << 32, "maxIpv6Prefix": 1}, Thresholds(1 << 32, 1)),
])
def test_broad_sources_may_be_off_default_or_partly_declared(broad, thresholds) -> None:
    policy = GuardPolicy.from_mapping({"broadSources": broad}, "cdk.json")
    assert policy.thresholds == thresholds
    assert policy.to_mapping()["broadSources"] == (False if thresholds is None else {
        "maxPublicIpv4Addresses": thresholds.max_public_ipv4, "maxIpv6Prefix": thresholds.max_ipv6_prefix})


@pytest.mark.parametrize(("declared", "says"), [
    ([22], "cdk.json: admin-port-guard must be an object with keys adminPorts, broadSources, trustedPrefixLists, not [22]"),
    ({"adminPort": [22], "zz": 1},
     "cdk.json: unknown admin-port-guard key(s) 'adminPort', 'zz'; known: adminPorts, broadSources, trustedPrefixLists"),
    ({"broadSources": "off"},
     "cdk.json: broadSources must be false or an object with maxPublicIpv4Addresses and/or maxIpv6Prefix, not 'off'"),
    ({"broadSources": {"maxIpv4": 1}}, "cdk.json: broadSources must be false or an object"),
    ({"broadSources": {"maxPublicIpv4Addresses": 0}},
     "cdk.json: maxPublicIpv4Addresses 0 must be a whole number from 1 to 4294967296"),
    ({"broadSources": {"maxPublicIpv4Addresses": (1 << 32) + 1}}, "maxPublicIpv4Addresses 4294967297 must be"),
    ({"broadSources": {"maxPublicIpv4Addresses": True}}, "maxPublicIpv4Addresses True must be"),
    ({"broadSources": {"maxPublicIpv4Addresses": 65536.0}}, "maxPublicIpv4Addresses 65536.0 must be"),
    ({"broadSources": {"maxIpv6Prefix": 0}}, "cdk.json: maxIpv6Prefix 0 must be a prefix length from 1 to 128"),
    ({"broadSources": {"maxIpv6Prefix": 129}}, "maxIpv6Prefix 129 must be"),
    ({"broadSources": {"maxIpv6Prefix": False}}, "maxIpv6Prefix False must be"),
    ({"broadSources": {"maxIpv6Prefix": "48"}}, "maxIpv6Prefix '48' must be"),
    ({"trustedPrefixLists": [PL_LONG]}, "cdk.json: trustedPrefixLists must be an object {\"pl-...\": \"reason\"}, not ['pl-0123456789abcdef0']"),
    ({"trustedPrefixLists": {"pl-0123ABCD": REASON}},
     "cdk.json: trusted prefix list 'pl-0123ABCD' is not a prefix-list id (pl- and 8 or 17 lowercase hex digits)"),
    ({"trustedPrefixLists": {"pl-0123abc": REASON}}, "'pl-0123abc' is not a prefix-list id"),
    ({"trustedPrefixLists": {"pl-0123456789abcdef": REASON}}, "'pl-0123456789abcdef' is not a prefix-list id"),
    ({"trustedPrefixLists": {"xx-0123abcd": REASON}}, "'xx-0123abcd' is not a prefix-list id"),
    ({"trustedPrefixLists": {"pl-z0123abc": REASON}}, "'pl-z0123abc' is not a prefix-list id"),
    ({"trustedPrefixLists": {PL_SHORT: "  too short  "}},
     f"cdk.json: trusting prefix list {PL_SHORT} needs a specific reason (at least 10 characters): who decided, and why"),
    ({"trustedPrefixLists": {PL_SHORT: 1234567890}}, "needs a specific reason"),
    ({"adminPorts": []}, "cdk.json: the set of admin ports is empty; the guard would check nothing"),
    ({"adminPorts": "22"}, "cdk.json: admin ports must be a list of port numbers, not '22'; for example [22, 3389]"),
    ({"adminPorts": 22}, "cdk.json: admin ports must be a list of port numbers, not 22; for example [22, 3389]"),
    ({"adminPorts": [0]}, "cdk.json: admin port 0 is not a TCP port number 1-65535"),
    ({"adminPorts": [65536]}, "admin port 65536 is not a TCP port number 1-65535"),
    ({"adminPorts": [True]}, "admin port True is not"),
    ({"adminPorts": ["22"]}, "admin port '22' is not"),
])
def test_a_declaration_of_the_wrong_shape_is_refused_with_its_place(declared, says: str) -> None:
    with pytest.raises(PolicyError) as refused:
        GuardPolicy.from_mapping(declared, "cdk.json")
    assert says in str(refused.value)


def test_a_ten_character_reason_is_enough() -> None:
    assert GuardPolicy(trusted_prefix_lists={PL_SHORT: " ten chars! "}).trusted_prefix_lists == {PL_SHORT: "ten chars!"}
    with pytest.raises(PolicyError):
        GuardPolicy(trusted_prefix_lists={PL_SHORT: "nine char"})


def test_nothing_declared_is_the_defaults() -> None:
    policy = GuardPolicy.from_mapping(None, "cdk.json")
    assert policy.origin == "defaults" and policy.to_mapping() == GuardPolicy().to_mapping()
    assert GuardPolicy.from_mapping({}, "cdk.json").to_mapping() == GuardPolicy().to_mapping()


def test_replace_changes_only_what_is_named() -> None:
    declared = GuardPolicy([22], Thresholds(256, 56), {PL_SHORT: REASON}, "cdk.json")
    changed = declared.replace(thresholds=None)
    assert (changed.admin_ports, changed.thresholds, changed.trusted_prefix_lists, changed.origin) == (
        {22: "SSH"}, None, {PL_SHORT: REASON}, "cdk.json")
    assert declared.thresholds == Thresholds(256, 56)
    with pytest.raises(PolicyError, match=r"broad-source thresholds \(1, 2\) must be a Thresholds or None"):
        declared.replace(thresholds=(1, 2))


def test_the_policy_is_read_from_cdk_json_context_or_a_file_of_its_own() -> None:
    cdk_json = {"app": "python3 app.py", "context": {"admin-port-guard": {"adminPorts": [3389]}}}
    from_cdk = load_policy_file("cdk.json", json.dumps(cdk_json))
    assert (from_cdk.admin_ports, from_cdk.origin) == ({3389: "RDP"}, "cdk.json (context admin-port-guard)")
    own = load_policy_file("guard.json", json.dumps({"adminPorts": [23]}))
    assert (own.admin_ports, own.origin) == ({23: "Telnet"}, "guard.json")
    for undeclared in ({"app": "python3 app.py"}, {"context": {"other": 1}}, {"context": None}, {"context": ["admin-port-guard"]}):
        assert load_policy_file("cdk.json", json.dumps(undeclared)).to_mapping() == GuardPolicy().to_mapping()
    with pytest.raises(PolicyError, match=r"^cdk.json \(context admin-port-guard\): unknown admin-port-guard key\(s\) 'ports'"):
        load_policy_file("cdk.json", json.dumps({"context": {"admin-port-guard": {"ports": [22]}}}))
    with pytest.raises(PolicyError, match=r"^cdk.json is not valid JSON: "):
        load_policy_file("cdk.json", "{")


def test_admin_ports_from_a_command_line_list() -> None:
    assert parse_admin_ports("22, 3389,8443 ,1,65535") == {22: "SSH", 3389: "RDP", 8443: "admin", 1: "admin", 65535: "admin"}
    for wrong in ("0", "65536", "ssh", "22,,23", "-1", "٢٢"):
        with pytest.raises(ValueError, match=r"admin port '.*' is not a TCP port number 1-65535"):
            parse_admin_ports(wrong)


def test_admin_ports_from_code_keep_given_names_and_name_the_rest() -> None:
    assert normalize_admin_ports(None) == DEFAULT_ADMIN_PORTS
    assert normalize_admin_ports({2222: "SSH on 2222", 5900: "", 8443: None}) == {2222: "SSH on 2222", 5900: "VNC", 8443: "admin"}
    assert normalize_admin_ports((port for port in (23, 5985))) == {23: "Telnet", 5985: "WinRM over HTTP"}
    assert normalize_admin_ports([1, 65535]) == {1: "admin", 65535: "admin"}
    with pytest.raises(ValueError, match="not b'22'"):
        normalize_admin_ports(b"22")
