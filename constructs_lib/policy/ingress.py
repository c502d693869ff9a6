"""Read security groups and their ingress rules out of templates, as normalized permissions.

Inline ``SecurityGroupIngress`` entries and standalone ``AWS::EC2::SecurityGroupIngress`` resources
(``GroupId`` by ``Ref``, ``Fn::GetAtt``, literal id, cross-stack import, or ``GroupName``) become
``Permission`` values: one protocol, one port range, one source. Intrinsics are expanded to every
value they may deploy as. Rules that cannot be trusted become findings right here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from .cidr import IPNetwork, parse_cidr
from .findings import Finding, Location, Rule
from .intrinsics import MAX_CANDIDATES, NO_VALUE, ResourceRef, Resolver, Unknown, resolvers_for
from .templates import Template

ALL_PORTS = (0, 65535)
_TCP_CAPABLE = frozenset({"tcp", "all", "unknown"})

_PROTOCOL_NAMES = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_NAMED_PROTOCOLS = {"tcp", "udp", "icmp", "icmpv6"}
_INTEGER = re.compile(r"^-?[0-9]+$")
_CIDR_FIELDS = {"CidrIp": 4, "CidrIpv6": 6}
#: Transforms that do not add or change security groups or their rules.
_KNOWN_TRANSFORMS = frozenset({"AWS::Serverless-2016-10-31", "AWS::LanguageExtensions", "AWS::SecretsManager-2020-07-23"})
_READ_TYPES = frozenset({"AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::CloudFormation::Stack"})
_SOURCE_FIELDS = ("CidrIp", "CidrIpv6", "SourcePrefixListId", "SourceSecurityGroupId", "SourceSecurityGroupName")


@dataclass(frozen=True)
class _Problem:
    """What is malformed about a rule."""

    message: str


@dataclass(frozen=True)
class Source:
    """Where traffic may come from. ``kind`` is ``cidr``, ``security-group``, ``prefix-list`` or ``unknown``."""

    kind: str
    label: str
    network: IPNetwork | None = None


class Permission(NamedTuple):
    """One normalized ingress permission of one security group.

    ``ports`` is the inclusive TCP/UDP port range (all ports for protocol ``all``), or ``None`` where
    ports do not apply (ICMP, other protocols). ``certain`` is False when the protocol or ports were
    unknown at synth time and were widened to "anything". (A named tuple: there is one per rule and
    source, and it is cheap to build.)
    """

    group: str
    protocol: str
    ports: tuple[int, int] | None
    source: Source
    origin: Location
    rule_label: str
    certain: bool = True

    def reaches_tcp_port(self, port: int) -> bool:
        return self.reaches_tcp_port_range(port, port)

    def reaches_tcp_port_range(self, low: int, high: int) -> bool:
        """Whether TCP traffic to some port in ``low``-``high`` is allowed."""
        if self.protocol not in _TCP_CAPABLE or self.ports is None:
            return False
        return self.ports[0] <= high and low <= self.ports[1]


@dataclass(frozen=True)
class SecurityGroup:
    """A security group: defined in a template, or only referenced (imported, literal id)."""

    key: str
    location: Location
    defined: bool


@dataclass
class Inventory:
    """Everything the templates say about security-group ingress."""

    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    permissions: list[Permission] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def read_inventory(templates: Sequence[Template]) -> Inventory:
    """Normalize every security group and ingress rule of ``templates`` (analysed together)."""
    inventory = Inventory()
    contexts = {template.name: (template, resolver) for template, resolver in zip(templates, resolvers_for(templates))}
    for template in templates:
        _TemplateReader(template, contexts, inventory).read()
    return inventory


def _location(template: Template, logical_id: str, resource: Any) -> Location:
    metadata = resource.get("Metadata") if isinstance(resource, dict) else None
    path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
    if not isinstance(path, str):
        path = template.construct_paths.get(logical_id)
    return Location(template.name, logical_id, path, str(template.path))


class _TemplateReader:
    def __init__(self, template: Template, contexts: dict[str, tuple[Template, Resolver]], inventory: Inventory):
        self.template = template
        self.resolver = contexts[template.name][1]
        self.contexts = contexts
        self.inventory = inventory
        self.group_names: dict[str, str] = {}
        self.group_locations: dict[str, Location] = {}

    def read(self) -> None:
        resources = self.template.body["Resources"]
        self._check_transforms()
        for logical_id, resource in resources.items():
            if isinstance(resource, dict) and resource.get("Type") == "AWS::EC2::SecurityGroup":
                self._define_group(logical_id, resource)
        for logical_id, resource in resources.items():
            kind = resource.get("Type") if isinstance(resource, dict) else None
            if kind not in _READ_TYPES and not logical_id.startswith("Fn::ForEach::"):
                continue
            location = self.group_locations.get(logical_id) or _location(self.template, logical_id, resource)
            if kind is None:
                self._unverifiable(location, "Fn::ForEach resources are expanded only at deploy time")
                continue
            properties = resource.get("Properties", {})
            if not isinstance(properties, dict) or any(str(key).startswith("Fn::") for key in properties):
                self._unverifiable(location, "its Properties are produced at deploy time (an intrinsic or a transform)")
                continue
            if kind == "AWS::EC2::SecurityGroup":
                group = f"{self.template.name}:{logical_id}"
                for label, entry in self._entries(logical_id, properties.get("SecurityGroupIngress"), location):
                    self._read_entry([group], entry, location, label)
            elif kind == "AWS::EC2::SecurityGroupIngress":
                groups = self._target_groups(properties, location)
                if groups:
                    self._read_entry(groups, properties, location, logical_id)
            elif kind == "AWS::CloudFormation::Stack" and f"{self.template.name}/{logical_id}" not in self.contexts:
                self._unverifiable(location, "its nested stack template is not part of the input")

    def _check_transforms(self) -> None:
        """Macros other than AWS's own transforms may rewrite any resource before it deploys."""
        names = self.template.body.get("Transform", [])
        for name in names if isinstance(names, list) else [names]:
            if name not in _KNOWN_TRANSFORMS:
                location = Location(self.template.name, "Transform", None, str(self.template.path))
                self._unverifiable(location, f"the template transform {name!r} may rewrite its resources at deploy time")

    def _define_group(self, logical_id: str, resource: dict[str, Any]) -> None:
        key = f"{self.template.name}:{logical_id}"
        location = _location(self.template, logical_id, resource)
        self.group_locations[logical_id] = location
        self.inventory.groups[key] = SecurityGroup(key, location, defined=True)
        properties = resource.get("Properties")
        name = properties.get("GroupName") if isinstance(properties, dict) else None
        if isinstance(name, str):
            self.group_names[name] = key

    def _entries(self, logical_id: str, node: Any, location: Location) -> Iterator[tuple[str, Any]]:
        if node is None:
            return
        for candidate in self.resolver.candidates(node):
            if candidate is NO_VALUE:
                continue
            if isinstance(candidate, Unknown):
                self._unverifiable(location, f"SecurityGroupIngress is unknown at synth time: {candidate.reason}")
            elif not isinstance(candidate, list):
                self._malformed(location, "SecurityGroupIngress is not a list")
            else:
                for index, entry in enumerate(candidate):
                    yield f"{logical_id}.SecurityGroupIngress[{index}]", entry

    def _target_groups(self, properties: dict[str, Any], location: Location) -> list[str]:
        field_name = "GroupId" if "GroupId" in properties else "GroupName" if "GroupName" in properties else None
        if field_name is None:
            self._malformed(location, "the ingress resource names no GroupId or GroupName")
            return []
        groups = []
        for value in self.resolver.candidates(properties[field_name]):
            key = self._group_key(value, field_name, properties[field_name])
            if key not in self.inventory.groups:
                self.inventory.groups[key] = SecurityGroup(key, location, defined=False)
            groups.append(key)
        return groups

    def _group_key(self, value: Any, field_name: str, node: Any) -> str:
        return group_key(value, field_name, node, self.group_names)

    def _read_entry(self, groups: list[str], node: Any, location: Location, label: str) -> None:
        for entry in self.resolver.candidates(node):
            if entry is NO_VALUE:
                continue
            if isinstance(entry, Unknown):
                self._unverifiable(location, f"{label} is unknown at synth time: {entry.reason}")
            elif not isinstance(entry, dict):
                self._malformed(location, f"{label} is not an object")
            else:
                for problem in self._add_permissions(groups, entry, location, label):
                    self._malformed(location, problem if label == location.logical_id else f"{label}: {problem}")

    def _add_permissions(self, groups: list[str], entry: dict[str, Any], location: Location, label: str) -> Iterator[str]:
        """Add the permissions ``entry`` grants; yield what is malformed about it instead, if anything."""
        if "IpProtocol" not in entry:
            yield "IpProtocol is missing"
            return
        protocols = [_protocol(value) for value in self.resolver.candidates(entry["IpProtocol"])]
        port_pairs = [
            (from_port, to_port)
            for from_port in self.resolver.candidates(entry.get("FromPort"))
            for to_port in self.resolver.candidates(entry.get("ToPort"))
        ]
        sources = list(self._sources(entry))
        problems = [item.message for item in protocols + sources if isinstance(item, _Problem)]
        if problems:
            yield from problems
            return
        if not sources:
            yield "it names no source (CidrIp, CidrIpv6, SourcePrefixListId or SourceSecurityGroupId/Name)"
            return
        if len(protocols) * len(port_pairs) * len(sources) > MAX_CANDIDATES:
            self._unverifiable(location, f"{label} has more than {MAX_CANDIDATES} combinations of conditional values")
            return
        for protocol in protocols:
            for from_port, to_port in port_pairs:
                ports = _port_range(protocol, from_port, to_port)
                if isinstance(ports, _Problem):
                    yield ports.message
                    continue
                certain = not isinstance(protocol, Unknown) and not isinstance(ports, Unknown)
                name = "unknown" if isinstance(protocol, Unknown) else protocol
                port_range = ALL_PORTS if isinstance(ports, Unknown) else ports
                for source in sources:
                    for group in groups:
                        self.inventory.permissions.append(
                            Permission(group, name, port_range, source, location, label, certain)  # type: ignore[arg-type]
                        )

    def _sources(self, entry: dict[str, Any]) -> Iterator[Source | _Problem]:
        """Every source ``entry`` may deploy with, or messages saying what is malformed."""
        present = []
        for field_name in _SOURCE_FIELDS:
            if field_name not in entry:
                continue
            values = self.resolver.candidates(entry[field_name])
            if any(value is NO_VALUE for value in values):
                values = [value for value in values if value is not NO_VALUE]
            else:
                present.append(field_name)
            for value in values:
                yield from self._source(field_name, value)
        if len(present) > 1:
            yield _Problem(f"it names more than one source ({', '.join(present)}); EC2 takes exactly one")

    def _source(self, field_name: str, value: Any) -> Iterator[Source | _Problem]:
        if isinstance(value, Unknown):
            yield Source("unknown", f"{field_name} unknown at synth time: {value.reason}")
        elif field_name == "SourcePrefixListId":
            yield from self._prefix_list_sources(value)
        elif field_name in _CIDR_FIELDS:
            yield _cidr_source(field_name, value, _CIDR_FIELDS[field_name])
        elif isinstance(value, (ResourceRef, str)):
            kind = "GroupName" if field_name == "SourceSecurityGroupName" else "GroupId"
            yield Source("security-group", self._group_key(value, kind, None))
        else:
            yield _Problem(f"{field_name} {json.dumps(value, default=str)} is not a security group")

    def _prefix_list_sources(self, value: Any) -> Iterator[Source | _Problem]:
        """The CIDRs of a prefix list defined in the analysed templates; unknown contents otherwise."""
        if isinstance(value, ResourceRef) and value.template in self.contexts:
            template, resolver = self.contexts[value.template]
            resource = template.body["Resources"].get(value.logical_id)
            if isinstance(resource, dict) and resource.get("Type") == "AWS::EC2::PrefixList":
                properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
                for entries in resolver.lists(properties.get("Entries", [])):
                    if isinstance(entries, Unknown):
                        yield Source("unknown", f"entries of prefix list {value.logical_id}: {entries.reason}")
                        continue
                    for entry in entries:
                        node = entry.get("Cidr") if isinstance(entry, dict) else entry
                        for cidr in resolver.candidates(node):
                            yield _cidr_source(f"prefix list {value.logical_id} Cidr", cidr, None)
                return
        label = value if isinstance(value, str) else getattr(value, "logical_id", repr(value))
        yield Source("unknown", f"the contents of prefix list {label} are managed outside the template")

    def _malformed(self, location: Location, message: str) -> None:
        self.inventory.findings.append(Finding(location, Rule.MALFORMED_INGRESS, message))

    def _unverifiable(self, location: Location, message: str) -> None:
        self.inventory.findings.append(Finding(location, Rule.UNVERIFIABLE_INGRESS, message))


