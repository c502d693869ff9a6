"""Security groups that keep SSH off the internet: a bastion and a web tier behind it.

* :class:`BastionSecurityGroup` accepts SSH (tcp/22) only from admin sources that are named
  explicitly: CIDR blocks, trusted managed prefix lists or peers. Whole-internet and too-broad
  sources are refused.
* :class:`WebServerSecurityGroup` serves HTTP/HTTPS to the world and accepts SSH only from security
  groups (the bastion), by reference. It has no API that opens SSH to a CIDR.
* :class:`BastionWebTier` wires the two together.

All props are checked before anything is created; every problem is listed in one ``ValueError`` that
names the offending value and says what to do instead. Sources are judged by the policy core
(:mod:`constructs_lib.policy`) under the policy the app declares (``admin-port-guard`` in ``cdk.json``),
the same code and the same declarations the synth-time guard uses, so the two always agree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, TypeGuard, Union, cast

import jsii
from aws_cdk import Stack, Stage, Token
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, IConstruct, IValidation

from constructs_lib.plugin import acknowledge_admin_port_finding, guard_policy, report_through_guard
from constructs_lib.policy import CONTEXT_KEY, Finding, GuardPolicy, Rule, Template, evaluate, read_inventory
from constructs_lib.policy.cidr import Network, parse_cidr
from constructs_lib.policy.config import METADATA_KEY, SSH_PROMISE, check_reason, is_prefix_list_id
from constructs_lib.policy.reach import verdict
from constructs_lib.policy.rules import SSH_PORT

__all__ = [
    "WEB_SERVER_SSH_SOURCE",
    "AdminSource",
    "BastionSecurityGroup",
    "BastionWebTier",
    "WebServerSecurityGroup",
    "WebSource",
]

#: A CIDR string (``203.0.113.10/32``, ``2001:db8::/64``), a prefix-list id (``pl-...``) or an ``ec2.IPeer``.
AdminSource = Union[str, ec2.IPeer]
WebSource = Union[str, ec2.IPeer]

#: The web server group's own rule (SSH only from security groups), judged by the core on the promise the group
#: writes into its template's Metadata (``SSH_PROMISE``), so the plugin, the CLI and SARIF report it as they report the others.
WEB_SERVER_SSH_SOURCE = Rule.WEB_SERVER_SSH_SOURCE

_ADMIN_ADVICE = (
    "allow SSH only from your admin workstation's or VPN's public address (for example 203.0.113.10/32) "
    "or a trusted managed prefix list (pl-...); or give no admin_sources and use Session Manager"
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


def _is_peer(value: object) -> TypeGuard[ec2.IPeer]:
    return hasattr(value, "to_ingress_rule_config") and hasattr(value, "unique_id")


def _untrusted_prefix_list(prefix_list_id: str, what: str) -> str:
    return (
        f"{what} {prefix_list_id!r} is a prefix list managed outside this app, so its entries cannot be checked at "
        f"synth; if it holds only your admin networks, declare it trusted once for the whole app, in cdk.json: "
        f'"context": {{"{CONTEXT_KEY}": {{"trustedPrefixLists": {{"{prefix_list_id}": "<who manages it, and why it is safe>"}}}}}}'
    )


def _resolve_source(
    value: object, what: str, problems: list[str], policy: GuardPolicy, *, admin: bool = True
) -> tuple[ec2.IPeer | None, Network | None]:
    """Turn one source into a peer (and its network, when it is a CIDR); record problems instead of raising.

    An admin source that is a prefix list managed outside the app must be declared trusted.
    """
    if isinstance(value, str):
        if _is_token(value):
            problems.append(
                f"{what} {value!r} is an unresolved token (a parameter, import or reference): "
                "its address range cannot be checked at synth time; pass a literal CIDR or a prefix-list id, "
                "or wrap a prefix list of this app in ec2.Peer.prefix_list(prefix_list.prefix_list_id)"
            )
            return None, None
        if value.startswith("pl-"):
            if not is_prefix_list_id(value):
                problems.append(f"{what} {value!r} is not a prefix-list id (pl- followed by 8 or 17 lowercase hex digits)")
                return None, None
            if admin and value not in policy.trusted_prefix_lists:
                problems.append(_untrusted_prefix_list(value, what))
                return None, None
            return ec2.Peer.prefix_list(value), None
        try:
            network = parse_cidr(value, exact=True)
        except ValueError as error:
            problems.append(f"{what} {error}")
            return None, None
        return (ec2.Peer.ipv4(str(network)) if network.version == 4 else ec2.Peer.ipv6(str(network))), network
    if _is_peer(value):
        cidr, family, reference = _peer_cidr(value)
        if cidr is None:
            if reference is None:
                problems.append(f"{what} peer {value.unique_id!r} names neither a CIDR, a prefix list nor a group")
                return None, None
            if admin and isinstance(reference, str) and not _is_token(reference) and reference.startswith("pl-"):
                if reference not in policy.trusted_prefix_lists:
                    problems.append(_untrusted_prefix_list(reference, what))
                    return None, None
            return value, None  # a security group, a trusted prefix list, or a prefix list of this app
        if _is_token(cidr):
            problems.append(
                f"{what} peer with CIDR {cidr!r} is an unresolved token: its address range cannot be checked "
                "at synth time; pass a literal CIDR"
            )
            return None, None
        try:
            network = parse_cidr(cidr, family=family, exact=True)
        except ValueError as error:
            problems.append(f"{what} peer {error}")
            return None, None
        return value, network
    problems.append(
        f"{what} {value!r} is not a CIDR string, a prefix-list id (pl-...) or an ec2.IPeer; "
        "pass for example '203.0.113.10/32'"
    )
    return None, None


def _describe(value: object) -> str:
    if _is_peer(value) and not isinstance(value, str):
        return f"peer {value.unique_id!r}"
    return repr(value)


def _admin_source_problems(
    sources: Iterable[object], policy: GuardPolicy, accepted: Sequence[Network] = (), *, broad_accepted: bool = False
) -> tuple[list[str], list[tuple[ec2.IPeer, Network | None, object]]]:
    """Check SSH sources, together with networks already accepted. Returns (problems, resolved sources).

    Alone and together, the sources must neither cover the whole public internet nor (unless
    ``broad_accepted``) hold more public addresses than the policy's broad-source limit.
    """
    problems: list[str] = []
    resolved: list[tuple[ec2.IPeer, Network | None, object]] = []
    if isinstance(sources, (str, bytes)) or not isinstance(sources, Iterable):
        problems.append(f"admin_sources must be a list of sources, not {sources!r}; for example ['203.0.113.10/32']")
        return problems, resolved
    thresholds = None if broad_accepted else policy.thresholds
    networks: list[tuple[Network, str]] = [(network, f"{str(network)!r} (already allowed)") for network in accepted]
    refused: set[tuple[str, int]] = set()  # ("world" | "broad", family) already refused for a single source
    for value in sources:
        peer, network = _resolve_source(value, "admin source", problems, policy)
        if peer is None:
            continue
        if network is not None:
            networks.append((network, _describe(value)))
            refusal = _breadth_problem([network], [_describe(value)], thresholds)
            if refusal:
                problems.append(refusal[1])
                refused.update(refusal[0])
                continue
        resolved.append((peer, network, value))
    if len(networks) > 1:  # several sources may cover together what none covers alone
        refusal = _breadth_problem([network for network, _ in networks], [name for _, name in networks], thresholds, together=True)
        if refusal and _says_more(refusal[0], refused):
            problems.append(refusal[1])
    return problems, resolved


def _says_more(together: set[tuple[str, int]], alone: set[tuple[str, int]]) -> bool:
    """Whether refusing the sources together says more than refusing them one by one did: the whole internet
    in a family no single source covers, or breadth where no single source was refused."""
    if any(kind == "world" for kind, _ in together):
        return not together <= alone
    return not alone


def _breadth_problem(
    networks: Sequence[Network], named: Sequence[str], thresholds: Any, *, together: bool = False
) -> tuple[set[tuple[str, int]], str] | None:
    """Why ``networks`` are refused as SSH sources, with what they are (``{("world" | "broad", family)}``), or ``None``."""
    found = verdict(networks, thresholds)
    subject = f"admin sources {', '.join(named)} together" if together else f"admin source {named[0]}"
    if found.world:
        family = _FAMILY_NAME[found.world[0]]
        spelled = "" if together or networks[0].prefixlen else " (a /0 block, however spelled, is every address)"
        verb = "cover" if together else "is"
        return {("world", f) for f in found.world}, _Refused(f"{subject} {verb} the whole public {family} internet{spelled}")
    if found.broad:
        family = found.broad[0]
        count = found.public[family == 6]
        amount = f"{count:,} public IPv4 addresses" if family == 4 else "public IPv6 space"
        return {("broad", f) for f in found.broad}, _Refused(
            f"{subject} {'hold' if together else 'holds'} {amount}, more than the limit of {thresholds.describe(family)} for "
            "an admin source; to allow a broad range on purpose, pass broad_source_reason='<who decided, and why>' "
            "(it is recorded as an acknowledgement of BroadAdminSource[22])"
        )
    return None


def _web_problems(
    web_sources: object, web_ports: object, policy: GuardPolicy
) -> tuple[list[str], list[ec2.IPeer], list[int]]:
    problems: list[str] = []
    peers: list[ec2.IPeer] = []
    ports: list[int] = []
    if isinstance(web_sources, (str, bytes)) or not isinstance(web_sources, Iterable):
        problems.append(f"web_sources must be a list of sources, not {web_sources!r}; for example ['0.0.0.0/0', '::/0']")
    else:
        for value in web_sources:
            peer, _ = _resolve_source(value, "web source", problems, policy, admin=False)
            if peer is not None:
                peers.append(peer)
    if isinstance(web_ports, (str, bytes)) or not isinstance(web_ports, Iterable):
        problems.append(f"web_ports must be a list of port numbers, not {web_ports!r}; for example (80, 443)")
        return problems, peers, ports
    for port in web_ports:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            problems.append(f"web port {port!r} is not a TCP port number (1-65535)")
        elif port in policy.admin_ports:
            problems.append(
                f"web port {port} ({policy.admin_ports[port]}) is an admin port and web_ports are open to web_sources "
                "(the whole internet by default); remove it from web_ports and grant SSH with allow_ssh_from(bastion), "
                "or use Session Manager"
            )
        else:
            ports.append(port)
    return problems, peers, ports


class _Refused(str):
    """A source refused for its breadth: the error then says once what to do instead (``_ADMIN_ADVICE``)."""


def _raise_if(problems: Sequence[str], where: str) -> None:
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        advice = f"\nInstead: {_ADMIN_ADVICE}." if any(isinstance(problem, _Refused) for problem in problems) else ""
        raise ValueError(f"{where}: {count}:\n{listing}{advice}")


# --------------------------------------------------------------------------------------------------
# The synth-time self-check: every rule aimed at the group, wherever it was added
# --------------------------------------------------------------------------------------------------

_INGRESS_PROPERTIES = {
    "ip_protocol": "IpProtocol", "from_port": "FromPort", "to_port": "ToPort", "cidr_ip": "CidrIp",
    "cidr_ipv6": "CidrIpv6", "source_prefix_list_id": "SourcePrefixListId",
    "source_security_group_id": "SourceSecurityGroupId", "source_security_group_name": "SourceSecurityGroupName",
    "source_security_group_owner_id": "SourceSecurityGroupOwnerId", "description": "Description",
}


def _standalone_ingress_rules(scope: IConstruct) -> list[ec2.CfnSecurityGroupIngress]:
    """Every ``AWS::EC2::SecurityGroupIngress`` of the app."""
    return [c for c in scope.node.root.node.find_all() if isinstance(c, ec2.CfnSecurityGroupIngress)]


def _resolved(scope: IConstruct, value: Any) -> Any:
    try:
        return Stack.of(scope).resolve(value)
    except Exception:  # noqa: BLE001 - a reference this stack never imported cannot point at the group
        return None


_CHECKED = (Rule.WORLD_OPEN_ADMIN_PORT, Rule.BROAD_ADMIN_SOURCE, Rule.WEB_SERVER_SSH_SOURCE, Rule.UNVERIFIABLE_INGRESS, Rule.MALFORMED_INGRESS)


@jsii.implements(IValidation)
class _OwnRulesCheck:
    """Checks, at synth, every rule that targets the group: its inline rules, and every standalone ingress
    resource of the app whose ``GroupId`` resolves to it (``connections`` from other stacks, the
    disable-inline-rules context, hand-written ``CfnSecurityGroupIngress``). So escape hatches cannot
    undo the constructs' promise, even in an app that does not register the AdminPortGuard plugin.
    The policy core decides, under the app's declared policy, as it does for the plugin.
    """

    def __init__(self, group: ec2.SecurityGroup, policy: GuardPolicy) -> None:
        self._group = group
        self._policy = policy

    def validate(self) -> list[str]:
        """Report the findings through the guard's validation report (see ``report_through_guard``)."""
        template = self._template()
        findings = self.findings(template)
        if report_through_guard(self, self._group, template.path, findings):
            return []
        return [f"{finding.message}; {finding.fix}" for finding in findings]

    def findings(self, template: Template) -> list[Finding]:
        """The core's findings on the group's rules (on a web server's group, with its SSH promise)."""
        inventory = read_inventory([template])
        paths = {p.rule_label: p.origin.construct_path for p in inventory.permissions}
        return [
            finding._replace(message=_with_paths(finding.message, paths))
            for finding in evaluate(inventory, self._policy)
            if finding.rule in _CHECKED
        ]

    def _template(self) -> Template:
        """A template holding the group (with its inline rules), every standalone rule aimed at it, and the
        prefix lists of its stack, each under its real logical id and construct path."""
        group = self._group
        cfn = group.node.default_child
        if not isinstance(cfn, ec2.CfnSecurityGroup):
            raise TypeError(f"{group.node.path}: its default child is {cfn!r}, not the ec2.CfnSecurityGroup to check")
        stack = Stack.of(group)
        stage = Stage.of(stack)
        if stage is None:
            raise ValueError(f"{group.node.path}: its stack {stack.node.path} is in no Stage or App, so it has no template file")
        group_id = stack.resolve(cfn.logical_id)
        inline = stack.resolve(cfn.security_group_ingress) or []
        resources: dict[str, Any] = {
            group_id: {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"SecurityGroupIngress": [_cfn_keys(rule) for rule in inline]},
                "Metadata": {"aws:cdk:path": cfn.node.path},
            }
        }
        promise = cfn.get_metadata(METADATA_KEY)
        if promise is not None:
            resources[group_id]["Metadata"][METADATA_KEY] = promise
        for prefix_list in (c for c in stack.node.find_all() if isinstance(c, ec2.CfnPrefixList)):
            resources[stack.resolve(prefix_list.logical_id)] = {
                "Type": "AWS::EC2::PrefixList",
                "Properties": {"Entries": [_cfn_keys(entry) for entry in stack.resolve(prefix_list.entries) or []]},
            }
        for rule in _standalone_ingress_rules(group):
            target = _resolved(rule, rule.group_id)
            if target is None or target not in (_resolved(rule, group.security_group_id), _resolved(rule, cfn.ref)):
                continue
            properties: dict[str, Any] = {"GroupId": {"Ref": group_id}}
            for attribute, name in _INGRESS_PROPERTIES.items():
                value = _resolved(rule, getattr(rule, attribute))
                if value is not None:
                    properties[name] = value
            logical_id = f"{Stack.of(rule).resolve(rule.logical_id)}"
            if logical_id in resources:  # the same logical id in another stack
                logical_id = f"{Stack.of(rule).stack_name}{logical_id}"
            resources[logical_id] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": properties,
                                     "Metadata": {"aws:cdk:path": rule.node.path}}
        return Template(stack.stack_name, os.path.join(stage.outdir, stack.template_file), {"Resources": resources})



