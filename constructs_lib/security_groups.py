"""Security groups that keep SSH off the internet: a bastion and a web tier behind it.

* :class:`BastionSecurityGroup` accepts SSH (tcp/22) only from admin sources that are named
  explicitly: CIDR blocks, managed prefix lists or peers. Whole-internet sources are refused.
* :class:`WebServerSecurityGroup` serves HTTP/HTTPS to the world and accepts SSH only from security
  groups (the bastion), by reference. It has no API that opens SSH to a CIDR.
* :class:`BastionWebTier` wires the two together.

All props are checked before anything is created; every problem is listed in one ``ValueError`` that
names the offending value and says what to do instead. CIDRs are parsed and judged by
:mod:`constructs_lib.policy.cidr`, the same code the synth-time guard uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Union

from pathlib import Path

import jsii
from aws_cdk import Stack, Token
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, IValidation

from constructs_lib.policy import Rule, Template, evaluate, read_inventory
from constructs_lib.policy.cidr import IPNetwork, parse_cidr, world_families
from constructs_lib.policy.rules import DEFAULT_ADMIN_PORTS

__all__ = [
    "AdminSource",
    "BastionSecurityGroup",
    "BastionWebTier",
    "WebServerSecurityGroup",
    "WebSource",
]

#: A CIDR string (``203.0.113.10/32``, ``2001:db8::/64``), a prefix-list id (``pl-...``) or an ``ec2.IPeer``.
AdminSource = Union[str, ec2.IPeer]
WebSource = Union[str, ec2.IPeer]

SSH_PORT = 22


_PREFIX_LIST_ID = re.compile(r"^pl-[0-9a-f]{8}(?:[0-9a-f]{9})?$")

_ADMIN_ADVICE = (
    "allow SSH only from your admin workstation's or VPN's public address (for example 203.0.113.10/32) "
    "or a managed prefix list (pl-...); or give no admin_sources and use Session Manager"
)
_FAMILY_NAME = {4: "IPv4", 6: "IPv6"}


# --------------------------------------------------------------------------------------------------
# Validation: plain functions returning lists of problems (one sentence each)
# --------------------------------------------------------------------------------------------------


def _is_token(value: object) -> bool:
    return isinstance(value, str) and Token.is_unresolved(value)


def _peer_cidr(peer: Any) -> tuple[str | None, int | None, str | None]:
    """(cidr, family, other_reference) of a peer's ingress rule configuration."""
    config = peer.to_ingress_rule_config()
    if getattr(config, "cidr_ip", None) is not None:
        return config.cidr_ip, 4, None
    if getattr(config, "cidr_ipv6", None) is not None:
        return config.cidr_ipv6, 6, None
    reference = getattr(config, "source_security_group_id", None) or getattr(config, "source_prefix_list_id", None)
    return None, None, reference


def _is_peer(value: object) -> bool:
    return hasattr(value, "to_ingress_rule_config") and hasattr(value, "unique_id")


def _resolve_source(value: object, what: str, problems: list[str]) -> tuple[ec2.IPeer | None, IPNetwork | None]:
    """Turn one source into a peer (and its network, when it is a CIDR); record problems instead of raising."""
    if isinstance(value, str):
        if _is_token(value):
            problems.append(
                f"{what} {value!r} is an unresolved token (a parameter, import or reference): "
                "its address range cannot be checked at synth time; pass a literal CIDR or a prefix-list id, "
                "or wrap a prefix-list token in ec2.Peer.prefix_list(...)"
            )
            return None, None
        if value.startswith("pl-"):
            if not _PREFIX_LIST_ID.match(value):
                problems.append(
                    f"{what} {value!r} is not a prefix-list id (pl- followed by 8 or 17 lowercase hex digits)"
                )
                return None, None
            return ec2.Peer.prefix_list(value), None
        try:
            network = parse_cidr(value)
        except ValueError as error:
            problems.append(f"{what} {error}; write it as address/length, for example 203.0.113.10/32")
            return None, None
        text = network.with_prefixlen
        return (ec2.Peer.ipv4(text) if network.version == 4 else ec2.Peer.ipv6(text)), network
    if _is_peer(value):
        cidr, family, reference = _peer_cidr(value)
        if cidr is None:
            if reference is None:
                problems.append(f"{what} peer {value.unique_id!r} names neither a CIDR, a prefix list nor a group")
                return None, None
            return value, None  # a security group or prefix list, by reference
        if _is_token(cidr):
            problems.append(
                f"{what} peer with CIDR {cidr!r} is an unresolved token: its address range cannot be checked "
                "at synth time; pass a literal CIDR"
            )
            return None, None
        try:
            network = parse_cidr(cidr, family=family)
        except ValueError as error:
            problems.append(f"{what} peer {error}; write it as address/length, for example 203.0.113.10/32")
            return None, None
        return value, network
    problems.append(
        f"{what} {value!r} is not a CIDR string, a prefix-list id (pl-...) or an ec2.IPeer; "
        "pass for example '203.0.113.10/32'"
    )
    return None, None


