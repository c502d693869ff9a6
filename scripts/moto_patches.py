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
5. ``AWS::Config::ConfigRule``: stock moto's CloudFormation skips every ``AWS::Config::*`` resource silently
   (and a ``Ref`` to one vanishes). Patched: the rule is created with moto's ``PutConfigRule`` (which checks
   that the Lambda function exists) and deleted with the stack; ``Ref`` gives its name, ``Fn::GetAtt`` its
   ``Arn`` and ``ConfigRuleId``. ``AWS::Config::OrganizationConfigRule`` stays unsupported (moto has no
   organization rules at all).
6. Evaluations (``apply_evaluations()``, also used in-process by the unit tests): stock ``PutEvaluations``
   refuses anything but ``TestMode`` and stores nothing, and ``GetComplianceDetailsByConfigRule`` does not
   exist. Patched: evaluations are validated as AWS does (compliance type, annotation of at most 256
   characters, at most 100 per call) and stored per rule, the latest ``OrderingTimestamp`` per resource
   winning, and ``GetComplianceDetailsByConfigRule`` returns them (``ComplianceTypes``, ``Limit``,
   ``NextToken``). AWS Config issues the ``ResultToken`` of each invocation; here whoever plays Config makes
   one with ``result_token(rule_name)``.

7. ``AWS::Config::RemediationConfiguration``: skipped by stock moto like every ``AWS::Config::*`` resource, and
   moto has no remediation API. Patched: created from the template (refused, as AWS refuses
   ``PutRemediationConfigurations``, unless the rule and the target SSM document exist), deleted with the stack,
   and read back with ``DescribeRemediationConfigurations``. SSM never runs the document here: whoever plays
   Config renders its one step and calls the handler (``scripts/deploy_local.py``, ``remediate_config_rule``).
8. ``AWS::SSM::Document``: CloudFormation takes ``Content`` as an object; stock moto stores the object where the
   SSM API holds text, and ``DescribeDocument``/``GetDocument`` then fail (500). Patched: an object is stored as its
   JSON text.

Not emulated: moto's Config never records configuration items of security groups, never invokes the
rule's function, and its Lambda never runs Python code; the harness calls the handler itself.

``apply()`` is idempotent. Re-measure (and ideally drop) these when moto is upgraded.
"""

from __future__ import annotations

import json
import time
from typing import Any

MOTO_VERSION = "5.2.5"
#: Prefix of the result tokens this emulator accepts (see ``result_token``).
RESULT_TOKEN_PREFIX = "moto-result-token:"

_applied: set[str] = set()


def apply() -> None:
    """Install every patch (once)."""
    if "all" in _applied:
        return
    _patch_instance()
    _patch_subnet()
    _patch_change_set_outputs()
    _patch_deletes()
    _patch_config_rule_resource()
    _patch_remediation_configuration()
    _patch_ssm_document()
    apply_evaluations()
    _applied.add("all")


def apply_evaluations() -> None:
    """Install patch 6 only (once): stored evaluations and ``GetComplianceDetailsByConfigRule``."""
    if "evaluations" not in _applied:
        _patch_evaluations()
        _applied.add("evaluations")


def result_token(rule_name: str) -> str:
    """A ``ResultToken`` for one evaluation of ``rule_name``, as AWS Config passes it to the rule's function."""
    return RESULT_TOKEN_PREFIX + rule_name


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