def _with_paths(message: str, paths: dict[str, str]) -> str:
    """The core's message with the construct path after each rule it names: ``(rule Naive at App/Naive)``."""
    head, separator, rules = message.rpartition(" (rule")
    if not separator:
        return message
    labels = rules.rstrip(")").lstrip("s ").split("; ")
    named = "; ".join(f"{label} at {paths[label]}" if paths.get(label) else label for label in labels)
    return f"{head} (rule{'s' if len(labels) > 1 else ''} {named})"


def _cfn_keys(node: Any) -> Any:
    """CDK's resolved L1 properties (``cidrIp``) with CloudFormation's names (``CidrIp``)."""
    if isinstance(node, dict):
        return {(key[:1].upper() + key[1:] if not key.startswith(("Fn::", "Ref")) else key): _cfn_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_cfn_keys(item) for item in node]
    return node


def _description_problems(description: object) -> list[str]:
    if not isinstance(description, str) or not description.strip():
        return [f"description {description!r} must be a non-empty string"]
    return []


# --------------------------------------------------------------------------------------------------
# Constructs
# --------------------------------------------------------------------------------------------------


@jsii.implements(ec2.IConnectable)
class _CheckedSecurityGroup(Construct):
    """One ``ec2.SecurityGroup`` whose rules the policy core checks at synth (see ``_OwnRulesCheck``)."""

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
        policy: GuardPolicy,
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
        self._policy = policy
        if ssh_from_groups_only:
            resource = cast(ec2.CfnSecurityGroup, self.security_group.node.default_child)  # what ec2.SecurityGroup makes
            resource.add_metadata(METADATA_KEY, SSH_PROMISE)
        self.node.add_validation(_OwnRulesCheck(self.security_group, policy))

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
        rule at all (reach the host with Session Manager). Refused: a source, or a set of sources, that
        covers the whole public IPv4 or IPv6 internet, or holds more public addresses than the app's
        broad-source limit (default: a /16, or an IPv6 /48); a prefix list managed outside the app unless
        the app declares it trusted (``admin-port-guard.trustedPrefixLists`` in ``cdk.json``); malformed
        CIDRs and unresolved tokens.
    :param broad_source_reason: accept sources broader than the limit on purpose, for this reason (at least
        10 characters); recorded as an acknowledgement of ``BroadAdminSource[22]`` on this group. Default: none.
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
        broad_source_reason: str | None = None,
        description: str = "Bastion: SSH only from named admin sources",
        security_group_name: str | None = None,
        allow_all_outbound: bool = False,
    ) -> None:
        policy = guard_policy(scope)
        problems = _broad_reason_problems(broad_source_reason)
        broad_accepted = broad_source_reason is not None and not problems
        source_problems, resolved = _admin_source_problems(admin_sources, policy, broad_accepted=broad_accepted)
        _raise_if(problems + source_problems + _description_problems(description), f"BastionSecurityGroup {construct_id!r}")
        super().__init__(
            scope,
            construct_id,
            vpc=vpc,
            description=description,
            security_group_name=security_group_name,
            allow_all_outbound=allow_all_outbound,
            ssh_from_groups_only=False,
            policy=policy,
        )
        self._broad_accepted = broad_accepted
        if broad_accepted and broad_source_reason is not None:
            acknowledge_admin_port_finding(self, Rule.BROAD_ADMIN_SOURCE, broad_source_reason, port=SSH_PORT)
        self._networks: list[Network] = []
        self._add(resolved, "SSH from admin source")

    def allow_ssh_from(self, source: AdminSource, description: str = "SSH from admin source") -> None:
        """Allow SSH from one more admin source, with the same checks as ``admin_sources``.

        The check includes the sources already allowed: two halves of the internet are refused.
        :raises ValueError: when the source is refused.
        """
        problems, resolved = _admin_source_problems([source], self._policy, self._networks, broad_accepted=self._broad_accepted)
        _raise_if(problems, f"BastionSecurityGroup {self.node.path!r}.allow_ssh_from")
        self._add(resolved, description)

    def _add(self, resolved: Sequence[tuple[ec2.IPeer, Network | None, object]], description: str) -> None:
        for peer, network, _ in resolved:
            if network is not None:
                self._networks.append(network)
            self.connections.allow_from(peer, ec2.Port.tcp(SSH_PORT), description)


