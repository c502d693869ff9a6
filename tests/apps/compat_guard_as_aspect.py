"""`make compat`: the guard registered as an aspect, the cdk-nag 2 habit: the synth must fail saying how to register it."""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib import AdminPortGuard
from stacks.nag_compat import add_aws_solutions_checks

app = cdk.App()
add_aws_solutions_checks(app)
cdk.Aspects.of(app).add(AdminPortGuard(app))
stack = cdk.Stack(app, "CompatGuardAsAspect")
ec2.CfnSecurityGroup(stack, "Web", group_description="web server", vpc_id="vpc-0123456789abcdef0")
app.synth()
