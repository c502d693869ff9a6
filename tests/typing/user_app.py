"""A user's CDK app, imported the way the README shows: type checkers check it (tests/test_typed_exports.py in
`make test`, tests/typing/test_user_app_types.py in `make typecheck`)."""
# pyright: strict

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib import BastionWebTier, acknowledge_admin_port_finding, add_admin_port_guard
from constructs_lib.policy import Rule

app = cdk.App()
add_admin_port_guard(app, admin_ports=[22, 3389])
stack = cdk.Stack(app, "Typed")
vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
tier = BastionWebTier(stack, "Tier", vpc=vpc, admin_sources=["203.0.113.10/32"], web_ports=[80, 443])
tier.web.allow_ssh_from(tier.bastion)
acknowledge_admin_port_finding(tier.web, Rule.WORLD_OPEN_ADMIN_PORT, "honeypot for the SOC, ticket SEC-9", port=22)
group: ec2.SecurityGroup = tier.bastion.security_group