def _patch_config_rule_resource() -> None:
    from moto.cloudformation import parsing
    from moto.config.models import config_backends
    from moto.core.common_models import CloudFormationModel

    class ConfigRuleResource(CloudFormationModel):  # patch 5
        __module__ = "moto_patches.config"  # moto's model metaclass takes the service from the 2nd dotted part

        def __init__(self, rule: Any, account_id: str, region_name: str) -> None:
            self.rule, self.account_id, self.region_name = rule, account_id, region_name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Config::ConfigRule"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "ConfigRuleName"

        @property
        def physical_resource_id(self) -> str:
            return self.rule.config_rule_name  # type: ignore[no-any-return]

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in ("Arn", "ConfigRuleId")

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.rule.config_rule_arn if attribute_name == "Arn" else self.rule.config_rule_id  # type: ignore[no-any-return]

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
        ) -> Any:
            properties = {key: value for key, value in cloudformation_json["Properties"].items() if key not in ("Compliance", "EvaluationModes")}
            properties["ConfigRuleName"] = resource_name
            if isinstance(properties.get("InputParameters"), dict):  # an object in CloudFormation, a JSON string in the API
                properties["InputParameters"] = json.dumps(properties["InputParameters"])
            backend = config_backends[account_id][region_name]
            backend.put_config_rule(properties, None)
            return cls(backend.config_rules[resource_name], account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
        ) -> None:
            config_backends[account_id][region_name].delete_config_rule(resource_name)

        def delete(self, account_id: str, region_name: str) -> None:
            config_backends[account_id][region_name].delete_config_rule(self.rule.config_rule_name)

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def _patch_evaluations() -> None:
    from moto.config.exceptions import (
        InvalidParameterValueException,
        InvalidResultTokenException,
        NoSuchConfigRuleException,
        ValidationException,
    )
    from moto.config.models import ConfigBackend
    from moto.config.responses import ConfigResponse

    original_delete = ConfigBackend.delete_config_rule

    def stored(backend: Any) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
        return backend.__dict__.setdefault("_stored_evaluations", {})  # type: ignore[no-any-return]

    def put_evaluations(self: Any, evaluations: Any = None, result_token: Any = None, test_mode: Any = False) -> dict[str, Any]:
        if not evaluations:
            raise InvalidParameterValueException("The Evaluations object in your request cannot be null.")
        if len(evaluations) > 100:
            raise ValidationException("Member must have length less than or equal to 100 (evaluations)")
        rule_name = str(result_token or "").removeprefix(RESULT_TOKEN_PREFIX)
        if not str(result_token or "").startswith(RESULT_TOKEN_PREFIX) or rule_name not in self.config_rules:
            raise InvalidResultTokenException()
        for evaluation in evaluations:
            if evaluation.get("ComplianceType") not in ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"):
                raise InvalidParameterValueException(f"ComplianceType {evaluation.get('ComplianceType')!r} is not valid in PutEvaluations")
            if len(evaluation.get("Annotation") or "") > 256:
                raise ValidationException("Annotation: Member must have length less than or equal to 256")
        if test_mode:
            return {"FailedEvaluations": []}
        results = stored(self).setdefault(rule_name, {})
        for evaluation in evaluations:
            key = (evaluation["ComplianceResourceType"], evaluation["ComplianceResourceId"])
            previous = results.get(key)
            if previous is None or float(evaluation["OrderingTimestamp"]) >= previous["OrderingTimestamp"]:
                results[key] = {**evaluation, "OrderingTimestamp": float(evaluation["OrderingTimestamp"]),
                                "ResultRecordedTime": time.time(), "ResultToken": result_token}
        return {"FailedEvaluations": []}

    def get_compliance_details_by_config_rule(
        self: Any, rule_name: str, compliance_types: Any, limit: Any, next_token: Any
    ) -> dict[str, Any]:
        if rule_name not in self.config_rules:
            raise NoSuchConfigRuleException(rule_name)
        results = [
            result for _, result in sorted(stored(self).get(rule_name, {}).items())
            if not compliance_types or result["ComplianceType"] in compliance_types
        ]
        start, size = int(next_token or 0), int(limit or 10)
        page = {"EvaluationResults": [
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {"ConfigRuleName": rule_name, "ResourceType": result["ComplianceResourceType"],
                                                  "ResourceId": result["ComplianceResourceId"], "EvaluationMode": "DETECTIVE"},
                    "OrderingTimestamp": result["OrderingTimestamp"],
                },
                "ComplianceType": result["ComplianceType"],
                "ResultRecordedTime": result["ResultRecordedTime"],
                "ConfigRuleInvokedTime": result["ResultRecordedTime"],
                "ResultToken": result["ResultToken"],
                **({"Annotation": result["Annotation"]} if result.get("Annotation") else {}),
            }
            for result in results[start:start + size]
        ]}
        if start + size < len(results):
            page["NextToken"] = str(start + size)
        return page

    def delete_config_rule(self: Any, rule_name: str) -> None:
        original_delete(self, rule_name)
        stored(self).pop(rule_name, None)

    def respond(self: Any) -> str:
        return json.dumps(self.config_backend.get_compliance_details_by_config_rule(
            self._get_param("ConfigRuleName"), self._get_param("ComplianceTypes"), self._get_param("Limit"), self._get_param("NextToken")
        ))

    ConfigBackend.put_evaluations = put_evaluations  # type: ignore[method-assign]
    ConfigBackend.get_compliance_details_by_config_rule = get_compliance_details_by_config_rule  # type: ignore[attr-defined]
    ConfigBackend.delete_config_rule = delete_config_rule  # type: ignore[method-assign]
    ConfigResponse.get_compliance_details_by_config_rule = respond  # type: ignore[attr-defined]