def _describe(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if _is_peer(value):
        return f"peer {value.unique_id!r}"
    return repr(value)


def _admin_source_problems(
    sources: Iterable[object], accepted: Sequence[IPNetwork] = ()
) -> tuple[list[str], list[tuple[ec2.IPeer, IPNetwork | None, object]]]:
    """Check SSH sources, together with networks already accepted. Returns (problems, resolved sources)."""
    problems: list[str] = []
    resolved: list[tuple[ec2.IPeer, IPNetwork | None, object]] = []
    if isinstance(sources, (str, bytes)) or not isinstance(sources, Iterable):
        problems.append(f"admin_sources must be a list of sources, not {sources!r}; for example ['203.0.113.10/32']")
        return problems, resolved
    for value in sources:
        peer, network = _resolve_source(value, "admin source", problems)
        if peer is None:
            continue
        if network is not None:
            covered = world_families([network])
            if covered:
                family = _FAMILY_NAME[covered[0]]
                spelled = "" if network.prefixlen else " (a /0 block, however spelled, is every address)"
                problems.append(
                    f"admin source {_describe(value)} is the whole public {family} internet{spelled}: {_ADMIN_ADVICE}"
                )
                continue
        resolved.append((peer, network, value))
    networks = list(accepted) + [network for _, network, _ in resolved if network is not None]
    for family in world_families(networks):
        named = [
            _describe(value) for _, network, value in resolved if network is not None and network.version == family
        ]
        earlier = [n.with_prefixlen for n in accepted if n.version == family]
        together = ", ".join(named + [f"{cidr!r} (already allowed)" for cidr in earlier])
        problems.append(
            f"admin sources {together} together cover the whole public {_FAMILY_NAME[family]} internet: {_ADMIN_ADVICE}"
        )
    return problems, resolved


def _web_problems(web_sources: object, web_ports: object) -> tuple[list[str], list[ec2.IPeer], list[int]]:
    problems: list[str] = []
    peers: list[ec2.IPeer] = []
    ports: list[int] = []
    if isinstance(web_sources, (str, bytes)) or not isinstance(web_sources, Iterable):
        problems.append(f"web_sources must be a list of sources, not {web_sources!r}; for example ['0.0.0.0/0', '::/0']")
    else:
        for value in web_sources:  # type: ignore[union-attr]
            peer, _ = _resolve_source(value, "web source", problems)
            if peer is not None:
                peers.append(peer)
    if isinstance(web_ports, (str, bytes)) or not isinstance(web_ports, Iterable):
        problems.append(f"web_ports must be a list of port numbers, not {web_ports!r}; for example (80, 443)")
        return problems, peers, ports
    for port in web_ports:  # type: ignore[union-attr]
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            problems.append(f"web port {port!r} is not a TCP port number (1-65535)")
        elif port in DEFAULT_ADMIN_PORTS:
            problems.append(
                f"web port {port} ({DEFAULT_ADMIN_PORTS[port]}) is an admin port and web_ports are open to web_sources "
                "(the whole internet by default); remove it from web_ports and grant SSH with allow_ssh_from(bastion), "
                "or use Session Manager"
            )
        else:
            ports.append(port)
    return problems, peers, ports


def _raise_if(problems: Sequence[str], where: str) -> None:
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        raise ValueError(f"{where}: {count}:\n{listing}")


@jsii.implements(IValidation)
class _OwnRulesCheck:
    """Checks a group's inline ingress rules at synth time, so escape hatches cannot undo the constructs' promise.

    Rules added later through ``connections`` or ``security_group`` (for example
    ``web.connections.allow_from_any_ipv4(ec2.Port.tcp(22))``) fail synthesis even in an app that does
    not register the AdminPortGuard pack. The policy core decides, as it does for the pack.
    """

    def __init__(self, group: ec2.SecurityGroup, *, ssh_from_groups_only: bool) -> None:
        self._group = group
        self._ssh_from_groups_only = ssh_from_groups_only

    def validate(self) -> list[str]:
        cfn = self._group.node.default_child
        rules = Stack.of(self._group).resolve(cfn.security_group_ingress) or []
        entries = [{key[:1].upper() + key[1:]: value for key, value in rule.items()} for rule in rules]
        body = {"Resources": {"Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": entries}}}}
        inventory = read_inventory([Template(self._group.node.path, Path(self._group.node.path), body)])
        problems = [
            f"{finding.message}; {finding.fix}"
            for finding in evaluate(inventory, DEFAULT_ADMIN_PORTS)
            if finding.rule is Rule.WORLD_OPEN_ADMIN_PORT
        ]
        if self._ssh_from_groups_only:
            problems += [
                f"web servers accept SSH only from security groups, but {permission.rule_label} allows tcp/22 from "
                f"{permission.source.label}; use allow_ssh_from(bastion) and put admin CIDRs on the bastion"
                for permission in inventory.permissions
                if permission.reaches_tcp_port(SSH_PORT) and permission.source.kind != "security-group"
            ]
        return problems


