"""Load balancers that forward a listener port to a port of their targets (an admin port, say).

Whoever may reach the listener reaches the target port: the sources the load balancer's security
groups admit on the listener port or, for a load balancer without security groups, everyone. Network
and Classic load balancers pass TCP through (``TCP``/``TLS``/``TCP_UDP``, ``TCP``/``SSL`` listeners), so
``ssh -p 2222 lb.example.com`` reaches port 22 of a target whose own security group only admits the
load balancer. Application and Gateway load balancers do not carry SSH and are not read. Internal
load balancers (``Scheme: internal``) are not reachable from the internet. Docs:
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-listener.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancing-loadbalancer.html.

These readers run after every security group is read (``late=True``): they copy the load balancer's
admitted sources onto the target port.
"""

from __future__ import annotations

from ..intrinsics import ResourceRef, Unknown
from ..model import Source
from . import Resource, reads
from .services import ANYWHERE_IPV4, ANYWHERE_IPV6

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LB_FIX = (
    "Do not forward admin ports through an internet-facing load balancer: reach the hosts through a bastion or "
    "Session Manager, or make the load balancer internal."
)
_PASS_THROUGH = {"tcp", "tls", "tcp_udp", "ssl"}


@reads("AWS::ElasticLoadBalancingV2::Listener", late=True)
def network_listener(resource: Resource) -> None:
    """A listener of an internet-facing Network Load Balancer, forwarding to target groups."""
    balancer = _resource_of(resource, resource.properties.get("LoadBalancerArn"))
    if balancer is None:
        return
    types = resource.resolver.strings(balancer[1].get("Type", "application"))
    if not any(isinstance(kind, Unknown) or kind == "network" for kind in types):
        return
    if not _internet_facing(resource, balancer[1]) or not _passes_tcp(resource, resource.properties.get("Protocol", "TCP")):
        return
    target_ports: set[int] = set()
    for group in _target_groups(resource):
        targets = group.get("Targets")
        nodes = [group.get("Port")] + ([t.get("Port") for t in targets if isinstance(t, dict)] if isinstance(targets, list) else [])
        for node in nodes:  # the group's port, and any target's own
            target_ports |= set(_ports(resource, node))
    for listen in _ports(resource, resource.properties.get("Port")):
        _forward(resource, balancer, listen, sorted(target_ports), "IpAddressType")


@reads("AWS::ElasticLoadBalancing::LoadBalancer", late=True)
def classic_load_balancer(resource: Resource) -> None:
    """A Classic Load Balancer's ``TCP``/``SSL`` listeners, and the groups on its interfaces."""
    from .attachments import single_interface

    single_interface(resource)
    if not _internet_facing(resource, resource.properties):
        return
    for listeners in resource.resolver.lists(resource.properties.get("Listeners", [])):
        if isinstance(listeners, Unknown) or (isinstance(listeners, list) and any(isinstance(item, Unknown) for item in listeners)):
            resource.unverifiable("a listener is unknown at synth time: it may forward an admin port")
        for listener in listeners if isinstance(listeners, list) else ():
            if isinstance(listener, dict) and _passes_tcp(resource, listener.get("Protocol")):
                targets = _ports(resource, listener.get("InstancePort"))
                for listen in _ports(resource, listener.get("LoadBalancerPort")):
                    _forward(resource, (resource.template.name, resource.properties, resource.key), listen, targets, None)


def _forward(resource: Resource, balancer: tuple[str, dict[str, Any], str], listen: int, target_ports: list[int], address_type_field: str | None) -> None:
    """Permissions on the listener's targets: on each target port, whoever the load balancer admits on ``listen``."""
    if not target_ports:
        return
    template_name, properties, key = balancer
    groups_node = properties.get("SecurityGroups")
    group = resource.define_group("load balancer listener", LB_FIX)
    label = f"listener port {listen} forwarded to target port(s) {', '.join(map(str, target_ports))}"
    if groups_node is None:  # no security group: a Network Load Balancer admits everyone (Classic: VPC default group)
        if address_type_field is None:
            sources = [Source("unknown", "the load balancer has no SecurityGroups: the VPC's default group, whose rules are not in the template")]
        else:
            dualstack = any(
                isinstance(value, Unknown) or value == "dualstack"
                for value in resource.resolver.strings(properties.get(address_type_field, "ipv4"))
            )
            sources = [ANYWHERE_IPV4, ANYWHERE_IPV6] if dualstack else [ANYWHERE_IPV4]
        for source in sources:
            for port in target_ports:
                resource.permit(group, "tcp", (port, port), source, f"{label} (the load balancer has no security group)")
        return
    balancer_groups, unresolved = resource.group_keys(groups_node, "GroupId")
    for reason in unresolved:
        for port in target_ports:
            resource.permit(group, "tcp", (port, port), Source("unknown", f"SecurityGroups of the load balancer: {reason}"), label)
    for permission in list(resource.context.inventory.permissions):
        if permission.group in balancer_groups and permission.reaches_tcp_ports(listen, listen):
            for port in target_ports:
                resource.permit(group, "tcp", (port, port), permission.source, f"{label}, admitted by {permission.rule_label}", permission.certain)


def _resource_of(resource: Resource, node: Any) -> tuple[str, dict[str, Any], str] | None:
    """The ``(template name, properties, key)`` of the resource ``node`` refers to (every candidate: the first found)."""
    for value in resource.resolver.candidates(node):
        if isinstance(value, ResourceRef) and value.template in resource.context.templates:
            target = resource.context.templates[value.template][0].body["Resources"].get(value.logical_id)
            if isinstance(target, dict) and isinstance(target.get("Properties", {}), dict):
                return value.template, target.get("Properties", {}), f"{value.template}:{value.logical_id}"
    return None


def _target_groups(resource: Resource) -> list[dict[str, Any]]:
    groups = []
    for actions in resource.resolver.lists(resource.properties.get("DefaultActions", [])):
        for action in actions if isinstance(actions, list) else ():
            if not isinstance(action, dict):
                continue
            arns = [action.get("TargetGroupArn")]
            forward = action.get("ForwardConfig")
            if isinstance(forward, dict) and isinstance(forward.get("TargetGroups"), list):
                arns += [item.get("TargetGroupArn") for item in forward["TargetGroups"] if isinstance(item, dict)]
            for arn in arns:
                found = _resource_of(resource, arn) if arn is not None else None
                if found is not None:
                    groups.append(found[1])
    return groups


def _ports(resource: Resource, node: Any) -> list[int]:
    """The port numbers ``node`` may be (CloudFormation writes some as strings: ``"22"``)."""
    return [int(value) for value in resource.resolver.strings(node) if isinstance(value, str) and value.isascii() and value.isdigit()]


def _internet_facing(resource: Resource, properties: dict[str, Any]) -> bool:
    return any(isinstance(v, Unknown) or v != "internal" for v in resource.resolver.strings(properties.get("Scheme", "internet-facing")))


def _passes_tcp(resource: Resource, protocol: Any) -> bool:
    return any(
        isinstance(value, Unknown) or str(value).lower() in _PASS_THROUGH
        for value in resource.resolver.strings(protocol)
    )
