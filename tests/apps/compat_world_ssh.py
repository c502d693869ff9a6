"""`make compat`: SSH open to 0.0.0.0/0 in an app that also runs cdk-nag (2 or 3): the guard must fail the synth.

cdk-nag's own finding on the group (AwsSolutions-EC23) is accepted, so the failure can only be the guard's.
"""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib import add_admin_port_guard
from stacks.nag_compat import accept_nag_finding, add_aws_solutions_checks

app = cdk.App()
add_aws_solutions_checks(app)
add_admin_port_guard(app)
stack = cdk.Stack(app, "CompatWorldSsh")
vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
group = ec2.SecurityGroup(stack, "Web", vpc=vpc, description="web server", allow_all_outbound=False)
group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22), "SSH from anywhere: the mistake")
accept_nag_finding(group, "EC23", "Accepted here so that only the admin-port guard can fail this synth.")
app.synth()
