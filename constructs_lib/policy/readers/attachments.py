"""Attachments: which security groups sit together on one network interface (EC2 unites their rules).

"When you associate multiple security groups with an instance, the rules from each security group
are effectively aggregated" (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html);
groups belong to network interfaces, so the union is per interface, never across the interfaces of
one instance, and never across the launch specifications of a fleet (each launches its own instances).
"""

from __future__ import annotations

from . import Resource, reads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _interfaces(resource: Resource, node: Any, groups_field: str) -> list[tuple[str, Any]]:
    """``(suffix, groups node)`` per network interface in a ``NetworkInterfaces`` list (every candidate)."""
    result = []
    for candidate in resource.resolver.lists(node) if node is not None else ():
        if not isinstance(candidate, list):
            continue  # unknown interfaces: no groups to unite that we could name
        for index, interface in enumerate(candidate):
            if isinstance(interface, dict) and groups_field in interface:
                device = str(interface.get("DeviceIndex", index))
                result.append((f"#eth{device}", interface[groups_field]))
    return result


def _attach_primary_and_interfaces(
    resource: Resource, kind: str, ids: Any, names: Any, interfaces: Any, interface_groups_field: str
) -> None:
    """Instances and launch templates: groups on the primary interface, or per ``NetworkInterfaces`` entry."""
    if ids is not None or names is not None:
        keys, unresolved = resource.group_keys(ids, "GroupId")
        name_keys, name_unresolved = resource.group_keys(names, "GroupName")
        keys += [key for key in name_keys if key not in keys]
        resource.attach(kind, resource.name, keys, unresolved + name_unresolved)
    for suffix, node in _interfaces(resource, interfaces, interface_groups_field):
        keys, unresolved = resource.group_keys(node, "GroupId")
        name = resource.name if suffix == "#eth0" else f"{resource.name} {suffix[1:]}"  # the primary interface
        resource.attach(kind, name, keys, unresolved, suffix)


#: Instances and launch templates: ``(kind, path to the launch data, field of an interface's groups)``. Their groups
#: sit on the primary interface (``SecurityGroupIds``/``SecurityGroups``) or on each ``NetworkInterfaces`` entry.
PRIMARY_AND_INTERFACES = {
    "AWS::EC2::Instance": ("instance", (), "GroupSet"),
    "AWS::EC2::LaunchTemplate": ("launch template", ("LaunchTemplateData",), "Groups"),
}


@reads(*PRIMARY_AND_INTERFACES)
def instance_or_launch_template(resource: Resource) -> None:
    kind, path, interface_groups_field = PRIMARY_AND_INTERFACES[resource.type]
    data = resource.lookup(*path) if path else resource.properties
    if isinstance(data, dict):
        _attach_primary_and_interfaces(
            resource, kind, data.get("SecurityGroupIds"), data.get("SecurityGroups"), data.get("NetworkInterfaces"),
            interface_groups_field,
        )


@reads("AWS::EC2::SpotFleet")
def spot_fleet(resource: Resource) -> None:
    """Each ``LaunchSpecifications[]`` entry: ``SecurityGroups`` (``[{GroupId}]``) or ``NetworkInterfaces[].Groups``."""
    config = resource.properties.get("SpotFleetRequestConfigData")
    specifications = config.get("LaunchSpecifications") if isinstance(config, dict) else None
    for candidate in resource.resolver.lists(specifications) if specifications is not None else ():
        for index, specification in enumerate(candidate if isinstance(candidate, list) else ()):
            if not isinstance(specification, dict):
                continue
            if "SecurityGroups" in specification:
                keys, unresolved = resource.group_keys(specification["SecurityGroups"], "GroupId")
                resource.attach("spot fleet", f"{resource.name} spec {index}", keys, unresolved, f"#spec{index}")
            for suffix, node in _interfaces(resource, specification.get("NetworkInterfaces"), "Groups"):
                keys, unresolved = resource.group_keys(node, "GroupId")
                resource.attach("spot fleet", f"{resource.name} spec {index} {suffix[1:]}", keys, unresolved, f"#spec{index}{suffix}")


#: Resource types whose instances (or tasks, nodes) each get one interface with the groups at ``path``.
SINGLE_INTERFACE = {
    "AWS::EC2::NetworkInterface": ("network interface", ("GroupSet",), "GroupId"),
    "AWS::AutoScaling::LaunchConfiguration": ("launch configuration", ("SecurityGroups",), "GroupName"),
    "AWS::ECS::Service": ("ECS service", ("NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups"), "GroupId"),
    "AWS::ECS::TaskSet": ("ECS task set", ("NetworkConfiguration", "AwsVpcConfiguration", "SecurityGroups"), "GroupId"),
    "AWS::Batch::ComputeEnvironment": ("Batch compute environment", ("ComputeResources", "SecurityGroupIds"), "GroupId"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ("load balancer", ("SecurityGroups",), "GroupId"),
    "AWS::ElasticLoadBalancing::LoadBalancer": ("load balancer", ("SecurityGroups",), "GroupId"),
}


@reads(*(kind for kind in SINGLE_INTERFACE if kind != "AWS::ElasticLoadBalancing::LoadBalancer"))  # see load_balancers.py
def single_interface(resource: Resource) -> None:
    kind, path, field = SINGLE_INTERFACE[resource.type]
    node = resource.lookup(*path)
    if node is not None:
        keys, unresolved = resource.group_keys(node, field)
        resource.attach(kind, resource.name, keys, unresolved)


@reads("AWS::EMR::Cluster")
def emr_cluster(resource: Resource) -> None:
    """The master node's managed and additional groups; the core/task nodes' (https://docs.aws.amazon.com/emr/latest/APIReference/API_JobFlowInstancesConfig.html)."""
    instances = resource.properties.get("Instances")
    if not isinstance(instances, dict):
        return
    for role, managed, additional in (
        ("master", "EmrManagedMasterSecurityGroup", "AdditionalMasterSecurityGroups"),
        ("core/task", "EmrManagedSlaveSecurityGroup", "AdditionalSlaveSecurityGroups"),
    ):
        if managed not in instances and additional not in instances:
            continue
        keys, unresolved = resource.group_keys([instances[managed]] if managed in instances else [], "GroupId")
        more, more_unresolved = resource.group_keys(instances.get(additional), "GroupId")
        keys += [key for key in more if key not in keys]
        resource.attach("EMR cluster", f"{resource.name} {role} nodes", keys, unresolved + more_unresolved, f"#{role.split('/')[0]}")