def _description_problems(description: object) -> list[str]:
    if not isinstance(description, str) or not description.strip():
        return [f"description {description!r} must be a non-empty string"]
    return []


# --------------------------------------------------------------------------------------------------
# Constructs
# --------------------------------------------------------------------------------------------------


@jsii.implements(ec2.IConnectable)
class _CheckedSecurityGroup(Construct):
    """One ``ec2.SecurityGroup`` whose own rules the policy core checks at synth (see ``_OwnRulesCheck``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        description: str,
        security_group_name: str | None,
        allow_all_outbound: bool,
        ssh_from_groups_only: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=description,
            security_group_name=security_group_name,
            allow_all_outbound=allow_all_outbound,
        )
        self.node.add_validation(_OwnRulesCheck(self.security_group, ssh_from_groups_only=ssh_from_groups_only))

    @property
    def connections(self) -> ec2.Connections:
        """The group's connections: use ``connections.allow_to(target, port, why)`` to grant egress."""
        return self.security_group.connections

    @property
    def security_group_id(self) -> str:
        return self.security_group.security_group_id


@jsii.implements(ec2.IConnectable)
class BastionSecurityGroup(_CheckedSecurityGroup):
    """Security group for a bastion host: SSH (tcp/22) in only from explicitly named admin sources.

    :param vpc: the VPC of the security group.
    :param admin_sources: who may SSH in: IPv4/IPv6 CIDR strings, prefix-list ids (``pl-...``) or
        ``ec2.IPeer`` objects (CIDR peers, prefix lists, security groups). Default: none, so no inbound
        rule at all (reach the host with Session Manager). A source, or a set of sources, that covers the
        whole public IPv4 or IPv6 internet is refused, as are malformed CIDRs and unresolved tokens.
    :param description: the group's description. Default: "Bastion: SSH only from named admin sources".
    :param security_group_name: physical name. Default: generated by CloudFormation.
    :param allow_all_outbound: allow all IPv4 egress. Default: ``False``; grant egress by intent with
        ``connections.allow_to(...)``, which :class:`WebServerSecurityGroup` does for SSH to the web tier.
    :raises ValueError: listing every problem with the props.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        admin_sources: Sequence[AdminSource] = (),
        description: str = "Bastion: SSH only from named admin sources",
        security_group_name: str | None = None,
        allow_all_outbound: bool = False,
    ) -> None:
        problems, resolved = _admin_source_problems(admin_sources)
        _raise_if(problems + _description_problems(description), f"BastionSecurityGroup {construct_id!r}")
        super().__init__(
            scope,
            construct_id,
            vpc=vpc,
            description=description,
            security_group_name=security_group_name,
            allow_all_outbound=allow_all_outbound,
            ssh_from_groups_only=False,
        )
        self._networks: list[IPNetwork] = []
        self._add(resolved, "SSH from admin source")

    def allow_ssh_from(self, source: AdminSource, description: str = "SSH from admin source") -> None:
        """Allow SSH from one more admin source, with the same checks as ``admin_sources``.

        The check includes the sources already allowed: two halves of the internet are refused.
        :raises ValueError: when the source is refused.
        """
        problems, resolved = _admin_source_problems([source], self._networks)
        _raise_if(problems, f"BastionSecurityGroup {self.node.path!r}.allow_ssh_from")
        self._add(resolved, description)

    def _add(self, resolved: Sequence[tuple[ec2.IPeer, IPNetwork | None, object]], description: str) -> None:
        for peer, network, _ in resolved:
            if network is not None:
                self._networks.append(network)
            self.connections.allow_from(peer, ec2.Port.tcp(SSH_PORT), description)


def _security_group_source(source: object) -> Any:
    """The connectable to use for SSH from ``source``, or raise TypeError when it is not a security group."""
    advice = (
        "web servers accept SSH only from security groups; pass the BastionSecurityGroup (or its "
        "security_group) and put admin CIDRs on BastionSecurityGroup(admin_sources=[...]) instead"
    )
    if isinstance(source, str):
        raise TypeError(f"allow_ssh_from({source!r}): a string is not a security group; {advice}")
    connections = getattr(source, "connections", None)
    if _is_peer(source):
        cidr, _, reference = _peer_cidr(source)
        if cidr is not None or reference is None or reference.startswith("pl-"):
            raise TypeError(f"allow_ssh_from(peer {_describe(source)}): not a security group; {advice}")
        return source
    if connections is not None and list(connections.security_groups):
        return source
    raise TypeError(f"allow_ssh_from({source!r}): not a security group; {advice}")


@jsii.implements(ec2.IConnectable)
class WebServerSecurityGroup(_CheckedSecurityGroup):
    """Security group for web servers: HTTP/HTTPS from web clients, SSH only from security groups.

    :param vpc: the VPC of the security group.
    :param bastion: a :class:`BastionSecurityGroup` or any security group allowed to SSH in, by
        reference (``SourceSecurityGroupId``). Default: none; add one later with ``allow_ssh_from``.
    :param web_sources: who may reach ``web_ports``: CIDR strings, prefix-list ids or ``ec2.IPeer``.
        Default: ``("0.0.0.0/0", "::/0")``, any IPv4 and any IPv6 address.
    :param web_ports: TCP ports served to ``web_sources``. Default: ``(80, 443)``. Admin ports (22, 23,
        3389, 5900, 5985, 5986) are refused.
    :param description: the group's description. Default: "Web server: HTTP/HTTPS from web clients,
        SSH only from the bastion".
    :param security_group_name: physical name. Default: generated by CloudFormation.
    :param allow_all_outbound: allow all IPv4 egress. Default: ``False``; grant egress by intent.
    :raises ValueError: listing every problem with the props.
    :raises TypeError: when ``bastion`` is not a security group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        bastion: BastionSecurityGroup | ec2.ISecurityGroup | None = None,
        web_sources: Sequence[WebSource] = ("0.0.0.0/0", "::/0"),
        web_ports: Sequence[int] = (80, 443),
        description: str = "Web server: HTTP/HTTPS from web clients, SSH only from the bastion",
        security_group_name: str | None = None,
        allow_all_outbound: bool = False,
    ) -> None:
        problems, peers, ports = _web_problems(web_sources, web_ports)
        _raise_if(problems + _description_problems(description), f"WebServerSecurityGroup {construct_id!r}")
        if bastion is not None:
            _security_group_source(bastion)
        super().__init__(
            scope,
            construct_id,
            vpc=vpc,
            description=description,
            security_group_name=security_group_name,
            allow_all_outbound=allow_all_outbound,
            ssh_from_groups_only=True,
        )
        for peer in peers:
            for port in ports:
                self.security_group.add_ingress_rule(peer, ec2.Port.tcp(port), f"Web traffic on tcp/{port}")
        if bastion is not None:
            self.allow_ssh_from(bastion)

    def allow_ssh_from(
        self,
        source: BastionSecurityGroup | ec2.ISecurityGroup | ec2.IConnectable,
        description: str = "SSH from the bastion security group",
    ) -> None:
        """Allow SSH (tcp/22) from a security group, by reference.

        When ``source`` is a group of this app (or a :class:`BastionSecurityGroup`), its matching egress
        rule is written too. CIDRs and prefix lists are refused: there is no way to open SSH to an
        address range here.
        :raises TypeError: when ``source`` is not a security group.
        """
        self.connections.allow_from(_security_group_source(source), ec2.Port.tcp(SSH_PORT), description)


