"""SSH in stacks of a Stage and of a Stage in a Stage, as real apps lay them out.

``OPEN=0`` closes the port (203.0.113.10/32 instead of 0.0.0.0/0); ``GUARD=inner`` registers the guard on the
inner stage only (after it was created) instead of on the app (first thing, as the README says).
"""

import os

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib import add_admin_port_guard


def web_tier(stack: cdk.Stack, source: ec2.IPeer) -> None:
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"])
    group = ec2.SecurityGroup(stack, "Web", vpc=vpc, description="web server", allow_all_outbound=False)
    group.add_ingress_rule(source, ec2.Port.tcp(22), "SSH")


source = ec2.Peer.any_ipv4() if os.environ.get("OPEN", "1") == "1" else ec2.Peer.ipv4("203.0.113.10/32")
app = cdk.App()
if os.environ.get("GUARD", "app") == "app":
    add_admin_port_guard(app)
web_tier(cdk.Stack(app, "Shared"), ec2.Peer.ipv4("203.0.113.10/32"))
prod = cdk.Stage(app, "Prod")
web_tier(cdk.Stack(prod, "Web"), source)
inner = cdk.Stage(prod, "Inner")
web_tier(cdk.Stack(inner, "Deep"), source)
if os.environ.get("GUARD") == "inner":
    add_admin_port_guard(inner)
app.synth()
