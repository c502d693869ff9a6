"""EC2 security groups: inline ``SecurityGroupIngress`` and standalone ``AWS::EC2::SecurityGroupIngress``.

Docs: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroupingress.html.
``read_rule`` is also the reader of any EC2-shaped rule (``IpProtocol``, ``FromPort``, ``ToPort``, one source).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..cidr import has_host_bits, parse_cidr
from ..intrinsics import MAX_CANDIDATES, NO_VALUE, Resolver, ResourceRef, Unknown, describe
from ..model import ALL_PORTS, Source
from . import Resource, reads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_NAMED_PROTOCOLS = frozenset({"tcp", "udp", "icmp", "icmpv6"})
_PROTOCOL_NAMES = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", **{name: name for name in _NAMED_PROTOCOLS}}
_CIDR_FIELDS = {"CidrIp": 4, "CidrIpv6": 6}
_SOURCE_FIELDS = ("CidrIp", "CidrIpv6", "SourcePrefixListId", "SourceSecurityGroupId", "SourceSecurityGroupName")
_RULE_FIELDS = frozenset(_SOURCE_FIELDS) | {"IpProtocol", "FromPort", "ToPort", "Description", "SourceSecurityGroupOwnerId"}
_STANDALONE_FIELDS = _RULE_FIELDS | {"GroupId", "GroupName"}
#: Fields whose value does not change what a rule admits (the group of a standalone rule is resolved apart).
_NOT_RULE_VALUES = frozenset({"Description", "SourceSecurityGroupOwnerId", "GroupId", "GroupName"})
_CONTAINERS = frozenset({dict, list})  # values an intrinsic may hide in (exact types: what JSON and YAML give)


class _Problem(str):
    """What is malformed about a rule (a message)."""


class _SeveralSources(_Problem):
    """A rule that names more than one source: EC2 refuses it, so it grants nothing."""

    def __new__(cls, fields: list[str]) -> _SeveralSources:
        return super().__new__(cls, f"it names more than one source ({', '.join(fields)}); EC2 takes exactly one")


_NO_SOURCE = "it names no source (CidrIp, CidrIpv6, SourcePrefixListId or SourceSecurityGroupId/Name)"


@reads("AWS::EC2::SecurityGroup")
def security_group(resource: Resource) -> None:
    node = resource.properties.get("SecurityGroupIngress")
    if node is None:
        return
    groups = [resource.key]
    for rules in (node,) if type(node) is list else resource.each(node, "SecurityGroupIngress", list):
        for index, entry in enumerate(rules):
            read_rule(resource, groups, entry, f"{resource.logical_id}.SecurityGroupIngress[{index}]", _RULE_FIELDS)


@reads("AWS::EC2::SecurityGroupIngress")
def security_group_ingress(resource: Resource) -> None:
    properties = resource.properties
    field = "GroupId" if "GroupId" in properties else "GroupName" if "GroupName" in properties else None
    if field is None:
        resource.malformed("the ingress resource names no GroupId or GroupName")
        return
    groups = []
    for value in resource.resolver.candidates(properties[field]):
        if isinstance(value, Unknown):  # whichever group it is, what this rule opens on it is known
            groups.append(resource.refer_group(f"unresolved:{field} of {resource.logical_id} ({value.reason})"))
        elif value is not NO_VALUE:
            groups.append(resource.refer_group(resource.group_key(value, field)))
    if groups:
        read_rule(resource, groups, properties, resource.logical_id, _STANDALONE_FIELDS)


def read_rule(resource: Resource, groups: list[str], node: Any, label: str, fields: frozenset[str] = _RULE_FIELDS) -> None:
    """Add the permissions an EC2-shaped rule grants to ``groups`` (every value it may deploy as)."""
    inventory = resource.context.inventory
    for entry in (node,) if type(node) is dict and len(node) > 1 else resource.each(node, label, dict):
        inventory.rules_read += 1
        plain = _plain_rule(resource.resolver, entry, fields)
        if plain is not None:  # what CDK writes: one value each
            problems: Iterable[str] = _add_literal_permissions(resource, groups, plain, label)
        else:
            problems = _add_permissions(resource, groups, entry, label, fields)
        for problem in problems:
            resource.malformed(problem if label == resource.logical_id else f"{label}: {problem}")


def _plain_rule(resolver: Resolver, entry: dict[str, Any], fields: frozenset[str]) -> dict[str, Any] | None:
    """``entry`` with the values it is judged by resolved, if each has exactly one value known at synth time and
    the rule names its protocol and no unknown field; ``None`` otherwise (``_add_permissions`` decides)."""
    if "IpProtocol" not in entry or not fields.issuperset(entry):
        return None
    plain = entry
    for key, value in entry.items():
        if type(value) in _CONTAINERS and key not in _NOT_RULE_VALUES:
            values = resolver.candidates(value)
            if len(values) != 1 or values[0] is NO_VALUE or isinstance(values[0], Unknown):
                return None
            if plain is entry:
                plain = dict(entry)
            plain[key] = values[0]
    return plain


def _add_permissions(resource: Resource, groups: list[str], entry: dict[str, Any], label: str, fields: frozenset[str]) -> Iterator[str]:
    """Add the permissions ``entry`` grants; yield what is malformed about it. Each candidate an intrinsic gives is a
    deployment of its own: a malformed one is reported, and the others still count (a world-open branch beside a
    malformed one stays world-open)."""
    if not fields.issuperset(entry):
        unknown_fields = sorted(str(key) for key in entry if key not in fields)
        yield f"{', '.join(unknown_fields)} {'is not a property' if len(unknown_fields) == 1 else 'are not properties'} of an ingress rule"
        return
    if "IpProtocol" not in entry:
        yield "IpProtocol is missing"
        return
    resolver = resource.resolver
    protocols = [protocol_name(value) for value in resolver.candidates(entry["IpProtocol"])]
    port_pairs = [
        (from_port, to_port)
        for from_port in resolver.candidates(entry.get("FromPort"))
        for to_port in resolver.candidates(entry.get("ToPort"))
    ]
    sources = list(_sources(resource, entry))
    problems = [item for item in protocols + sources if isinstance(item, _Problem)]
    yield from problems
    protocols = [item for item in protocols if not isinstance(item, _Problem)]
    sources = [item for item in sources if not isinstance(item, _Problem)]
    if not sources and not problems:
        yield _NO_SOURCE
    if not sources or not protocols or any(isinstance(problem, _SeveralSources) for problem in problems):
        return
    if len(protocols) * len(port_pairs) * len(sources) > MAX_CANDIDATES:
        resource.unverifiable(f"{label} has more than {MAX_CANDIDATES} combinations of conditional values")
        return
    for protocol in protocols:
        for from_port, to_port in port_pairs:
            ports = port_range(protocol, from_port, to_port)
            if isinstance(ports, _Problem):
                yield ports
                continue
            certain = not isinstance(protocol, Unknown) and not isinstance(ports, Unknown)
            name = "unknown" if isinstance(protocol, Unknown) else protocol
            port_range_ = ALL_PORTS if isinstance(ports, Unknown) else ports
            for source in sources:
                for group in groups:
                    resource.permit(group, name, port_range_, source, label, certain)  # type: ignore[arg-type]  # _Problem sources left out above


def _add_literal_permissions(resource: Resource, groups: list[str], entry: dict[str, Any], label: str) -> list[str]:
    """``_add_permissions`` for a rule with one known value each (what CDK writes), without the machinery for
    every value an intrinsic may deploy as: the same checks, in the same order."""
    protocol = protocol_name(entry["IpProtocol"])
    problems: list[str] = [protocol] if isinstance(protocol, _Problem) else []
    sources: list[Source] = []
    present = [field for field in _SOURCE_FIELDS if field in entry]
    for field in present:
        for source in _source(resource, field, entry[field]):
            (problems if isinstance(source, _Problem) else sources).append(source)  # type: ignore[arg-type]  # a _Problem to problems, a Source to sources
    if len(present) > 1:
        problems.append(_SeveralSources(present))
    if problems:
        return problems
    if not sources:
        return [_NO_SOURCE]
    ports = port_range(protocol, entry.get("FromPort"), entry.get("ToPort"))
    if isinstance(ports, _Problem):
        return [ports]
    certain = not isinstance(ports, Unknown)  # a port of a resource (Fn::GetAtt Db.Endpoint.Port): any port
    for source in sources:
        for group in groups:
            resource.permit(group, protocol, ports if certain else ALL_PORTS, source, label, certain)  # type: ignore[arg-type]  # a plain rule's protocol is known; Unknown ports are not certain
    return []


def _sources(resource: Resource, entry: dict[str, Any]) -> Iterator[Source | _Problem]:
    """Every source ``entry`` may deploy with, or messages saying what is malformed."""
    present = []
    for field in _SOURCE_FIELDS:
        if field not in entry:
            continue
        values = resource.resolver.candidates(entry[field])
        if any(value is NO_VALUE for value in values):
            values = [value for value in values if value is not NO_VALUE]
        else:
            present.append(field)
        for value in values:
            yield from _source(resource, field, value)
    if len(present) > 1:
        yield _SeveralSources(present)


def _source(resource: Resource, field: str, value: Any) -> list[Source | _Problem]:
    """The sources one value of one source field gives (a prefix list defined in the templates gives several)."""
    if field in _CIDR_FIELDS:
        return [cidr_source(field, value, _CIDR_FIELDS[field])]
    if isinstance(value, Unknown):
        if field == "SourcePrefixListId":
            return [Source("unknown", f"{field} unknown at synth time: {value.reason}")]
        # Whichever group it is, a group admits its members, never internet addresses.
        return [Source("security-group", f"unresolved:{field} ({value.reason})")]
    if field == "SourcePrefixListId":
        return list(prefix_list_sources(resource, value))
    if isinstance(value, (ResourceRef, str)):
        return [Source("security-group", resource.group_key(value, "GroupName" if field == "SourceSecurityGroupName" else "GroupId"))]
    return [_Problem(f"{field} {describe(value)} is not a security group")]


def prefix_list_sources(resource: Resource, value: Any) -> Iterator[Source | _Problem]:
    """The CIDRs of a prefix list defined in the analysed templates; a prefix-list source otherwise."""
    if isinstance(value, ResourceRef) and value.template in resource.context.templates:
        template, resolver = resource.context.templates[value.template]
        prefix_list = template.body["Resources"].get(value.logical_id)
        if isinstance(prefix_list, dict) and prefix_list.get("Type") == "AWS::EC2::PrefixList":
            properties: Any = prefix_list.get("Properties") if isinstance(prefix_list.get("Properties"), dict) else {}
            for entries in resolver.lists(properties.get("Entries", [])):
                if isinstance(entries, Unknown):
                    yield Source("unknown", f"entries of prefix list {value.logical_id}: {entries.reason}")
                    continue
                for entry in entries:
                    node = entry.get("Cidr") if isinstance(entry, dict) else entry
                    for cidr in resolver.candidates(node):
                        yield cidr_source(f"prefix list {value.logical_id} Cidr", cidr, None)
            return
        yield Source("unknown", f"SourcePrefixListId is the deploy-time value of resource {value.logical_id}")
        return
    if isinstance(value, str):
        yield Source("prefix-list", value)
    else:
        yield _Problem(f"SourcePrefixListId {describe(value)} is not a prefix-list id")


def cidr_source(field: str, value: Any, family: int | None, *, exact: bool = False) -> Source | _Problem:
    """A CIDR source, or a message saying why ``value`` is not a valid CIDR for ``field``. EC2 keeps the network
    part of a block with host bits (the label says so); ``exact`` refuses it, for services that do not document that."""
    if type(value) is str:
        key = (field, value, family, exact)
        source = _cidr_sources.get(key)
        if source is None:
            try:
                network = parse_cidr(value, family=family, exact=exact)
                label = f"{value} (EC2 keeps its network part, {network})" if has_host_bits(value, family) else str(network)
                source = _cidr_sources[key] = Source("cidr", label, network)
            except ValueError as error:
                reference = _DYNAMIC_REFERENCE.search(value)
                source = _cidr_sources[key] = Source("unknown", f"{field} is the dynamic reference {reference.group()}, resolved "
                                                     "only at deploy time") if reference else _Problem(f"{field} {error}")
        return source
    if isinstance(value, Unknown):
        return Source("unknown", f"{field} unknown at synth time: {value.reason}")
    if isinstance(value, ResourceRef):
        return Source("unknown", f"{field} is the deploy-time value of resource {value.logical_id}")
    return _Problem(f"{field} {describe(value)} is not a CIDR string")


#: A dynamic reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html):
#: CloudFormation puts the parameter's or secret's value in its place when it deploys.
_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(?:ssm|ssm-secure|secretsmanager):[^}]*\}\}")

#: Sources of literal CIDRs, by (field, text, family, exact): both results are immutable, and formatting a network
#: back to text dominated the cost of a CIDR rule.
_cidr_sources: dict[tuple[str, str, int | None, bool], Source | _Problem] = {}


def protocol_name(value: Any) -> str | Unknown | _Problem:
    """Normalize an ``IpProtocol`` value to tcp/udp/icmp/icmpv6/all or a protocol number."""
    if type(value) is str and value in _PROTOCOL_NAMES:  # the common spellings, as CDK writes them
        return _PROTOCOL_NAMES[value]
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return _Problem(f"IpProtocol {describe(value)} is not a protocol")
    text = str(value)
    if text.lower() in _NAMED_PROTOCOLS:
        return text.lower()
    if _is_integer(text) and -1 <= int(text) <= 255:
        number = str(int(text))
        return _PROTOCOL_NAMES.get(number, number)
    return _Problem(f"IpProtocol {text!r} is not tcp, udp, icmp, icmpv6, -1 or a protocol number 0-255")


def _is_integer(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    return digits.isascii() and digits.isdigit()


def port_range(protocol: str | Unknown, from_value: Any, to_value: Any) -> tuple[int, int] | None | Unknown | _Problem:
    """The TCP/UDP port range a rule opens, ``None`` where ports do not apply, or a malformed message. A protocol
    unknown at synth time may be ``-1``, for which EC2 ignores the ports: every port."""
    if protocol == "all" or isinstance(protocol, Unknown):
        return ALL_PORTS
    if protocol not in ("tcp", "udp"):
        return None
    if type(from_value) is int and type(to_value) is int:  # as CDK writes them; bool is not exactly int
        low, high = from_value, to_value
    else:
        ports = []
        for name, value in (("FromPort", from_value), ("ToPort", to_value)):
            if isinstance(value, Unknown):
                return value
            if isinstance(value, ResourceRef):  # Fn::GetAtt Db.Endpoint.Port: a port, known at deploy time
                return Unknown(f"{name} is {describe(value)}, known only at deploy time")
            if type(value) is int:
                ports.append(value)
            elif value is None or value is NO_VALUE:
                ports.append(-1)  # EC2 rejects this; count it as every port rather than none
            elif not _is_integer(str(value)) or isinstance(value, bool):  # also refuses 22.0
                return _Problem(f"{name} {describe(value)} is not a whole number")
            else:
                ports.append(int(value))
        low, high = ports
    if -1 in (low, high):
        return ALL_PORTS
    if not (0 <= low <= 65535 and 0 <= high <= 65535):
        return _Problem(f"port range {low}-{high} is outside 0-65535")
    if low > high:
        return _Problem(f"FromPort {low} is greater than ToPort {high}")
    return (low, high)
