"""An app that opens SSH to the world through a raw property override: the guard must fail its synth."""

import os

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib import add_admin_port_guard

app = cdk.App(outdir=os.environ.get("CDK_OUTDIR"))  # in-process runs (tests/test_fuzz.py) set it after jsii started
stack = cdk.Stack(app, "WorldSshByOverride")
group = ec2.CfnSecurityGroup(stack, "Web", group_description="web server", vpc_id="vpc-0123456789abcdef0")
group.add_property_override(
    "SecurityGroupIngress", [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]
)
add_admin_port_guard(app)
app.synth()
