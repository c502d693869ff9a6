"""World SSH that no single template shows: halves of IPv4 split across stacks, a stage and a nested stack."""

import os

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib import add_admin_port_guard

VPC_ID = "vpc-0123456789abcdef0"


def low_half_rule(scope, construct_id: str, group_id: str) -> None:
    ec2.CfnSecurityGroupIngress(scope, construct_id, group_id=group_id, ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/1")


app = cdk.App(outdir=os.environ.get("CDK_OUTDIR"))  # in-process runs (tests/test_fuzz.py) set it after jsii started
add_admin_port_guard(app)  # first, as the README says: then the stage's stacks keep their construct paths

# Cross-stack: the group lives in one stack, half of the world is added from another (Fn::ImportValue).
owner = cdk.Stack(app, "GroupOwner")
shared = ec2.CfnSecurityGroup(
    owner,
    "Shared",
    group_description="shared",
    vpc_id=VPC_ID,
    security_group_ingress=[ec2.CfnSecurityGroup.IngressProperty(ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="128.0.0.0/1")],
)
low_half_rule(cdk.Stack(app, "RuleAdder"), "LowHalf", shared.attr_group_id)

# A stage (nested cloud assembly) whose nested stack opens RDP to all of IPv6 global unicast.
stage = cdk.Stage(app, "Prod")
parent = cdk.Stack(stage, "Parent")
nested = cdk.NestedStack(parent, "Network")
ec2.CfnSecurityGroup(
    nested,
    "Rdp",
    group_description="rdp",
    vpc_id=VPC_ID,
    security_group_ingress=[ec2.CfnSecurityGroup.IngressProperty(ip_protocol="6", from_port=3389, to_port=3389, cidr_ipv6="2000::/3")],
)

app.synth()
