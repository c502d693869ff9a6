"""Services that open inbound ports without an EC2 ingress rule in the template, by a property or by default.

Each service's firewall is a group of its own (``kind`` names it); its permissions are what the
service opens, labelled with the property (or missing property) responsible, and its ``fix`` is the
service's own way to close the port. Documentation for each is named in RULES.md.
"""

from __future__ import annotations

from ..cidr import parse_address, parse_cidr
from ..intrinsics import NO_VALUE, ResourceRef, Unknown, describe
from ..model import ALL_PORTS, Source
from . import Resource, reads
from .ec2 import cidr_source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ANYWHERE_IPV4 = Source("cidr", "0.0.0.0/0", parse_cidr("0.0.0.0/0"))
ANYWHERE_IPV6 = Source("cidr", "::/0", parse_cidr("::/0"))

# --- EKS managed node groups ---------------------------------------------------------------------

EKS_FIX = (
    "Set RemoteAccess.SourceSecurityGroups to the bastion's security group, or remove RemoteAccess and use "
    "Session Manager (SSM) on the nodes."
)


@reads("AWS::EKS::Nodegroup")
def eks_nodegroup(resource: Resource) -> None:
    """``RemoteAccess.Ec2SshKey`` without ``SourceSecurityGroups`` opens port 22 (3389 on Windows AMI types) to 0.0.0.0/0.

    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-eks-nodegroup-remoteaccess.html
    """
    node = resource.properties.get("RemoteAccess")
    if node is None:
        return
    group = resource.define_group("EKS node group remote access", EKS_FIX)
    ports = _eks_remote_ports(resource)
    for remote in resource.each(node, "RemoteAccess", dict):
        keys = [value for value in resource.resolver.candidates(remote.get("Ec2SshKey")) if value not in (None, NO_VALUE)]
        if not keys:
            continue  # no key: EKS opens nothing
        sources = remote.get("SourceSecurityGroups")
        groups, unresolved = resource.group_keys(sources, "GroupId")
        for reason in unresolved:
            for port in ports:
                resource.permit(group, "tcp", (port, port), Source("unknown", f"SourceSecurityGroups: {reason}"),
                                "RemoteAccess.SourceSecurityGroups")
        if sources is None or (not groups and not unresolved):
            for port in ports:
                resource.permit(group, "tcp", (port, port), ANYWHERE_IPV4,
                                "RemoteAccess.Ec2SshKey without RemoteAccess.SourceSecurityGroups")
        for key in groups:
            for port in ports:
                resource.permit(group, "tcp", (port, port), Source("security-group", key), "RemoteAccess.SourceSecurityGroups")


def _eks_remote_ports(resource: Resource) -> list[int]:
    """22 for Linux AMI types, 3389 for Windows ones; both when the AMI type is not known at synth."""
    ami_types = resource.resolver.strings(resource.properties.get("AmiType", "AL2_x86_64"))
    ports = set()
    for ami_type in ami_types:
        if isinstance(ami_type, Unknown):
            ports |= {22, 3389}
        else:
            ports.add(3389 if ami_type.upper().startswith("WINDOWS") else 22)
    return sorted(ports)


# --- Elastic Beanstalk ---------------------------------------------------------------------------

BEANSTALK_NAMESPACE = "aws:autoscaling:launchconfiguration"
BEANSTALK_FIX = (
    "Set the aws:autoscaling:launchconfiguration option SSHSourceRestriction to your admin network "
    "(e.g. 'tcp, 22, 22, 203.0.113.10/32') or to the bastion's security group, or remove EC2KeyName and use Session Manager."
)


@reads("AWS::ElasticBeanstalk::Environment", "AWS::ElasticBeanstalk::ConfigurationTemplate")
def beanstalk(resource: Resource) -> None:
    """The instance security group Beanstalk makes: ``SSHSourceRestriction``, and SSH from anywhere by default
    when ``EC2KeyName`` is set without one; ``SecurityGroups`` sit on the same instances.

    https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html#command-options-general-autoscalinglaunchconfiguration
    """
    options = _beanstalk_options(resource)
    if options is None:
        return
    group = resource.define_group("Elastic Beanstalk instance security group", BEANSTALK_FIX)
    disabled = any(value.lower() == "true" for value in options.get("DisableDefaultEC2SecurityGroup", []) if isinstance(value, str))
    restrictions = options.get("SSHSourceRestriction", [])
    keys = options.get("EC2KeyName", [])
    if not disabled:
        for value in restrictions:
            _ssh_restriction(resource, group, value)
        if keys and not restrictions:
            label = "option EC2KeyName without option SSHSourceRestriction (Beanstalk's default: SSH from anywhere)"
            resource.permit(group, "tcp", (22, 22), ANYWHERE_IPV4, label)
    attached = [] if disabled else [group]
    unresolved = []
    for value in options.get("SecurityGroups", []):
        if isinstance(value, Unknown):
            unresolved.append(value.reason)
        elif isinstance(value, ResourceRef):
            attached.append(resource.refer_group(resource.group_key(value, "GroupId")))
        else:
            for name in str(value).split(","):
                if name.strip():
                    attached.append(resource.refer_group(resource.group_key(name.strip(), "GroupName")))
    if len(attached) > 1 or unresolved:
        resource.attach("Elastic Beanstalk instances", resource.name, attached, unresolved)