class BastionWebTier(Construct):
    """A bastion security group and a web-server security group that accepts SSH only from it.

    :param vpc: the VPC of both groups.
    :param admin_sources: who may SSH into the bastion (see :class:`BastionSecurityGroup`). Default: none.
    :param web_sources: who may reach the web ports. Default: any IPv4 and any IPv6 address.
    :param web_ports: ports served to ``web_sources``. Default: ``(80, 443)``.
    :raises ValueError: listing every problem with the props of both groups.

    Properties: ``bastion`` (:class:`BastionSecurityGroup`), ``web`` (:class:`WebServerSecurityGroup`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        admin_sources: Sequence[AdminSource] = (),
        web_sources: Sequence[WebSource] = ("0.0.0.0/0", "::/0"),
        web_ports: Sequence[int] = (80, 443),
    ) -> None:
        problems = _admin_source_problems(admin_sources)[0] + _web_problems(web_sources, web_ports)[0]
        _raise_if(problems, f"BastionWebTier {construct_id!r}")
        super().__init__(scope, construct_id)
        self.bastion = BastionSecurityGroup(self, "Bastion", vpc=vpc, admin_sources=admin_sources)
        self.web = WebServerSecurityGroup(
            self, "Web", vpc=vpc, bastion=self.bastion, web_sources=web_sources, web_ports=web_ports
        )