def _patch_remediation_configuration() -> None:
    from moto.cloudformation import parsing
    from moto.config.exceptions import InvalidParameterValueException, NoSuchConfigRuleException
    from moto.config.models import config_backends
    from moto.config.responses import ConfigResponse
    from moto.core.common_models import CloudFormationModel
    from moto.ssm.models import ssm_backends

    def stored(backend: Any) -> dict[str, dict[str, Any]]:
        return backend.__dict__.setdefault("_remediation_configurations", {})  # type: ignore[no-any-return]

    class RemediationConfigurationResource(CloudFormationModel):  # patch 7
        __module__ = "moto_patches.config"

        def __init__(self, rule_name: str) -> None:
            self.rule_name = rule_name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Config::RemediationConfiguration"

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @property
        def physical_resource_id(self) -> str:
            return self.rule_name

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
        ) -> Any:
            properties = dict(cloudformation_json["Properties"])
            backend = config_backends[account_id][region_name]
            rule_name = properties["ConfigRuleName"]
            if rule_name not in backend.config_rules:
                raise NoSuchConfigRuleException(rule_name)
            if properties.get("TargetType") != "SSM_DOCUMENT" or properties.get("TargetId") not in ssm_backends[account_id][region_name]._documents:
                raise InvalidParameterValueException(f"the target SSM document {properties.get('TargetId')!r} does not exist")
            properties["Arn"] = f"arn:aws:config:{region_name}:{account_id}:remediation-configuration/{rule_name}/{resource_name}"
            stored(backend)[rule_name] = properties
            return cls(rule_name)

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
        ) -> None:
            stored(config_backends[account_id][region_name]).pop(cloudformation_json["Properties"]["ConfigRuleName"], None)

        def delete(self, account_id: str, region_name: str) -> None:
            stored(config_backends[account_id][region_name]).pop(self.rule_name, None)

    def respond(self: Any) -> str:
        configurations = stored(self.config_backend)
        names = self._get_param("ConfigRuleNames") or []
        return json.dumps({"RemediationConfigurations": [configurations[name] for name in names if name in configurations]})

    ConfigResponse.describe_remediation_configurations = respond  # type: ignore[attr-defined]
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def _patch_ssm_document() -> None:
    from moto.ssm.models import Document

    original = Document.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        properties = cloudformation_json["Properties"]
        if isinstance(properties.get("Content"), dict):  # patch 8
            cloudformation_json = {**cloudformation_json, "Properties": {**properties, "Content": json.dumps(properties["Content"])}}
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Document.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign,assignment]