def _beanstalk_options(resource: Resource) -> dict[str, list[Any]] | None:
    """Values of the launch-configuration options, from a saved configuration of the templates (if used) and
    the resource's own ``OptionSettings`` (which win); ``None`` when the options cannot be read."""
    options: dict[str, list[Any]] = {}
    template_name = resource.properties.get("TemplateName")
    if resource.type == "AWS::ElasticBeanstalk::Environment" and template_name is not None:
        for value in resource.resolver.candidates(template_name):
            configuration = resource.resolver.resources.get(value.logical_id) if isinstance(value, ResourceRef) else None
            if isinstance(configuration, dict) and configuration.get("Type") == "AWS::ElasticBeanstalk::ConfigurationTemplate":
                properties = configuration.get("Properties")
                _collect_options(resource, properties.get("OptionSettings") if isinstance(properties, dict) else None, options)
            elif value is not NO_VALUE:
                resource.unverifiable(
                    f"its option settings come from the saved configuration {value if isinstance(value, str) else 'TemplateName'}, "
                    "outside the analysed templates"
                )
    own: dict[str, list[Any]] = {}
    _collect_options(resource, resource.properties.get("OptionSettings"), own)
    options.update(own)
    return options


def _collect_options(resource: Resource, node: Any, into: dict[str, list[Any]]) -> None:
    for settings in resource.resolver.lists(node) if node is not None else ():
        if isinstance(settings, Unknown):
            resource.unverifiable(f"OptionSettings are unknown at synth time: {settings.reason}")
            continue
        for setting in settings:
            if isinstance(setting, Unknown):
                resource.unverifiable(f"an option setting is unknown at synth time: {setting.reason}")
            if not isinstance(setting, dict):
                continue
            namespaces = resource.resolver.strings(setting.get("Namespace"))
            names = resource.resolver.strings(setting.get("OptionName"))
            if not any(n == BEANSTALK_NAMESPACE or isinstance(n, Unknown) for n in namespaces):
                continue
            for name in names:
                if isinstance(name, Unknown):
                    resource.unverifiable(f"an {BEANSTALK_NAMESPACE} OptionName is unknown at synth time: {name.reason}")
                    continue
                values = [v for v in resource.resolver.candidates(setting.get("Value")) if v is not NO_VALUE and v is not None]
                into.setdefault(name, []).extend(values)


def _ssh_restriction(resource: Resource, group: str, value: Any) -> None:
    """``SSHSourceRestriction``: ``protocol, fromPort, toPort, source`` (a CIDR, a group name or id)."""
    label = "option SSHSourceRestriction"
    if isinstance(value, (Unknown, ResourceRef)):
        why = value.reason if isinstance(value, Unknown) else f"it is {describe(value)}"
        resource.permit(group, "tcp", (22, 22), Source("unknown", f"{label} unknown at synth time: {why}"), label)
        return
    parts = [part.strip() for part in str(value).split(",")]
    if len(parts) != 4 or not all(part.isascii() and part.isdigit() for part in parts[1:3]):
        resource.malformed(f"{label} {_quoted(value)} is not 'protocol, fromPort, toPort, source' (e.g. 'tcp, 22, 22, 203.0.113.10/32')")
        return
    protocol, low, high, origin = parts[0].lower(), int(parts[1]), int(parts[2]), parts[3]
    if protocol not in ("tcp", "udp", "-1", "all") or not 0 <= low <= high <= 65535:
        resource.malformed(f"{label} {_quoted(value)} has an unknown protocol or a bad port range")
        return
    ports = ALL_PORTS if protocol in ("-1", "all") else (low, high)
    name = "all" if protocol in ("-1", "all") else protocol
    if "/" not in origin or parse_address(origin.split("/", 1)[0]) is None:  # a group name, id or account/name
        resource.permit(group, name, ports, Source("security-group", resource.refer_group(resource.group_key(origin, "GroupName"))), label)
        return
    source = cidr_source(label, origin, None)
    if isinstance(source, str):
        resource.malformed(source)
    else:
        resource.permit(group, name, ports, source, label)


