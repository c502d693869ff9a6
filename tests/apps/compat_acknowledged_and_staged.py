"""`make compat`: SSH open to 0.0.0.0/0 on three groups, one of them acknowledged and one in a stage's stack.

The synth must fail on exactly the other two: an acknowledgement covers its own construct, not every group with
the same finding (aws-cdk-lib before 2.271.0 applied it app-wide), and a plain ``cdk synth`` validates the stage's
stack too. Synthesized with ``JSII_HOST_STACK_TRACES=1``, each finding names the line that created its group.
"""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib import acknowledge_admin_port_finding, add_admin_port_guard
from constructs_lib.policy import Rule

app = cdk.App()
add_admin_port_guard(app)
lab = cdk.Stack(app, "CompatLab")
web = cdk.Stack(cdk.Stage(app, "Prod"), "Web")
ssh = {"vpc_id": "vpc-0123456789abcdef0", "group_description": "SSH from anywhere", "security_group_ingress": [
    ec2.CfnSecurityGroup.IngressProperty(ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/0")]}
acknowledged = ec2.CfnSecurityGroup(lab, "Acknowledged", **ssh)
ec2.CfnSecurityGroup(lab, "Other", **ssh)
ec2.CfnSecurityGroup(web, "Staged", **ssh)
acknowledge_admin_port_finding(acknowledged, Rule.WORLD_OPEN_ADMIN_PORT, "lab host, ticket SEC-1", port=22)
app.synth()