def _broad_reason_problems(reason: object) -> list[str]:
    if reason is None:
        return []
    try:
        check_reason(reason, "broad_source_reason")
    except ValueError as error:
        return [str(error)]
    return []


def _security_group_source(source: object) -> Any:
    """The connectable to use for SSH from ``source``, or raise TypeError when it is not a security group."""
    advice = (
        "web servers accept SSH only from security groups; pass the BastionSecurityGroup (or its "
        "security_group) and put admin CIDRs on BastionSecurityGroup(admin_sources=[...]) instead"
    )
    if isinstance(source, str):
        raise TypeError(f"allow_ssh_from({source!r}): a string is not a security group; {advice}")
    if isinstance(source, _CheckedSecurityGroup):
        return source.security_group  # the jsii object itself: creation stacks then keep the user's Python frames
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
        policy = guard_policy(scope)
        problems, peers, ports = _web_problems(web_sources, web_ports, policy)
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
            policy=policy,
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
    :param broad_source_reason: accept broad admin sources on purpose (see :class:`BastionSecurityGroup`).
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
        broad_source_reason: str | None = None,
        web_sources: Sequence[WebSource] = ("0.0.0.0/0", "::/0"),
        web_ports: Sequence[int] = (80, 443),
    ) -> None:
        policy = guard_policy(scope)
        broad_problems = _broad_reason_problems(broad_source_reason)
        broad_accepted = broad_source_reason is not None and not broad_problems
        problems = (
            broad_problems
            + _admin_source_problems(admin_sources, policy, broad_accepted=broad_accepted)[0]
            + _web_problems(web_sources, web_ports, policy)[0]
        )
        _raise_if(problems, f"BastionWebTier {construct_id!r}")
        super().__init__(scope, construct_id)
        self.bastion = BastionSecurityGroup(
            self, "Bastion", vpc=vpc, admin_sources=admin_sources, broad_source_reason=broad_source_reason
        )
        self.web = WebServerSecurityGroup(
            self, "Web", vpc=vpc, bastion=self.bastion, web_sources=web_sources, web_ports=web_ports
        )