def _quoted(value: Any, quote: str = "'") -> str:
    """A value in a message: a string in quotes (none: ``quote=''``), anything else as template text."""
    return f"{quote}{value}{quote}" if isinstance(value, str) else describe(value)


# --- Lightsail -----------------------------------------------------------------------------------

LIGHTSAIL_FIX = (
    "List Networking.Ports explicitly and give port 22 (and 3389) Cidrs of your admin network only, or use "
    "CidrListAliases ['lightsail-connect'] for the console's browser client."
)
#: What Lightsail opens on a new instance, to all IPv4 and IPv6 addresses.
LIGHTSAIL_DEFAULT_PORTS = {"linux": (22, 80), "windows": (22, 80, 3389)}


@reads("AWS::Lightsail::Instance")
def lightsail_instance(resource: Resource) -> None:
    """Without ``Networking.Ports`` the default firewall stays: 22 and 80 (and 3389 on Windows) from every address;
    a non-empty ``Networking.Ports`` replaces it.

    https://docs.aws.amazon.com/lightsail/latest/userguide/understanding-firewall-and-port-mappings-in-amazon-lightsail.html
    """
    group = resource.define_group("Lightsail instance firewall", LIGHTSAIL_FIX)
    networking = resource.properties.get("Networking")
    candidates = resource.resolver.candidates(networking) if networking is not None else [None]
    for candidate in candidates:
        if isinstance(candidate, Unknown):
            resource.unverifiable(f"Networking is unknown at synth time: {candidate.reason}")
            continue
        ports_node = candidate.get("Ports") if isinstance(candidate, dict) else None
        port_lists = resource.resolver.lists(ports_node) if ports_node is not None else [[]]
        for ports in port_lists:
            if isinstance(ports, Unknown):
                resource.unverifiable(f"Networking.Ports is unknown at synth time: {ports.reason}")
            elif not ports:
                _lightsail_defaults(resource, group)
            else:
                for index, port in enumerate(ports):
                    _lightsail_port(resource, group, port, f"Networking.Ports[{index}]")


def _lightsail_defaults(resource: Resource, group: str) -> None:
    windows = False
    for blueprint in resource.resolver.strings(resource.properties.get("BlueprintId", "")):
        windows = windows or isinstance(blueprint, Unknown) or blueprint.lower().startswith("windows")
    label = "default firewall (no Networking.Ports)"
    for port in LIGHTSAIL_DEFAULT_PORTS["windows" if windows else "linux"]:
        for source in (ANYWHERE_IPV4, ANYWHERE_IPV6):
            resource.permit(group, "tcp", (port, port), source, label)


def _lightsail_port(resource: Resource, group: str, port: Any, label: str) -> None:
    if isinstance(port, Unknown):
        resource.unverifiable(f"{label} is unknown at synth time: {port.reason}")
        return
    if not isinstance(port, dict):
        resource.malformed(f"{label} is not an object")
        return
    access = resource.resolver.strings(port.get("AccessType", "public"))
    if all(isinstance(value, str) and value.lower() == "private" for value in access):
        return  # Lightsail leaves private ports closed
    protocols = resource.resolver.strings(port.get("Protocol", "tcp"))
    from_ports = resource.resolver.candidates(port.get("FromPort", 0))
    to_ports = resource.resolver.candidates(port.get("ToPort", 65535))
    sources = _lightsail_sources(resource, port, label)
    ports: tuple[int, int] | None
    for protocol in protocols:
        for low in from_ports:
            for high in to_ports:
                ports, certain, name = ALL_PORTS, False, "unknown"
                if not isinstance(protocol, Unknown):
                    name = protocol.lower()
                    if name not in ("tcp", "udp", "all", "icmp", "icmpv6"):
                        resource.malformed(f"{label}.Protocol {protocol!r} is not tcp, udp, all, icmp or icmpv6")
                        continue
                    certain = True
                if name in ("tcp", "udp"):  # an unknown protocol may be "all": every port
                    first, last = port_number(low), port_number(high)
                    if isinstance(first, Unknown) or isinstance(last, Unknown):
                        certain = False
                    elif first is not None and last is not None and 0 <= first <= last <= 65535:
                        ports = (first, last)
                    else:
                        resource.malformed(f"{label}: port range {_quoted(low, '')}-{_quoted(high, '')} is not within 0-65535")
                        continue
                elif name in ("icmp", "icmpv6"):
                    ports = None
                for source in sources:
                    resource.permit(group, name, ports, source, label, certain)


