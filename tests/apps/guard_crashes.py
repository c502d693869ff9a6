"""An app whose guard crashes (crash injected into the policy core): the synth must fail, not pass."""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

import constructs_lib.plugin
from constructs_lib import add_admin_port_guard


def _crash(*_args, **_kwargs):
    raise MemoryError("injected crash inside the policy core")


constructs_lib.plugin.evaluate = _crash

app = cdk.App()
stack = cdk.Stack(app, "GuardCrashes")
ec2.CfnSecurityGroup(stack, "Web", group_description="web server", vpc_id="vpc-0123456789abcdef0")
add_admin_port_guard(app)
app.synth()