def group_key(value: Any, field_name: str, node: Any, group_names: dict[str, str] | None = None) -> str:
    """The inventory key of the group a resolved ``GroupId``/``GroupName`` value designates.

    ``Stack:LogicalId`` for a group of the analysed templates, ``id:...``/``name:...`` otherwise.
    """
    if isinstance(value, ResourceRef):
        attribute = value.attribute if value.attribute not in (None, "GroupId") else ""
        return f"{value.template}:{value.logical_id}" + (f".{attribute}" if attribute else "")
    if isinstance(value, str):
        if field_name == "GroupName":
            return (group_names or {}).get(value, f"name:{value}")
        return f"id:{value}"
    return f"unresolved:{json.dumps(node, sort_keys=True, default=str)}"


def _protocol(value: Any) -> str | Unknown | _Problem:
    """Normalize an ``IpProtocol`` value to tcp/udp/icmp/icmpv6/all or a protocol number."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return _Problem(f"IpProtocol {json.dumps(value, default=str)} is not a protocol")
    text = str(value)
    if text.lower() in _NAMED_PROTOCOLS:
        return text.lower()
    if _INTEGER.match(text) and -1 <= int(text) <= 255:
        number = str(int(text))
        return _PROTOCOL_NAMES.get(number, number)
    return _Problem(f"IpProtocol {text!r} is not tcp, udp, icmp, icmpv6, -1 or a protocol number 0-255")


def _port_range(protocol: str | Unknown, from_value: Any, to_value: Any) -> tuple[int, int] | None | Unknown | _Problem:
    """The TCP/UDP port range a rule opens, ``None`` where ports do not apply, or a malformed message."""
    if protocol == "all":
        return ALL_PORTS
    if protocol not in ("tcp", "udp") and not isinstance(protocol, Unknown):
        return None
    ports = []
    for name, value in (("FromPort", from_value), ("ToPort", to_value)):
        if isinstance(value, Unknown):
            return value
        if type(value) is int:  # the common case, as CDK emits it; bool is excluded (not exactly int)
            ports.append(value)
        elif value is None or value is NO_VALUE:
            ports.append(-1)  # EC2 rejects this; count it as every port rather than none
        elif not _INTEGER.match(str(value)):  # also refuses True (str "True") and 22.0
            return _Problem(f"{name} {json.dumps(value, default=str)} is not a whole number")
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


def _cidr_source(field_name: str, value: Any, family: int | None) -> Source | _Problem:
    """A CIDR source, or a message saying why ``value`` is not a valid CIDR for ``field_name``."""
    if isinstance(value, Unknown):
        return Source("unknown", f"{field_name} unknown at synth time: {value.reason}")
    if isinstance(value, ResourceRef):
        return Source("unknown", f"{field_name} is the deploy-time value of resource {value.logical_id}")
    if not isinstance(value, str):
        return _Problem(f"{field_name} {json.dumps(value, default=str)} is not a CIDR string")
    return _cidr_text_source(field_name, value, family)


@lru_cache(maxsize=65536)
def _cidr_text_source(field_name: str, value: str, family: int | None) -> Source | _Problem:
    """``_cidr_source`` for a literal string: pure, and both results are immutable, so it is cached
    (formatting an ``ipaddress`` network back to text dominated the cost of a CIDR rule)."""
    try:
        network = parse_cidr(value, family=family)
    except ValueError as error:
        return _Problem(f"{field_name} {error}")
    return Source("cidr", str(network), network)