def _lightsail_sources(resource: Resource, port: dict[str, Any], label: str) -> list[Source]:
    """``Cidrs`` (IPv4, a bare address is a /32), ``Ipv6Cidrs`` and ``CidrListAliases``; none of them: every address."""
    sources: list[Source] = []
    given = False
    for field, family in (("Cidrs", 4), ("Ipv6Cidrs", 6)):
        for values in resource.resolver.lists(port[field]) if field in port else ():
            given = True
            if isinstance(values, Unknown):
                sources.append(Source("unknown", f"{label}.{field} unknown at synth time: {values.reason}"))
                continue
            for value in values:
                if isinstance(value, str) and "/" not in value:
                    value = f"{value}/{32 if family == 4 else 128}"
                source = cidr_source(f"{label}.{field}", value, family, exact=True)
                if isinstance(source, str):
                    resource.malformed(source)
                else:
                    sources.append(source)
    for values in resource.resolver.lists(port["CidrListAliases"]) if "CidrListAliases" in port else ():
        given = True
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, Unknown):
                sources.append(Source("unknown", f"{label}.CidrListAliases unknown at synth time: {value.reason}"))
            elif value == "lightsail-connect":
                sources.append(Source("service", "lightsail-connect (the Lightsail console's browser client)"))
            else:
                sources.append(Source("unknown", f"{label}.CidrListAliases {_quoted(value)} is not a known alias"))
    if not given:
        sources += [ANYWHERE_IPV4, ANYWHERE_IPV6]  # no restriction: all addresses, as the console shows it
    return sources


# --- GameLift ------------------------------------------------------------------------------------

GAMELIFT_FIX = "Remove admin ports from the fleet's inbound permissions, or give them your admin network's IpRange only."
_GAMELIFT = {
    "AWS::GameLift::Fleet": ("EC2InboundPermissions", "GameLift fleet instances"),
    "AWS::GameLift::ContainerFleet": ("InstanceInboundPermissions", "GameLift container fleet instances"),
}


@reads(*_GAMELIFT)
def gamelift_fleet(resource: Resource) -> None:
    """Inbound permissions on the fleet's instances: ``FromPort``, ``ToPort``, ``IpRange`` (IPv4), ``Protocol`` TCP/UDP.

    https://docs.aws.amazon.com/gamelift/latest/apireference/API_IpPermission.html
    """
    field, kind = _GAMELIFT[resource.type]
    node = resource.properties.get(field)
    if node is None:
        return
    group = resource.define_group(kind, GAMELIFT_FIX)
    for permissions in resource.resolver.lists(node):
        if isinstance(permissions, Unknown):
            resource.unverifiable(f"{field} is unknown at synth time: {permissions.reason}")
            continue
        for index, permission in enumerate(permissions):
            label = f"{field}[{index}]"
            if isinstance(permission, Unknown):
                resource.unverifiable(f"{label} is unknown at synth time: {permission.reason}")
                continue
            if not isinstance(permission, dict):
                resource.malformed(f"{label} is not an object")
                continue
            for value in resource.resolver.candidates(permission.get("IpRange")):
                source = cidr_source(f"{label}.IpRange", value, 4, exact=True)
                if isinstance(source, str):
                    resource.malformed(source)
                else:
                    _gamelift_permission(resource, group, permission, source, label)


def _gamelift_permission(resource: Resource, group: str, permission: dict[str, Any], source: Source, label: str) -> None:
    for protocol in resource.resolver.strings(permission.get("Protocol")):
        for low in resource.resolver.candidates(permission.get("FromPort")):
            for high in resource.resolver.candidates(permission.get("ToPort")):
                first, last = port_number(low), port_number(high)
                if isinstance(protocol, Unknown) or isinstance(first, Unknown) or isinstance(last, Unknown):
                    resource.permit(group, "unknown", ALL_PORTS, source, label, certain=False)
                elif protocol.upper() not in ("TCP", "UDP") or first is None or last is None or not 1 <= first <= last <= 60000:
                    resource.malformed(f"{label} is not a TCP/UDP port range within 1-60000")
                else:
                    resource.permit(group, protocol.lower(), (first, last), source, label)


def port_number(value: Any) -> int | Unknown | None:
    """A port as CloudFormation passes it to a service: an integer, or a string of digits (a ``Ref`` to a ``Number``
    parameter is a string); a deploy-time value is ``Unknown``; anything else ``None``."""
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ResourceRef):
        return Unknown(f"the port is {describe(value)}, known only at deploy time")
    return None
