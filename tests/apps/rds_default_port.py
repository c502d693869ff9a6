"""An ordinary RDS pattern: the database admits its default port (Fn::GetAtt Endpoint.Port) from the app's group.

The port is known only at deploy time, the source is a security group: the guard must let this synth pass.
"""

import os

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds

from constructs_lib import add_admin_port_guard

app = cdk.App(outdir=os.environ.get("CDK_OUTDIR"))
stack = cdk.Stack(app, "RdsDefaultPort")
vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0,
              subnet_configuration=[ec2.SubnetConfiguration(name="Data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
db = rds.DatabaseInstance(stack, "Db", engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
                          vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED))
app_sg = ec2.SecurityGroup(stack, "App", vpc=vpc, description="application servers")
db.connections.allow_default_port_from(app_sg, "the application reaches the database")
add_admin_port_guard(app)
app.synth()
