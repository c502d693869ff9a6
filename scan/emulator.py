"""The templates as the local AWS emulator deploys them: the scan's packet filter comes from here, never
from the policy core's reading of the templates.

Each template is created as a CloudFormation stack in moto 5.2.5, in-process (``moto.mock_aws``, patched by
``scripts/moto_patches.py`` so instances are launched in their ``SecurityGroupIds``), and read back with
``DescribeSecurityGroups`` and ``DescribeInstances``. Every client is given moto's own endpoint and dummy
credentials, so no request can leave the process. What moto's CloudFormation layer gets wrong, and why the
scan is not affected:

* inline ``CidrIpv6`` and ``SourcePrefixListId`` rules are dropped: the test network is IPv4 and prefix
  lists are not modelled, so the scan never exercises either;
* an inline all-traffic rule (``IpProtocol: -1``) without ``FromPort``/``ToPort`` crashes the create:
  ``deploy`` raises ``EmulatorError`` saying so (the scanned variants have none).
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.policy import Template

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
#: CDK templates check the bootstrap version through this SSM parameter.
BOOTSTRAP_VERSION = ("/cdk-bootstrap/hnb659fds/version", "27")
KNOWN_GAPS = (
    "moto 5.2.5 drops inline CidrIpv6 and SourcePrefixListId rules, and fails on inline IpProtocol -1 rules "
    "without FromPort/ToPort"
)


class EmulatorError(RuntimeError):
    """The emulator could not deploy a template."""


@dataclass(frozen=True)
class Deployment:
    """What the emulator holds after the deploy."""

    security_groups: dict[str, dict[str, Any]]  # group id -> DescribeSecurityGroups item
    instances: dict[str, tuple[str, ...]]  # "<template name>:<logical id>" -> ids of the instance's groups


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION, endpoint_url=f"https://{service}.{REGION}.amazonaws.com",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def deploy(templates: Sequence[Template], change: Callable[[Callable[[str], Any]], None] | None = None) -> Deployment:
    """Create one stack per template, in order, then run ``change`` (given a client factory: a drift or a
    remediation after the deploy), and read back the security groups and the instances' groups."""
    import moto

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import moto_patches
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    moto_patches.apply()
    moto_log = logging.getLogger("moto")
    level = moto_log.level
    moto_log.setLevel(logging.ERROR)  # "No Moto CloudFormation support for ..." (egress, CDK metadata): not scanned
    try:
        with moto.mock_aws(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Tried to parse", UserWarning)
            return _deploy(templates, change)
    finally:
        moto_log.setLevel(level)


def _deploy(templates: Sequence[Template], change: Callable[[Callable[[str], Any]], None] | None) -> Deployment:
    cloudformation, ec2 = _client("cloudformation"), _client("ec2")
    _client("ssm").put_parameter(Name=BOOTSTRAP_VERSION[0], Value=BOOTSTRAP_VERSION[1], Type="String")
    instance_keys: dict[str, str] = {}
    for index, template in enumerate(templates):
        stack = f"Scan{index}"
        try:
            cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template.body))
            status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except Exception as error:  # noqa: BLE001 - moto raises whatever its parser hit
            raise EmulatorError(f"the emulator could not deploy {template.name}: {type(error).__name__}: {error} "
                                f"({KNOWN_GAPS})") from None
        if status != "CREATE_COMPLETE":
            raise EmulatorError(f"the emulator left {template.name} in {status}")
        for resource in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]:
            if resource.get("ResourceType") == "AWS::EC2::Instance":
                instance_keys[resource["PhysicalResourceId"]] = f"{template.name}:{resource['LogicalResourceId']}"
    if change is not None:
        change(_client)
    groups = {group["GroupId"]: group for page in ec2.get_paginator("describe_security_groups").paginate()
              for group in page["SecurityGroups"]}
    instances = {}
    if instance_keys:
        for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=list(instance_keys)):
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    groups_of = tuple(group["GroupId"] for group in instance.get("SecurityGroups", []))
                    instances[instance_keys[instance["InstanceId"]]] = groups_of
    return Deployment(groups, instances)
