"""Patches for moto 5.2.5 so that ``cdk deploy`` / ``cdk destroy`` of the reference stack behave like AWS.

Loaded only by the project's local emulator (``scripts/deploy_local.py serve``), in the moto server process,
before it serves a request. Nothing here changes the CDK CLI or the deployed template. Each patch fixes one
gap of stock moto's CloudFormation layer that was measured with CDK CLI 2.1148.1:

1. ``AWS::EC2::Instance``: stock moto ignores ``SecurityGroupIds`` (CDK's instances come up with no group)
   and never assigns a public IP. Patched: the instance is launched with its ``SecurityGroupIds`` and, like
   EC2, gets a public IP when its subnet has ``MapPublicIpOnLaunch``.
2. ``AWS::EC2::Subnet``: stock moto drops ``MapPublicIpOnLaunch``. Patched: it is applied.
3. Change sets (``cdk deploy`` always uses one): stock moto evaluates the stack's Outputs when the stack is
   created empty and never again, so ``describe_stacks`` shows no Outputs. Patched: Outputs are
   re-evaluated after a change set is executed.
4. ``cdk destroy``: stock moto cannot delete route tables, subnet route-table associations, VPC gateway
   attachments and internet gateways from a stack, so the VPC delete fails ("vpc has dependencies").
   Patched: those four resource types get ``delete`` methods (moto's stack delete retries in dependency
   order, so a delete that is still blocked simply runs again in the next pass).

``apply()`` is idempotent. Re-measure (and ideally drop) these when moto is upgraded.
"""

from __future__ import annotations

from typing import Any

MOTO_VERSION = "5.2.5"

_applied = False


def apply() -> None:
    """Install every patch (once)."""
    global _applied
    if _applied:
        return
    _patch_instance()
    _patch_subnet()
    _patch_change_set_outputs()
    _patch_deletes()
    _applied = True


def _backend(account_id: str, region_name: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region_name]


def _patch_instance() -> None:
    from moto.ec2.models.instances import Instance

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        properties = cloudformation_json["Properties"]
        backend = _backend(account_id, region_name)
        group_names = [backend.get_security_group_from_id(group).name for group in properties.get("SecurityGroups", [])]
        reservation = backend.run_instances(
            image_id=properties["ImageId"],
            user_data=properties.get("UserData"),
            count=1,
            security_group_names=group_names,
            security_group_ids=list(properties.get("SecurityGroupIds", [])),  # patch 1
            associate_public_ip=None,  # patch 1: follow the subnet's MapPublicIpOnLaunch, as EC2 does
            instance_type=properties.get("InstanceType", "m1.small"),
            is_instance_type_default=not properties.get("InstanceType"),
            subnet_id=properties.get("SubnetId"),
            key_name=properties.get("KeyName"),
            private_ip=properties.get("PrivateIpAddress"),
            block_device_mappings=properties.get("BlockDeviceMappings", {}),
        )
        instance = reservation.instances[0]
        for tag in properties.get("Tags", []):
            instance.add_tag(tag["Key"], tag["Value"])
        if properties.get("IamInstanceProfile"):
            backend.associate_iam_instance_profile(
                instance_id=instance.id, iam_instance_profile_name=properties["IamInstanceProfile"]
            )
        return instance

    Instance.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment]


def _patch_subnet() -> None:
    from moto.ec2.models.subnets import Subnet

    original = Subnet.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        subnet = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        value = cloudformation_json["Properties"].get("MapPublicIpOnLaunch")
        if value is not None:
            subnet.map_public_ip_on_launch = str(value).lower() == "true"  # patch 2
        return subnet

    Subnet.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment]


def _patch_change_set_outputs() -> None:
    from moto.cloudformation.models import ChangeSet
    from moto.cloudformation.parsing import OutputMap

    original = ChangeSet.apply

    def apply(self: Any) -> None:
        original(self)
        # patch 3: the stack still holds the template it was created with (empty for a CREATE change set)
        self.stack.template_dict = self.template_dict
        self.stack.output_map = OutputMap(self.stack.resource_map, self.template_dict, self.stack.stack_id)

    ChangeSet.apply = apply  # type: ignore[method-assign]


def _patch_deletes() -> None:
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.subnets import SubnetRouteTableAssociation
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment

    def delete_route_table(self: Any, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_route_table(self.id)

    def delete_association(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        table = backend.route_tables.get(self.route_table_id)  # gone already if its subnet went first
        for association_id, subnet_id in list(table._associations.items() if table else ()):
            if subnet_id == self.subnet_id:
                backend.disassociate_route_table(association_id)

    def delete_attachment(self: Any, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if str(self.gateway_id).startswith("igw-"):
            backend.detach_internet_gateway(self.gateway_id, self.vpc_id)
        else:
            backend.detach_vpn_gateway(self.gateway_id, self.vpc_id)

    def delete_internet_gateway(self: Any, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_internet_gateway(self.id)  # DependencyViolation while attached

    RouteTable.delete = delete_route_table  # type: ignore[attr-defined]
    SubnetRouteTableAssociation.delete = delete_association  # type: ignore[attr-defined]
    VPCGatewayAttachment.delete = delete_attachment  # type: ignore[attr-defined]
    InternetGateway.delete = delete_internet_gateway  # type: ignore[attr-defined]
